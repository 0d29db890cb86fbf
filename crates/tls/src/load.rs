//! Reading certificate chains and keys from PEM files.
//!
//! Files are read whole into memory first and parsed from the slice: the error for an
//! unreadable file then always names the file, and the watcher can compare exactly the bytes
//! a reload would parse. PEM parsing is `rustls_pki_types::pem` (rustls-pemfile is
//! unmaintained and banned in `deny.toml`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::TlsError;

/// Reads a file, mapping failures to [`TlsError::Read`] with the path.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn pem_error(path: &Path, err: pem::Error) -> TlsError {
    match err {
        pem::Error::Io(source) => TlsError::Read {
            path: path.to_path_buf(),
            source,
        },
        other => TlsError::Pem {
            path: path.to_path_buf(),
            detail: other.to_string(),
        },
    }
}

/// Parses every `CERTIFICATE` section of `pem_bytes` (leaf first, as in the file).
pub(crate) fn parse_chain(
    path: &Path,
    pem_bytes: &[u8],
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let chain = CertificateDer::pem_slice_iter(pem_bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(path, e))?;
    let Some(leaf) = chain.first() else {
        return Err(TlsError::NoCertificate {
            path: path.to_path_buf(),
        });
    };
    // Parse the leaf once here so that a garbage certificate fails at load time, not at the
    // first handshake, and so SNI matching later can rely on it parsing.
    rustls::server::ParsedCertificate::try_from(leaf).map_err(|e| {
        TlsError::InvalidCertificate {
            path: path.to_path_buf(),
            detail: e.to_string(),
        }
    })?;
    Ok(chain)
}

/// Parses the first private key (PKCS#8, PKCS#1 or SEC1) of `pem_bytes`.
pub(crate) fn parse_key(path: &Path, pem_bytes: &[u8]) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_slice(pem_bytes).map_err(|e| match e {
        pem::Error::NoItemsFound => TlsError::NoKey {
            path: path.to_path_buf(),
        },
        other => pem_error(path, other),
    })
}

/// Builds the signing key for `chain` + `key` and checks that they belong together.
pub(crate) fn certified_key(
    provider: &CryptoProvider,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    cert_path: &Path,
    key_path: &Path,
) -> Result<Arc<CertifiedKey>, TlsError> {
    let signing_key =
        provider
            .key_provider
            .load_private_key(key)
            .map_err(|e| TlsError::UnsupportedKey {
                path: key_path.to_path_buf(),
                detail: e.to_string(),
            })?;
    let ck = CertifiedKey::new(chain, signing_key);
    match ck.keys_match() {
        Ok(()) => Ok(Arc::new(ck)),
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {
            // The provider cannot export this key's public half, so we cannot compare. All
            // aws-lc-rs key types can, so this is not expected; a mismatch would still make
            // every handshake fail, so warn loudly rather than refuse.
            tracing::warn!(
                cert = %cert_path.display(),
                key = %key_path.display(),
                "cannot check that the private key matches the certificate"
            );
            Ok(Arc::new(ck))
        }
        Err(rustls::Error::InconsistentKeys(_)) => Err(TlsError::KeyMismatch {
            cert_path: cert_path.to_path_buf(),
            key_path: key_path.to_path_buf(),
        }),
        Err(other) => Err(TlsError::InvalidCertificate {
            path: cert_path.to_path_buf(),
            detail: other.to_string(),
        }),
    }
}

/// Reads and checks one certificate + key pair from disk.
pub(crate) fn load_pair(
    provider: &CryptoProvider,
    cert_path: &Path,
    key_path: &Path,
) -> Result<Arc<CertifiedKey>, TlsError> {
    let chain = parse_chain(cert_path, &read_file(cert_path)?)?;
    let key = parse_key(key_path, &read_file(key_path)?)?;
    certified_key(provider, chain, key, cert_path, key_path)
}

/// The files one loaded certificate came from (for the watcher and for logs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PairPaths {
    pub(crate) cert: PathBuf,
    pub(crate) key: PathBuf,
}
