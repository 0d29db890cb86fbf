//! Dev mode: a self-signed certificate for local use, generated once and kept.
//!
//! Kept on disk (not regenerated per start) so that its fingerprint is stable: a developer
//! who pinned or trusted it once does not have to do it again after every restart.

use std::io::Write;
use std::path::{Path, PathBuf};

use aws_lc_rs::digest;
use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, PKCS_ECDSA_P256_SHA256};

use crate::TlsError;
use crate::load::{parse_chain, read_file};

/// Directory under `data_dir` holding the dev certificate.
pub const DEV_TLS_DIR: &str = "dev-tls";
/// File name of the dev certificate (PEM).
pub const DEV_CERT_FILE: &str = "cert.pem";
/// File name of the dev private key (PEM, PKCS#8, mode 0600).
pub const DEV_KEY_FILE: &str = "key.pem";
/// Names the dev certificate is valid for.
pub const DEV_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// The dev certificate in use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DevCertificate {
    /// `<data_dir>/dev-tls/cert.pem`.
    pub cert_file: PathBuf,
    /// `<data_dir>/dev-tls/key.pem`.
    pub key_file: PathBuf,
    /// SHA-256 of the certificate's DER, as colon-separated upper-case hex (the format
    /// browsers and `openssl x509 -fingerprint -sha256` show).
    pub fingerprint: String,
    /// True if this start generated it, false if it was reused from disk.
    pub generated: bool,
}

/// SHA-256 fingerprint of a DER certificate: `AB:CD:...` (32 bytes, 95 characters).
pub fn sha256_fingerprint(der: &[u8]) -> String {
    let digest = digest::digest(&digest::SHA256, der);
    let mut out = String::with_capacity(95);
    for (i, byte) in digest.as_ref().iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        out.push_str(&format!("{byte:02X}"));
    }
    out
}

/// Loads the dev certificate from `<data_dir>/dev-tls/`, generating it if neither file exists.
///
/// If only one of the two files exists, or they do not parse, this fails instead of silently
/// regenerating: a new certificate would change the fingerprint people may have trusted, and
/// a half-written pair is worth an operator's look. The error names the file; deleting the
/// directory starts over.
pub(crate) fn load_or_generate(data_dir: &Path) -> Result<DevCertificate, TlsError> {
    let dir = data_dir.join(DEV_TLS_DIR);
    let cert_file = dir.join(DEV_CERT_FILE);
    let key_file = dir.join(DEV_KEY_FILE);
    let generated = if !cert_file.exists() && !key_file.exists() {
        generate(&dir, &cert_file, &key_file)?;
        true
    } else {
        false
    };
    // Parse what is on disk in both cases, so the fingerprint describes exactly what is served.
    let chain = parse_chain(&cert_file, &read_file(&cert_file)?)?;
    let fingerprint = chain
        .first()
        .map(|leaf| sha256_fingerprint(leaf))
        .ok_or_else(|| TlsError::NoCertificate {
            path: cert_file.clone(),
        })?;
    Ok(DevCertificate {
        cert_file,
        key_file,
        fingerprint,
        generated,
    })
}

fn generate(dir: &Path, cert_file: &Path, key_file: &Path) -> Result<(), TlsError> {
    let rcgen_err = |e: rcgen::Error| TlsError::DevCertificate {
        detail: e.to_string(),
    };
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(rcgen_err)?;
    let names: Vec<String> = DEV_NAMES.iter().map(|n| (*n).to_owned()).collect();
    let mut params = CertificateParams::new(names).map_err(rcgen_err)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "portcullis dev certificate");
    params.distinguished_name = dn;
    let cert = params.self_signed(&key).map_err(rcgen_err)?;

    std::fs::create_dir_all(dir).map_err(|source| TlsError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    // Key first: a crash between the two writes leaves "key without cert", which the loader
    // reports, rather than a certificate whose key is gone.
    write_atomically(key_file, key.serialize_pem().as_bytes(), true)?;
    write_atomically(cert_file, cert.pem().as_bytes(), false)?;
    Ok(())
}

/// Writes via a temporary file in the same directory and a rename, so a reader never sees a
/// partial file. `private` files are created with mode 0600 on Unix from the start (not
/// chmod-ed afterwards, which would leave a window with the umask's mode).
fn write_atomically(path: &Path, bytes: &[u8], private: bool) -> Result<(), TlsError> {
    let write_err = |source| TlsError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(".tmp");
    let tmp = PathBuf::from(tmp_name);
    // A stale temporary from a crash may have another mode; start from nothing.
    if let Err(e) = std::fs::remove_file(&tmp)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        return Err(write_err(e));
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if private { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options.open(&tmp).map_err(write_err)?;
    file.write_all(bytes).map_err(write_err)?;
    file.sync_all().map_err(write_err)?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(write_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_format() {
        let fp = sha256_fingerprint(b"abc");
        // SHA-256("abc") = ba7816bf...
        assert!(fp.starts_with("BA:78:16:BF:"), "{fp}");
        assert_eq!(fp.len(), 95);
        assert!(fp.ends_with(":AD"), "{fp}");
    }
}
