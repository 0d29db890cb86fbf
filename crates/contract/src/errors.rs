//! Errors of loading and compiling a contract. Validation failures of requests are not errors:
//! they are [`crate::Violation`]s.

use std::path::PathBuf;

/// Why an OpenAPI document could not be turned into a contract. Every variant names the file
/// and, where one applies, the JSON pointer inside it, so `portcullis check` can point at it.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read (missing, unreadable, too large).
    #[error("{file}: cannot read: {reason}")]
    Read {
        /// The file.
        file: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The file is neither valid YAML nor valid JSON.
    #[error("{file}: cannot parse: {reason}")]
    Parse {
        /// The file.
        file: PathBuf,
        /// The parser's message (it quotes the spec, never a request).
        reason: String,
    },
    /// A `$ref` is refused or cannot be followed: remote URL, escape from the spec directory,
    /// a target that does not exist, or a cycle through non-schema objects.
    #[error("{file}#{pointer}: $ref {reference:?}: {reason}")]
    Ref {
        /// The file holding the `$ref`.
        file: PathBuf,
        /// Where the `$ref` sits in that file.
        pointer: String,
        /// The `$ref` value as written.
        reference: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// The document is structurally not what OpenAPI 3.0/3.1 requires (wrong version, a path
    /// item that is not an object, a parameter without a name ...).
    #[error("{file}#{pointer}: {reason}")]
    Invalid {
        /// The file.
        file: PathBuf,
        /// Where in the file.
        pointer: String,
        /// What is wrong.
        reason: String,
    },
    /// A schema could not be compiled by the JSON Schema engine (bad regex, bad keyword value).
    #[error("{file}#{pointer}: schema does not compile: {reason}")]
    Schema {
        /// The file of the operation using the schema.
        file: PathBuf,
        /// The pointer of the schema's use (parameter or media type).
        pointer: String,
        /// The engine's message.
        reason: String,
    },
    /// Two path templates collide in the router.
    #[error("{file}#/paths: path {path:?} conflicts: {reason}")]
    Route {
        /// The root file.
        file: PathBuf,
        /// The path template.
        path: String,
        /// The router's message.
        reason: String,
    },
}
