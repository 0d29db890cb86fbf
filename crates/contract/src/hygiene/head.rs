//! Request-head hygiene: the parts of the request line and headers that let one request mean
//! one thing to the gateway and another to the upstream, checked on every route before the
//! body is read.
//!
//! - **Charsets.** A body declared in a charset other than UTF-8 or a Latin-1 family member
//!   (`ibm037`, `utf-7`, `cp1026` ...) is read by the gateway as bytes that spell nothing,
//!   while an upstream that honours the charset (ASP.NET, some Java stacks) decodes it into
//!   the payload: the classic EBCDIC / UTF-7 firewall bypass. So is a `Content-Type` the
//!   upstream may parse differently: no `type/subtype`, a parameter without `=`, `charset`
//!   twice.
//! - **Method override.** `X-HTTP-Method-Override` (and its two spellings) and a `_method`
//!   query parameter make frameworks (Rails, Laravel, Express middleware, Spring's
//!   `HiddenHttpMethodFilter`) run a different method than the one the route's `methods`
//!   allowed, so a route open to `POST` would reach a `DELETE` handler. Refused (an override
//!   naming the request's own method excepted) unless the route sets
//!   `body_limits.allow_method_override`; a `_method` form field is refused the same way.
//! - **NUL bytes** in decoded query parameter names or values: C-string truncation on the
//!   upstream (`file=report.pdf%00.php`). No text parameter needs one.
//! - **Ranges.** `Range` / the obsolete `Request-Range` must be `bytes=` ranges, each first ≤
//!   last, at most [`MAX_RANGES`] of them: many small or overlapping ranges make the upstream
//!   do the work of many responses (CVE-2011-3192, "Apache Killer").

use http::header::{CONTENT_TYPE, RANGE};

use crate::violation::Violation;

/// Charsets a request body may declare: UTF-8 and the Latin-1 family, what browsers and HTTP
/// clients send. Anything else is refused (see the module doc).
pub const ALLOWED_CHARSETS: [&str; 6] = [
    "utf-8",
    "utf8",
    "us-ascii",
    "iso-8859-1",
    "iso-8859-15",
    "windows-1252",
];

/// Most ranges one `Range` header may ask for.
pub const MAX_RANGES: usize = 5;

/// Headers that ask a framework to run another method than the request line's.
const OVERRIDE_HEADERS: [&str; 3] = [
    "x-http-method-override",
    "x-http-method",
    "x-method-override",
];

/// Method names a framework would switch to: RFC 9110's, PATCH and WebDAV's. A `_method`
/// naming anything else changes nothing and passes.
const METHOD_NAMES: [&str; 16] = [
    "GET",
    "HEAD",
    "POST",
    "PUT",
    "DELETE",
    "CONNECT",
    "OPTIONS",
    "TRACE",
    "PATCH",
    "PROPFIND",
    "PROPPATCH",
    "MKCOL",
    "COPY",
    "MOVE",
    "LOCK",
    "UNLOCK",
];

/// Whether an override value switches a request with method `own` to another method.
pub(crate) fn switches_method(value: &str, own: &str) -> bool {
    let value = value.trim();
    !value.eq_ignore_ascii_case(own) && METHOD_NAMES.iter().any(|m| m.eq_ignore_ascii_case(value))
}

/// The request-head checks a route applies.
#[derive(Clone, Copy, Debug, Default)]
pub struct HeadLimits {
    /// Let method-override headers and `_method` through whatever method they name (by
    /// default only an override naming the request's own method passes).
    pub allow_method_override: bool,
}

fn bad(pointer: &str, rule: &str, message: &str) -> Violation {
    Violation::new(pointer, rule, message)
}

/// Checks the request line and headers.
pub fn check_head(req: &http::request::Parts, limits: HeadLimits) -> Result<(), Violation> {
    for v in req.headers.get_all(CONTENT_TYPE) {
        check_content_type(v.as_bytes())?;
    }
    check_overrides(req, limits)?;
    // A NUL can only come from `%00` (the URI itself cannot hold one): most queries are
    // never decoded here.
    if let Some(q) = req.uri.query().filter(|q| q.contains("%00")) {
        for (name, value) in form_urlencoded::parse(q.as_bytes()) {
            if name.contains('\0') || value.contains('\0') {
                return Err(bad("/query", "nul", "a query parameter holds a NUL byte"));
            }
        }
    }
    for name in [RANGE.as_str(), "request-range"] {
        for v in req.headers.get_all(name) {
            check_range(v.as_bytes(), name)?;
        }
    }
    check_header_injection(req)?;
    Ok(())
}

/// Header injection through values that an upstream may copy into a response or an
/// outgoing request: a query parameter *name* holding a line break (no name needs one), and
/// a query parameter value or a header value holding an encoded line break followed by a
/// header line (`x=%0d%0aSet-Cookie: a=b`, `SomeHeader: data%0dInjected: 1`). A line break
/// followed by prose passes: multi-line text is legitimate in a value.
fn check_header_injection(req: &http::request::Parts) -> Result<(), Violation> {
    let refused = |pointer: &str| {
        bad(
            pointer,
            "headerInjection",
            "a line break followed by a header line",
        )
    };
    if let Some(q) = req.uri.query().filter(|q| has_encoded_break(q.as_bytes())) {
        for (name, value) in form_urlencoded::parse(q.as_bytes()) {
            if name.contains(['\r', '\n']) {
                return Err(refused("/query"));
            }
            if breaks_into_header(&value) {
                return Err(refused("/query"));
            }
        }
    }
    for (name, value) in &req.headers {
        let raw = value.as_bytes();
        if has_encoded_break(raw) {
            let decoded = percent_encoding::percent_decode(raw).decode_utf8_lossy();
            if breaks_into_header(&decoded) {
                return Err(refused(&format!("/headers/{name}")));
            }
        }
    }
    Ok(())
}

/// Whether `s` holds `%0d` or `%0a` (any case).
fn has_encoded_break(s: &[u8]) -> bool {
    s.windows(3).any(|w| {
        w.first() == Some(&b'%')
            && w.get(1) == Some(&b'0')
            && w.get(2)
                .is_some_and(|c| matches!(c, b'a' | b'A' | b'd' | b'D'))
    })
}

/// A CR or LF followed (after more line breaks or blanks) by `Name:` where `Name` is a header
/// token with a hyphen or a known header, or by `Name: ` with a value on the same line and a
/// name that is one capitalised or hyphenated token — the shape of a header line.
fn breaks_into_header(s: &str) -> bool {
    let mut rest = s;
    while let Some(i) = rest.find(['\r', '\n']) {
        let after = rest
            .get(i..)
            .unwrap_or_default()
            .trim_start_matches(['\r', '\n', ' ', '\t']);
        if let Some((name, _)) = after.split_once(':')
            && !name.is_empty()
            && name.len() <= 40
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            && (name.contains('-') || KNOWN_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(name)))
        {
            return true;
        }
        // `after` starts past the line break found, so the loop always advances.
        rest = after;
    }
    false
}

/// One-word header names worth injecting (the hyphenated ones are caught by shape).
const KNOWN_HEADERS: [&str; 10] = [
    "location",
    "refresh",
    "link",
    "host",
    "cookie",
    "authorization",
    "forwarded",
    "via",
    "server",
    "expires",
];

/// `Content-Type`: `type/subtype` made of tokens, parameters `name=value` (token or quoted
/// string; empty ones between `;` are tolerated, as RFC 9110 allows), `charset` at most once
/// and one of [`ALLOWED_CHARSETS`].
pub fn check_content_type(value: &[u8]) -> Result<(), Violation> {
    content_type_at(value, "/headers/content-type")
}

/// [`check_content_type`] reporting at `pointer` (a multipart part's header).
pub(crate) fn content_type_at(value: &[u8], pointer: &str) -> Result<(), Violation> {
    let p = pointer;
    let malformed = || bad(p, "contentType", "the Content-Type header is malformed");
    let text = std::str::from_utf8(value).map_err(|_| malformed())?;
    if text.trim().is_empty() {
        // An empty header says as much as none; the body is sniffed as if it had none.
        return Ok(());
    }
    let mut params = split_params(text);
    let essence = params.next().unwrap_or_default().trim();
    let (ty, sub) = essence.split_once('/').ok_or_else(malformed)?;
    if !is_token(ty) || !is_token(sub) {
        return Err(malformed());
    }
    let mut charset_seen = false;
    for param in params {
        let param = param.trim();
        if param.is_empty() {
            continue;
        }
        let (name, value) = param.split_once('=').ok_or_else(malformed)?;
        let (name, value) = (name.trim_end(), value.trim_start());
        if !is_token(name) {
            return Err(malformed());
        }
        // Unquoted values are held to visible ASCII without quotes or backslashes rather
        // than to `token`: real boundaries carry `:`, `(`, `,`, `/`, `?`, `=` unquoted.
        let value = match value.strip_prefix('"') {
            Some(rest) => rest.strip_suffix('"').ok_or_else(malformed)?,
            None if value
                .bytes()
                .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\') =>
            {
                value
            }
            None => return Err(malformed()),
        };
        if names_media_type(value) {
            // `application/x-www-form-urlencoded; boundary="application/json"`: frameworks
            // that look for a media type anywhere in the header read another body type than
            // the gateway does.
            return Err(bad(
                p,
                "contentType",
                "a Content-Type parameter names another media type",
            ));
        }
        if name.eq_ignore_ascii_case("charset") {
            if charset_seen {
                return Err(bad(p, "charset", "the charset parameter is repeated"));
            }
            charset_seen = true;
            check_charset(value, p)?;
        }
    }
    Ok(())
}

/// One charset name against [`ALLOWED_CHARSETS`].
pub fn check_charset(name: &str, pointer: &str) -> Result<(), Violation> {
    let name = name.trim().trim_matches('\'');
    if ALLOWED_CHARSETS
        .iter()
        .any(|c| c.eq_ignore_ascii_case(name))
    {
        Ok(())
    } else {
        Err(bad(
            pointer,
            "charset",
            "the declared charset is not accepted (UTF-8 or ISO-8859-1/15, windows-1252)",
        ))
    }
}

/// IANA top-level media types.
const MEDIA_TOP_LEVEL: [&str; 10] = [
    "application",
    "audio",
    "font",
    "example",
    "image",
    "message",
    "model",
    "multipart",
    "text",
    "video",
];

/// Whether a parameter value holds `top/sub` with an IANA top-level type (and is no URL,
/// whose path may spell one).
fn names_media_type(value: &str) -> bool {
    if value.contains("://") {
        return false;
    }
    let lower = value.to_ascii_lowercase();
    lower.match_indices('/').any(|(i, _)| {
        let before = lower.get(..i).unwrap_or_default();
        let word_start = before
            .rfind(|c: char| !c.is_ascii_alphanumeric())
            .map_or(0, |j| j + 1);
        let top = before.get(word_start..).unwrap_or_default();
        let sub_starts = lower
            .get(i + 1..)
            .and_then(|r| r.chars().next())
            .is_some_and(|c| c.is_ascii_alphanumeric());
        sub_starts && MEDIA_TOP_LEVEL.contains(&top)
    })
}

/// Splits at `;` outside quoted strings.
fn split_params(text: &str) -> impl Iterator<Item = &str> {
    let mut quoted = false;
    let mut escaped = false;
    text.split(move |c: char| {
        if escaped {
            escaped = false;
            return false;
        }
        match c {
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ';' if !quoted => return true,
            _ => {}
        }
        false
    })
}

/// RFC 9110 `token`.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn check_overrides(req: &http::request::Parts, limits: HeadLimits) -> Result<(), Violation> {
    let own = req.method.as_str();
    let refused = |pointer: &str| {
        bad(
            pointer,
            "methodOverride",
            "method overrides are not accepted on this route",
        )
    };
    for name in OVERRIDE_HEADERS {
        for v in req.headers.get_all(name) {
            let switches = v.to_str().map_or(true, |m| switches_method(m, own));
            if switches && !limits.allow_method_override {
                return Err(refused(&format!("/headers/{name}")));
            }
        }
    }
    // `_method` (also spelled `%5Fmethod`) contains `method`: other queries skip the decode.
    let mentions = |q: &&str| {
        q.as_bytes()
            .windows(6)
            .any(|w| w.eq_ignore_ascii_case(b"method"))
    };
    if let Some(q) = req.uri.query().filter(mentions) {
        for (name, value) in form_urlencoded::parse(q.as_bytes()) {
            if name.eq_ignore_ascii_case("_method")
                && switches_method(&value, own)
                && !limits.allow_method_override
            {
                return Err(refused("/query/_method"));
            }
        }
    }
    Ok(())
}

/// A `bytes=` range set: at most [`MAX_RANGES`] ranges, none with its first byte after its
/// last. A header that is no byte range set at all (`Range: test`) is left alone: RFC 9110
/// tells the upstream to ignore it, so it asks for nothing.
fn check_range(value: &[u8], name: &str) -> Result<(), Violation> {
    let pointer = format!("/headers/{name}");
    let malformed = || bad(&pointer, "range", "the range header is malformed");
    let Ok(text) = std::str::from_utf8(value) else {
        return Ok(());
    };
    let Some((unit, set)) = text.trim().split_once('=') else {
        return Ok(());
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return Ok(());
    }
    let mut count = 0usize;
    for spec in set.split(',') {
        let spec = spec.trim();
        if spec.is_empty() {
            continue;
        }
        count += 1;
        if count > MAX_RANGES {
            return Err(bad(
                &pointer,
                "range",
                &format!("more than {MAX_RANGES} ranges requested"),
            ));
        }
        let (first, last) = spec.split_once('-').ok_or_else(malformed)?;
        let number = |s: &str| -> Result<Option<u64>, Violation> {
            if s.is_empty() {
                return Ok(None);
            }
            if !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(malformed());
            }
            s.parse().map(Some).map_err(|_| malformed())
        };
        match (number(first)?, number(last)?) {
            (None, None) => return Err(malformed()),
            (Some(a), Some(b)) if a > b => return Err(malformed()),
            _ => {}
        }
    }
    if count == 0 {
        return Err(malformed());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(method: &str, uri: &str, headers: &[(&str, &str)]) -> http::request::Parts {
        let mut b = http::Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).unwrap().into_parts().0
    }

    fn rule(method: &str, uri: &str, headers: &[(&str, &str)]) -> Option<String> {
        check_head(&parts(method, uri, headers), HeadLimits::default())
            .err()
            .map(|v| v.rule)
    }

    #[test]
    fn content_types_and_charsets() {
        for ok in [
            "application/json",
            "application/json; charset=utf-8",
            "application/json;charset=\"UTF-8\"",
            "text/plain; charset=ISO-8859-1; format=flowed",
            "application/x-www-form-urlencoded;",
            "multipart/form-data; boundary=----WebKitFormBoundaryx7",
            "multipart/form-data; boundary=\"a;b c\"",
            "multipart/mixed; boundary=-----boundary_data:55780(123,45:667)+part",
            "multipart/mixed; boundary= gc0p4Jq0M2Yt,08/jU534c0p?==:test",
            "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams/text/x\"",
            "application/x-www-form-urlencoded; charset='utf-8'",
            "",
        ] {
            assert_eq!(
                rule("POST", "/", &[("content-type", ok)]),
                None,
                "{ok} refused"
            );
        }
        for (bad, want) in [
            (
                "application/x-www-form-urlencoded; charset=ibm037",
                "charset",
            ),
            ("text/plain; charset=utf-7", "charset"),
            ("application/json; charset=utf-8; charset=ibm500", "charset"),
            ("application", "contentType"),
            ("text/xml; blah", "contentType"),
            ("text/plain; charset=\"UTF-8", "contentType"),
            ("text/pl ain", "contentType"),
            ("text/plain; charset=/gar/bage", "charset"),
            (
                "application/x-www-form-urlencoded;boundary=\"application/json\"",
                "contentType",
            ),
            ("text/plain; x=image/jpeg", "contentType"),
        ] {
            assert_eq!(
                rule("POST", "/", &[("content-type", bad)]).as_deref(),
                Some(want),
                "{bad}"
            );
        }
    }

    #[test]
    fn method_overrides() {
        assert_eq!(
            rule("POST", "/a?_method=DELETE", &[]).as_deref(),
            Some("methodOverride")
        );
        assert_eq!(
            rule("POST", "/a", &[("x-http-method-override", "PUT")]).as_deref(),
            Some("methodOverride")
        );
        assert_eq!(
            rule("GET", "/a", &[("X-Method-Override", "DELETE")]).as_deref(),
            Some("methodOverride")
        );
        // Twins: a parameter that merely contains the word, an override naming the request's
        // own method, and a route that allows overrides.
        assert_eq!(rule("POST", "/a?payment_method=card&method=x", &[]), None);
        assert_eq!(rule("POST", "/a?_method=DELETE1", &[]), None);
        assert_eq!(
            rule("POST", "/a?%5Fmethod=put", &[]).as_deref(),
            Some("methodOverride")
        );
        assert_eq!(
            rule("POST", "/a?_method=PROPFIND", &[]).as_deref(),
            Some("methodOverride")
        );
        assert_eq!(
            rule("POST", "/a?_method=post", &[("x-http-method", "POST")]),
            None
        );
        let allow = HeadLimits {
            allow_method_override: true,
        };
        assert!(check_head(&parts("POST", "/a?_method=DELETE", &[]), allow).is_ok());
    }

    #[test]
    fn nul_bytes_in_the_query() {
        assert_eq!(
            rule("GET", "/a?file=report.pdf%00.php", &[]).as_deref(),
            Some("nul")
        );
        assert_eq!(rule("GET", "/a?x%00=1", &[]).as_deref(), Some("nul"));
        assert_eq!(rule("GET", "/a?file=report%2500.pdf&n=0", &[]), None);
    }

    #[test]
    fn header_injection() {
        for attack in [
            "/a?x=%0d%0aSet-Cookie:%20a=b",
            "/a?x=y&%0d%0aRemote-addr:%20foo.bar.com=Y",
            "/a?parameter%0d%0a=test",
            "/a?x=Y%0d%0aLocation:%20http://evil",
            "/a?v=%0d%0d%0d%0aX-Forwarded-For:%201.2.3.4",
        ] {
            assert_eq!(
                rule("GET", attack, &[]).as_deref(),
                Some("headerInjection"),
                "{attack}"
            );
        }
        assert_eq!(
            rule("GET", "/", &[("someheader", "data%0dInjected-Header: x")]).as_deref(),
            Some("headerInjection")
        );
        // Twins: multi-line prose, a list of times, an encoded break with no header after.
        for ok in [
            "/a?note=Dear%20team%2C%0d%0athanks%20for%20the%20help",
            "/a?agenda=Item%201%0aNotes:%20none",
            "/a?times=10:30%0a11:45",
            "/a?x=%0d%0a",
        ] {
            assert_eq!(rule("GET", ok, &[]), None, "{ok}");
        }
        assert_eq!(rule("GET", "/", &[("x-note", "50%0dff")]), None);
    }

    #[test]
    fn ranges() {
        for ok in ["bytes=0-1023", "bytes=500-", "bytes=-500", "bytes=0-0, 5-9"] {
            assert_eq!(rule("GET", "/", &[("range", ok)]), None, "{ok}");
        }
        // Not a byte range set at all: the upstream ignores it, so it passes.
        for ignored in ["1-2", "test", "items=0-5"] {
            assert_eq!(rule("GET", "/", &[("range", ignored)]), None, "{ignored}");
        }
        for bad in [
            "bytes=10-5",
            "bytes=-",
            "bytes=a-b",
            "bytes=1-2,3-4,5-6,7-8,9-10,11-12",
        ] {
            assert_eq!(
                rule("GET", "/", &[("range", bad)]).as_deref(),
                Some("range"),
                "{bad}"
            );
        }
        assert_eq!(
            rule("GET", "/", &[("request-range", "bytes=9-1")]).as_deref(),
            Some("range")
        );
    }
}
