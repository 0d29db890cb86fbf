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
//! - built-in accounts: [`basic`] (password policy, Argon2id, the verified cache),
//!   [`BasicGuard`] with a [`totp`] second factor and brute-force [`lockout`] (reusable by
//!   other guards).
//!
//! Token introspection and HMAC signing are still to come (issue: identity).
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
pub mod basic;
pub mod basic_guard;
pub mod jwt;
mod jwt_guard;
pub mod lockout;
pub mod mtls_guard;
pub mod pepper;
pub mod revocation;
pub mod sealed;
pub mod totp;

pub use api_key_guard::ApiKeyGuard;
pub use basic_guard::{AccountServices, BasicGuard};
pub use jwt_guard::JwtGuard;
pub use mtls_guard::MtlsGuard;
