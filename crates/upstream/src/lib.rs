//! Forwarding to backends.
//!
//! An [`Upstream`] is built per config version from an `UpstreamSpec`: either real targets
//! behind a pooled hyper client (HTTP/1.1 or HTTP/2, TLS verified against the system store or
//! a CA file, optional client certificate), chosen round robin or by least connections among
//! healthy targets, or the built-in echo service. Health is tracked actively (periodic GET)
//! and passively (consecutive failures eject a target for a while). Only idempotent requests
//! are retried, only on another target, and only when no response was received.
//!
//! Errors carry a [`UpstreamErrorKind`] that the gateway maps to 502 / 503 / 504; their text
//! is for logs only.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod body;
mod echo;
mod errors;
mod pool;
mod target;
mod tls;

pub use body::ResponseBody;
pub use echo::echo_response;
pub use errors::{UpstreamError, UpstreamErrorKind};
pub use pool::{TargetHealth, Upstream, UpstreamResponse};
