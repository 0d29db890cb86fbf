//! Any bytes, arriving in any pieces, through the whole HTTP/1 framing sentinel.
//!
//! Input layout: byte 0 picks the size of the reader's buffer (what hyper would offer), bytes
//! 1..9 the sizes of the pieces the socket delivers (cycled; every other read is `Pending`),
//! the rest is the client's byte stream.
//!
//! Checked, beyond "never panics, never loops":
//! - `check_head` alone: an accepted head is complete (ends in CRLF CRLF) and within the limit;
//! - the sentinel only ever removes empty lines between requests (what it hands on is a
//!   subsequence of the input) and appends at most one violation notice, at the very end (or
//!   a two-byte `\r\0` poison after a broken chunked body);
//! - a notice is recognised by the connection's own `FramingHandle`, with a known code, and by
//!   no other connection's handle (the token is per connection);
//! - the sentinel agrees with `check_head` on the first head: refused by one means refused by
//!   the other with the same code, accepted means handed on byte for byte.
#![no_main]

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use http::HeaderMap;
use libfuzzer_sys::fuzz_target;
use portcullis_framing::{
    FramingHandle, FramingLimits, HeadCheck, MARKER_HEADER, Sentinel, Violation, check_head,
};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

const LIMITS: FramingLimits = FramingLimits {
    max_head_bytes: 2048,
    max_headers: 16,
};
const NOTICE: &[u8] = b"GET /.portcullis/framing HTTP/1.1\r\n";
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// A socket that delivers `data` in the given piece sizes, `Pending` every other read.
struct Feed<'a> {
    data: &'a [u8],
    pos: usize,
    sizes: &'a [u8],
    k: usize,
    stall: bool,
}

impl AsyncRead for Feed<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        this.stall = !this.stall;
        if this.stall {
            // The driver re-polls; no wake-up is needed with a no-op waker.
            return Poll::Pending;
        }
        let want = if this.sizes.is_empty() {
            usize::MAX
        } else {
            usize::from(this.sizes[this.k % this.sizes.len()]) + 1
        };
        this.k += 1;
        let rest = &this.data[this.pos..];
        let n = want.min(rest.len()).min(buf.remaining());
        buf.put_slice(&rest[..n]);
        this.pos += n;
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Feed<'_> {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, b: &[u8]) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(b.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Everything the sentinel hands on for `input`, and the connection's handle.
fn drive(input: &[u8], sizes: &[u8], read_buf: usize) -> (Vec<u8>, FramingHandle) {
    let feed = Feed {
        data: input,
        pos: 0,
        sizes,
        k: 0,
        stall: false,
    };
    let (mut sentinel, handle) = Sentinel::new(feed, LIMITS);
    let mut cx = Context::from_waker(Waker::noop());
    let mut out = Vec::new();
    let mut buf = vec![0u8; read_buf];
    let mut idle = 0;
    let mut consumed = 0;
    let bound = input.len().saturating_mul(8).saturating_add(256);
    let mut finished = false;
    for _ in 0..bound {
        let mut rb = ReadBuf::new(&mut buf);
        match Pin::new(&mut sentinel).poll_read(&mut cx, &mut rb) {
            Poll::Ready(Ok(())) if rb.filled().is_empty() => {
                finished = true;
                break;
            }
            Poll::Ready(Ok(())) => {
                out.extend_from_slice(rb.filled());
                idle = 0;
            }
            Poll::Ready(Err(e)) => panic!("the sentinel never fails on its own: {e}"),
            Poll::Pending if sentinel.get_ref().pos != consumed => {
                consumed = sentinel.get_ref().pos;
                idle = 0;
            }
            Poll::Pending => {
                idle += 1;
                // The feed stalls only every other read, so a run of `Pending`s without reading
                // on means the sentinel went quiet for good: after a violation it neither reads on nor ends
                // the stream (hyper must still write its answer).
                if idle > 4 {
                    finished = true;
                    break;
                }
            }
        }
    }
    assert!(finished, "no end within {bound} polls");
    (out, handle)
}

/// The sentinel's notice at the end of `out`, if there is one: its offset and what the
/// connection's handle makes of it. A client may itself send `GET /.portcullis/framing` (or
/// such bytes inside a body); only the handle tells a real notice, which must then be the last
/// thing handed on.
fn notice_at_end(
    out: &[u8],
    handle: &FramingHandle,
    stranger: &FramingHandle,
) -> Option<(usize, Violation)> {
    let at = out.windows(NOTICE.len()).rposition(|w| w == NOTICE)?;
    let text = std::str::from_utf8(&out[at..]).ok()?;
    let mut headers = HeaderMap::new();
    for line in text.split("\r\n").skip(1) {
        if let Some((k, v)) = line.split_once(": ")
            && k.eq_ignore_ascii_case(MARKER_HEADER)
            && let Ok(v) = v.parse()
        {
            headers.insert(MARKER_HEADER, v);
        }
    }
    assert!(
        stranger.violation(&headers).is_none(),
        "a token works on its own connection only"
    );
    let v = handle.violation(&headers)?;
    assert!(
        text.ends_with("\r\n\r\n"),
        "nothing follows the notice: {text:?}"
    );
    assert_eq!(
        text.matches("\r\n\r\n").count(),
        1,
        "one notice, at the end"
    );
    Some((at, v))
}

fn is_subsequence(small: &[u8], big: &[u8]) -> bool {
    let mut it = big.iter();
    small.iter().all(|b| it.any(|c| c == b))
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 9 {
        return;
    }
    let read_buf = match data[0] {
        0 => 64 * 1024,
        n => usize::from(n),
    };
    let sizes = &data[1..9];
    let input = &data[9..];

    // The head check on its own.
    if let HeadCheck::Valid { len, .. } =
        check_head(input, LIMITS.max_head_bytes, LIMITS.max_headers)
    {
        assert!(len <= LIMITS.max_head_bytes);
        assert!(input[..len].ends_with(b"\r\n\r\n"));
    }

    // The whole sentinel.
    let (out, handle) = drive(input, sizes, read_buf);
    let idle = Feed {
        data: &[],
        pos: 0,
        sizes: &[],
        k: 0,
        stall: false,
    };
    let (_, stranger) = Sentinel::new(idle, LIMITS);
    let notice = notice_at_end(&out, &handle, &stranger);
    let passed = match notice {
        Some((at, _)) => &out[..at],
        None => &out[..],
    };
    let notice = notice.map(|(_, v)| v);
    // A sentinel that answers a broken chunked body with the `\r\0` poison (which fails
    // hyper's chunk decoder in any state) adds those two bytes; nothing else is ever added.
    let passed = passed.strip_suffix(b"\r\0").unwrap_or(passed);
    assert!(is_subsequence(passed, input), "the sentinel invented bytes");

    // Agreement with `check_head` on the first request (after ignorable empty lines), unless
    // it is (a prefix of) the HTTP/2 preface, which turns the sentinel transparent.
    let mut first = input;
    while let Some(rest) = first.strip_prefix(b"\r\n") {
        first = rest;
    }
    let n = first.len().min(H2_PREFACE.len());
    if first.is_empty() || first[..n] == H2_PREFACE[..n] {
        return;
    }
    match check_head(first, LIMITS.max_head_bytes, LIMITS.max_headers) {
        HeadCheck::Refused(v) => {
            assert_eq!(notice, Some(v), "check_head refused, the sentinel must too");
            assert_eq!(passed.len(), 0, "nothing of a refused head is handed on");
        }
        HeadCheck::Valid { len, .. } => {
            assert!(
                out.starts_with(&first[..len]),
                "an accepted head passes unchanged"
            );
        }
        HeadCheck::Incomplete => {}
    }
});
