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

/// Sends `bytes` and returns the status of the first final (non-1xx) response as soon as its
/// status line arrives, without waiting for the body or the close; `None` if the server closed
/// or `timeout` passed first. For measuring many requests whose framing may keep a connection
/// open (a request that says `Connection: keep-alive`, or a body shorter than announced).
pub async fn first_status(addr: SocketAddr, bytes: &[u8], timeout: Duration) -> Option<u16> {
    let mut tcp = TcpStream::connect(addr).await.ok()?;
    // A server may answer and close before it has read everything (a refused head): the write
    // error is not the verdict, the answer is.
    let _ = tcp.write_all(bytes).await;
    let _ = tcp.flush().await;
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let n = match tokio::time::timeout_at(deadline, tcp.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => n,
            _ => return final_status(&out),
        };
        out.extend_from_slice(buf.get(..n).unwrap_or(&[]));
        if let Some(s) = final_status(&out) {
            return Some(s);
        }
    }
}

/// The first status in `bytes` that is not an interim (1xx) one, once its line is complete.
fn final_status(bytes: &[u8]) -> Option<u16> {
    let text = String::from_utf8_lossy(bytes);
    let mut rest = text.as_ref();
    while let Some(i) = rest.find("HTTP/1.") {
        let line = rest.get(i..)?;
        let end = line.find("\r\n")?;
        let status: u16 = line.get(9..12)?.parse().ok()?;
        if status >= 200 {
            return Some(status);
        }
        rest = line.get(end..)?;
    }
    None
}
