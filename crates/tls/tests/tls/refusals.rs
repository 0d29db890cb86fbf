//! Old protocol versions and weak suites never get a ServerHello.

use portcullis_tls::{HandshakeErrorKind, ServerTls};

use crate::support::raw::{self, Answer};
use crate::support::*;

const ALERT_FATAL: u8 = 2;
const ALERT_HANDSHAKE_FAILURE: u8 = 40;
const ALERT_PROTOCOL_VERSION: u8 = 70;

async fn server(dir: &std::path::Path) -> TestServer {
    let ca = TestCa::new();
    let leaf = ca.leaf(&["localhost"]);
    let spec = tls_spec(vec![write_leaf(dir, "site", &leaf)]);
    TestServer::start(ServerTls::new(&spec, dir).unwrap()).await
}

fn tls12_extensions() -> Vec<Vec<u8>> {
    vec![
        raw::sni("localhost"),
        raw::supported_groups(&[0x001d, 0x0017]),
        raw::ec_point_formats(),
        raw::signature_algorithms(&[0x0403, 0x0804, 0x0401]),
    ]
}

/// A TLS 1.1 hello as old clients send it: TLS 1.1, CBC suites (ECDHE and static RSA), no
/// `supported_versions` and no `signature_algorithms` (both TLS 1.2+ extensions).
///
/// rustls rejects the missing `signature_algorithms` before it even looks at the version, so
/// the wire answer is a fatal `handshake_failure` alert (what OpenSSL's `-tls1_1` gets too);
/// our metrics still label it `protocol_version`.
#[tokio::test]
async fn raw_tls11_client_hello_gets_fatal_alert_never_server_hello() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = server(dir.path()).await;
    let hello = raw::client_hello(
        raw::TLS1_0,
        raw::TLS1_1,
        &[0xc013, 0xc014, 0xc009, 0xc00a, 0x002f, 0x0035, 0x000a],
        &[
            raw::sni("localhost"),
            raw::supported_groups(&[0x001d, 0x0017]),
            raw::ec_point_formats(),
        ],
    );
    let answer = raw::send(server.addr, &hello).await;
    assert_eq!(answer, Answer::Alert(ALERT_FATAL, ALERT_HANDSHAKE_FAILURE));
    assert_eq!(
        server.next_event().await.unwrap_err(),
        HandshakeErrorKind::ProtocolVersion
    );
}

/// A TLS 1.1 hello that also carries `signature_algorithms` and AEAD suites (some
/// middleware does this) reaches the version check and gets `protocol_version`.
#[tokio::test]
async fn raw_tls11_client_hello_with_tls12_extensions_gets_protocol_version_alert() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = server(dir.path()).await;
    let hello = raw::client_hello(
        raw::TLS1_0,
        raw::TLS1_1,
        &[0xc02b, 0xc02f, 0xc013, 0x002f],
        &tls12_extensions(),
    );
    let answer = raw::send(server.addr, &hello).await;
    assert_eq!(answer, Answer::Alert(ALERT_FATAL, ALERT_PROTOCOL_VERSION));
    assert_eq!(
        server.next_event().await.unwrap_err(),
        HandshakeErrorKind::ProtocolVersion
    );
}

#[tokio::test]
async fn raw_tls12_cbc_or_static_rsa_only_hello_gets_handshake_failure() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = server(dir.path()).await;
    // ECDHE+CBC, static RSA (CBC and GCM: no forward secrecy), 3DES.
    let weak = [
        0xc009, 0xc013, 0xc023, 0xc027, 0x002f, 0x003c, 0x009c, 0x009d, 0x000a,
    ];
    let hello = raw::client_hello(raw::TLS1_0, raw::TLS1_2, &weak, &tls12_extensions());
    let answer = raw::send(server.addr, &hello).await;
    assert_eq!(answer, Answer::Alert(ALERT_FATAL, ALERT_HANDSHAKE_FAILURE));
    assert_eq!(
        server.next_event().await.unwrap_err(),
        HandshakeErrorKind::NoSharedCipher
    );
}

/// The twin of the two tests above: the same hand-built hello with an allowed suite gets a
/// ServerHello, so the refusals are about the version/suites, not a broken test message.
#[tokio::test]
async fn raw_tls12_aead_hello_gets_server_hello() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(dir.path()).await;
    let hello = raw::client_hello(raw::TLS1_0, raw::TLS1_2, &[0xc02b], &tls12_extensions());
    assert_eq!(raw::send(server.addr, &hello).await, Answer::ServerHello);
}

async fn openssl_s_client(addr: std::net::SocketAddr, args: &[&str]) -> (bool, String) {
    let openssl = openssl().unwrap();
    let out = tokio::time::timeout(
        WAIT,
        tokio::process::Command::new(openssl)
            .arg("s_client")
            .arg("-connect")
            .arg(addr.to_string())
            .args(["-servername", "localhost"])
            .args(args)
            .stdin(std::process::Stdio::null())
            .output(),
    )
    .await
    .unwrap()
    .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test]
async fn openssl_tls11_client_is_refused() {
    if openssl().is_none() {
        eprintln!("SKIPPED: /usr/bin/openssl not installed (the raw-bytes test still ran)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut server = server(dir.path()).await;
    let (ok, text) =
        openssl_s_client(server.addr, &["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"]).await;
    assert!(!ok, "{text}");
    // OpenSSL did send a TLS 1.1 hello and got only a fatal alert back: no cipher, no
    // certificate. (handshake_failure, see `raw_tls11_client_hello_gets_fatal_alert...`.)
    assert!(text.contains("Protocol  : TLSv1.1"), "{text}");
    assert!(text.contains("Cipher is (NONE)"), "{text}");
    assert!(text.contains("no peer certificate available"), "{text}");
    assert!(text.contains("alert handshake failure"), "{text}");
    // The server really saw the hello (OpenSSL did not give up before sending it).
    assert_eq!(
        server.next_event().await.unwrap_err(),
        HandshakeErrorKind::ProtocolVersion
    );

    // Twin: the same binary at TLS 1.2 connects.
    let (ok, text) = openssl_s_client(server.addr, &["-tls1_2"]).await;
    assert!(ok, "{text}");
    assert!(text.contains("TLSv1.2"), "{text}");
}

#[tokio::test]
async fn openssl_cbc_only_client_is_refused() {
    if openssl().is_none() {
        eprintln!("SKIPPED: /usr/bin/openssl not installed (the raw-bytes test still ran)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut server = server(dir.path()).await;
    let (ok, text) = openssl_s_client(
        server.addr,
        &[
            "-tls1_2",
            "-cipher",
            "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:AES128-SHA:AES128-GCM-SHA256:@SECLEVEL=0",
        ],
    )
    .await;
    assert!(!ok, "{text}");
    assert!(text.contains("handshake failure"), "{text}");
    assert_eq!(
        server.next_event().await.unwrap_err(),
        HandshakeErrorKind::NoSharedCipher
    );
}
