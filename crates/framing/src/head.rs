//! Validation of one request head.

use std::mem::MaybeUninit;

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

/// Where the line-ending scan of a head stands.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Scan {
    /// No end yet; scanning may resume at `resume` once more bytes arrive.
    Incomplete { resume: usize },
    /// The head ends (after its empty line) at this offset.
    End(usize),
    /// A line-level violation.
    Bad(&'static str),
}

/// Finds the end of the head (`\r\n\r\n`) from offset `from` (a previous `resume`), refusing
/// bare LF, bare CR, NUL and obs-fold continuation lines on the way. Incremental, so a head
/// trickling in byte by byte is scanned once, not once per byte.
pub(crate) fn scan_head(buf: &[u8], from: usize) -> Scan {
    let mut i = from;
    loop {
        let Some(rest) = buf.get(i..) else {
            return Scan::Incomplete { resume: buf.len() };
        };
        let Some(step) = rest.iter().position(|&b| matches!(b, b'\n' | b'\r' | 0)) else {
            return Scan::Incomplete { resume: buf.len() };
        };
        i = i.saturating_add(step);
        let next = buf.get(i.saturating_add(1)).copied();
        match buf.get(i).copied() {
            Some(b'\n') => {
                let prev = i.checked_sub(1).and_then(|p| buf.get(p)).copied();
                if prev != Some(b'\r') {
                    return Scan::Bad("bare_lf");
                }
                match next {
                    None => return Scan::Incomplete { resume: i },
                    Some(b'\r') => match buf.get(i.saturating_add(2)) {
                        Some(b'\n') => return Scan::End(i.saturating_add(3)),
                        Some(_) => return Scan::Bad("bare_cr"),
                        None => return Scan::Incomplete { resume: i },
                    },
                    Some(b' ' | b'\t') => return Scan::Bad("obs_fold"),
                    Some(_) => {}
                }
            }
            Some(b'\r') => match next {
                Some(b'\n') => {}
                None => return Scan::Incomplete { resume: i },
                Some(_) => return Scan::Bad("bare_cr"),
            },
            _ => return Scan::Bad("nul_byte"),
        }
        i = i.saturating_add(1);
    }
}

fn parse_content_length(v: &[u8]) -> Option<u64> {
    if v.is_empty() || v.len() > 19 || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(v).ok()?.parse().ok()
}

fn trim(v: &[u8]) -> &[u8] {
    v.trim_ascii()
}

/// An authority (`host[:port]`, no userinfo) split into its host and port. `None` if it is not
/// a syntactically valid authority: empty host, userinfo, an empty or non-numeric port, or a
/// character outside RFC 3986's reg-name / IP-literal sets.
pub(crate) fn split_authority(a: &[u8]) -> Option<(&[u8], Option<u16>)> {
    let (host, port) = if a.first() == Some(&b'[') {
        let close = a.iter().position(|&b| b == b']')?;
        let host = a.get(..=close)?;
        let inner = a.get(1..close)?;
        if inner.is_empty()
            || !inner
                .iter()
                .all(|&b| b.is_ascii_hexdigit() || matches!(b, b':' | b'.'))
        {
            return None;
        }
        match a.get(close.saturating_add(1)..)? {
            [] => (host, None),
            [b':', port @ ..] => (host, Some(port)),
            _ => return None,
        }
    } else {
        let (host, port) = match a.iter().rposition(|&b| b == b':') {
            Some(c) => (a.get(..c)?, Some(a.get(c.saturating_add(1)..)?)),
            None => (a, None),
        };
        let reg_name = |b: &u8| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'-' | b'.'
                        | b'_'
                        | b'~'
                        | b'%'
                        | b'!'
                        | b'$'
                        | b'&'
                        | b'\''
                        | b'('
                        | b')'
                        | b'*'
                        | b'+'
                        | b','
                        | b';'
                        | b'='
                )
        };
        if host.is_empty() || !host.iter().all(reg_name) {
            return None;
        }
        (host, port)
    };
    let port = match port {
        None => None,
        Some(p) if !p.is_empty() && p.len() <= 5 && p.iter().all(u8::is_ascii_digit) => {
            Some(std::str::from_utf8(p).ok()?.parse::<u16>().ok()?)
        }
        Some(_) => return None,
    };
    Some((host, port))
}

/// Host comparison: case-insensitive host, ports equal once the scheme's default fills in a
/// missing one (`http://a/` matches `Host: a:80`).
fn same_host(authority: &[u8], host: &[u8], default_port: u16) -> bool {
    match (split_authority(authority), split_authority(host)) {
        (Some((ah, ap)), Some((hh, hp))) => {
            ah.eq_ignore_ascii_case(hh) && ap.unwrap_or(default_port) == hp.unwrap_or(default_port)
        }
        _ => false,
    }
}

/// The most header fields any head may have, whatever the config says (the parse scratch
/// lives on the stack: no allocation per request).
pub const MAX_HEADERS_CAP: usize = 256;

/// Checks the head at the start of `buf`, allowing at most `max_headers` fields (capped at
/// [`MAX_HEADERS_CAP`]).
pub fn check_head(buf: &[u8], max_head_bytes: usize, max_headers: usize) -> HeadCheck {
    let end = match scan_limited(buf, 0, max_head_bytes) {
        Ok(Scan::End(end)) => end,
        Ok(_) => return HeadCheck::Incomplete,
        Err(v) => return HeadCheck::Refused(v),
    };
    let Some(head) = buf.get(..end) else {
        return HeadCheck::Incomplete;
    };
    let mut scratch =
        [const { std::mem::MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS_CAP];
    // httparse refuses a head with more fields than slots: exactly the limit.
    let limit = max_headers.min(MAX_HEADERS_CAP);
    let scratch = scratch.get_mut(..limit).unwrap_or(&mut []);
    let mut req = httparse::Request::new(&mut []);
    let parsed = httparse::ParserConfig::default()
        .parse_request_with_uninit_headers(&mut req, head, scratch);
    match validate(req, parsed, end) {
        Ok(framing) => HeadCheck::Valid { len: end, framing },
        Err(v) => HeadCheck::Refused(v),
    }
}

/// [`scan_head`] within `max_head_bytes`: a head not ended inside the limit is too large.
pub(crate) fn scan_limited(
    buf: &[u8],
    from: usize,
    max_head_bytes: usize,
) -> Result<Scan, Violation> {
    let window = buf.get(..buf.len().min(max_head_bytes)).unwrap_or(buf);
    match scan_head(window, from) {
        Scan::Bad(code) => Err(Violation::of(code)),
        Scan::Incomplete { .. } if buf.len() >= max_head_bytes => {
            Err(Violation::of("head_too_large"))
        }
        other => Ok(other),
    }
}

/// Parses and validates a complete head (`head` ends with its empty line) using uninitialised
/// header slots, so nothing is allocated or zeroed per request.
pub(crate) fn check_complete_head<'b>(
    head: &'b [u8],
    scratch: &mut [MaybeUninit<httparse::Header<'b>>],
) -> Result<Framing, Violation> {
    let mut req = httparse::Request::new(&mut []);
    let parsed = httparse::ParserConfig::default()
        .parse_request_with_uninit_headers(&mut req, head, scratch);
    validate(req, parsed, head.len())
}

fn validate(
    req: httparse::Request<'_, '_>,
    parsed: httparse::Result<usize>,
    end: usize,
) -> Result<Framing, Violation> {
    let bad = |code| Err(Violation::of(code));
    match parsed {
        Ok(httparse::Status::Complete(n)) if n == end => {}
        Ok(httparse::Status::Complete(_)) | Ok(httparse::Status::Partial) => {
            return bad("malformed_head");
        }
        Err(httparse::Error::TooManyHeaders) => return bad("too_many_headers"),
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
        if name.eq_ignore_ascii_case("content-length") {
            cl_count = cl_count.saturating_add(1);
            match parse_content_length(trim(h.value)) {
                Some(n) => content_length = Some(n),
                None => return bad("bad_content_length"),
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            te_count = te_count.saturating_add(1);
            te_chunked = trim(h.value).eq_ignore_ascii_case(b"chunked");
        } else if name.eq_ignore_ascii_case("host") {
            host_count = host_count.saturating_add(1);
            host = Some(trim(h.value));
        } else if name.eq_ignore_ascii_case(MARKER_HEADER) {
            return bad("reserved_header");
        }
    }
    if cl_count > 1 {
        return bad("duplicate_content_length");
    }
    if te_count > 0 && cl_count > 0 {
        return bad("cl_and_te");
    }
    if te_count > 0 && version == 0 {
        return bad("te_in_http10");
    }
    if te_count > 1 || (te_count == 1 && !te_chunked) {
        return bad("bad_transfer_encoding");
    }
    if host_count > 1 {
        return bad("duplicate_host");
    }
    if version == 1 && host_count == 0 {
        return bad("missing_host");
    }
    if let Some(h) = host
        && split_authority(h).is_none()
    {
        return bad("bad_host");
    }
    check_target(method, target, host)?;
    Ok(if te_chunked {
        Framing::Chunked
    } else {
        match content_length {
            Some(0) | None => Framing::None,
            Some(n) => Framing::Length(n),
        }
    })
}

/// Request-target forms (RFC 9112 §3.2): origin-form for everything; absolute-form only
/// `http`/`https` (lower-case scheme) with an authority that agrees with `Host`;
/// authority-form only for `CONNECT` (and only that form for it); asterisk-form only for
/// `OPTIONS`.
fn check_target(method: &str, target: &str, host: Option<&[u8]>) -> Result<(), Violation> {
    let bad = |code| Err(Violation::of(code));
    if method == "CONNECT" {
        return match split_authority(target.as_bytes()) {
            Some((_, Some(_))) => Ok(()),
            _ => bad("bad_target"),
        };
    }
    if target.starts_with('/') {
        return Ok(());
    }
    if target == "*" {
        return if method == "OPTIONS" {
            Ok(())
        } else {
            bad("bad_target")
        };
    }
    let (rest, default_port) = if let Some(r) = target.strip_prefix("http://") {
        (r, 80)
    } else if let Some(r) = target.strip_prefix("https://") {
        (r, 443)
    } else {
        return bad("bad_target");
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if split_authority(authority.as_bytes()).is_none() {
        return bad("bad_target");
    }
    match host {
        Some(h) if !same_host(authority.as_bytes(), h, default_port) => bad("host_mismatch"),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: &str) -> HeadCheck {
        check_head(raw.as_bytes(), 16 * 1024, 100)
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
        for ok in [
            "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET https://A/x HTTP/1.1\r\nHost: a:443\r\n\r\n",
            "GET http://[::1]:8080/ HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n",
            "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n",
        ] {
            assert!(matches!(check(ok), HeadCheck::Valid { .. }), "{ok:?}");
        }
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
            "obs_fold"
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
        assert_eq!(code("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), "bad_host");
        assert_eq!(code("GET / HTTP/1.1\r\nHost: u@a\r\n\r\n"), "bad_host");
        assert_eq!(code("GET / HTTP/1.1\r\nHost: a:99999\r\n\r\n"), "bad_host");
        assert_eq!(code("GET / HTTP/1.1\r\nHost: \r\n\r\n"), "bad_host");
        assert_eq!(
            code("GET http://u@a/ HTTP/1.1\r\nHost: a\r\n\r\n"),
            "bad_target"
        );
        assert_eq!(
            code("GET http://a:8080/ HTTP/1.1\r\nHost: a\r\n\r\n"),
            "host_mismatch"
        );
        assert_eq!(
            code("GET ftp://a/ HTTP/1.1\r\nHost: a\r\n\r\n"),
            "bad_target"
        );
        assert_eq!(code("CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n"), "bad_target");
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
        let many = "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
        match check_head(many.as_bytes(), 1024, 2) {
            HeadCheck::Refused(v) => {
                assert_eq!((v.code, v.status.as_u16()), ("too_many_headers", 431))
            }
            other => panic!("{other:?}"),
        }
        let long = format!("GET / HTTP/1.1\r\nHost: a\r\nX: {}", "a".repeat(2000));
        match check_head(long.as_bytes(), 1024, 2) {
            HeadCheck::Refused(v) => {
                assert_eq!((v.code, v.status.as_u16()), ("head_too_large", 431))
            }
            other => panic!("{other:?}"),
        }
    }
}

#[cfg(test)]
mod scan_tests {
    use super::*;

    #[test]
    fn resumed_scans_agree_with_whole_scans() {
        let inputs: [&[u8]; 5] = [
            b"GET / HTTP/1.1\r\nHost: a\r\n\r\nrest",
            b"GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\n\tb\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\0\r\n\r\n",
        ];
        for input in inputs {
            let whole = scan_head(input, 0);
            let mut resume = 0;
            let mut last = Scan::Incomplete { resume: 0 };
            for n in 1..=input.len() {
                last = scan_head(&input[..n], resume);
                match last {
                    Scan::Incomplete { resume: r } => resume = r,
                    _ => break,
                }
            }
            assert_eq!(last, whole, "{:?}", String::from_utf8_lossy(input));
        }
    }
}
