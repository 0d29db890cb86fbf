//! Authentication for portcullis: every way a client proves who it is.
//!
//! This first part is API keys: the format ([`api_key`]), the pepper ([`pepper`]) and the
//! guard ([`ApiKeyGuard`]). Guards for API keys, JWT/OIDC, token
//! introspection, Basic, HMAC signing and mTLS build on it (issue: identity).
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod api_key;
mod api_key_guard;
pub mod jwt;
mod jwt_guard;
pub mod pepper;

pub use api_key_guard::ApiKeyGuard;
pub use jwt_guard::JwtGuard;
