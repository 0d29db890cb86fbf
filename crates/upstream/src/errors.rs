//! Upstream errors.

/// What kind of failure, for the status the gateway answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpstreamErrorKind {
    /// Could not connect (refused, TLS handshake failed, connect timeout). → 502
    Connect,
    /// No response head within the request timeout. → 504
    Timeout,
    /// Every target is unhealthy or ejected. → 503
    NoHealthyTarget,
    /// `max_in_flight` reached. → 503 with Retry-After
    Overloaded,
    /// The upstream broke the protocol or the connection mid-response. → 502
    Protocol,
    /// The upstream could not be built from its spec (CA file, client certificate).
    Config,
}

/// An upstream failure. The message is for logs, never for clients.
#[derive(Debug, thiserror::Error)]
#[error("{kind:?}: {message}")]
pub struct UpstreamError {
    kind: UpstreamErrorKind,
    message: String,
}

impl UpstreamError {
    /// A new error.
    pub fn new(kind: UpstreamErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// Its kind.
    pub fn kind(&self) -> UpstreamErrorKind {
        self.kind
    }
}
