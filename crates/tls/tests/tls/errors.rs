//! Bad files fail with errors that name the file and the problem.

use std::path::Path;

use portcullis_config::CertificateSpec;
use portcullis_tls::{ServerTls, TlsError};

use crate::support::*;

fn build(dir: &Path, cert: CertificateSpec) -> TlsError {
    ServerTls::new(&tls_spec(vec![cert]), dir).unwrap_err()
}

fn spec(dir: &Path, cert: &str, key: &str) -> CertificateSpec {
    CertificateSpec {
        cert_file: dir.join(cert),
        key_file: dir.join(key),
        server_names: Vec::new(),
    }
}

#[test]
fn missing_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let err = build(dir.path(), spec(dir.path(), "nope.crt", "nope.key"));
    assert!(matches!(err, TlsError::Read { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("nope.crt") && msg.contains("cannot read"),
        "{msg}"
    );
}

#[test]
fn pem_without_certificate_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let leaf = TestCa::new().leaf(&["localhost"]);
    std::fs::write(dir.path().join("c.crt"), &leaf.key_pem).unwrap();
    std::fs::write(dir.path().join("k.key"), &leaf.key_pem).unwrap();
    let err = build(dir.path(), spec(dir.path(), "c.crt", "k.key"));
    assert!(matches!(err, TlsError::NoCertificate { .. }), "{err}");
    assert!(
        err.to_string().contains("c.crt: no certificate found"),
        "{err}"
    );
}

#[test]
fn pem_without_key_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let leaf = TestCa::new().leaf(&["localhost"]);
    std::fs::write(dir.path().join("c.crt"), &leaf.cert_pem).unwrap();
    std::fs::write(dir.path().join("k.key"), &leaf.cert_pem).unwrap();
    let err = build(dir.path(), spec(dir.path(), "c.crt", "k.key"));
    assert!(matches!(err, TlsError::NoKey { .. }), "{err}");
    assert!(
        err.to_string().contains("k.key: no private key found"),
        "{err}"
    );
}

#[test]
fn unusable_key_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let leaf = TestCa::new().leaf(&["localhost"]);
    std::fs::write(dir.path().join("c.crt"), &leaf.cert_pem).unwrap();
    // Well-formed PEM, but the PKCS#8 body is not a key.
    std::fs::write(
        dir.path().join("k.key"),
        "-----BEGIN PRIVATE KEY-----\nMAMCAQA=\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let err = build(dir.path(), spec(dir.path(), "c.crt", "k.key"));
    assert!(matches!(err, TlsError::UnsupportedKey { .. }), "{err}");
    assert!(
        err.to_string().contains("k.key: unsupported private key"),
        "{err}"
    );
}

#[test]
fn garbage_certificate_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let leaf = TestCa::new().leaf(&["localhost"]);
    std::fs::write(
        dir.path().join("c.crt"),
        "-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("k.key"), &leaf.key_pem).unwrap();
    let err = build(dir.path(), spec(dir.path(), "c.crt", "k.key"));
    assert!(matches!(err, TlsError::InvalidCertificate { .. }), "{err}");
    assert!(
        err.to_string().contains("c.crt: invalid certificate"),
        "{err}"
    );
}

#[test]
fn malformed_pem_is_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("c.crt"),
        "-----BEGIN CERTIFICATE-----\n!!!!\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("k.key"), "").unwrap();
    let err = build(dir.path(), spec(dir.path(), "c.crt", "k.key"));
    assert!(matches!(err, TlsError::Pem { .. }), "{err}");
    assert!(err.to_string().contains("c.crt: malformed PEM"), "{err}");
}

#[test]
fn mismatched_key_is_a_clear_error_naming_both_files() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new();
    let one = ca.leaf(&["localhost"]);
    let two = ca.leaf(&["localhost"]);
    std::fs::write(dir.path().join("one.crt"), &one.cert_pem).unwrap();
    std::fs::write(dir.path().join("two.key"), &two.key_pem).unwrap();
    let err = build(dir.path(), spec(dir.path(), "one.crt", "two.key"));
    assert!(matches!(err, TlsError::KeyMismatch { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("two.key: private key does not match the certificate in"),
        "{msg}"
    );
    assert!(msg.contains("one.crt"), "{msg}");

    // Twin: the matching pair loads.
    std::fs::write(dir.path().join("one.key"), &one.key_pem).unwrap();
    ServerTls::new(
        &tls_spec(vec![spec(dir.path(), "one.crt", "one.key")]),
        dir.path(),
    )
    .unwrap();
}

#[test]
fn invalid_server_name_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let leaf = TestCa::new().leaf(&["localhost"]);
    let mut cert = write_leaf(dir.path(), "site", &leaf);
    cert.server_names = vec!["not a name".to_owned()];
    let err = build(dir.path(), cert);
    assert!(matches!(err, TlsError::InvalidServerName { .. }), "{err}");
    assert!(err.to_string().contains("site.crt"), "{err}");
}
