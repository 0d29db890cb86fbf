//! Checking a request against its matched operation: parameters from the head, then the
//! body. Returns violations; the guards turn them into denials.

use http::header::{CONTENT_LENGTH, CONTENT_TYPE, COOKIE, TRANSFER_ENCODING};
use http::request::Parts;
use serde_json::{Map, Value};

use crate::contract::{Contract, Lookup, Matched};
use crate::operation::{Body, Kind, Media, Operation, ParamIn};
use crate::violation::{MAX_VIOLATIONS, Violation, Violations, from_schema_error, push_name};

/// Why a request is refused by the contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// The path is not in the spec (strict mode answers 404).
    NotInContract,
    /// The path exists but not with this method (405 with `Allow`).
    MethodNotAllowed {
        /// Comma-separated declared methods.
        allow: String,
    },
    /// The body's media type is not one the operation declares (415).
    UnsupportedMediaType(Violations),
    /// Parameters or body break the schema (400).
    Invalid(Violations),
}

impl Rejection {
    fn from_violations(v: Vec<Violation>) -> Option<Self> {
        if v.is_empty() {
            None
        } else if v.iter().any(|x| x.rule == "contentType") {
            Some(Self::UnsupportedMediaType(Violations(v)))
        } else {
            Some(Self::Invalid(Violations(v)))
        }
    }
}

/// Whether a media type (lower-case essence) is JSON: `application/json` or `*/*+json`.
pub(crate) fn is_json(essence: &str) -> bool {
    essence == "application/json" || essence.ends_with("+json")
}

/// Lower-case `type/subtype` of a `Content-Type` header.
pub(crate) fn essence(parts: &Parts) -> Option<String> {
    let ct = parts.headers.get(CONTENT_TYPE)?.to_str().ok()?;
    let e = ct.split(';').next()?.trim().to_ascii_lowercase();
    (!e.is_empty()).then_some(e)
}

/// Whether the head announces a body (a non-zero `Content-Length`, or chunked).
pub(crate) fn body_announced(parts: &Parts) -> bool {
    parts.headers.contains_key(TRANSFER_ENCODING)
        || parts
            .headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .is_some_and(|n| n > 0)
}

// === impl Contract ===

impl Contract {
    /// Validates a whole request (head and buffered body) in one call.
    pub fn validate(&self, parts: &Parts, body: &[u8]) -> Result<crate::OperationId, Rejection> {
        let matched = match self.find(&parts.method, parts.uri.path()) {
            Lookup::Found(m) => m,
            Lookup::NotInContract => return Err(Rejection::NotInContract),
            Lookup::MethodNotAllowed { allow } => {
                return Err(Rejection::MethodNotAllowed { allow });
            }
        };
        let mut v = self.validate_head(&matched, parts);
        if v.is_empty() {
            v = self.validate_body(matched.operation, parts, body);
        }
        match Rejection::from_violations(v) {
            Some(r) => Err(r),
            None => Ok(matched.id),
        }
    }

    /// Validates what the head alone can tell: parameters, and the media type when the head
    /// announces a body. A `contentType` violation means 415.
    pub fn validate_head(&self, matched: &Matched<'_>, parts: &Parts) -> Vec<Violation> {
        let mut out = Vec::new();
        self.check_params(matched, parts, &mut out);
        if body_announced(parts)
            && let Some(decl) = &matched.operation.body
            && media_for(decl, parts).is_none()
        {
            out.push(content_type_violation());
        }
        out.truncate(MAX_VIOLATIONS);
        out
    }

    /// Validates the buffered body of a request for `op`.
    pub fn validate_body(&self, op: &Operation, parts: &Parts, body: &[u8]) -> Vec<Violation> {
        let mut out = Vec::new();
        let Some(decl) = &op.body else {
            if !body.is_empty() && self.strict {
                out.push(Violation::new(
                    "/body",
                    "unexpected",
                    "this operation takes no request body",
                ));
            }
            return out;
        };
        if body.is_empty() {
            if decl.required {
                out.push(Violation::new(
                    "/body",
                    "required",
                    "a request body is required",
                ));
            }
            return out;
        }
        let Some(media) = media_for(decl, parts) else {
            out.push(content_type_violation());
            return out;
        };
        let Some(schema) = &media.schema else {
            return out;
        };
        let e = essence(parts).unwrap_or_default();
        let instance = if is_json(&e) {
            match serde_json::from_slice::<Value>(body) {
                Ok(v) => v,
                Err(_) => {
                    out.push(Violation::new("/body", "syntax", "body is not valid JSON"));
                    return out;
                }
            }
        } else if e == "application/x-www-form-urlencoded" {
            match form_object(media, body, self.strict, &mut out) {
                Some(v) => v,
                None => return out,
            }
        } else {
            return out;
        };
        out.extend(
            schema
                .iter_errors(&instance)
                .take(MAX_VIOLATIONS)
                .map(|err| from_schema_error("/body", &err)),
        );
        out
    }

    fn check_params(&self, matched: &Matched<'_>, parts: &Parts, out: &mut Vec<Violation>) {
        let op = matched.operation;
        let query: Vec<(String, String)> = parts
            .uri
            .query()
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        let cookies = cookies(parts);
        for p in &op.params {
            let base = format!("/{}/{}", p.location.as_str(), p.name);
            let raw: Vec<&str> = match p.location {
                ParamIn::Path => matched
                    .path_params
                    .iter()
                    .filter(|(k, _)| *k == p.name)
                    .map(|(_, v)| v.as_str())
                    .collect(),
                ParamIn::Query => query
                    .iter()
                    .filter(|(k, _)| *k == p.name)
                    .map(|(_, v)| v.as_str())
                    .collect(),
                ParamIn::Header => {
                    let mut vals = Vec::new();
                    for h in parts.headers.get_all(p.name.as_str()) {
                        match h.to_str() {
                            Ok(s) => vals.push(s),
                            Err(_) => {
                                out.push(Violation::new(&base, "type", "must be visible ASCII"));
                            }
                        }
                    }
                    vals
                }
                ParamIn::Cookie => cookies
                    .iter()
                    .filter(|(k, _)| *k == p.name)
                    .map(|(_, v)| *v)
                    .collect(),
            };
            if raw.is_empty() {
                if p.required {
                    out.push(Violation::new(
                        &base,
                        "required",
                        "required parameter is missing",
                    ));
                }
                continue;
            }
            let is_array = matches!(p.kind, Kind::Array(_));
            if !is_array && raw.len() > 1 && self.strict {
                out.push(Violation::new(
                    &base,
                    "duplicate",
                    "parameter given more than once",
                ));
                continue;
            }
            let Some(value) = coerce(&p.kind, &raw, p.explode && p.location == ParamIn::Query)
            else {
                out.push(Violation::new(
                    &base,
                    "type",
                    format!("must be of type {}", kind_name(&p.kind)),
                ));
                continue;
            };
            if let Some(schema) = &p.schema {
                out.extend(
                    schema
                        .iter_errors(&value)
                        .take(MAX_VIOLATIONS)
                        .map(|err| from_schema_error(&base, &err)),
                );
            }
        }
        if self.strict {
            let mut seen: Vec<&str> = Vec::new();
            for (k, _) in &query {
                let declared = op
                    .params
                    .iter()
                    .any(|p| p.location == ParamIn::Query && p.name == *k);
                if !declared && !seen.contains(&k.as_str()) {
                    seen.push(k);
                    out.push(Violation::new(
                        push_name("/query", k),
                        "unknown",
                        "parameter not declared by the operation",
                    ));
                }
            }
        }
    }
}

fn content_type_violation() -> Violation {
    Violation::new(
        "/header/content-type",
        "contentType",
        "media type not accepted by this operation",
    )
}

/// The declared media type matching the request's `Content-Type`: exact first, then
/// `type/*`, then `*/*`.
fn media_for<'a>(decl: &'a Body, parts: &Parts) -> Option<&'a Media> {
    let e = essence(parts)?;
    let (ty, _) = e.split_once('/')?;
    decl.media
        .iter()
        .find(|m| m.range == e)
        .or_else(|| {
            decl.media
                .iter()
                .find(|m| m.range.strip_suffix("/*") == Some(ty))
        })
        .or_else(|| decl.media.iter().find(|m| m.range == "*/*"))
}

fn cookies(parts: &Parts) -> Vec<(&str, &str)> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .flat_map(|h| h.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .collect()
}

/// Turns request strings into the JSON value the schema expects. `None`: not of that type.
pub(crate) fn coerce(kind: &Kind, raw: &[&str], explode: bool) -> Option<Value> {
    match kind {
        Kind::Array(inner) => {
            let items: Vec<&str> = if explode {
                raw.to_vec()
            } else {
                raw.iter()
                    .flat_map(|r| r.split(','))
                    .map(str::trim)
                    .collect()
            };
            items
                .into_iter()
                .map(|s| coerce_scalar(inner, s))
                .collect::<Option<Vec<_>>>()
                .map(Value::Array)
        }
        k => coerce_scalar(k, raw.first()?),
    }
}

fn coerce_scalar(kind: &Kind, s: &str) -> Option<Value> {
    match kind {
        Kind::Integer => s
            .parse::<i64>()
            .map(Value::from)
            .or_else(|_| s.parse::<u64>().map(Value::from))
            .ok(),
        Kind::Number => {
            if let Ok(i) = s.parse::<i64>() {
                return Some(Value::from(i));
            }
            s.parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
        }
        Kind::Boolean => match s {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
        Kind::String | Kind::Other | Kind::Array(_) => Some(Value::String(s.to_owned())),
    }
}

fn kind_name(kind: &Kind) -> &'static str {
    match kind {
        Kind::Integer => "integer",
        Kind::Number => "number",
        Kind::Boolean => "boolean",
        Kind::String | Kind::Other => "string",
        Kind::Array(_) => "array",
    }
}

/// A url-encoded body as a JSON object, coerced by the schema's top-level property types.
fn form_object(
    media: &Media,
    body: &[u8],
    strict: bool,
    out: &mut Vec<Violation>,
) -> Option<Value> {
    let mut fields: Vec<(String, Vec<String>)> = Vec::new();
    for (k, v) in form_urlencoded::parse(body) {
        match fields.iter_mut().find(|(name, _)| *name == k) {
            Some((_, vals)) => vals.push(v.into_owned()),
            None => fields.push((k.into_owned(), vec![v.into_owned()])),
        }
    }
    let mut obj = Map::new();
    for (name, vals) in fields {
        let kind = media
            .form_kinds
            .iter()
            .find(|(k, _)| *k == name)
            .map_or(Kind::String, |(_, k)| k.clone());
        let base = push_name("/body", &name);
        if !matches!(kind, Kind::Array(_)) && vals.len() > 1 && strict {
            out.push(Violation::new(
                base,
                "duplicate",
                "field given more than once",
            ));
            continue;
        }
        let refs: Vec<&str> = vals.iter().map(String::as_str).collect();
        match coerce(&kind, &refs, true) {
            Some(v) => {
                obj.insert(name, v);
            }
            None => out.push(Violation::new(
                base,
                "type",
                format!("must be of type {}", kind_name(&kind)),
            )),
        }
    }
    out.is_empty().then_some(Value::Object(obj))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coercion() {
        assert_eq!(coerce(&Kind::Integer, &["42"], true), Some(Value::from(42)));
        assert_eq!(coerce(&Kind::Integer, &["4x"], true), None);
        assert_eq!(coerce(&Kind::Number, &["NaN"], true), None);
        assert_eq!(
            coerce(&Kind::Boolean, &["true"], true),
            Some(Value::Bool(true))
        );
        assert_eq!(
            coerce(&Kind::Array(Box::new(Kind::Integer)), &["1,2"], false),
            Some(serde_json::json!([1, 2]))
        );
        assert_eq!(
            coerce(&Kind::Array(Box::new(Kind::Integer)), &["1", "2"], true),
            Some(serde_json::json!([1, 2]))
        );
    }
}
