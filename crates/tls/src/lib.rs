//! Server-side TLS for portcullis listeners.
//!
//! What this crate guarantees:
//! - **Only TLS 1.2 and 1.3, only AEAD suites with forward secrecy**, and the key exchange
//!   groups X25519MLKEM768, X25519, P-256 and P-384, through an explicit aws-lc-rs
//!   [`crypto_provider`]. `min_version: "1.3"` removes TLS 1.2 from both the protocol list
//!   and the provider.
//! - **Certificates by SNI** ([`SniResolver`]): explicit `server_names`, else the names in the
//!   certificate; the first certificate is the default for no or unknown SNI.
//! - **Reload without restart**: [`ServerTls::reload`] swaps all certificates atomically or
//!   none (a broken file keeps the old ones serving); [`CertWatcher`] calls it when files
//!   change.
//! - **Dev mode**: no certificates configured → a self-signed P-256 certificate for
//!   `localhost`, `127.0.0.1` and `::1`, persisted under `<data_dir>/dev-tls/` so its
//!   fingerprint ([`DevCertificate::fingerprint`]) is stable across restarts.
//! - Errors ([`TlsError`]) name the file and what is wrong with it. No panics on any input.
//!
//! After the handshake, [`tls_info`] fills the request context's
//! [`TlsInfo`](portcullis_core::TlsInfo); failures are labelled with a
//! [`HandshakeErrorKind`] for metrics. Client certificates (mTLS) plug in via [`ClientAuth`].

// No panics on operator or client input (STYLE §3.2); tests may unwrap.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod client_auth;
mod dev;
mod errors;
mod handshake;
mod load;
mod provider;
mod resolver;
mod server;
mod watch;

pub use client_auth::client_auth;
pub use dev::{
    DEV_CERT_FILE, DEV_KEY_FILE, DEV_NAMES, DEV_TLS_DIR, DevCertificate, sha256_fingerprint,
};
pub use errors::TlsError;
pub use handshake::{HandshakeError, HandshakeErrorKind, accept, tls_info};
pub use provider::{crypto_provider, protocol_versions};
pub use resolver::SniResolver;
pub use server::{ALPN_PROTOCOLS, ClientAuth, DEFAULT_WATCH_INTERVAL, ServerTls};
pub use watch::CertWatcher;
