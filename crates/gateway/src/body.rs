//! The response body type used across the gateway.

use bytes::Bytes;
use http_body_util::{BodyExt, Full, combinators::BoxBody};

/// Boxed error for bodies.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Every response the gateway sends has this body type: relayed upstream bodies and the
/// gateway's own (problems, redirects) alike.
pub type Body = BoxBody<Bytes, BoxError>;

/// A complete in-memory body.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

/// An empty body.
pub fn empty() -> Body {
    full(Bytes::new())
}
