//! Certificates change on disk; the listener follows without a restart.

use std::time::{Duration, Instant};

use portcullis_tls::{ServerTls, TlsError};

use crate::support::*;

async fn served_leaf(server: &TestServer) -> Vec<u8> {
    Client::default()
        .connect(server.addr)
        .await
        .unwrap()
        .leaf()
        .to_vec()
}

#[tokio::test]
async fn reload_serves_the_new_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new();
    let old = ca.leaf(&["localhost"]);
    let new = ca.leaf(&["localhost"]);
    let spec = tls_spec(vec![write_leaf(dir.path(), "site", &old)]);
    let server = TestServer::start(ServerTls::new(&spec, dir.path()).unwrap()).await;
    assert_eq!(served_leaf(&server).await, old.der);

    write_leaf(dir.path(), "site", &new);
    // Not before reload: the files are read at build and reload time only.
    assert_eq!(served_leaf(&server).await, old.der);
    server.tls.reload().unwrap();
    assert_eq!(served_leaf(&server).await, new.der);
}

#[tokio::test]
async fn failed_reload_keeps_the_old_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new();
    let old = ca.leaf(&["localhost"]);
    let other = ca.leaf(&["localhost"]);
    let spec = tls_spec(vec![write_leaf(dir.path(), "site", &old)]);
    let cert_file = spec.certificates[0].cert_file.clone();
    let key_file = spec.certificates[0].key_file.clone();
    let server = TestServer::start(ServerTls::new(&spec, dir.path()).unwrap()).await;

    // Garbage instead of a certificate.
    write_atomic(&cert_file, b"not a certificate\n");
    let err = server.tls.reload().unwrap_err();
    assert!(
        matches!(err, TlsError::NoCertificate { ref path } if *path == cert_file),
        "{err}"
    );
    assert_eq!(served_leaf(&server).await, old.der);

    // A new certificate whose key has not arrived yet.
    write_atomic(&cert_file, other.cert_pem.as_bytes());
    let err = server.tls.reload().unwrap_err();
    assert!(matches!(err, TlsError::KeyMismatch { .. }), "{err}");
    assert!(
        err.to_string().contains(&key_file.display().to_string()),
        "{err}"
    );
    assert_eq!(served_leaf(&server).await, old.der);

    // The key arrives: the twin succeeds.
    write_atomic(&key_file, other.key_pem.as_bytes());
    server.tls.reload().unwrap();
    assert_eq!(served_leaf(&server).await, other.der);
}

#[tokio::test]
async fn failed_reload_of_one_certificate_keeps_all_old_ones() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new();
    let a = ca.leaf(&["a.test"]);
    let b = ca.leaf(&["b.test"]);
    let a2 = ca.leaf(&["a.test"]);
    let spec = tls_spec(vec![
        write_leaf(dir.path(), "a", &a),
        write_leaf(dir.path(), "b", &b),
    ]);
    let server = TestServer::start(ServerTls::new(&spec, dir.path()).unwrap()).await;
    write_leaf(dir.path(), "a", &a2);
    std::fs::remove_file(&spec.certificates[1].key_file).unwrap();
    let err = server.tls.reload().unwrap_err();
    assert!(
        matches!(err, TlsError::Read { ref path, .. } if *path == spec.certificates[1].key_file),
        "{err}"
    );
    // All or nothing: a.test did not switch to a2 either.
    let seen = Client {
        sni: Some("a.test"),
        ..Client::default()
    }
    .connect(server.addr)
    .await
    .unwrap();
    assert_eq!(seen.leaf(), a.der.as_slice());
}

#[tokio::test]
async fn watcher_picks_up_changed_files() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new();
    let old = ca.leaf(&["localhost"]);
    let broken_then_new = ca.leaf(&["localhost"]);
    let spec = tls_spec(vec![write_leaf(dir.path(), "site", &old)]);
    let server = TestServer::start(ServerTls::new(&spec, dir.path()).unwrap()).await;
    let watcher = server
        .tls
        .spawn_watcher_every(Duration::from_millis(50))
        .unwrap();

    // A broken file is noticed but does not replace the served certificate.
    write_atomic(
        &spec.certificates[0].cert_file,
        b"-----BEGIN CERTIFICATE-----\nAAAA\n",
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(served_leaf(&server).await, old.der);

    // The real new pair arrives; the watcher reloads it.
    write_leaf(dir.path(), "site", &broken_then_new);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if served_leaf(&server).await == broken_then_new.der {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "watcher did not reload within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    watcher.stop();
}

#[tokio::test]
async fn default_watcher_respects_the_spec() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new();
    let mut spec = tls_spec(vec![write_leaf(
        dir.path(),
        "site",
        &ca.leaf(&["localhost"]),
    )]);
    let tls = ServerTls::new(&spec, dir.path()).unwrap();
    assert!(tls.spawn_watcher().unwrap().is_some());
    spec.watch = false;
    let tls = ServerTls::new(&spec, dir.path()).unwrap();
    assert!(tls.spawn_watcher().unwrap().is_none());
}
