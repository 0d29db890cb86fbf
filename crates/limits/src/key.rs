//! Building the counting key of a request from the configured parts.

use std::fmt::Write;

use portcullis_config::{KeyPart, parse_key};
use portcullis_core::RequestCx;

/// Longest header value used in a key (longer values are cut; the table hashes long keys).
const MAX_HEADER_PART: usize = 128;

/// Appends the key of this request for `parts` to `out` (`|`-separated, each part tagged so
/// that `ip=1.2.3.4` can never collide with a consumer named `1.2.3.4`).
pub fn build_key(
    out: &mut String,
    parts: &[KeyPart],
    cx: &RequestCx,
    route: &str,
    headers: &http::HeaderMap,
) {
    for part in parts {
        out.push('|');
        match part {
            KeyPart::Consumer => {
                out.push_str("c=");
                out.push_str(cx.identity.as_ref().map_or("-", |i| i.consumer_id.as_str()));
            }
            KeyPart::Credential => {
                out.push_str("k=");
                let cred = cx
                    .identity
                    .as_ref()
                    .and_then(|i| i.credential_id.as_deref().or(Some(i.consumer_id.as_str())));
                out.push_str(cred.unwrap_or("-"));
            }
            KeyPart::Ip => {
                let _ = write!(out, "i={}", cx.client_ip.0);
            }
            KeyPart::Route => {
                out.push_str("r=");
                out.push_str(route);
            }
            KeyPart::Header(name) => {
                out.push_str("h=");
                let value = headers
                    .get(name.as_str())
                    .map(|v| v.as_bytes())
                    .unwrap_or(b"");
                let value = value.get(..MAX_HEADER_PART).unwrap_or(value);
                out.push_str(&String::from_utf8_lossy(value));
            }
        }
    }
}

/// The parts used when a limit names none: the consumer on authenticated routes, the client
/// address on public ones.
pub fn default_parts(authenticated: bool) -> Vec<KeyPart> {
    if authenticated {
        vec![KeyPart::Consumer]
    } else {
        vec![KeyPart::Ip]
    }
}

/// Compiles the configured key parts (or the default ones when none are named).
pub fn compile_parts(
    parts: &[String],
    authenticated: bool,
) -> Result<Vec<KeyPart>, crate::LimitSpecError> {
    if parts.is_empty() {
        return Ok(default_parts(authenticated));
    }
    parts
        .iter()
        .map(|k| parse_key(k))
        .collect::<Result<_, _>>()
        .map_err(crate::LimitSpecError)
}

/// A limit's name (configured, or `<fallback><index>`), checked to be a token that can go
/// into headers and metric labels unescaped.
pub fn limit_name(
    configured: Option<&String>,
    fallback: &str,
    index: usize,
) -> Result<String, crate::LimitSpecError> {
    let name = configured
        .cloned()
        .unwrap_or_else(|| format!("{fallback}{index}"));
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(crate::LimitSpecError(format!(
            "{fallback} name `{name}`: letters, digits, `-` and `_` only"
        )));
    }
    Ok(name)
}
