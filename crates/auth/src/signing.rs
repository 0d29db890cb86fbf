//! The `PCS1-HMAC-SHA256` request-signing scheme: canonical request, string to sign,
//! signature, and the `Authorization` header that carries them. Pure functions, no I/O, so the
//! gateway's guard, the `portcullis sign` command and the worked example of
//! docs/request-signing.md all run the same code.
//!
//! The scheme, in short (the document is the specification):
//!
//! ```text
//! canonical request = METHOD \n PATH \n QUERY \n (name:value \n)* SIGNED_HEADERS \n BODY_SHA256
//! string to sign    = PCS1-HMAC-SHA256 \n TIMESTAMP \n NONCE \n KEY_ID \n hex(SHA-256(canonical request))
//! signature         = hex(HMAC-SHA-256(secret, string to sign))
//! ```
//!
//! Why a claimed body hash travels in the header: the gateway authenticates on the request
//! head (so every later guard — limits, policies — sees the identity) and checks the claimed
//! hash against the buffered body in the body phase, before anything is forwarded.

use aws_lc_rs::{constant_time, digest, hmac};
use http::HeaderMap;

/// The algorithm tag: the `Authorization` scheme and the first line of the string to sign.
pub const ALGORITHM: &str = "PCS1-HMAC-SHA256";
/// Fewest characters of a nonce: 16 random bytes in base64url without padding.
pub const MIN_NONCE_CHARS: usize = 22;
/// Most characters of a nonce (bounds the replay store's memory per entry).
pub const MAX_NONCE_CHARS: usize = 128;
/// Most signed headers (bounds the work an unauthenticated request can cause).
pub const MAX_SIGNED_HEADERS: usize = 32;

/// Why a signature could not be checked or did not match. Never told to clients: every one is
/// the same 401.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SigningError {
    /// The `Authorization` header is not `PCS1-HMAC-SHA256` with exactly the six parameters.
    #[error("malformed signature header")]
    Malformed,
    /// `SignedHeaders` is not sorted, repeats a name, is too long, names `authorization`, or
    /// lacks `host`.
    #[error("bad signed-header list")]
    SignedHeaders,
    /// A signed header is absent from the request, or is not text.
    #[error("a signed header is missing")]
    MissingHeader,
    /// A header the route requires to be signed is present but not signed.
    #[error("a required header is not signed")]
    UnsignedRequiredHeader,
    /// The path or query has a `%` not followed by two hex digits.
    #[error("bad percent-encoding")]
    Encoding,
}

/// The parameters of a signature, as carried in the `Authorization` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureParams {
    /// The signing key's public id.
    pub key_id: String,
    /// Lower-case header names, sorted, without duplicates; always includes `host`.
    pub signed_headers: Vec<String>,
    /// Unix seconds when the client signed.
    pub timestamp: i64,
    /// At least 16 random bytes, base64url.
    pub nonce: String,
    /// Lower-case hex SHA-256 of the body the client sent.
    pub body_sha256: String,
    /// Lower-case hex HMAC-SHA-256 of the string to sign.
    pub signature: String,
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Lower-case hex SHA-256 of `data` (the body hash of the canonical request).
pub fn sha256_hex(data: &[u8]) -> String {
    hex(digest::digest(&digest::SHA256, data).as_ref())
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Normalises percent-encoding (RFC 3986 §6.2.2): `%XX` of an unreserved character is decoded,
/// every other `%XX` gets upper-case hex, all other bytes are kept as sent. So `%7e` and `~`
/// sign the same, `%2f` and `%2F` sign the same, and `/` and `%2F` do not.
pub fn normalize_encoding(s: &str) -> Result<String, SigningError> {
    const UPPER: &[u8; 16] = b"0123456789ABCDEF";
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b != b'%' {
            out.push(b);
            i += 1;
            continue;
        }
        let hi = bytes.get(i + 1).copied().and_then(hex_value);
        let lo = bytes.get(i + 2).copied().and_then(hex_value);
        let (Some(hi), Some(lo)) = (hi, lo) else {
            return Err(SigningError::Encoding);
        };
        let decoded = hi * 16 + lo;
        if is_unreserved(decoded) {
            out.push(decoded);
        } else {
            out.push(b'%');
            out.extend(UPPER.get(usize::from(hi)));
            out.extend(UPPER.get(usize::from(lo)));
        }
        i += 3;
    }
    // Only ASCII hex digits and unreserved characters were written in place of valid UTF-8
    // sequences, so the result is UTF-8; fall back to an error rather than panic.
    String::from_utf8(out).map_err(|_| SigningError::Encoding)
}

/// The canonical path: as sent, percent-encoding normalised; an empty path is `/`.
pub fn canonical_path(path: &str) -> Result<String, SigningError> {
    if path.is_empty() {
        return Ok("/".into());
    }
    normalize_encoding(path)
}

/// The canonical query: `&`-separated pairs (empty ones dropped), each `name=value` with
/// normalised encoding (`name` alone reads as `name=`), sorted by name then value, joined
/// with `&`. `+` is kept as sent (it is not a space here).
pub fn canonical_query(query: Option<&str>) -> Result<String, SigningError> {
    let Some(query) = query else {
        return Ok(String::new());
    };
    let mut pairs = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        pairs.push((normalize_encoding(name)?, normalize_encoding(value)?));
    }
    pairs.sort();
    Ok(pairs
        .iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join("&"))
}

/// A header's canonical value: every value of the name joined with `,`, each trimmed, with
/// runs of spaces and tabs collapsed to one space. `host` falls back to the URI's authority
/// (HTTP/2 carries it in `:authority`).
fn canonical_header_value(
    name: &str,
    headers: &HeaderMap,
    authority: Option<&str>,
) -> Result<String, SigningError> {
    let mut values = Vec::new();
    for v in headers.get_all(name) {
        let text = v.to_str().map_err(|_| SigningError::MissingHeader)?;
        values.push(
            text.split([' ', '\t'])
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
                .join(" "),
        );
    }
    if values.is_empty() {
        match (name, authority) {
            ("host", Some(a)) => values.push(a.to_string()),
            _ => return Err(SigningError::MissingHeader),
        }
    }
    Ok(values.join(","))
}

/// Checks a signed-header list: lower-case header names, strictly ascending (so sorted and
/// unique), at most [`MAX_SIGNED_HEADERS`], containing `host`, never `authorization`.
pub fn check_signed_headers(names: &[String]) -> Result<(), SigningError> {
    let ok_name = |n: &String| {
        !n.is_empty()
            && n != "authorization"
            && n.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    if names.len() > MAX_SIGNED_HEADERS
        || !names.iter().all(ok_name)
        || !names.windows(2).all(|w| matches!(w, [a, b] if a < b))
        || !names.iter().any(|n| n == "host")
    {
        return Err(SigningError::SignedHeaders);
    }
    Ok(())
}

/// Builds the canonical request. `uri` gives path and query as sent; `headers` the request's
/// headers; `params` the signed-header list and the claimed body hash.
pub fn canonical_request(
    method: &str,
    uri: &http::Uri,
    headers: &HeaderMap,
    signed_headers: &[String],
    body_sha256: &str,
) -> Result<String, SigningError> {
    check_signed_headers(signed_headers)?;
    let mut out = String::new();
    out.push_str(method);
    out.push('\n');
    out.push_str(&canonical_path(uri.path())?);
    out.push('\n');
    out.push_str(&canonical_query(uri.query())?);
    out.push('\n');
    let authority = uri.authority().map(http::uri::Authority::as_str);
    for name in signed_headers {
        out.push_str(name);
        out.push(':');
        out.push_str(&canonical_header_value(name, headers, authority)?);
        out.push('\n');
    }
    out.push_str(&signed_headers.join(";"));
    out.push('\n');
    out.push_str(body_sha256);
    Ok(out)
}

/// The string to sign: algorithm, timestamp, nonce, key id and the hex SHA-256 of the
/// canonical request, one per line.
pub fn string_to_sign(timestamp: i64, nonce: &str, key_id: &str, canonical: &str) -> String {
    format!(
        "{ALGORITHM}\n{timestamp}\n{nonce}\n{key_id}\n{}",
        sha256_hex(canonical.as_bytes())
    )
}

/// Lower-case hex HMAC-SHA-256 of the string to sign under the secret (its UTF-8 bytes).
pub fn signature(secret: &[u8], string_to_sign: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    hex(hmac::sign(&key, string_to_sign.as_bytes()).as_ref())
}

/// Whether `params.signature` is the signature of this request under `secret`, compared in
/// constant time. The body hash is the *claimed* one; the caller checks it against the body.
pub fn verify(
    secret: &[u8],
    params: &SignatureParams,
    method: &str,
    uri: &http::Uri,
    headers: &HeaderMap,
) -> Result<bool, SigningError> {
    let canonical = canonical_request(
        method,
        uri,
        headers,
        &params.signed_headers,
        &params.body_sha256,
    )?;
    let expected = signature(
        secret,
        &string_to_sign(params.timestamp, &params.nonce, &params.key_id, &canonical),
    );
    Ok(
        constant_time::verify_slices_are_equal(expected.as_bytes(), params.signature.as_bytes())
            .is_ok(),
    )
}

/// Every header of `required` the request carries must be in the signed list (so a header the
/// route relies on cannot be added or changed by someone who did not sign).
pub fn check_required(
    params: &SignatureParams,
    required: &[String],
    headers: &HeaderMap,
) -> Result<(), SigningError> {
    for name in required {
        let present = name == "host" || headers.contains_key(name.as_str());
        if present && !params.signed_headers.iter().any(|s| s == name) {
            return Err(SigningError::UnsignedRequiredHeader);
        }
    }
    Ok(())
}

/// A fresh nonce: 16 bytes from the OS CSPRNG, base64url without padding (22 characters).
pub fn new_nonce() -> Result<String, crate::api_key::RandomError> {
    use base64::Engine as _;
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| crate::api_key::RandomError)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// Signs a request (the client side: `portcullis sign`, tests). `headers` must hold every
/// header named in `signed_headers` (`host` may come from `uri`'s authority instead). The
/// arguments are exactly the inputs of the scheme; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
pub fn sign(
    secret: &[u8],
    key_id: &str,
    method: &str,
    uri: &http::Uri,
    headers: &HeaderMap,
    signed_headers: &[String],
    body: &[u8],
    timestamp: i64,
    nonce: &str,
) -> Result<SignatureParams, SigningError> {
    let body_sha256 = sha256_hex(body);
    let canonical = canonical_request(method, uri, headers, signed_headers, &body_sha256)?;
    Ok(SignatureParams {
        key_id: key_id.to_string(),
        signed_headers: signed_headers.to_vec(),
        timestamp,
        nonce: nonce.to_string(),
        body_sha256,
        signature: signature(
            secret,
            &string_to_sign(timestamp, nonce, key_id, &canonical),
        ),
    })
}

// === impl SignatureParams ===

impl SignatureParams {
    /// The `Authorization` header value.
    pub fn to_header(&self) -> String {
        format!(
            "{ALGORITHM} KeyId={}, SignedHeaders={}, Timestamp={}, Nonce={}, BodySha256={}, Signature={}",
            self.key_id,
            self.signed_headers.join(";"),
            self.timestamp,
            self.nonce,
            self.body_sha256,
            self.signature
        )
    }

    /// Parses an `Authorization` header value: the scheme, then exactly the six parameters
    /// `KeyId`, `SignedHeaders`, `Timestamp`, `Nonce`, `BodySha256`, `Signature` (any order,
    /// each once, separated by `,` and optional spaces). Anything else is refused.
    pub fn parse(value: &str) -> Result<Self, SigningError> {
        let rest = value
            .strip_prefix(ALGORITHM)
            .and_then(|r| r.strip_prefix(' '))
            .ok_or(SigningError::Malformed)?;
        let (mut key_id, mut signed, mut ts, mut nonce, mut body, mut sig) =
            (None, None, None, None, None, None);
        for part in rest.split(',') {
            let (name, v) = part.trim().split_once('=').ok_or(SigningError::Malformed)?;
            let slot = match name {
                "KeyId" => &mut key_id,
                "SignedHeaders" => &mut signed,
                "Timestamp" => &mut ts,
                "Nonce" => &mut nonce,
                "BodySha256" => &mut body,
                "Signature" => &mut sig,
                _ => return Err(SigningError::Malformed),
            };
            if slot.replace(v).is_some() {
                return Err(SigningError::Malformed);
            }
        }
        let (Some(key_id), Some(signed), Some(ts), Some(nonce), Some(body), Some(sig)) =
            (key_id, signed, ts, nonce, body, sig)
        else {
            return Err(SigningError::Malformed);
        };
        let is_hex64 =
            |s: &str| s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        let b64url = |s: &str| {
            s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if key_id.is_empty()
            || key_id.len() > 64
            || !key_id.bytes().all(|b| b.is_ascii_alphanumeric())
            || !(MIN_NONCE_CHARS..=MAX_NONCE_CHARS).contains(&nonce.len())
            || !b64url(nonce)
            || !is_hex64(body)
            || !is_hex64(sig)
            || ts.is_empty()
            || ts.len() > 12
            || !ts.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(SigningError::Malformed);
        }
        let timestamp = ts.parse::<i64>().map_err(|_| SigningError::Malformed)?;
        let signed_headers: Vec<String> = signed.split(';').map(str::to_string).collect();
        check_signed_headers(&signed_headers)?;
        Ok(Self {
            key_id: key_id.to_string(),
            signed_headers,
            timestamp,
            nonce: nonce.to_string(),
            body_sha256: body.to_string(),
            signature: sig.to_string(),
        })
    }
}

#[cfg(test)]
mod tests;
