//! Raw bytes over TCP or TLS: for requests no well-behaved client would send.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// Sends `bytes` and reads until the server closes or `timeout` passes. Returns what was read
/// and whether the server closed the connection.
pub async fn send(addr: SocketAddr, bytes: &[u8], timeout: Duration) -> (Vec<u8>, bool) {
    let Ok(tcp) = TcpStream::connect(addr).await else {
        return (Vec::new(), true);
    };
    exchange(tcp, bytes, timeout).await
}

/// The same over TLS (SNI `localhost`).
pub async fn send_tls(
    addr: SocketAddr,
    config: Arc<rustls::ClientConfig>,
    bytes: &[u8],
    timeout: Duration,
) -> (Vec<u8>, bool) {
    let Ok(tcp) = TcpStream::connect(addr).await else {
        return (Vec::new(), true);
    };
    let connector = tokio_rustls::TlsConnector::from(config);
    let Ok(name) = rustls::pki_types::ServerName::try_from("localhost") else {
        return (Vec::new(), true);
    };
    match connector.connect(name, tcp).await {
        Ok(tls) => exchange(tls, bytes, timeout).await,
        Err(_) => (Vec::new(), true),
    }
}

async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    bytes: &[u8],
    timeout: Duration,
) -> (Vec<u8>, bool) {
    if s.write_all(bytes).await.is_err() {
        return (Vec::new(), true);
    }
    let _ = s.flush().await;
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Ok(Ok(0)) => return (out, true),
            Ok(Ok(n)) => out.extend_from_slice(buf.get(..n).unwrap_or(&[])),
            Ok(Err(_)) => return (out, true),
            Err(_) => return (out, false),
        }
    }
}

/// The status codes of every HTTP/1 response in `bytes` (pipelined responses included).
pub fn statuses(bytes: &[u8]) -> Vec<u16> {
    let text = String::from_utf8_lossy(bytes);
    text.match_indices("HTTP/1.")
        .filter_map(|(i, _)| {
            // "HTTP/1.x NNN"
            if text.get(i + 8..i + 9)? != " " {
                return None;
            }
            text.get(i + 9..i + 12)?.parse().ok()
        })
        .collect()
}
