//! End to end: HTTP/2 abuse. A client that opens and immediately resets streams (rapid reset,
//! CVE-2023-44487) is disconnected; concurrent streams are capped; a well-behaved HTTP/2
//! client is served.

mod common;

use std::time::Duration;

use common::*;

const ECHO: &str = r#"
upstreams:
  - id: echo
    kind: echo
routes:
  - id: echo
    path: /echo/
    methods: [GET, POST]
    upstream: echo
    public: true
limits:
  h2_max_concurrent_streams: 8
  h2_max_pending_reset_streams: 10
"#;

async fn h2_connect(gw: &portcullis_testkit::GatewayProcess) -> h2::client::SendRequest<bytes::Bytes> {
    let tls = portcullis_testkit::tls::client_config(&gw.dev_cert_pem(), &[b"h2"], None);
    let tcp = tokio::net::TcpStream::connect(gw.addr("https")).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let stream = tokio_rustls::TlsConnector::from(tls).connect(name, tcp).await.unwrap();
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
        .uri(format!("https://localhost:{}/echo/x", gw.addr("https").port()))
        .body(())
        .unwrap()
}

#[tokio::test]
async fn rapid_reset_clients_are_disconnected() {
    let gw = start(&config(ECHO));
    let mut send = h2_connect(&gw).await;
    let mut refused = false;
    for _ in 0..2000 {
        let ready = tokio::time::timeout(Duration::from_secs(2), send.clone().ready()).await;
        match ready {
            Ok(Ok(s)) => send = s,
            _ => {
                refused = true;
                break;
            }
        }
        match send.send_request(request(&gw), false) {
            Ok((_resp, mut stream)) => stream.send_reset(h2::Reason::CANCEL),
            Err(_) => {
                refused = true;
                break;
            }
        }
    }
    assert!(refused, "2000 rapidly reset streams were tolerated");
    // The gateway itself is fine: a new, well-behaved connection is served.
    let mut fresh = h2_connect(&gw).await.ready().await.unwrap();
    let (resp, mut body) = fresh.send_request(request(&gw), false).unwrap();
    body.send_data(bytes::Bytes::from_static(b"hi"), true).unwrap();
    let resp = tokio::time::timeout(Duration::from_secs(5), resp).await.unwrap().unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn concurrent_streams_are_capped_by_settings() {
    let gw = start(&config(ECHO));
    let send = h2_connect(&gw).await;
    let mut send = send.ready().await.unwrap();
    // After the handshake the server's SETTINGS are known to the client.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut open = Vec::new();
    for _ in 0..8 {
        send = send.ready().await.unwrap();
        let (resp, stream) = send.send_request(request(&gw), false).unwrap();
        open.push((resp, stream));
    }
    // The ninth stream must wait for a slot (the client honours the server's limit).
    let ninth = tokio::time::timeout(Duration::from_millis(500), send.clone().ready()).await;
    assert!(ninth.is_err(), "server allowed more than 8 concurrent streams");
    // Finishing one stream frees a slot.
    let (resp, mut stream) = open.remove(0);
    stream.send_data(bytes::Bytes::new(), true).unwrap();
    assert_eq!(resp.await.unwrap().status(), 200);
    let ready = tokio::time::timeout(Duration::from_secs(5), send.ready()).await;
    assert!(ready.is_ok());
}
