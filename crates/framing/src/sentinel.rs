//! The connection wrapper.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Buf, BytesMut};
use http::{HeaderMap, StatusCode};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::head::{Framing, HeadCheck, check_head};

/// The header of the synthetic violation notice (reserved: a client sending it is refused).
pub const MARKER_HEADER: &str = "x-portcullis-framing";

/// Longest chunk-size line (size, extensions, CRLF) accepted.
const MAX_CHUNK_LINE: usize = 1024;
/// Longest trailer section accepted.
const MAX_TRAILERS: usize = 8 * 1024;
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

/// Every code the sentinel can report (the notice carries an index into this list).
const CODES: [(&str, u16); 24] = [
    ("bare_lf", 400),
    ("bare_cr", 400),
    ("nul_byte", 400),
    ("head_too_large", 431),
    ("too_many_headers", 431),
    ("malformed_head", 400),
    ("invalid_header_name", 400),
    ("invalid_header_value", 400),
    ("invalid_method", 400),
    ("invalid_version", 400),
    ("reserved_header", 400),
    ("bad_content_length", 400),
    ("duplicate_content_length", 400),
    ("cl_and_te", 400),
    ("bad_transfer_encoding", 400),
    ("te_in_http10", 400),
    ("duplicate_host", 400),
    ("missing_host", 400),
    ("host_mismatch", 400),
    ("bad_target", 400),
    ("invalid_chunk_size", 400),
    ("chunk_line_too_long", 400),
    ("missing_chunk_crlf", 400),
    ("trailers_too_large", 400),
];

/// Per-connection handle: recognises the sentinel's violation notice.
#[derive(Clone, Debug)]
pub struct FramingHandle {
    token: Arc<str>,
}

impl FramingHandle {
    /// The violation, if these request headers are the sentinel's notice. The token is
    /// compared in constant time.
    pub fn violation(&self, headers: &HeaderMap) -> Option<Violation> {
        let value = headers.get(MARKER_HEADER)?.to_str().ok()?;
        let (token, index) = value.split_once(';')?;
        if !ct_eq(token.as_bytes(), self.token.as_bytes()) {
            return None;
        }
        let (code, status) = CODES.get(index.parse::<usize>().ok()?)?;
        Some(Violation {
            code,
            status: StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_REQUEST),
        })
    }
}

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn new_token() -> Arc<str> {
    let mut bytes = [0u8; 16];
    if aws_lc_rs::rand::fill(&mut bytes).is_err() {
        // The CSPRNG failing is not recoverable in a meaningful way; a per-process fallback
        // would be guessable, so refuse every request on this connection instead.
        return Arc::from("");
    }
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
        .into()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Expecting a request head (or the very first bytes of the connection).
    Head { first: bool },
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
    /// open so hyper writes its answer, then closes because of `connection: close`).
    Closed,
    /// The client ended the stream; after `out` drains, end of stream.
    Ended,
}

/// Wraps a client connection: validated bytes are readable by hyper, writes pass through.
pub struct Sentinel<IO> {
    io: IO,
    state: State,
    inbuf: BytesMut,
    out: BytesMut,
    limits: FramingLimits,
    token: Arc<str>,
    io_eof: bool,
}

impl<IO> Sentinel<IO> {
    /// A strict sentinel for an HTTP/1 connection.
    pub fn new(io: IO, limits: FramingLimits) -> (Self, FramingHandle) {
        let token = new_token();
        let s = Self {
            io,
            state: State::Head { first: true },
            inbuf: BytesMut::with_capacity(8 * 1024),
            out: BytesMut::new(),
            limits,
            token: token.clone(),
            io_eof: false,
        };
        (s, FramingHandle { token })
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

    /// The wrapped stream.
    pub fn get_ref(&self) -> &IO {
        &self.io
    }

    fn refuse(&mut self, v: &Violation) {
        let index = CODES.iter().position(|(c, _)| *c == v.code).unwrap_or(0);
        let notice = format!(
            "GET /.portcullis/framing HTTP/1.1\r\nhost: sentinel.invalid\r\n{MARKER_HEADER}: {};{index}\r\nconnection: close\r\n\r\n",
            self.token
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

    /// A body-framing violation after the head went to hyper: hand over what is buffered
    /// (hyper's chunk decoder rejects it and the handler answers 400) and read no further.
    fn end_in_body(&mut self, n: usize) {
        self.release(n);
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
            State::Head { first } => {
                // Ignore empty lines before a request line (RFC 9112 §2.2).
                while self.inbuf.starts_with(b"\r\n") {
                    self.inbuf.advance(2);
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
                let mut scratch =
                    vec![httparse::EMPTY_HEADER; self.limits.max_headers.saturating_add(1)];
                match check_head(&self.inbuf, self.limits.max_head_bytes, &mut scratch) {
                    HeadCheck::Incomplete => false,
                    HeadCheck::Refused(v) => {
                        self.refuse(&v);
                        true
                    }
                    HeadCheck::Valid { len, framing } => {
                        self.release(len);
                        self.state = match framing {
                            Framing::None => State::Head { first: false },
                            Framing::Length(n) => State::Length(n),
                            Framing::Chunked => State::ChunkSize,
                        };
                        true
                    }
                }
            }
            State::Length(n) => self.pass_body(n, State::Head { first: false }, State::Length),
            State::ChunkSize => {
                let window = self
                    .inbuf
                    .get(..self.inbuf.len().min(MAX_CHUNK_LINE))
                    .unwrap_or(&[]);
                let Some(lf) = window.iter().position(|&b| b == b'\n') else {
                    if self.inbuf.len() >= MAX_CHUNK_LINE {
                        self.end_in_body(MAX_CHUNK_LINE);
                        return true;
                    }
                    return false;
                };
                let line = window.get(..lf).unwrap_or(&[]);
                let Some(line) = line.strip_suffix(b"\r") else {
                    self.end_in_body(lf + 1);
                    return true;
                };
                let size_part = line.split(|&b| b == b';').next().unwrap_or(&[]);
                let size_part = size_part.strip_suffix(b" ").unwrap_or(size_part);
                let valid = !size_part.is_empty()
                    && size_part.len() <= 16
                    && size_part.iter().all(u8::is_ascii_hexdigit)
                    && !line.contains(&b'\r');
                let size = std::str::from_utf8(size_part)
                    .ok()
                    .and_then(|s| u64::from_str_radix(s, 16).ok());
                match size {
                    Some(size) if valid => {
                        self.release(lf + 1);
                        self.state = if size == 0 {
                            State::Trailers { seen: 0 }
                        } else {
                            State::ChunkData(size)
                        };
                        true
                    }
                    _ => {
                        self.end_in_body(lf + 1);
                        true
                    }
                }
            }
            State::ChunkData(n) => self.pass_body(n, State::ChunkCrlf, State::ChunkData),
            State::ChunkCrlf => {
                if self.inbuf.len() < 2 {
                    return false;
                }
                if self.inbuf.starts_with(b"\r\n") {
                    self.release(2);
                    self.state = State::ChunkSize;
                } else {
                    self.end_in_body(2);
                }
                true
            }
            State::Trailers { seen } => {
                let Some(lf) = self.inbuf.iter().position(|&b| b == b'\n') else {
                    if seen.saturating_add(self.inbuf.len()) > MAX_TRAILERS {
                        self.end_in_body(self.inbuf.len());
                        return true;
                    }
                    return false;
                };
                let line = self.inbuf.get(..lf).unwrap_or(&[]);
                if !line.ends_with(b"\r") {
                    self.end_in_body(lf + 1);
                    return true;
                }
                let empty = line.len() == 1;
                self.release(lf + 1);
                self.state = if empty {
                    State::Head { first: false }
                } else {
                    let seen = seen.saturating_add(lf + 1);
                    if seen > MAX_TRAILERS {
                        self.end_in_body(0);
                        return true;
                    }
                    State::Trailers { seen }
                };
                true
            }
        }
    }
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
                if let Some(limit) =
                    direct.filter(|&l| usize::try_from(l).map_or(true, |l| l >= buf.remaining()))
                {
                    let _ = limit;
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
                                State::Length(k) if k <= n64 => State::Head { first: false },
                                State::Length(k) => State::Length(k - n64),
                                State::ChunkData(k) if k <= n64 => State::ChunkCrlf,
                                State::ChunkData(k) => State::ChunkData(k - n64),
                                other => other,
                            };
                            return Poll::Ready(Ok(()));
                        }
                        other => return other,
                    }
                }
            }
            if this.advance() {
                continue;
            }
            if this.io_eof {
                // The client ended mid-head or mid-body: hand over what is left and end.
                let rest = this.inbuf.len();
                this.release(rest);
                this.state = State::Ended;
                continue;
            }
            if this.inbuf.capacity() - this.inbuf.len() < 4096 {
                this.inbuf.reserve(8 * 1024);
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
