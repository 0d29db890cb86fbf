//! The typed view of an OpenAPI document: operations with their parameters and request
//! bodies, schemas already compiled.

use std::collections::BTreeSet;
use std::sync::Arc;

use http::Method;
use jsonschema::Validator;
use serde_json::Value;

/// Index of an operation in its [`crate::Contract`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OperationId(pub usize);

/// Where a parameter travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ParamIn {
    /// A `{template}` segment of the path.
    Path,
    /// The query string.
    Query,
    /// A request header.
    Header,
    /// A cookie in the `Cookie` header.
    Cookie,
}

impl ParamIn {
    /// The name used in pointers (`/query/...`) and locations (`query:...`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Path => "path",
            Self::Query => "query",
            Self::Header => "header",
            Self::Cookie => "cookie",
        }
    }
}

/// How a string from the request is turned into a JSON value before schema validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Integer,
    Number,
    Boolean,
    String,
    Array(Box<Kind>),
    /// Objects and unions: kept as a string, the schema decides.
    Other,
}

/// One declared parameter.
#[derive(Clone, Debug)]
pub(crate) struct Param {
    pub(crate) name: String,
    pub(crate) location: ParamIn,
    pub(crate) required: bool,
    /// `explode` (arrays as repeated query keys); `false` means comma-separated.
    pub(crate) explode: bool,
    pub(crate) kind: Kind,
    pub(crate) schema: Option<Arc<Validator>>,
}

/// One declared media type of a request body.
#[derive(Clone, Debug)]
pub(crate) struct Media {
    /// Lower-case `type/subtype`, possibly with `*`.
    pub(crate) range: String,
    pub(crate) schema: Option<Arc<Validator>>,
    /// For url-encoded bodies: how each top-level property is coerced.
    pub(crate) form_kinds: Vec<(String, Kind)>,
}

/// The declared request body.
#[derive(Clone, Debug)]
pub(crate) struct Body {
    pub(crate) required: bool,
    pub(crate) media: Vec<Media>,
}

/// One operation (a method on a path template).
#[derive(Clone, Debug)]
pub struct Operation {
    pub(crate) method: Method,
    pub(crate) template: String,
    pub(crate) operation_id: Option<String>,
    pub(crate) params: Vec<Param>,
    pub(crate) body: Option<Body>,
    pub(crate) constrained: BTreeSet<String>,
}

impl Operation {
    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The path template as written in the spec (`/pets/{petId}`), without base path.
    pub fn template(&self) -> &str {
        &self.template
    }

    /// The `operationId`, when the spec gives one.
    pub fn operation_id(&self) -> Option<&str> {
        self.operation_id.as_deref()
    }

    /// Whether the operation declares a request body.
    pub fn has_body(&self) -> bool {
        self.body.is_some()
    }

    /// The request locations the spec restricts to a non-free-text type (integer, number,
    /// boolean, enum, uuid, date, date-time, ... or a string with an anchored pattern over
    /// a restricted alphabet): `query:limit`, `path:id`, `header:x-page`, `cookie:theme`,
    /// `body:/user/age`, with `*` for array items (`body:/tags/*`). Injection detectors can
    /// skip these, because a value that reached them has already been validated.
    pub fn constrained_locations(&self) -> &BTreeSet<String> {
        &self.constrained
    }

    /// Whether `location` is constrained; numeric body pointer segments match `*`.
    pub fn is_constrained(&self, location: &str) -> bool {
        if self.constrained.contains(location) {
            return true;
        }
        let Some(ptr) = location.strip_prefix("body:") else {
            return false;
        };
        let normal: Vec<&str> = ptr
            .split('/')
            .map(|s| {
                if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
                    "*"
                } else {
                    s
                }
            })
            .collect();
        self.constrained
            .contains(&format!("body:{}", normal.join("/")))
    }
}

/// Decides whether a (converted, dereferenced) schema admits only non-free-text values.
pub(crate) fn is_constrained_schema(schema: &Value, deref: &dyn Fn(&Value) -> Value) -> bool {
    let s = deref(schema);
    if s.get("enum").is_some() || s.get("const").is_some() {
        return true;
    }
    let types: Vec<&str> = match s.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => return false,
    };
    let types: Vec<&str> = types.into_iter().filter(|t| *t != "null").collect();
    if types.is_empty() {
        return false;
    }
    types.iter().all(|t| match *t {
        "integer" | "number" | "boolean" => true,
        "string" => {
            let format_ok = s.get("format").and_then(Value::as_str).is_some_and(|f| {
                matches!(
                    f,
                    "uuid" | "date" | "date-time" | "time" | "ipv4" | "ipv6" | "email" | "byte"
                )
            });
            format_ok
                || s.get("pattern")
                    .and_then(Value::as_str)
                    .is_some_and(bounded_pattern)
        }
        "array" => s
            .get("items")
            .is_some_and(|items| is_constrained_schema(items, deref)),
        _ => false,
    })
}

/// An anchored pattern without wildcards or negated classes: its alphabet is explicit.
fn bounded_pattern(p: &str) -> bool {
    p.starts_with('^')
        && p.ends_with('$')
        && !p.contains('.')
        && !p.contains("[^")
        && !p.contains("\\S")
        && !p.contains("\\W")
        && !p.contains("\\D")
        && !p.contains("\\s")
        && !p.contains("\\p")
        && !p.contains("\\P")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(bounded_pattern("^[a-z0-9-]{1,32}$"));
        assert!(!bounded_pattern("^.*$"));
        assert!(!bounded_pattern("[a-z]+"));
        assert!(!bounded_pattern("^[^<]+$"));
    }
}
