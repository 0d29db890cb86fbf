//! A bounded structural check of `multipart/form-data` bodies: a sane boundary, number of
//! parts, size of each part's headers and content, and proper termination.
//!
//! Hand-written rather than `multer`: the body is already buffered, so multer's async stream
//! machinery buys nothing, and it parses and allocates every field while only structure is
//! checked here. This scanner allocates nothing per part and does O(n) work with `memmem`.

use memchr::memmem;

use super::head::{check_charset, content_type_at};
use crate::violation::Violation;

/// The limits the multipart checker applies.
#[derive(Clone, Copy, Debug)]
pub struct MultipartLimits {
    /// Most parts.
    pub max_parts: usize,
    /// Largest content of one part, in bytes.
    pub max_part_bytes: usize,
    /// Largest header block of one part, in bytes.
    pub max_header_bytes: usize,
}

/// Longest boundary RFC 2046 allows.
const MAX_BOUNDARY: usize = 70;

fn bad(rule: &str, message: &str) -> Violation {
    Violation::new("/body", rule, message)
}

/// The `boundary` parameter of a multipart `Content-Type`, if present exactly once and made
/// of the characters RFC 2046 allows.
pub fn boundary(content_type: &str) -> Result<String, Violation> {
    let mut found: Option<String> = None;
    for param in content_type.split(';').skip(1) {
        let Some((k, v)) = param.split_once('=') else {
            continue;
        };
        if !k.trim().eq_ignore_ascii_case("boundary") {
            continue;
        }
        if found.is_some() {
            return Err(bad("boundary", "the boundary parameter is repeated"));
        }
        let v = v.trim();
        let v = v
            .strip_prefix('"')
            .and_then(|x| x.strip_suffix('"'))
            .unwrap_or(v);
        found = Some(v.to_owned());
    }
    let Some(b) = found else {
        return Err(bad("boundary", "the multipart boundary is missing"));
    };
    let allowed = |c: u8| c.is_ascii_alphanumeric() || b"'()+_,-./:=? ".contains(&c);
    if b.is_empty() || b.len() > MAX_BOUNDARY || !b.bytes().all(allowed) || b.ends_with(' ') {
        return Err(bad("boundary", "the multipart boundary is not valid"));
    }
    Ok(b)
}

/// The line ending a multipart body uses, decided once from its first delimiter line.
///
/// RFC 2046 says CRLF, but PHP, ModSecurity and most form parsers also take bare LF, and
/// bodies written by scripts and test tools (YAML block scalars) have it. A body is held to
/// the one style its first delimiter line uses: a CRLF body with a bare-LF delimiter inside,
/// or the reverse, is refused, so the gateway and a lenient upstream cannot split it into
/// different parts.
fn line_ending(body: &[u8], dash: &[u8]) -> &'static [u8] {
    let first = match memmem::find(body, dash) {
        Some(i) => body.get(i + dash.len()..).unwrap_or_default(),
        None => return b"\r\n",
    };
    let eol = first
        .iter()
        .position(|b| *b == b'\n')
        .map(|i| first.get(..i).unwrap_or_default());
    match eol {
        Some(line) if !line.ends_with(b"\r") && !line.starts_with(b"--") => b"\n",
        _ => b"\r\n",
    }
}

/// Checks a multipart body against its boundary.
pub fn check_multipart(
    body: &[u8],
    boundary: &str,
    limits: MultipartLimits,
) -> Result<(), Violation> {
    let dash: Vec<u8> = [b"--".as_slice(), boundary.as_bytes()].concat();
    let eol = line_ending(body, &dash);
    let blank: Vec<u8> = [eol, eol].concat();
    let delim: Vec<u8> = [eol, dash.as_slice()].concat();
    let finder = memmem::Finder::new(&delim);
    let unterminated = || bad("syntax", "the multipart body is not properly terminated");
    let mut pos = if body.starts_with(&dash) {
        dash.len()
    } else {
        finder.find(body).ok_or_else(unterminated)? + delim.len()
    };
    let mut parts: usize = 0;
    loop {
        let rest = body.get(pos..).ok_or_else(unterminated)?;
        if rest.starts_with(b"--") {
            return Ok(());
        }
        let pad = rest
            .iter()
            .take_while(|b| **b == b' ' || **b == b'\t')
            .count();
        let rest = rest.get(pad..).ok_or_else(unterminated)?;
        let rest = rest.strip_prefix(eol).ok_or_else(unterminated)?;
        let consumed_head = pad + eol.len();
        parts = parts.saturating_add(1);
        if parts > limits.max_parts {
            return Err(bad(
                "maxParts",
                &format!("more than {} parts", limits.max_parts),
            ));
        }
        let (headers, content_at) = if rest.starts_with(eol) {
            (&[][..], eol.len())
        } else {
            let window = rest
                .get(..limits.max_header_bytes.saturating_add(4).min(rest.len()))
                .unwrap_or(rest);
            match memmem::find(window, &blank) {
                Some(i) => (rest.get(..i).unwrap_or_default(), i + blank.len()),
                None if rest.len() > limits.max_header_bytes => {
                    return Err(bad(
                        "maxHeaderBytes",
                        &format!("a part's headers exceed {} bytes", limits.max_header_bytes),
                    ));
                }
                None => return Err(unterminated()),
            }
        };
        if headers.len() > limits.max_header_bytes {
            return Err(bad(
                "maxHeaderBytes",
                &format!("a part's headers exceed {} bytes", limits.max_header_bytes),
            ));
        }
        let charset_field = check_part_headers(headers)?;
        let content = rest.get(content_at..).ok_or_else(unterminated)?;
        // The delimiter's line break belongs to it, so a part may end right at the header
        // block.
        if content.starts_with(delim.get(eol.len()..).unwrap_or_default()) {
            return Err(bad("syntax", "a part header block is malformed"));
        }
        let end = finder.find(content).ok_or_else(unterminated)?;
        if end > limits.max_part_bytes {
            return Err(bad(
                "maxPartBytes",
                &format!("a part is larger than {} bytes", limits.max_part_bytes),
            ));
        }
        if charset_field {
            let value = content.get(..end).unwrap_or_default();
            let value = std::str::from_utf8(value)
                .map_err(|_| bad("charset", "the declared charset is not accepted"))?;
            check_charset(value, "/body/_charset_")?;
        }
        if eol == b"\n" && content.get(..end).is_some_and(|c| c.ends_with(b"\r")) {
            // A CRLF delimiter inside a bare-LF body: two parsers would disagree on it.
            return Err(bad("syntax", "the multipart body mixes line endings"));
        }
        pos += consumed_head + content_at + end + delim.len();
    }
}

/// Checks one part's header block: every line `name: value` with a token name, no
/// `Content-Transfer-Encoding` (RFC 7578 §4.7 retired it; a base64 or quoted-printable part
/// hides its text from every inspector that does not decode it), a part `Content-Type` held
/// to the same charset rules as the request's. Returns whether the part is the `_charset_`
/// field (whose value names the charset of the whole form and is checked the same way).
fn check_part_headers(headers: &[u8]) -> Result<bool, Violation> {
    let mut charset_field = false;
    for line in headers.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() && headers.is_empty() {
            continue;
        }
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            return Err(bad("syntax", "a part header is malformed"));
        };
        let name = line.get(..colon).unwrap_or_default();
        let value = line.get(colon + 1..).unwrap_or_default();
        let token = |b: &u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(b);
        if name.is_empty() || !name.iter().all(token) {
            return Err(bad("partHeader", "a part header name is not a token"));
        }
        if name.eq_ignore_ascii_case(b"content-transfer-encoding") {
            return Err(bad(
                "partHeader",
                "Content-Transfer-Encoding is not accepted in form parts",
            ));
        }
        if name.eq_ignore_ascii_case(b"content-type") {
            content_type_at(trim(value), "/body")?;
        }
        if name.eq_ignore_ascii_case(b"content-disposition") {
            let lower = value.to_ascii_lowercase();
            charset_field |= memmem::find(&lower, b"name=\"_charset_\"").is_some()
                || memmem::find(&lower, b"name=_charset_").is_some();
        }
    }
    Ok(charset_field)
}

fn trim(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    b.get(start..end).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: MultipartLimits = MultipartLimits {
        max_parts: 2,
        max_part_bytes: 10,
        max_header_bytes: 100,
    };

    fn body(parts: &[&str]) -> Vec<u8> {
        let mut b = Vec::new();
        for p in parts {
            b.extend_from_slice(b"--XyZ\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\n");
            b.extend_from_slice(p.as_bytes());
            b.extend_from_slice(b"\r\n");
        }
        b.extend_from_slice(b"--XyZ--\r\n");
        b
    }

    #[test]
    fn structure() {
        assert!(check_multipart(&body(&["a", "bc"]), "XyZ", L).is_ok());
        assert!(check_multipart(&body(&[""]), "XyZ", L).is_ok());
        assert_eq!(
            check_multipart(&body(&["a", "b", "c"]), "XyZ", L)
                .unwrap_err()
                .rule,
            "maxParts"
        );
        assert_eq!(
            check_multipart(&body(&["0123456789a"]), "XyZ", L)
                .unwrap_err()
                .rule,
            "maxPartBytes"
        );
        let mut cut = body(&["a"]);
        cut.truncate(cut.len() - 9);
        assert_eq!(check_multipart(&cut, "XyZ", L).unwrap_err().rule, "syntax");
    }

    #[test]
    fn bare_lf_bodies_are_held_to_bare_lf() {
        let lf = body(&["a", "bc"]).replace_crlf();
        assert!(check_multipart(&lf, "XyZ", L).is_ok());
        let big = body(&["0123456789a"]).replace_crlf();
        assert_eq!(
            check_multipart(&big, "XyZ", L).unwrap_err().rule,
            "maxPartBytes"
        );
        // A CRLF delimiter slipped into a bare-LF body is refused, not re-read.
        let mixed = b"--XyZ\nContent-Disposition: form-data; name=\"f\"\n\na\r\n--XyZ--\n";
        assert_eq!(check_multipart(mixed, "XyZ", L).unwrap_err().rule, "syntax");
        // And a bare-LF header block in a CRLF body never ends its headers.
        let mixed = b"--XyZ\r\nContent-Disposition: form-data; name=\"f\"\n\na\r\n--XyZ--\r\n";
        assert_eq!(check_multipart(mixed, "XyZ", L).unwrap_err().rule, "syntax");
    }

    fn one_part(headers: &str, content: &str) -> Vec<u8> {
        format!("--XyZ\r\n{headers}\r\n\r\n{content}\r\n--XyZ--\r\n").into_bytes()
    }

    #[test]
    fn part_headers() {
        let ok = [
            ("Content-Disposition: form-data; name=\"a\"", "x"),
            (
                "Content-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\nContent-Type: text/plain; charset=utf-8",
                "x",
            ),
            (
                "Content-Disposition: form-data; name=\"_charset_\"",
                "UTF-8",
            ),
        ];
        for (h, c) in ok {
            assert!(check_multipart(&one_part(h, c), "XyZ", L).is_ok(), "{h}");
        }
        let refused = [
            (
                "Content-Disposition: form-data; name=\"_charset_\"",
                "utf-7",
                "charset",
            ),
            (
                "Content-Disposition: form-data; name=\"a\"\r\nContent-Type: text/plain; charset=utf-7",
                "x",
                "charset",
            ),
            (
                "Content-Disposition: form-data; name=\"a\"\r\nContent-Transfer-Encoding: base64",
                "eA==",
                "partHeader",
            ),
            (
                "Content-Disposition: form-data; name=\"a\"\r\nX\u{e9}: 1",
                "x",
                "partHeader",
            ),
        ];
        for (h, c, rule) in refused {
            assert_eq!(
                check_multipart(&one_part(h, c), "XyZ", L).unwrap_err().rule,
                rule,
                "{h}"
            );
        }
    }

    trait ReplaceCrlf {
        fn replace_crlf(self) -> Vec<u8>;
    }

    impl ReplaceCrlf for Vec<u8> {
        fn replace_crlf(self) -> Vec<u8> {
            String::from_utf8(self)
                .unwrap()
                .replace("\r\n", "\n")
                .into_bytes()
        }
    }

    #[test]
    fn boundaries() {
        assert_eq!(
            boundary("multipart/form-data; boundary=abc").unwrap(),
            "abc"
        );
        assert_eq!(
            boundary("multipart/form-data; boundary=\"a b\"").unwrap(),
            "a b"
        );
        assert!(boundary("multipart/form-data").is_err());
        assert!(boundary("multipart/form-data; boundary=a; boundary=b").is_err());
        assert!(boundary(&format!("multipart/form-data; boundary={}", "a".repeat(71))).is_err());
        assert!(boundary("multipart/form-data; boundary=a<b").is_err());
    }
}
