//! Validation of one request head.

use http::StatusCode;

use crate::sentinel::{MARKER_HEADER, Violation};

/// How the body of a valid request is framed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// No body.
    None,
    /// Exactly this many bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// The outcome of looking at the start of the buffer.
#[derive(Debug, PartialEq, Eq)]
pub enum HeadCheck {
    /// More bytes are needed.
    Incomplete,
    /// A valid head of `len` bytes.
    Valid {
        /// Bytes of the head, including the final CRLF CRLF.
        len: usize,
        /// Its body framing.
        framing: Framing,
    },
    /// The head is refused.
    Refused(Violation),
}

fn bad(code: &'static str) -> HeadCheck {
    HeadCheck::Refused(Violation {
        code,
        status: StatusCode::BAD_REQUEST,
    })
}

fn too_large(code: &'static str) -> HeadCheck {
    HeadCheck::Refused(Violation {
        code,
        status: StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
    })
}

/// Finds the end of the head (`\r\n\r\n`), refusing bare LF and stray CR before it.
fn head_end(buf: &[u8]) -> Result<Option<usize>, &'static str> {
    let mut i = 0usize;
    while let Some(&b) = buf.get(i) {
        match b {
            b'\n' => {
                let prev = i.checked_sub(1).and_then(|p| buf.get(p));
                if prev != Some(&b'\r') {
                    return Err("bare_lf");
                }
                // `\r\n` just ended a line; is the next line empty?
                if buf.get(i + 1) == Some(&b'\r') {
                    match buf.get(i + 2) {
                        Some(b'\n') => return Ok(Some(i + 3)),
                        Some(_) => return Err("bare_cr"),
                        None => return Ok(None),
                    }
                }
            }
            b'\r' => match buf.get(i + 1) {
                Some(b'\n') | None => {}
                Some(_) => return Err("bare_cr"),
            },
            0 => return Err("nul_byte"),
            _ => {}
        }
        i += 1;
    }
    Ok(None)
}

fn parse_content_length(v: &[u8]) -> Option<u64> {
    if v.is_empty() || v.len() > 19 || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(v).ok()?.parse().ok()
}

fn trim(v: &[u8]) -> &[u8] {
    let start = v
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(v.len());
    let end = v
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    v.get(start..end).unwrap_or(&[])
}

/// Host comparison: case-insensitive, with the default port of the scheme ignored.
fn same_host(authority: &str, host: &str, default_port: &str) -> bool {
    let norm = |s: &str| {
        let s = s.to_ascii_lowercase();
        match s.strip_suffix(default_port) {
            Some(stripped) if default_port.len() > 1 => stripped.to_string(),
            _ => s,
        }
    };
    norm(authority) == norm(host)
}

/// Checks the head at the start of `buf`. `scratch` must hold `max_headers + 1` slots (one
/// more than allowed, to tell "too many" from "exactly the limit").
pub fn check_head<'b>(
    buf: &'b [u8],
    max_head_bytes: usize,
    scratch: &mut [httparse::Header<'b>],
) -> HeadCheck {
    let window = buf.get(..buf.len().min(max_head_bytes)).unwrap_or(buf);
    let end = match head_end(window) {
        Err(code) => return bad(code),
        Ok(None) if buf.len() >= max_head_bytes => return too_large("head_too_large"),
        Ok(None) => return HeadCheck::Incomplete,
        Ok(Some(end)) => end,
    };
    let Some(head) = buf.get(..end) else {
        return HeadCheck::Incomplete;
    };
    let mut req = httparse::Request::new(scratch);
    let parsed = httparse::ParserConfig::default().parse_request(&mut req, head);
    match parsed {
        Ok(httparse::Status::Complete(n)) if n == end => {}
        Ok(httparse::Status::Complete(_)) => return bad("malformed_head"),
        Ok(httparse::Status::Partial) => return bad("malformed_head"),
        Err(httparse::Error::TooManyHeaders) => return too_large("too_many_headers"),
        Err(httparse::Error::HeaderName) => return bad("invalid_header_name"),
        Err(httparse::Error::HeaderValue) => return bad("invalid_header_value"),
        Err(httparse::Error::Token) => return bad("invalid_method"),
        Err(httparse::Error::Version) => return bad("invalid_version"),
        Err(httparse::Error::Status) | Err(httparse::Error::NewLine) => {
            return bad("malformed_head");
        }
    }
    let (Some(method), Some(target), Some(version)) = (req.method, req.path, req.version) else {
        return bad("malformed_head");
    };
    let mut content_length: Option<u64> = None;
    let mut cl_count = 0usize;
    let mut te_count = 0usize;
    let mut te_chunked = false;
    let mut host: Option<&[u8]> = None;
    let mut host_count = 0usize;
    for h in req.headers.iter() {
        let name = h.name;
        if name.eq_ignore_ascii_case(MARKER_HEADER) {
            return bad("reserved_header");
        }
        if name.eq_ignore_ascii_case("content-length") {
            cl_count += 1;
            match parse_content_length(trim(h.value)) {
                Some(n) => content_length = Some(n),
                None => return bad("bad_content_length"),
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            te_count += 1;
            te_chunked = trim(h.value).eq_ignore_ascii_case(b"chunked");
        } else if name.eq_ignore_ascii_case("host") {
            host_count += 1;
            host = Some(trim(h.value));
        }
    }
    if cl_count > 1 {
        return bad("duplicate_content_length");
    }
    if te_count > 0 && cl_count > 0 {
        return bad("cl_and_te");
    }
    if te_count > 1 || (te_count == 1 && !te_chunked) {
        return bad("bad_transfer_encoding");
    }
    if te_count > 0 && version == 0 {
        return bad("te_in_http10");
    }
    if host_count > 1 {
        return bad("duplicate_host");
    }
    if version == 1 && host_count == 0 {
        return bad("missing_host");
    }
    // Request target forms (RFC 9112 §3.2).
    if target.starts_with('/') {
        // origin-form
    } else if let Some(rest) = target
        .strip_prefix("http://")
        .map(|r| (r, ":80"))
        .or_else(|| target.strip_prefix("https://").map(|r| (r, ":443")))
    {
        let (rest, default_port) = rest;
        let authority = rest.split(['/', '?']).next().unwrap_or("");
        if authority.is_empty() || authority.contains('@') {
            return bad("bad_target");
        }
        if let Some(h) = host {
            let h = std::str::from_utf8(h).unwrap_or("");
            if !same_host(authority, h, default_port) {
                return bad("host_mismatch");
            }
        }
    } else if target == "*" {
        if method != "OPTIONS" {
            return bad("bad_target");
        }
    } else if method == "CONNECT" {
        // authority-form; CONNECT is refused by the router, never tunnelled.
    } else {
        return bad("bad_target");
    }
    let framing = if te_chunked {
        Framing::Chunked
    } else {
        match content_length {
            Some(0) | None => Framing::None,
            Some(n) => Framing::Length(n),
        }
    };
    HeadCheck::Valid { len: end, framing }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: &str) -> HeadCheck {
        let mut scratch = vec![httparse::EMPTY_HEADER; 101];
        check_head(raw.as_bytes(), 16 * 1024, &mut scratch)
    }

    fn code(raw: &str) -> &'static str {
        match check(raw) {
            HeadCheck::Refused(v) => v.code,
            other => panic!("{raw:?} was not refused: {other:?}"),
        }
    }

    #[test]
    fn valid_heads() {
        assert_eq!(
            check("GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
            HeadCheck::Valid {
                len: 27,
                framing: Framing::None
            }
        );
        assert!(matches!(
            check("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"),
            HeadCheck::Valid {
                framing: Framing::Length(3),
                ..
            }
        ));
        assert!(matches!(
            check("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n"),
            HeadCheck::Valid {
                framing: Framing::Chunked,
                ..
            }
        ));
        assert!(matches!(
            check("GET http://A:80/x HTTP/1.1\r\nHost: a\r\n\r\n"),
            HeadCheck::Valid { .. }
        ));
        assert!(matches!(
            check("GET / HTTP/1.0\r\n\r\n"),
            HeadCheck::Valid { .. }
        ));
        assert!(matches!(
            check("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"),
            HeadCheck::Valid { .. }
        ));
        assert_eq!(
            check("GET / HTTP/1.1\r\nHost: a\r\n"),
            HeadCheck::Incomplete
        );
    }

    #[test]
    fn violations_have_codes() {
        assert_eq!(
            code(
                "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"
            ),
            "cl_and_te"
        );
        assert_eq!(
            code("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n"),
            "duplicate_content_length"
        );
        assert_eq!(
            code("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 1\r\n\r\n"),
            "bad_content_length"
        );
        assert_eq!(
            code("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"),
            "bad_content_length"
        );
        assert_eq!(
            code("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n"),
            "bad_content_length"
        );
        assert_eq!(
            code("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
            "bad_transfer_encoding"
        );
        assert_eq!(
            code(
                "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"
            ),
            "bad_transfer_encoding"
        );
        assert_eq!(
            code("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"),
            "te_in_http10"
        );
        assert_eq!(
            code("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
            "duplicate_host"
        );
        assert_eq!(code("GET / HTTP/1.1\r\n\r\n"), "missing_host");
        assert_eq!(code("GET / HTTP/1.1\nHost: a\n\n"), "bare_lf");
        assert_eq!(code("GET / HTTP/1.1\r\nHost: a\n\r\n"), "bare_lf");
        assert_eq!(code("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n"), "bare_cr");
        assert_eq!(
            code("GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n"),
            "nul_byte"
        );
        assert_eq!(
            code("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n"),
            "invalid_header_name"
        );
        assert_eq!(
            code("GET / HTTP/1.1\r\nHost : a\r\n\r\n"),
            "invalid_header_name"
        );
        assert_eq!(
            code("GET http://evil/ HTTP/1.1\r\nHost: a\r\n\r\n"),
            "host_mismatch"
        );
        assert_eq!(code("GET * HTTP/1.1\r\nHost: a\r\n\r\n"), "bad_target");
        assert_eq!(code("GET x HTTP/1.1\r\nHost: a\r\n\r\n"), "bad_target");
        assert_eq!(
            code("GET / HTTP/1.1\r\nHost: a\r\nX-Portcullis-Framing: x\r\n\r\n"),
            "reserved_header"
        );
        assert_eq!(code("G(T / HTTP/1.1\r\nHost: a\r\n\r\n"), "invalid_method");
        assert_eq!(code("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), "invalid_version");
    }

    #[test]
    fn limits_give_431() {
        let mut scratch = vec![httparse::EMPTY_HEADER; 3];
        let many = "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
        match check_head(many.as_bytes(), 1024, &mut scratch) {
            HeadCheck::Refused(v) => {
                assert_eq!((v.code, v.status.as_u16()), ("too_many_headers", 431))
            }
            other => panic!("{other:?}"),
        }
        let long = format!("GET / HTTP/1.1\r\nHost: a\r\nX: {}", "a".repeat(2000));
        match check_head(long.as_bytes(), 1024, &mut scratch) {
            HeadCheck::Refused(v) => {
                assert_eq!((v.code, v.status.as_u16()), ("head_too_large", 431))
            }
            other => panic!("{other:?}"),
        }
    }
}
