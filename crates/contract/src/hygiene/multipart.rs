//! A bounded structural check of `multipart/form-data` bodies: a sane boundary, number of
//! parts, size of each part's headers and content, and proper termination.
//!
//! Hand-written rather than `multer`: the body is already buffered, so multer's async stream
//! machinery buys nothing, and it parses and allocates every field while only structure is
//! checked here. This scanner allocates nothing per part and does O(n) work with `memmem`.

use memchr::memmem;

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

/// Checks a multipart body against its boundary.
pub fn check_multipart(
    body: &[u8],
    boundary: &str,
    limits: MultipartLimits,
) -> Result<(), Violation> {
    let dash: Vec<u8> = [b"--".as_slice(), boundary.as_bytes()].concat();
    let delim: Vec<u8> = [b"\r\n--".as_slice(), boundary.as_bytes()].concat();
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
        let rest = rest.strip_prefix(b"\r\n").ok_or_else(unterminated)?;
        let consumed_head = pad + 2;
        parts = parts.saturating_add(1);
        if parts > limits.max_parts {
            return Err(bad(
                "maxParts",
                &format!("more than {} parts", limits.max_parts),
            ));
        }
        let (headers, content_at) = if rest.starts_with(b"\r\n") {
            (&[][..], 2)
        } else {
            let window = rest
                .get(..limits.max_header_bytes.saturating_add(4).min(rest.len()))
                .unwrap_or(rest);
            match memmem::find(window, b"\r\n\r\n") {
                Some(i) => (rest.get(..i).unwrap_or_default(), i + 4),
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
        if headers
            .split(|b| *b == b'\n')
            .any(|line| !line.contains(&b':'))
            && !headers.is_empty()
        {
            return Err(bad("syntax", "a part header is malformed"));
        }
        let content = rest.get(content_at..).ok_or_else(unterminated)?;
        // The delimiter's CRLF belongs to it, so a part may end right at the header block.
        if content.starts_with(delim.get(2..).unwrap_or_default()) {
            return Err(bad("syntax", "a part header block is malformed"));
        }
        let end = finder.find(content).ok_or_else(unterminated)?;
        if end > limits.max_part_bytes {
            return Err(bad(
                "maxPartBytes",
                &format!("a part is larger than {} bytes", limits.max_part_bytes),
            ));
        }
        pos += consumed_head + content_at + end + delim.len();
    }
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
