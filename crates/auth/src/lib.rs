//! Authentication for portcullis: every way a client proves who it is.
//!
//! This first part is the API-key format ([`api_key`]). Guards for API keys, JWT/OIDC, token
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
