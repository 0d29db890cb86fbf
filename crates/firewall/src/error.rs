//! Errors of compiling a firewall from its spec.

/// Why a [`crate::FirewallSpec`] could not be compiled. Reported by `portcullis check` and at
/// config load, never at request time.
#[derive(Debug, thiserror::Error)]
pub enum FirewallError {
    /// A custom rule's regular expression does not compile (or is too large).
    #[error("custom rule `{id}`: invalid regex: {source}")]
    BadRegex {
        /// The custom rule id.
        id: String,
        /// The regex error.
        #[source]
        source: regex::Error,
    },
    /// The built-in rule set failed to compile (a bug, caught by the tests).
    #[error("built-in rules failed to compile: {0}")]
    Builtin(#[source] regex::Error),
    /// A custom rule is unusable (empty id, id clashing with a built-in, no parts ...).
    #[error("custom rule `{id}`: {reason}")]
    BadRule {
        /// The custom rule id.
        id: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A setting is out of range.
    #[error("invalid setting `{field}`: {reason}")]
    BadSetting {
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
}
