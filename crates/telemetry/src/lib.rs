//! Telemetry of portcullis: Prometheus metrics ([`Metrics`]), the access log
//! ([`AccessRecord`]) and logging set-up ([`init_logging`]).
//!
//! Stable interface: the access log is one JSON object per request on target
//! `portcullis::access`, with the fields of [`AccessRecord`] (`request_id`, `client_ip`,
//! `listener`, `method`, `host`, `route`, `path`, `status`, `bytes_in`, `bytes_out`,
//! `duration_ms`, `upstream_ms`, `upstream`, `verdict`, `guard`, `reason`, `tls_version`,
//! `http_version`, `user_agent`). Fields are only ever added. Query values are redacted
//! unless a route allows them, and no header values are logged except a truncated
//! `User-Agent`.

mod access;
mod logging;
mod metrics;

pub use access::{AccessRecord, SENSITIVE_HEADERS, is_sensitive_header, redact_query};
pub use logging::{LogGuard, init_logging};
pub use metrics::{ConnectionGauge, Metrics};
