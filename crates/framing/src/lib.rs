//! The strict HTTP/1 framing sentinel.
//!
//! hyper 1.x accepts several ambiguous framings that enable request smuggling: it drops
//! `Content-Length` when `Transfer-Encoding` is present, merges duplicate `Content-Length`,
//! accepts two or no `Host`, bare-LF line endings, `Transfer-Encoding: gzip, chunked`, and
//! absolute-form targets that disagree with `Host`. [`Sentinel`] wraps a connection's byte
//! stream in front of hyper, parses each request head with `httparse` before hyper sees a byte
//! of it, and follows the body framing (length or chunked) to find the next head, so every
//! pipelined request is checked.
//!
//! On a violation in a head, the sentinel stops passing client bytes and hands hyper a
//! synthetic request carrying `x-portcullis-framing: <token>;<code>` (the token is 128 random
//! bits per connection), then end-of-stream. The gateway asks the connection's
//! [`FramingHandle`] whether a request is that notice, answers 400 (431 for oversized heads)
//! with `Connection: close`, and hyper closes. Responses stay in order under pipelining and
//! the offending request never reaches a handler. A client header of that name is itself a
//! violation, so the notice cannot be forged. A violation inside a chunked body (after its
//! head was passed on) is left for hyper's own chunk decoder to reject as a body error, and the
//! sentinel then ends the stream: nothing after it is read.
//!
//! HTTP/2 (ALPN `h2`, or the prior-knowledge preface as the first bytes) has unambiguous
//! framing; the sentinel becomes a transparent pass-through.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod head;
mod sentinel;

pub use head::{Framing, HeadCheck, MAX_HEADERS_CAP, check_head};
pub use sentinel::{
    FramingHandle, FramingLimits, MARKER_HEADER, Sentinel, Violation, ViolationObserver,
};
