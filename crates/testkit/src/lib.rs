//! Test fixtures for portcullis integration tests. Everything here is real: the gateway runs
//! as the actual binary in its own process, the upstream is a real HTTP server on a loopback
//! port, clients speak real TCP and TLS. Nothing is mocked.
//!
//! - [`GatewayProcess`]: writes a config into a temp dir, starts `portcullis serve`, learns
//!   the bound addresses from its log, collects its stdout (the access log) for assertions;
//! - [`RecordingUpstream`]: an HTTP/1.1 server that records every request it receives, so
//!   tests can assert that an attack was *not* forwarded;
//! - [`raw`]: send raw bytes over TCP or TLS and read the answer;
//! - [`crs`]: the OWASP CRS regression tests as labelled raw requests, for measuring the
//!   whole gateway over a socket;
//! - [`tls`]: rustls client configs that trust the gateway's dev certificate;
//! - [`idp::TestIdp`]: an HTTPS identity provider (discovery, JWKS, introspection) with its
//!   own test CA, controllable and counting calls.

pub mod crs;
pub mod idp;
pub mod mmdb;
pub mod process;
pub mod raw;
pub mod tls;
pub mod upstream;

pub use idp::{JwksMode, TestIdp};
pub use process::GatewayProcess;
pub use upstream::{Recorded, RecordingUpstream};

/// Polls `f` until it returns `Some` or the deadline passes.
pub async fn eventually<T>(
    deadline: std::time::Duration,
    mut f: impl FnMut() -> Option<T>,
) -> Option<T> {
    let end = tokio::time::Instant::now() + deadline;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if tokio::time::Instant::now() >= end {
            return None;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
