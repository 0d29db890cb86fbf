//! The file model of the API firewall's positive model, per route: `openapi:` and
//! `body_limits:` (used by `portcullis-contract`). Types end in
//! `Spec`; every field's doc states its unit and default, because they feed the generated JSON
//! Schema and `docs/configuration.md`.

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

// === defaults ===

/// Default: the contract is enforced strictly (unknown parameters and body fields refused).
pub const DEFAULT_STRICT: bool = true;
/// Default cap on JSON nesting (objects and arrays inside each other).
pub const DEFAULT_MAX_JSON_DEPTH: usize = 32;
/// Default cap on the total number of object members and array elements in a JSON body.
pub const DEFAULT_MAX_JSON_KEYS: usize = 10_000;
/// Default cap on one JSON string (keys included), in bytes after unescaping.
pub const DEFAULT_MAX_STRING_LENGTH: usize = 64 * 1024;
/// Default cap on XML element nesting.
pub const DEFAULT_MAX_XML_DEPTH: usize = 32;
/// Default cap on the number of XML elements.
pub const DEFAULT_MAX_XML_ELEMENTS: usize = 10_000;
/// Default cap on the number of fields of a url-encoded form.
pub const DEFAULT_MAX_FORM_FIELDS: usize = 256;
/// Default cap on one url-encoded field (name or value), in bytes after decoding.
pub const DEFAULT_MAX_FORM_FIELD_BYTES: usize = 8 * 1024;
/// Default cap on the number of parts of a multipart body.
pub const DEFAULT_MAX_MULTIPART_PARTS: usize = 32;
/// Default cap on one multipart part's content (1 MiB).
pub const DEFAULT_MAX_MULTIPART_PART_BYTES: usize = 1024 * 1024;
/// Default cap on the header block of one multipart part.
pub const DEFAULT_MAX_MULTIPART_HEADER_BYTES: usize = 8 * 1024;

fn default_strict() -> bool {
    DEFAULT_STRICT
}
fn default_max_json_depth() -> usize {
    DEFAULT_MAX_JSON_DEPTH
}
fn default_max_json_keys() -> usize {
    DEFAULT_MAX_JSON_KEYS
}
fn default_max_string_length() -> usize {
    DEFAULT_MAX_STRING_LENGTH
}
fn default_max_xml_depth() -> usize {
    DEFAULT_MAX_XML_DEPTH
}
fn default_max_xml_elements() -> usize {
    DEFAULT_MAX_XML_ELEMENTS
}
fn default_max_form_fields() -> usize {
    DEFAULT_MAX_FORM_FIELDS
}
fn default_max_form_field_bytes() -> usize {
    DEFAULT_MAX_FORM_FIELD_BYTES
}
fn default_max_multipart_parts() -> usize {
    DEFAULT_MAX_MULTIPART_PARTS
}
fn default_max_multipart_part_bytes() -> usize {
    DEFAULT_MAX_MULTIPART_PART_BYTES
}
fn default_max_multipart_header_bytes() -> usize {
    DEFAULT_MAX_MULTIPART_HEADER_BYTES
}

// === openapi ===

/// An OpenAPI 3.0 or 3.1 document that requests of the route must follow (the positive model
/// of the API firewall).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenApiSpec {
    /// The spec file, YAML or JSON. Relative paths are resolved against the config file's directory.
    /// `$ref`s may point to other files in the same directory tree, never to URLs.
    pub file: PathBuf,
    /// Strict mode: refuse query parameters the operation does not declare, body fields the
    /// schema does not declare (mass assignment), bodies on operations without a request
    /// body, and paths the spec does not contain. Default `true`.
    #[serde(default = "default_strict")]
    pub strict: bool,
    /// Validate upstream responses against the spec. Not implemented yet; must stay `false`.
    /// Default `false`.
    #[serde(default)]
    pub validate_responses: bool,
    /// The path prefix the spec's paths live under, overriding the path of the first
    /// `servers` URL (e.g. `/v1`). Default: taken from `servers`, else none.
    #[serde(default)]
    pub base_path: Option<String>,
}

impl OpenApiSpec {
    /// A spec for `file` with every other field at its default.
    pub fn new(file: impl Into<PathBuf>) -> Self {
        Self {
            file: file.into(),
            strict: DEFAULT_STRICT,
            validate_responses: false,
            base_path: None,
        }
    }
}

// === body hygiene ===

/// Structural limits on request bodies, and the request-head checks that go with them
/// (declared charsets, method overrides, NUL bytes in the query, ranges), applied on any
/// route with or without a spec, before any parser of the upstream sees the request.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BodyLimitsSpec {
    /// Deepest JSON nesting of objects and arrays. Default 32.
    #[serde(default = "default_max_json_depth")]
    pub max_json_depth: usize,
    /// Most object members plus array elements in one JSON body, counted over the whole
    /// document. Default 10000.
    #[serde(default = "default_max_json_keys")]
    pub max_json_keys: usize,
    /// Longest JSON string (values and keys), in bytes after unescaping. Default 65536.
    #[serde(default = "default_max_string_length")]
    pub max_string_length: usize,
    /// Accept JSON objects that repeat a key. Parsers disagree on which copy wins, which lets
    /// a payload mean one thing to the gateway and another to the upstream. Default `false`.
    #[serde(default)]
    pub allow_duplicate_keys: bool,
    /// Accept method overrides (`X-HTTP-Method-Override`, `X-HTTP-Method`,
    /// `X-Method-Override`, a `_method` query parameter or form field) naming another method
    /// than the request's. Frameworks honour them, so the upstream may then run a method the
    /// route's `methods` do not list. Default `false`.
    #[serde(default)]
    pub allow_method_override: bool,
    /// XML limits. DTDs (and so entities) are always refused.
    #[serde(default)]
    pub xml: XmlLimitsSpec,
    /// `application/x-www-form-urlencoded` limits.
    #[serde(default)]
    pub form: FormLimitsSpec,
    /// `multipart/form-data` limits.
    #[serde(default)]
    pub multipart: MultipartLimitsSpec,
}

impl Default for BodyLimitsSpec {
    fn default() -> Self {
        Self {
            max_json_depth: DEFAULT_MAX_JSON_DEPTH,
            max_json_keys: DEFAULT_MAX_JSON_KEYS,
            max_string_length: DEFAULT_MAX_STRING_LENGTH,
            allow_duplicate_keys: false,
            allow_method_override: false,
            xml: XmlLimitsSpec::default(),
            form: FormLimitsSpec::default(),
            multipart: MultipartLimitsSpec::default(),
        }
    }
}

/// XML body limits. A `<!DOCTYPE` is refused whatever these say: without a DTD there are no
/// entities, so no XXE and no entity expansion (billion laughs).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct XmlLimitsSpec {
    /// Deepest element nesting. Default 32.
    #[serde(default = "default_max_xml_depth")]
    pub max_depth: usize,
    /// Most elements in one document. Default 10000.
    #[serde(default = "default_max_xml_elements")]
    pub max_elements: usize,
}

impl Default for XmlLimitsSpec {
    fn default() -> Self {
        Self {
            max_depth: DEFAULT_MAX_XML_DEPTH,
            max_elements: DEFAULT_MAX_XML_ELEMENTS,
        }
    }
}

/// Url-encoded form limits.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FormLimitsSpec {
    /// Most `name=value` fields. Default 256.
    #[serde(default = "default_max_form_fields")]
    pub max_fields: usize,
    /// Longest field name or value, in bytes after percent-decoding. Default 8192.
    #[serde(default = "default_max_form_field_bytes")]
    pub max_field_bytes: usize,
}

impl Default for FormLimitsSpec {
    fn default() -> Self {
        Self {
            max_fields: DEFAULT_MAX_FORM_FIELDS,
            max_field_bytes: DEFAULT_MAX_FORM_FIELD_BYTES,
        }
    }
}

/// Multipart (`multipart/form-data`) limits.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MultipartLimitsSpec {
    /// Most parts. Default 32.
    #[serde(default = "default_max_multipart_parts")]
    pub max_parts: usize,
    /// Largest part content, in bytes. Default 1 MiB.
    #[serde(default = "default_max_multipart_part_bytes")]
    pub max_part_bytes: usize,
    /// Largest header block of one part, in bytes. Default 8192.
    #[serde(default = "default_max_multipart_header_bytes")]
    pub max_header_bytes: usize,
}

impl Default for MultipartLimitsSpec {
    fn default() -> Self {
        Self {
            max_parts: DEFAULT_MAX_MULTIPART_PARTS,
            max_part_bytes: DEFAULT_MAX_MULTIPART_PART_BYTES,
            max_header_bytes: DEFAULT_MAX_MULTIPART_HEADER_BYTES,
        }
    }
}
