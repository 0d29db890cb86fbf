//! Dev mode: generated once, persisted, reused.

use portcullis_tls::{DEV_CERT_FILE, DEV_KEY_FILE, DEV_TLS_DIR, ServerTls, TlsError};
use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::support::*;

fn independent_fingerprint(der: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, der);
    digest
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

#[tokio::test]
async fn dev_certificate_is_generated_persisted_and_reused() {
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().join("nested/data");
    let spec = tls_spec(Vec::new());

    let first = ServerTls::new(&spec, &data_dir).unwrap();
    let dev = first.dev_certificate().unwrap().clone();
    assert!(dev.generated);
    assert_eq!(
        dev.cert_file,
        data_dir.join(DEV_TLS_DIR).join(DEV_CERT_FILE)
    );
    assert_eq!(dev.key_file, data_dir.join(DEV_TLS_DIR).join(DEV_KEY_FILE));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&dev.key_file)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "key mode {mode:o}");
    }

    // The fingerprint is the SHA-256 of the DER in cert.pem.
    let der = CertificateDer::from_pem_file(&dev.cert_file).unwrap();
    assert_eq!(dev.fingerprint, independent_fingerprint(&der));
    assert_eq!(dev.fingerprint.len(), 95);

    // A second start reuses it: same fingerprint, nothing generated.
    let second = ServerTls::new(&spec, &data_dir).unwrap();
    let again = second.dev_certificate().unwrap();
    assert!(!again.generated);
    assert_eq!(again.fingerprint, dev.fingerprint);
    assert!(second.spawn_watcher().unwrap().is_none());

    // And it is what the server serves: valid for localhost when trusted directly.
    let server = TestServer::start(second).await;
    let mut roots = RootCertStore::empty();
    roots.add(der.clone()).unwrap();
    let seen = Client {
        sni: Some("localhost"),
        roots: Some(roots),
        ..Client::default()
    }
    .connect(server.addr)
    .await
    .unwrap();
    assert_eq!(seen.leaf(), der.as_ref());
    assert_eq!(independent_fingerprint(seen.leaf()), dev.fingerprint);
}

#[tokio::test]
async fn dev_certificate_covers_loopback_addresses() {
    let data = tempfile::tempdir().unwrap();
    let tls = ServerTls::new(&tls_spec(Vec::new()), data.path()).unwrap();
    let der = CertificateDer::from_pem_file(&tls.dev_certificate().unwrap().cert_file).unwrap();
    let parsed = rustls::server::ParsedCertificate::try_from(&der).unwrap();
    for name in ["localhost", "127.0.0.1", "::1"] {
        let server_name = rustls::pki_types::ServerName::try_from(name).unwrap();
        rustls::client::verify_server_name(&parsed, &server_name).unwrap();
    }
    let other = rustls::pki_types::ServerName::try_from("example.com").unwrap();
    assert!(rustls::client::verify_server_name(&parsed, &other).is_err());
}

#[tokio::test]
async fn half_present_dev_certificate_is_an_error_not_a_silent_regeneration() {
    let data = tempfile::tempdir().unwrap();
    let tls = ServerTls::new(&tls_spec(Vec::new()), data.path()).unwrap();
    let dev = tls.dev_certificate().unwrap().clone();
    std::fs::remove_file(&dev.key_file).unwrap();
    let err = ServerTls::new(&tls_spec(Vec::new()), data.path()).unwrap_err();
    assert!(
        matches!(err, TlsError::Read { ref path, .. } if *path == dev.key_file),
        "{err}"
    );
    assert!(err.to_string().contains("key.pem"), "{err}");
    // Nothing was overwritten.
    let der = CertificateDer::from_pem_file(&dev.cert_file).unwrap();
    assert_eq!(independent_fingerprint(&der), dev.fingerprint);
}
