//! GraphQL introspection: a query for `__schema` or `__type(name: …)` returns the whole
//! API — every type, field and mutation — which is reconnaissance, not use. OWASP's API
//! guidance is to turn it off in production; clients ask for `__typename` (no parenthesis),
//! which stays allowed. Routes whose tooling (GraphiQL, code generators) needs introspection
//! disable the category: `disabled_categories: [graphql]`.

use super::{Category::Graphql, PatternDef, Severity::*, p};
use crate::normalize::Variant::Folded;

/// Pattern rules.
pub const PATTERNS: &[PatternDef] = &[p(
    "graphql-101",
    Graphql,
    Critical,
    Folded,
    r"\b__schema\s*\{|\b__type\s*\(\s*name\s*:",
)];
