//! What a refused request is told: a list of violations that name the place and the rule,
//! never the submitted value.
//!
//! JSON Schema engines put the offending instance into their messages; those messages are
//! never used here. Messages are built from the rule and from limits taken from the spec.
//! Pointer segments that come from the request (unknown keys) are only kept when they are
//! short and plain, so a pointer cannot smuggle a payload back to the client or into logs.

use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde::Serialize;

/// Longest request-supplied name kept in a pointer.
const MAX_ECHOED_NAME: usize = 64;
/// Most violations reported for one request (the rest are counted, not listed).
pub const MAX_VIOLATIONS: usize = 20;

/// One way a request breaks the contract or the body limits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// Where: `/path/id`, `/query/limit`, `/header/x-trace`, `/cookie/session`, `/body`,
    /// `/body/user/email`. Request-supplied names that are long or not plain become `*`.
    pub pointer: String,
    /// Which rule: a JSON Schema keyword (`type`, `maxLength`, `required`, `format`, `enum`,
    /// `pattern`, `additionalProperties` ...) or a gateway rule (`contentType`, `unknown`,
    /// `unexpected`, `syntax`, `duplicateKey`, `maxDepth`, `doctype` ...).
    pub rule: String,
    /// A human-readable sentence built from the rule and the spec, never from the value.
    pub message: String,
}

impl Violation {
    /// A violation with an explicit message.
    pub fn new(
        pointer: impl Into<String>,
        rule: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            pointer: pointer.into(),
            rule: rule.into(),
            message: message.into(),
        }
    }
}

/// The violations of one refused request, left in `RequestCx::extensions` by the contract and
/// body-hygiene guards so the problem writer can add them as the `violations` member.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Violations(pub Vec<Violation>);

impl Violations {
    /// The problem+json extension members: `{"violations": [...]}`.
    pub fn problem_members(&self) -> serde_json::Value {
        serde_json::json!({ "violations": self.0 })
    }
}

/// Appends `name` (a request-supplied key) to `base`, or `*` when it is not safe to echo.
pub(crate) fn push_name(base: &str, name: &str) -> String {
    format!("{base}/{}", safe_segment(name))
}

/// An escaped pointer segment, or `*` for names that are long or contain anything but ASCII
/// letters, digits, `_`, `-` and `.`.
pub(crate) fn safe_segment(name: &str) -> String {
    let plain = !name.is_empty()
        && name.len() <= MAX_ECHOED_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if plain {
        name.to_owned()
    } else {
        "*".to_owned()
    }
}

/// Re-segments an instance pointer from the schema engine through [`safe_segment`].
pub(crate) fn safe_pointer(base: &str, pointer: &str) -> String {
    let mut out = base.to_owned();
    for seg in pointer.split('/').skip(1) {
        let unescaped = seg.replace("~1", "/").replace("~0", "~");
        out.push('/');
        out.push_str(&safe_segment(&unescaped));
    }
    out
}

/// Turns one JSON Schema error into a violation under `base` (`/body`, `/query/limit`).
pub(crate) fn from_schema_error(base: &str, err: &jsonschema::ValidationError<'_>) -> Violation {
    let kind = err.kind();
    let mut pointer = safe_pointer(base, err.instance_path().as_str());
    let rule = match kind {
        ValidationErrorKind::UnevaluatedProperties { .. } => "additionalProperties",
        // Strict mode turns `readOnly` members into `false` schemas.
        ValidationErrorKind::FalseSchema => "readOnly",
        other => other.keyword(),
    };
    let message = match kind {
        ValidationErrorKind::AdditionalProperties { unexpected }
        | ValidationErrorKind::UnevaluatedProperties { unexpected } => {
            if let [one] = unexpected.as_slice() {
                pointer = push_name(&pointer, one);
            }
            "member not declared by the schema".to_owned()
        }
        ValidationErrorKind::Required { property } => {
            if let Some(name) = property.as_str() {
                pointer = push_name(&pointer, name);
            }
            "required member is missing".to_owned()
        }
        ValidationErrorKind::Type { kind } => format!("must be of type {}", type_name(kind)),
        ValidationErrorKind::Format { format } => format!("must be a valid {format}"),
        ValidationErrorKind::Enum { .. } => "must be one of the allowed values".to_owned(),
        ValidationErrorKind::Constant { .. } => "must be the allowed constant".to_owned(),
        ValidationErrorKind::MaxLength { limit } => format!("must be at most {limit} characters"),
        ValidationErrorKind::MinLength { limit } => {
            format!("must be at least {limit} characters")
        }
        ValidationErrorKind::Maximum { limit } => format!("must be at most {limit}"),
        ValidationErrorKind::Minimum { limit } => format!("must be at least {limit}"),
        ValidationErrorKind::ExclusiveMaximum { limit } => format!("must be less than {limit}"),
        ValidationErrorKind::ExclusiveMinimum { limit } => {
            format!("must be greater than {limit}")
        }
        ValidationErrorKind::MaxItems { limit } => format!("must have at most {limit} items"),
        ValidationErrorKind::MinItems { limit } => format!("must have at least {limit} items"),
        ValidationErrorKind::MaxProperties { limit } => {
            format!("must have at most {limit} members")
        }
        ValidationErrorKind::MinProperties { limit } => {
            format!("must have at least {limit} members")
        }
        ValidationErrorKind::Pattern { .. }
        | ValidationErrorKind::BacktrackLimitExceeded { .. }
        | ValidationErrorKind::RegexEngineFailure { .. } => {
            "does not match the required pattern".to_owned()
        }
        ValidationErrorKind::MultipleOf { .. } => "is not an allowed multiple".to_owned(),
        ValidationErrorKind::UniqueItems => "items must be unique".to_owned(),
        ValidationErrorKind::AnyOf { .. } => "matches none of the allowed schemas".to_owned(),
        ValidationErrorKind::OneOfNotValid { .. } => {
            "matches none of the allowed schemas".to_owned()
        }
        ValidationErrorKind::OneOfMultipleValid { .. } => {
            "matches more than one of the exclusive schemas".to_owned()
        }
        ValidationErrorKind::FalseSchema => "this member must not be sent".to_owned(),
        _ => format!("violates {}", kind.keyword()),
    };
    Violation::new(pointer, rule, message)
}

fn type_name(kind: &TypeKind) -> String {
    match kind {
        TypeKind::Single(t) => t.to_string(),
        TypeKind::Multiple(set) => set
            .iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(" or "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_names_are_masked() {
        assert_eq!(safe_segment("isAdmin"), "isAdmin");
        assert_eq!(safe_segment("<script>"), "*");
        assert_eq!(safe_segment(&"a".repeat(65)), "*");
        assert_eq!(safe_pointer("/body", "/user/a~1b/0"), "/body/user/*/0");
    }
}
