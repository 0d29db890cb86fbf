//! Body hygiene: structural limits on request bodies, independent of any spec.
//!
//! The media type picks the checker (JSON, XML, url-encoded form, multipart). A body without
//! `Content-Type` is sniffed (`{`/`[` → JSON, `<` → XML) so that leaving the header out does
//! not skip the checks; other declared types are only size-checked.

mod form;
mod head;
mod json;
mod multipart;
mod xml;

pub use form::{FormLimits, check_form};
pub use head::{ALLOWED_CHARSETS, HeadLimits, MAX_RANGES, check_content_type, check_head};
pub use json::{JsonLimits, check_json};
pub use multipart::{MultipartLimits, boundary, check_multipart};
pub use xml::{XmlLimits, check_xml};

use crate::spec::BodyLimitsSpec;
use crate::violation::Violation;

/// The compiled body limits of a route.
#[derive(Clone, Copy, Debug)]
pub struct BodyLimits {
    max_body_bytes: u64,
    json: JsonLimits,
    xml: XmlLimits,
    form: FormLimits,
    multipart: MultipartLimits,
    head: HeadLimits,
}

/// The rule of a violation that means "too large" (413 rather than 400).
pub const RULE_MAX_BODY_SIZE: &str = "maxBodySize";

impl BodyLimits {
    /// Compiles the config. The body size is capped by the route (`max_body_bytes`, enforced
    /// by the gateway while reading); [`BodyLimits::with_max_body_bytes`] adds a cap here.
    pub fn compile(spec: &BodyLimitsSpec) -> Self {
        Self {
            max_body_bytes: u64::MAX,
            json: JsonLimits {
                max_depth: spec.max_json_depth,
                max_keys: spec.max_json_keys,
                max_string_length: spec.max_string_length,
                allow_duplicate_keys: spec.allow_duplicate_keys,
            },
            xml: XmlLimits {
                max_depth: spec.xml.max_depth,
                max_elements: spec.xml.max_elements,
            },
            form: FormLimits {
                max_fields: spec.form.max_fields,
                max_field_bytes: spec.form.max_field_bytes,
                allow_method_override: spec.allow_method_override,
            },
            multipart: MultipartLimits {
                max_parts: spec.multipart.max_parts,
                max_part_bytes: spec.multipart.max_part_bytes,
                max_header_bytes: spec.multipart.max_header_bytes,
            },
            head: HeadLimits {
                allow_method_override: spec.allow_method_override,
            },
        }
    }

    /// The same limits with a body size cap (413 beyond it).
    pub fn with_max_body_bytes(mut self, max: u64) -> Self {
        self.max_body_bytes = max;
        self
    }

    /// Checks the request line and headers (charsets, method overrides, NUL bytes in the
    /// query, ranges); see [`check_head`].
    pub fn check_head(&self, req: &http::request::Parts) -> Result<(), Violation> {
        check_head(req, self.head)
    }

    /// The body size cap, for the gateway's streaming limit.
    pub fn max_body_bytes(&self) -> u64 {
        self.max_body_bytes
    }

    /// Checks a body given its `Content-Type` header value (if any).
    pub fn check(&self, content_type: Option<&str>, body: &[u8]) -> Result<(), Violation> {
        if u64::try_from(body.len()).unwrap_or(u64::MAX) > self.max_body_bytes {
            return Err(Violation::new(
                "/body",
                RULE_MAX_BODY_SIZE,
                format!("body larger than {} bytes", self.max_body_bytes),
            ));
        }
        if body.is_empty() {
            return Ok(());
        }
        let essence = content_type
            .and_then(|ct| ct.split(';').next())
            .map(|e| e.trim().to_ascii_lowercase())
            .filter(|e| !e.is_empty());
        match essence.as_deref() {
            Some(e) if crate::validate::is_json(e) => check_json(body, self.json),
            Some(e) if e == "application/xml" || e == "text/xml" || e.ends_with("+xml") => {
                check_xml(body, self.xml)
            }
            Some("application/x-www-form-urlencoded") => check_form(body, self.form),
            Some(e) if e.starts_with("multipart/") => {
                let b = boundary(content_type.unwrap_or_default())?;
                check_multipart(body, &b, self.multipart)
            }
            Some(_) => Ok(()),
            None => match body.iter().find(|b| !b.is_ascii_whitespace()) {
                Some(b'{' | b'[') => check_json(body, self.json),
                Some(b'<') => check_xml(body, self.xml),
                _ => Ok(()),
            },
        }
    }
}
