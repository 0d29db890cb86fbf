use portcullis_config::TlsVersion;
use portcullis_tls::{HandshakeErrorKind, ServerTls};
use rustls::{CipherSuite, NamedGroup, ProtocolVersion};

use crate::support::*;

const TLS13_ALLOWED: [CipherSuite; 3] = [
    CipherSuite::TLS13_AES_128_GCM_SHA256,
    CipherSuite::TLS13_AES_256_GCM_SHA384,
    CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
];
const KX_ALLOWED: [NamedGroup; 4] = [
    NamedGroup::X25519MLKEM768,
    NamedGroup::X25519,
    NamedGroup::secp256r1,
    NamedGroup::secp384r1,
];

async fn server_for(ca: &TestCa, dir: &std::path::Path, min: TlsVersion) -> TestServer {
    let leaf = ca.leaf(&["localhost"]);
    let mut spec = tls_spec(vec![write_leaf(dir, "site", &leaf)]);
    spec.min_version = min;
    TestServer::start(ServerTls::new(&spec, dir).unwrap()).await
}

#[tokio::test]
async fn tls13_handshake_verifies_and_negotiates_allowed_suite() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new();
    let mut server = server_for(&ca, dir.path(), TlsVersion::Tls12).await;
    let seen = Client {
        roots: Some(ca.roots()),
        versions: TLS13_ONLY,
        ..Client::default()
    }
    .connect(server.addr)
    .await
    .unwrap();
    assert_eq!(seen.version, ProtocolVersion::TLSv1_3);
    assert!(TLS13_ALLOWED.contains(&seen.suite), "{:?}", seen.suite);
    assert!(KX_ALLOWED.contains(&seen.kx_group), "{:?}", seen.kx_group);
    // rustls clients offer the post-quantum hybrid first; our server must take it.
    assert_eq!(seen.kx_group, NamedGroup::X25519MLKEM768);
    assert_eq!(seen.greeting, b"hello");
    let info = server.next_event().await.unwrap();
    assert_eq!(info.version, "TLSv1_3");
    assert_eq!(info.sni.as_deref(), Some("localhost"));
    assert_eq!(info.alpn, None);
    assert!(info.client_certs.is_none());
}

#[tokio::test]
async fn tls12_handshake_negotiates_ecdhe_aead_suite() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new();
    let mut server = server_for(&ca, dir.path(), TlsVersion::Tls12).await;
    let seen = Client {
        roots: Some(ca.roots()),
        versions: TLS12_ONLY,
        ..Client::default()
    }
    .connect(server.addr)
    .await
    .unwrap();
    assert_eq!(seen.version, ProtocolVersion::TLSv1_2);
    assert!(
        [
            CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        ]
        .contains(&seen.suite),
        "{:?}",
        seen.suite
    );
    assert!(KX_ALLOWED.contains(&seen.kx_group), "{:?}", seen.kx_group);
    assert_eq!(server.next_event().await.unwrap().version, "TLSv1_2");
}

#[tokio::test]
async fn tls12_with_rsa_certificate_uses_ecdhe_rsa() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new();
    let leaf = ca.rsa_leaf(&["localhost"]);
    let spec = tls_spec(vec![write_leaf(dir.path(), "rsa", &leaf)]);
    let server = TestServer::start(ServerTls::new(&spec, dir.path()).unwrap()).await;
    let seen = Client {
        roots: Some(ca.roots()),
        versions: TLS12_ONLY,
        ..Client::default()
    }
    .connect(server.addr)
    .await
    .unwrap();
    assert!(
        [
            CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        ]
        .contains(&seen.suite),
        "{:?}",
        seen.suite
    );
    assert_eq!(seen.leaf(), leaf.der.as_slice());
}

#[tokio::test]
async fn min_version_13_refuses_tls12_only_client() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new();
    let mut server = server_for(&ca, dir.path(), TlsVersion::Tls13).await;
    let err = Client {
        roots: Some(ca.roots()),
        versions: TLS12_ONLY,
        ..Client::default()
    }
    .connect(server.addr)
    .await
    .unwrap_err();
    assert!(
        matches!(
            rustls_error(&err),
            Some(rustls::Error::AlertReceived(
                rustls::AlertDescription::ProtocolVersion
            ))
        ),
        "{err:?}"
    );
    assert_eq!(
        server.next_event().await.unwrap_err(),
        HandshakeErrorKind::ProtocolVersion
    );

    // Its twin: a TLS 1.3 client on the same listener gets through.
    let seen = Client {
        roots: Some(ca.roots()),
        ..Client::default()
    }
    .connect(server.addr)
    .await
    .unwrap();
    assert_eq!(seen.version, ProtocolVersion::TLSv1_3);
}

#[tokio::test]
async fn alpn_prefers_h2_and_falls_back() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new();
    let mut server = server_for(&ca, dir.path(), TlsVersion::Tls12).await;

    let both = Client {
        alpn: vec![b"http/1.1".to_vec(), b"h2".to_vec()],
        ..Client::default()
    };
    assert_eq!(
        both.connect(server.addr).await.unwrap().alpn.as_deref(),
        Some(&b"h2"[..])
    );
    assert_eq!(
        server.next_event().await.unwrap().alpn.as_deref(),
        Some(&b"h2"[..])
    );

    let h1 = Client {
        alpn: vec![b"http/1.1".to_vec()],
        ..Client::default()
    };
    assert_eq!(
        h1.connect(server.addr).await.unwrap().alpn.as_deref(),
        Some(&b"http/1.1"[..])
    );
    assert_eq!(
        server.next_event().await.unwrap().alpn.as_deref(),
        Some(&b"http/1.1"[..])
    );

    let none = Client::default();
    assert_eq!(none.connect(server.addr).await.unwrap().alpn, None);
    assert_eq!(server.next_event().await.unwrap().alpn, None);
}

#[tokio::test]
async fn handshake_timeout_is_classified() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new();
    let leaf = ca.leaf(&["localhost"]);
    let spec = tls_spec(vec![write_leaf(dir.path(), "site", &leaf)]);
    let tls = ServerTls::new(&spec, dir.path()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // A client that connects and says nothing.
    let _silent = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (tcp, _) = listener.accept().await.unwrap();
    let err = portcullis_tls::accept(&tls.acceptor(), tcp, std::time::Duration::from_millis(100))
        .await
        .unwrap_err();
    assert_eq!(err.kind, HandshakeErrorKind::Timeout);
    assert_eq!(err.kind.as_str(), "timeout");
}

#[tokio::test]
async fn plain_http_on_tls_port_is_malformed() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new();
    let mut server = server_for(&ca, dir.path(), TlsVersion::Tls12).await;
    let answer = raw::send(server.addr, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_ne!(answer, raw::Answer::ServerHello);
    assert_eq!(
        server.next_event().await.unwrap_err(),
        HandshakeErrorKind::Malformed
    );
}
