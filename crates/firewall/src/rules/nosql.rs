//! NoSQL (MongoDB-style) operator injection: an operator where the application expects a
//! plain value, as a JSON key (`{"password": {"$ne": null}}`), a bracket key in a query or
//! form (`password[$ne]=`), or server-side JavaScript (`$where`, `this.x == ...`).

use aho_corasick::{AhoCorasick, MatchKind};

use super::{Category::Nosql, Detector, Hit, PatternDef, RuleInfo, Severity::*, Subject, p};
use crate::normalize::Variant::{Decoded, Folded};

/// Query and update operators that change the meaning of a filter.
const OPERATORS: &[&str] = &[
    "$ne",
    "$eq",
    "$gt",
    "$gte",
    "$lt",
    "$lte",
    "$in",
    "$nin",
    "$regex",
    "$where",
    "$exists",
    "$or",
    "$and",
    "$not",
    "$nor",
    "$expr",
    "$elemmatch",
    "$function",
    "$accumulator",
    "$type",
    "$mod",
    "$all",
    "$size",
    "$text",
    "$search",
    "$jsonschema",
    "$lookup",
    "$options",
    "$comment",
    "$set",
    "$unset",
    "$rename",
    "$inc",
    "$push",
    "$where",
    "$geowithin",
    "$near",
];

/// Pattern rules, on values (not keys).
pub const PATTERNS: &[PatternDef] = &[
    // Bracket operators inside a value or key text: `user[$ne]=`, `[$regex]=.*`.
    p(
        "nosql-101",
        Nosql,
        Critical,
        Folded,
        r"\[\s*\$(ne|eq|gt|gte|lt|lte|in|nin|regex|where|exists|or|and|not|nor|expr|elemmatch|function|type|mod|all|size|options)\s*\]",
    ),
    // JSON operator objects embedded in a string value: `{"$gt": ""}`.
    p(
        "nosql-102",
        Nosql,
        Critical,
        Folded,
        r#"\{\s*['"]?\$(ne|eq|gt|gte|lt|lte|in|nin|regex|where|exists|or|and|not|nor|expr|elemmatch|function|accumulator|lookup|jsonschema|text|type|mod|all|size)['"]?\s*:"#,
    ),
    // Server-side JavaScript in `$where` / `mapReduce`.
    p(
        "nosql-103",
        Nosql,
        Critical,
        Folded,
        r#"\$where\b|\bthis\s*\.\s*\w+\s*(==|!=|===|!==|\.match\s*\(|\.length\b)|['"]\s*(\|\||&&)\s*['"]?\w*['"]?\s*===?\s*['"]|;\s*return\s+(true|1|!0|this\s*\.\s*\w+|db\s*\.)|\bfunction\s*\(\s*\)\s*\{\s*return\s+(true|1|!0)\s*;?\s*\}|\bmapreduce\s*\(\s*function\b|\bsleep\s*\(\s*\d+\s*\)\s*(;|\|\||&&)"#,
    ),
    // Tautologies in JavaScript syntax: `' || '1'=='1`, `1 || 1==1`.
    p(
        "nosql-104",
        Nosql,
        Critical,
        Decoded,
        r#"(['"]|\d)\s*(\|\||&&)\s*(['"]?\w+['"]?)\s*===?\s*(['"]?\w+['"]?)|\btrue\s*,\s*\$where|\$regex['"]?\s*:\s*['"]\^?\.\*"#,
    ),
    // Mongo shell calls: code snippets look the same, so this alone does not block.
    p(
        "nosql-105",
        Nosql,
        Warning,
        Folded,
        r"\bdb\s*\.\s*(\w+\s*\.\s*)?(find|drop|insert|remove|update|getcollection|eval|dropdatabase)\w*\s*\(",
    ),
    // Round 7. A MongoDB query operator injected as a key right after closing a string in
    // a query built by concatenation (`', $or: [ {}, {'a':'a`, `", $where: "…`).
    p(
        "nosql-106",
        Nosql,
        Critical,
        Folded,
        r#"['"]\s*,\s*['"]?\$(or|and|nor|not|where|ne|eq|gt|gte|lt|lte|in|nin|regex|exists|expr|elemmatch)['"]?\s*:"#,
    ),
    // Round 7. A MongoDB write sent as the whole value or after a statement break
    // (`db.x.insert({a:1});`, `';db.users.drop()`): server-side JavaScript evaluation runs
    // it. Reads (`db.x.find(…)`) stay a warning (nosql-105): documentation quotes them.
    p(
        "nosql-107",
        Nosql,
        Critical,
        Folded,
        r#"(^|[;'"]\s*)db\s*\.\s*[\w$]+\s*\.\s*(insert\w*|update\w*|remove|delete\w*|drop|save|replace\w*|bulkwrite)\s*\(\s*[{)\[]"#,
    ),
    // Round 7. A value that starts by ending a statement and declares JavaScript or loops
    // (`0;var d=new Date(); do{…}while(…)`, `;while(true){}`): the time-based `$where`
    // injection. Prose and CSV lines do not start with `;var x =`.
    p(
        "nosql-108",
        Nosql,
        Critical,
        Folded,
        r#"^\s*['"]?\s*\w{0,10}\s*['"]?\s*;\s*((var|let|const)\s+[\w$]+\s*=|do\s*\{|while\s*\(|for\s*\()"#,
    ),
];

const NOSQL_KEY: RuleInfo = RuleInfo {
    id: "nosql-001",
    category: Nosql,
    severity: Critical,
};

/// Flags an operator used as an object key in a JSON body, or as a bracket key in a query
/// or form. Keys are compared whole (ASCII case-insensitive), so `$schema` or `$ref` pass.
#[derive(Debug)]
pub struct NosqlKeyDetector {
    ops: Option<AhoCorasick>,
}

impl NosqlKeyDetector {
    /// Builds the operator matcher.
    pub fn new() -> Self {
        let ops = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            .build(OPERATORS)
            .ok();
        Self { ops }
    }
}

impl Default for NosqlKeyDetector {
    fn default() -> Self {
        Self::new()
    }
}

impl Detector for NosqlKeyDetector {
    fn rules(&self) -> &'static [RuleInfo] {
        &[NOSQL_KEY]
    }

    fn detect(&self, subject: &Subject<'_>, hits: &mut Vec<Hit>) {
        if !subject.location.part.is_key() {
            return;
        }
        let Some(ops) = &self.ops else { return };
        let key = subject.norm.decoded.trim();
        // Whole key (JSON) or the last bracket of a query key (`a[b][$ne]`).
        let candidate = match key.rfind('[') {
            Some(i) => key
                .get(i.saturating_add(1)..)
                .unwrap_or("")
                .trim_end_matches(']'),
            None => key,
        };
        if let Some(m) = ops.find(candidate)
            && m.start() == 0
            && m.end() == candidate.len()
        {
            hits.push(Hit {
                rule: NOSQL_KEY,
                variant: Decoded,
                span: (0, subject.norm.decoded.len()),
            });
        }
    }
}
