//! Authentication for portcullis: every way a client proves who it is.
//!
//! - API keys: the format ([`api_key`]), the pepper ([`pepper`]) and [`ApiKeyGuard`];
//! - JWT bearer tokens: [`jwt::JwtVerifier`] and [`JwtGuard`], with step-up requirements
//!   (`amr`, `acr`) and [`revocation`] by `jti` and by subject cut-off.
//!
//! - client certificates: [`MtlsGuard`] (the listener verifies the chain in the handshake).
//! - secrets that must be recovered (TOTP seeds, signing secrets): [`sealed`] under a master
//!   key.
//!
//! - signed requests: the `PCS1-HMAC-SHA256` scheme ([`signing`]), its replay store
//!   ([`nonce`]) and [`HmacGuard`] (docs/request-signing.md).
//!
//! Token introspection and Basic are still to come (issue: identity).
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
pub mod identity_token;
pub mod jwt;
mod jwt_guard;
pub mod mtls_guard;
pub mod nonce;
pub mod pepper;
pub mod revocation;
pub mod sealed;
pub mod signing;
mod signing_guard;

pub use api_key_guard::ApiKeyGuard;
pub use jwt_guard::JwtGuard;
pub use mtls_guard::MtlsGuard;
pub use signing_guard::{HmacGuard, seal_context};
