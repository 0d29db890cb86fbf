//! The foundational guards every route gets from the gateway core.
//!
//! - [`IpPolicyGuard`]: CIDR allow / deny lists, global and per route;
//! - [`RequestLimitsGuard`]: URL length (414) and declared body size (413);
//! - [`SecurityHeadersGuard`]: HSTS, nosniff, framing, referrer, `no-store` on authenticated
//!   routes, and removal of fingerprinting headers from upstream responses;
//! - [`GenericErrorsGuard`]: upstream 5xx bodies replaced by a generic problem.
//!
//! Guards here are pure functions of the request context and head: no sockets, no runtime,
//! so they are unit-tested and benchmarked alone. They allocate nothing on the allow path.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod generic_errors;
mod ip_policy;
mod request_limits;
mod security_headers;

pub use generic_errors::GenericErrorsGuard;
pub use ip_policy::{IpList, IpPolicyGuard};
pub use request_limits::RequestLimitsGuard;
pub use security_headers::SecurityHeadersGuard;
