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
//! - keys fetched from the issuer (JWKS URL, OpenID Connect discovery): [`jwks_remote`];
//! - opaque tokens checked with the issuer (OAuth2 introspection, RFC 7662):
//!   [`introspection`] and [`IntrospectionGuard`].
//!
//! - signed requests: the `PCS1-HMAC-SHA256` scheme ([`signing`]), its replay store
//!   ([`nonce`]) and [`HmacGuard`] (docs/request-signing.md).
//!
//! - built-in accounts: [`basic`] (password policy, Argon2id, the verified cache),
//!   [`BasicGuard`] with a [`totp`] second factor and brute-force [`lockout`] (reusable by
//!   other guards).
//!
//! - brute force and credential stuffing against every method: [`failure_lockout`] wraps a
//!   route's authentication, counts its generic 401s per client address and per real
//!   credential, and refuses locked ones with 429 and `Retry-After`.
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
pub mod combine;
pub mod failure_lockout;
pub mod identity_token;
pub mod introspection;
mod introspection_guard;
pub mod jwks_remote;
pub mod jwt;
mod jwt_guard;
pub mod lockout;
pub mod mtls_guard;
pub mod nonce;
pub mod pepper;
mod remote;
pub mod revocation;
pub mod sealed;
pub mod signing;
mod signing_guard;
pub mod totp;

pub use api_key_guard::ApiKeyGuard;
pub use basic_guard::{AccountServices, BasicGuard};
pub use failure_lockout::FailureLockout;
pub use introspection_guard::IntrospectionGuard;
pub use jwt_guard::JwtGuard;
pub use mtls_guard::MtlsGuard;
pub use signing_guard::{HmacGuard, seal_context};
