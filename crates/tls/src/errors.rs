//! The one error type of this crate.
//!
//! Every variant that concerns a file names it, so an operator reading a start-up failure or a
//! reload warning knows which file to fix without a debugger.

use std::io;
use std::path::PathBuf;

/// Why TLS could not be set up or reloaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A certificate or key file could not be read (missing, permissions, a directory...).
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: io::Error,
    },

    /// A PEM file is not well-formed (bad base64, unterminated section...).
    #[error("{}: malformed PEM: {detail}", path.display())]
    Pem {
        /// The file.
        path: PathBuf,
        /// What the PEM parser said.
        detail: String,
    },

    /// A certificate file holds no `CERTIFICATE` section.
    #[error("{}: no certificate found (expected a PEM `BEGIN CERTIFICATE` section)", path.display())]
    NoCertificate {
        /// The file.
        path: PathBuf,
    },

    /// The leaf certificate of a chain is not a parseable X.509 certificate.
    #[error("{}: invalid certificate: {detail}", path.display())]
    InvalidCertificate {
        /// The file.
        path: PathBuf,
        /// What the X.509 parser said.
        detail: String,
    },

    /// A key file holds no private key in a format we read.
    #[error(
        "{}: no private key found (expected an unencrypted PEM `PRIVATE KEY`, \
         `RSA PRIVATE KEY` or `EC PRIVATE KEY` section)",
        path.display()
    )]
    NoKey {
        /// The file.
        path: PathBuf,
    },

    /// A key file holds a private key the crypto provider cannot use (e.g. DSA, a curve
    /// outside P-256/P-384/P-521, or a corrupt encoding).
    #[error("{}: unsupported private key: {detail}", path.display())]
    UnsupportedKey {
        /// The file.
        path: PathBuf,
        /// What the provider said.
        detail: String,
    },

    /// The private key is not the one the leaf certificate was issued for.
    #[error(
        "{}: private key does not match the certificate in {}",
        key_path.display(),
        cert_path.display()
    )]
    KeyMismatch {
        /// The certificate file.
        cert_path: PathBuf,
        /// The key file.
        key_path: PathBuf,
    },

    /// An entry of `server_names` is not a valid DNS name.
    #[error("{}: invalid server name {name:?} in `server_names`", cert_path.display())]
    InvalidServerName {
        /// The certificate file the name belongs to.
        cert_path: PathBuf,
        /// The offending name.
        name: String,
    },

    /// The dev certificate could not be generated.
    #[error("cannot generate the dev certificate: {detail}")]
    DevCertificate {
        /// What rcgen said.
        detail: String,
    },

    /// A file (dev certificate or key) could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: io::Error,
    },

    /// rustls refused the assembled configuration (should not happen with our provider).
    #[error("TLS configuration rejected: {0}")]
    Config(#[source] rustls::Error),

    /// The certificate watcher thread could not be started.
    #[error("cannot start the certificate watcher: {0}")]
    Watcher(#[source] io::Error),
}
