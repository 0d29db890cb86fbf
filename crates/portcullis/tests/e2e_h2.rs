//! End to end: HTTP/2 abuse. A client that opens and immediately resets streams (rapid reset,
//! CVE-2023-44487) is disconnected; concurrent streams are capped; a well-behaved HTTP/2
//! client is served.

mod common;

use std::time::Duration;

use common::*;

const H2_LIMITS: &str =
    "limits:\n  h2_max_concurrent_streams: 8\n  h2_max_pending_reset_streams: 10\n";

fn h2_config() -> String {
    config(&format!("{ECHO}{H2_LIMITS}"))
}

async fn h2_connect(
    gw: &portcullis_testkit::GatewayProcess,
) -> h2::client::SendRequest<bytes::Bytes> {
    let tls = portcullis_testkit::tls::client_config(&gw.dev_cert_pem(), &[b"h2"], None);
    let tcp = tokio::net::TcpStream::connect(gw.addr("https"))
        .await
        .unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let stream = tokio_rustls::TlsConnector::from(tls)
        .connect(name, tcp)
        .await
        .unwrap();
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (send, conn) = h2::client::handshake(stream).await.unwrap();
    tokio::spawn(async move {
        let _ = conn.await;
    });
    send
}

fn request(gw: &portcullis_testkit::GatewayProcess) -> http::Request<()> {
    http::Request::builder()
        .method("POST")
        .uri(format!(
            "https://localhost:{}/echo/x",
            gw.addr("https").port()
        ))
        .body(())
        .unwrap()
}

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(9 + payload.len());
    f.extend_from_slice(&(payload.len() as u32).to_be_bytes()[1..]);
    f.push(kind);
    f.push(flags);
    f.extend_from_slice(&stream.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// HPACK for `GET https://localhost/echo/x` from the static table and literals without
/// indexing (no dynamic table state to keep).
fn get_headers_block() -> Vec<u8> {
    let mut b = vec![0x82, 0x87]; // :method GET, :scheme https
    b.push(0x04); // :path, literal without indexing
    b.push(7);
    b.extend_from_slice(b"/echo/x");
    b.push(0x01); // :authority, literal without indexing
    b.push(9);
    b.extend_from_slice(b"localhost");
    b
}

#[tokio::test]
async fn rapid_reset_clients_are_disconnected() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let gw = start(&h2_config());
    let tls = portcullis_testkit::tls::client_config(&gw.dev_cert_pem(), &[b"h2"], None);
    let tcp = tokio::net::TcpStream::connect(gw.addr("https"))
        .await
        .unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut s = tokio_rustls::TlsConnector::from(tls)
        .connect(name, tcp)
        .await
        .unwrap();
    assert_eq!(s.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    // Preface, SETTINGS, then HEADERS immediately followed by RST_STREAM(CANCEL), many times:
    // the CVE-2023-44487 pattern.
    let mut wire = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    wire.extend(frame(0x4, 0, 0, &[]));
    let block = get_headers_block();
    let mut stream = 1u32;
    for _ in 0..1000 {
        wire.extend(frame(0x1, 0x5, stream, &block));
        wire.extend(frame(0x3, 0, stream, &8u32.to_be_bytes()));
        stream += 2;
    }
    let _ = s.write_all(&wire).await;
    let _ = s.flush().await;
    // Read what the server sends until it closes; look for GOAWAY (type 7).
    let mut got = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => panic!("the server kept the connection open after 1000 rapid resets"),
        }
    }
    let mut i = 0;
    let mut goaway = None;
    while i + 9 <= got.len() {
        let len = u32::from_be_bytes([0, got[i], got[i + 1], got[i + 2]]) as usize;
        if got[i + 3] == 0x7 && i + 9 + 8 <= got.len() {
            goaway = Some(u32::from_be_bytes([
                got[i + 13],
                got[i + 14],
                got[i + 15],
                got[i + 16],
            ]));
        }
        i += 9 + len;
    }
    // ENHANCE_YOUR_CALM (0xb) is h2's answer to rapid reset.
    assert_eq!(
        goaway,
        Some(0xb),
        "no GOAWAY(ENHANCE_YOUR_CALM) in {} bytes",
        got.len()
    );
    // The gateway itself is fine: a new, well-behaved connection is served.
    let mut fresh = h2_connect(&gw).await.ready().await.unwrap();
    let (resp, mut body) = fresh.send_request(request(&gw), false).unwrap();
    body.send_data(bytes::Bytes::from_static(b"hi"), true)
        .unwrap();
    let resp = tokio::time::timeout(Duration::from_secs(5), resp)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn concurrent_streams_are_capped_by_settings() {
    let gw = start(&h2_config());
    let send = h2_connect(&gw).await;
    let mut send = send.ready().await.unwrap();
    // A first exchange makes sure the server's SETTINGS were received and applied.
    let (resp, mut body) = send.send_request(request(&gw), false).unwrap();
    body.send_data(bytes::Bytes::new(), true).unwrap();
    assert_eq!(resp.await.unwrap().status(), 200);
    send = send.ready().await.unwrap();
    assert_eq!(send.current_max_send_streams(), 8);
}
