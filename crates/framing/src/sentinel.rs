//! The connection wrapper.

use std::fmt::Write as _;
use std::io;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use bytes::{Buf, BytesMut};
use http::{HeaderMap, StatusCode};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::head::{Framing, Scan, check_complete_head, scan_limited};

/// The header of the synthetic violation notice (reserved: a client sending it is refused).
pub const MARKER_HEADER: &str = "x-portcullis-framing";

/// Longest chunk-size line (size, extensions, CRLF) accepted.
const MAX_CHUNK_LINE: usize = 1024;
/// Bytes asked of the socket per read (at least).
const READ_CHUNK: usize = 16 * 1024;
/// Longest trailer section accepted.
const MAX_TRAILERS: usize = 8 * 1024;
/// Header slots parsed on the stack; more than this (a configured `max_headers` above it)
/// takes one allocation per head.
const STACK_HEADERS: usize = 128;
/// What hyper is handed after the valid part of a broken chunked body: whatever state its
/// chunk decoder is in at a line boundary (chunk-size start, CRLF after data, trailer line
/// start), `\r` then NUL is an error, so the body fails at once and nothing after is read.
const POISON: &[u8] = b"\r\0";
/// The HTTP/2 prior-knowledge preface.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Limits for request heads.
#[derive(Clone, Copy, Debug)]
pub struct FramingLimits {
    /// Bytes of a request head (request line + headers + CRLFs).
    pub max_head_bytes: usize,
    /// Number of header fields.
    pub max_headers: usize,
}

/// A refused framing: a stable code for logs and metrics, and the status to answer with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Violation {
    /// e.g. `cl_and_te`, `bare_lf`, `head_too_large`.
    pub code: &'static str,
    /// 400, or 431 for oversized heads.
    pub status: StatusCode,
}

const BAD: StatusCode = StatusCode::BAD_REQUEST;
const TOO_LARGE: StatusCode = StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE;

/// Every code the sentinel can report, with its status. The notice carries an index into
/// this list; append only, so codes stay stable.
const CODES: [(&str, StatusCode); 28] = [
    ("bare_lf", BAD),
    ("bare_cr", BAD),
    ("nul_byte", BAD),
    ("head_too_large", TOO_LARGE),
    ("too_many_headers", TOO_LARGE),
    ("malformed_head", BAD),
    ("invalid_header_name", BAD),
    ("invalid_header_value", BAD),
    ("invalid_method", BAD),
    ("invalid_version", BAD),
    ("reserved_header", BAD),
    ("bad_content_length", BAD),
    ("duplicate_content_length", BAD),
    ("cl_and_te", BAD),
    ("bad_transfer_encoding", BAD),
    ("te_in_http10", BAD),
    ("duplicate_host", BAD),
    ("missing_host", BAD),
    ("host_mismatch", BAD),
    ("bad_target", BAD),
    ("invalid_chunk_size", BAD),
    ("chunk_line_too_long", BAD),
    ("missing_chunk_crlf", BAD),
    ("trailers_too_large", BAD),
    ("obs_fold", BAD),
    ("bad_host", BAD),
    ("bad_chunk_extension", BAD),
    ("bad_trailer", BAD),
];

impl Violation {
    /// The violation with this code (an unknown code reads as `malformed_head`).
    pub(crate) fn of(code: &'static str) -> Self {
        let status = CODES
            .iter()
            .find(|(c, _)| *c == code)
            .map_or(BAD, |(_, s)| *s);
        Violation { code, status }
    }

    /// Every violation the sentinel can report (to pre-register metric labels).
    pub fn all() -> impl Iterator<Item = Violation> {
        CODES
            .iter()
            .map(|&(code, status)| Violation { code, status })
    }

    fn index(&self) -> usize {
        CODES.iter().position(|(c, _)| *c == self.code).unwrap_or(5)
    }
}

/// Called once per violation, on the connection's task (keep it cheap: count a metric).
pub type ViolationObserver = Arc<dyn Fn(Violation) + Send + Sync>;

struct Shared {
    /// 32 lower-case hex digits (128 random bits); empty if the CSPRNG failed, and then no
    /// notice is ever recognised.
    token: Box<str>,
    /// A violation inside a chunked body: 0 for none, else index + 1 into [`CODES`].
    body: AtomicUsize,
}

/// Per-connection handle: recognises the sentinel's violation notice.
#[derive(Clone)]
pub struct FramingHandle {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for FramingHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the token.
        f.debug_struct("FramingHandle")
            .field("body_violation", &self.body_violation())
            .finish_non_exhaustive()
    }
}

impl FramingHandle {
    /// The violation, if these request headers are the sentinel's notice. The token is
    /// compared in constant time.
    pub fn violation(&self, headers: &HeaderMap) -> Option<Violation> {
        let value = headers.get(MARKER_HEADER)?.to_str().ok()?;
        let (token, index) = value.split_once(';')?;
        if self.shared.token.is_empty() || !ct_eq(token.as_bytes(), self.shared.token.as_bytes()) {
            return None;
        }
        let (code, status) = CODES.get(index.parse::<usize>().ok()?)?;
        Some(Violation {
            code,
            status: *status,
        })
    }

    /// A violation found inside a chunked body whose head was already handed on. hyper's
    /// chunk decoder is then made to fail (the request body ends in an error, and hyper
    /// closes the connection after the response); a handler that sees a body error asks here
    /// to answer 400 with the right code instead of a generic error.
    pub fn body_violation(&self) -> Option<Violation> {
        let i = self.shared.body.load(Ordering::Acquire).checked_sub(1)?;
        let (code, status) = CODES.get(i)?;
        Some(Violation {
            code,
            status: *status,
        })
    }
}

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn new_token() -> Box<str> {
    let mut bytes = [0u8; 16];
    if aws_lc_rs::rand::fill(&mut bytes).is_err() {
        // A guessable fallback would make the notice forgeable; with no token, no notice is
        // recognised (the gateway then sees an unroutable `sentinel.invalid` request).
        return Box::from("");
    }
    let mut hex = String::with_capacity(32);
    for b in bytes {
        let _ = write!(hex, "{b:02x}");
    }
    hex.into_boxed_str()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Expecting a request head (`first`: the very first bytes of the connection); the bytes
    /// before `scanned` were already scanned for line endings.
    Head { first: bool, scanned: usize },
    /// Passing `n` more body bytes.
    Length(u64),
    /// Expecting a chunk-size line.
    ChunkSize,
    /// Passing `n` more chunk bytes.
    ChunkData(u64),
    /// Expecting the CRLF after chunk data.
    ChunkCrlf,
    /// Reading trailers after the last chunk (`seen` bytes so far).
    Trailers { seen: usize },
    /// Everything passes unchanged (HTTP/2).
    Transparent,
    /// A violation was reported; after `out` drains, no further bytes ever (the stream stays
    /// open so hyper writes its answer, then closes because of `connection: close` or the
    /// failed body).
    Closed,
    /// The client ended the stream; after `out` drains, end of stream.
    Ended,
}

const NEXT_HEAD: State = State::Head {
    first: false,
    scanned: 0,
};

/// Wraps a client connection: validated bytes are readable by hyper, writes pass through.
pub struct Sentinel<IO> {
    io: IO,
    state: State,
    inbuf: BytesMut,
    out: BytesMut,
    limits: FramingLimits,
    shared: Arc<Shared>,
    observer: Option<ViolationObserver>,
    io_eof: bool,
}

impl<IO> Sentinel<IO> {
    /// A strict sentinel for an HTTP/1 connection.
    pub fn new(io: IO, limits: FramingLimits) -> (Self, FramingHandle) {
        let shared = Arc::new(Shared {
            token: new_token(),
            body: AtomicUsize::new(0),
        });
        let s = Self {
            io,
            state: State::Head {
                first: true,
                scanned: 0,
            },
            inbuf: BytesMut::with_capacity(READ_CHUNK),
            out: BytesMut::new(),
            limits,
            shared: shared.clone(),
            observer: None,
            io_eof: false,
        };
        (s, FramingHandle { shared })
    }

    /// A pass-through for connections that negotiated HTTP/2.
    pub fn transparent(io: IO) -> (Self, FramingHandle) {
        let (mut s, h) = Self::new(
            io,
            FramingLimits {
                max_head_bytes: 0,
                max_headers: 0,
            },
        );
        s.state = State::Transparent;
        (s, h)
    }

    /// Calls `observer` for each violation on this connection (head or body), e.g. to count
    /// violations by code. The gateway may instead count the notices it answers; body
    /// violations are only seen here or through [`FramingHandle::body_violation`].
    pub fn on_violation(mut self, observer: ViolationObserver) -> Self {
        self.observer = Some(observer);
        self
    }

    /// The wrapped stream.
    pub fn get_ref(&self) -> &IO {
        &self.io
    }

    fn observe(&self, v: Violation) {
        if let Some(f) = &self.observer {
            f(v);
        }
    }

    /// A violation in a head: hand hyper the notice instead, and nothing after it.
    fn refuse(&mut self, v: Violation) {
        self.observe(v);
        let notice = format!(
            "GET /.portcullis/framing HTTP/1.1\r\nhost: sentinel.invalid\r\n{MARKER_HEADER}: {};{}\r\nconnection: close\r\n\r\n",
            self.shared.token,
            v.index()
        );
        self.out.extend_from_slice(notice.as_bytes());
        self.inbuf.clear();
        self.state = State::Closed;
    }

    /// Passes `n` bytes of `inbuf` on to hyper.
    fn release(&mut self, n: usize) {
        let chunk = self.inbuf.split_to(n.min(self.inbuf.len()));
        self.out.unsplit(chunk);
    }

    /// A violation inside a chunked body whose head already went to hyper: hand over the
    /// poison instead of the offending bytes (hyper's decoder fails on it at once), record it
    /// for [`FramingHandle::body_violation`], and read no further.
    fn refuse_in_body(&mut self, code: &'static str) {
        let v = Violation::of(code);
        self.observe(v);
        self.shared
            .body
            .store(v.index().saturating_add(1), Ordering::Release);
        self.out.extend_from_slice(POISON);
        self.inbuf.clear();
        self.state = State::Closed;
    }

    /// Passes up to `n` buffered body bytes; `done` is the state after the last one, `more`
    /// rebuilds the current state with what is left.
    fn pass_body(&mut self, n: u64, done: State, more: fn(u64) -> State) -> bool {
        if self.inbuf.is_empty() {
            return false;
        }
        let take = usize::try_from(n)
            .unwrap_or(usize::MAX)
            .min(self.inbuf.len());
        self.release(take);
        let left = n.saturating_sub(take as u64);
        self.state = if left == 0 { done } else { more(left) };
        true
    }

    /// Checks the head at the start of `inbuf`, scanning only bytes not scanned before.
    fn head(&mut self, first: bool, scanned: usize) -> bool {
        // Ignore empty lines before a request line (RFC 9112 §2.2).
        if scanned == 0 {
            while self.inbuf.starts_with(b"\r\n") {
                self.inbuf.advance(2);
            }
        }
        if self.inbuf.is_empty() {
            return false;
        }
        if first {
            let n = self.inbuf.len().min(H2_PREFACE.len());
            if self.inbuf.get(..n) == H2_PREFACE.get(..n) {
                if n < H2_PREFACE.len() {
                    return false;
                }
                self.state = State::Transparent;
                return true;
            }
        }
        let end = match scan_limited(&self.inbuf, scanned, self.limits.max_head_bytes) {
            Err(v) => {
                self.refuse(v);
                return true;
            }
            Ok(Scan::End(end)) => end,
            Ok(Scan::Incomplete { resume }) => {
                self.state = State::Head {
                    first,
                    scanned: resume,
                };
                return false;
            }
            Ok(Scan::Bad(code)) => {
                self.refuse(Violation::of(code));
                return true;
            }
        };
        let Some(head) = self.inbuf.get(..end) else {
            return false;
        };
        // httparse refuses a head with more fields than slots, so the slots are the limit
        // (as in `check_head`); one more would let `max_headers + 1` fields through.
        let slots = self.limits.max_headers;
        let checked = if slots <= STACK_HEADERS {
            let mut stack =
                [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; STACK_HEADERS];
            check_complete_head(head, stack.get_mut(..slots).unwrap_or(&mut []))
        } else {
            let mut heap = Vec::new();
            heap.resize_with(slots, MaybeUninit::uninit);
            check_complete_head(head, &mut heap)
        };
        match checked {
            Err(v) => self.refuse(v),
            Ok(framing) => {
                self.release(end);
                self.state = match framing {
                    Framing::None => NEXT_HEAD,
                    Framing::Length(n) => State::Length(n),
                    Framing::Chunked => State::ChunkSize,
                };
            }
        }
        true
    }

    /// A chunk-size line: `1*HEXDIG [BWS] [";" chunk-ext] CRLF`, the extensions made of
    /// visible characters, SP and HTAB only, the whole line at most [`MAX_CHUNK_LINE`].
    fn chunk_size(&mut self) -> bool {
        let window = self
            .inbuf
            .get(..self.inbuf.len().min(MAX_CHUNK_LINE))
            .unwrap_or(&[]);
        let Some(lf) = window.iter().position(|&b| b == b'\n') else {
            if self.inbuf.len() >= MAX_CHUNK_LINE {
                self.refuse_in_body("chunk_line_too_long");
                return true;
            }
            return false;
        };
        let line = window.get(..lf).unwrap_or(&[]);
        let Some(line) = line.strip_suffix(b"\r") else {
            self.refuse_in_body("invalid_chunk_size");
            return true;
        };
        let (size_part, ext) = match line.iter().position(|&b| b == b';') {
            Some(semi) => (
                line.get(..semi).unwrap_or(&[]),
                line.get(semi..).unwrap_or(&[]),
            ),
            None => (line, &[][..]),
        };
        let size_part = size_part.trim_ascii_end();
        let size = if !size_part.is_empty()
            && size_part.len() <= 16
            && size_part.iter().all(u8::is_ascii_hexdigit)
        {
            std::str::from_utf8(size_part)
                .ok()
                .and_then(|s| u64::from_str_radix(s, 16).ok())
        } else {
            None
        };
        let Some(size) = size else {
            self.refuse_in_body("invalid_chunk_size");
            return true;
        };
        if !ext
            .iter()
            .all(|&b| b == b'\t' || (b' '..=b'~').contains(&b))
        {
            self.refuse_in_body("bad_chunk_extension");
            return true;
        }
        self.release(lf.saturating_add(1));
        self.state = if size == 0 {
            State::Trailers { seen: 0 }
        } else {
            State::ChunkData(size)
        };
        true
    }

    /// A trailer line (`field-name ":" value CRLF`) or the empty line ending the message.
    fn trailer(&mut self, seen: usize) -> bool {
        let Some(lf) = self.inbuf.iter().position(|&b| b == b'\n') else {
            if seen.saturating_add(self.inbuf.len()) > MAX_TRAILERS {
                self.refuse_in_body("trailers_too_large");
                return true;
            }
            return false;
        };
        let seen = seen.saturating_add(lf.saturating_add(1));
        if seen > MAX_TRAILERS {
            self.refuse_in_body("trailers_too_large");
            return true;
        }
        let line = self.inbuf.get(..lf).unwrap_or(&[]);
        let Some(line) = line.strip_suffix(b"\r") else {
            self.refuse_in_body("bad_trailer");
            return true;
        };
        if line.is_empty() {
            self.release(lf.saturating_add(1));
            self.state = NEXT_HEAD;
            return true;
        }
        let valid = match line.iter().position(|&b| b == b':') {
            Some(colon) => {
                let name = line.get(..colon).unwrap_or(&[]);
                let value = line.get(colon.saturating_add(1)..).unwrap_or(&[]);
                !name.is_empty()
                    && name.iter().all(|&b| is_tchar(b))
                    && value
                        .iter()
                        .all(|&b| b == b'\t' || (b' '..=b'~').contains(&b) || b >= 0x80)
            }
            None => false,
        };
        if !valid {
            self.refuse_in_body("bad_trailer");
            return true;
        }
        self.release(lf.saturating_add(1));
        self.state = State::Trailers { seen };
        true
    }

    /// Moves validated bytes from `inbuf` to `out` as far as the buffered bytes allow.
    /// Returns true if progress was made.
    fn advance(&mut self) -> bool {
        match self.state {
            State::Closed | State::Ended => false,
            State::Transparent => {
                if self.inbuf.is_empty() {
                    return false;
                }
                let n = self.inbuf.len();
                self.release(n);
                true
            }
            State::Head { first, scanned } => self.head(first, scanned),
            State::Length(n) => self.pass_body(n, NEXT_HEAD, State::Length),
            State::ChunkSize => self.chunk_size(),
            State::ChunkData(n) => self.pass_body(n, State::ChunkCrlf, State::ChunkData),
            State::ChunkCrlf => {
                if self.inbuf.len() < 2 {
                    return false;
                }
                if self.inbuf.starts_with(b"\r\n") {
                    self.release(2);
                    self.state = State::ChunkSize;
                } else {
                    self.refuse_in_body("missing_chunk_crlf");
                }
                true
            }
            State::Trailers { seen } => self.trailer(seen),
        }
    }
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

impl<IO: AsyncRead + Unpin> AsyncRead for Sentinel<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            if !this.out.is_empty() {
                let n = this.out.len().min(buf.remaining());
                if let Some(chunk) = this.out.get(..n) {
                    buf.put_slice(chunk);
                }
                this.out.advance(n);
                if this.out.is_empty() {
                    // Drop the drained view so `inbuf` can reuse its allocation.
                    this.out = BytesMut::new();
                }
                return Poll::Ready(Ok(()));
            }
            match this.state {
                State::Closed => return Poll::Pending,
                State::Ended => return Poll::Ready(Ok(())),
                _ => {}
            }
            // Body bytes already framed can go straight from the socket into hyper's buffer.
            if this.inbuf.is_empty() {
                let direct = match this.state {
                    State::Transparent => Some(u64::MAX),
                    State::Length(n) | State::ChunkData(n) => Some(n),
                    _ => None,
                };
                // Only when the whole of hyper's free space lies inside the body, so no byte
                // of a following head can slip past validation.
                if direct.is_some_and(|l| usize::try_from(l).map_or(true, |l| l >= buf.remaining()))
                {
                    if this.io_eof {
                        return Poll::Ready(Ok(()));
                    }
                    let before = buf.filled().len();
                    match Pin::new(&mut this.io).poll_read(cx, buf) {
                        Poll::Ready(Ok(())) => {
                            let n = buf.filled().len().saturating_sub(before);
                            if n == 0 {
                                this.io_eof = true;
                                return Poll::Ready(Ok(()));
                            }
                            let n64 = n as u64;
                            this.state = match this.state {
                                State::Length(k) if k <= n64 => NEXT_HEAD,
                                State::Length(k) => State::Length(k.saturating_sub(n64)),
                                State::ChunkData(k) if k <= n64 => State::ChunkCrlf,
                                State::ChunkData(k) => State::ChunkData(k.saturating_sub(n64)),
                                other => other,
                            };
                            return Poll::Ready(Ok(()));
                        }
                        other => return other,
                    }
                }
            }
            if this.advance() {
                // Everything validated in one go (pipelined requests, head and body).
                while this.advance() {}
                continue;
            }
            if this.io_eof {
                // The client ended mid-head or mid framing line: those bytes were never
                // validated and are dropped; hyper sees the end of the stream (mid-body, an
                // incomplete body).
                this.inbuf.clear();
                this.state = State::Ended;
                continue;
            }
            if this.inbuf.capacity().saturating_sub(this.inbuf.len()) < 4096 {
                this.inbuf.reserve(READ_CHUNK);
            }
            match tokio_util::io::poll_read_buf(Pin::new(&mut this.io), cx, &mut this.inbuf) {
                Poll::Ready(Ok(0)) => this.io_eof = true,
                Poll::Ready(Ok(_)) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Sentinel<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, data)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}
