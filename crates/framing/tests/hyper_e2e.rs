//! A real hyper HTTP/1 server behind the sentinel on a real TCP listener.
#![allow(missing_docs)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, StatusCode, body::Incoming, service::service_fn};
use hyper_util::rt::TokioIo;
use portcullis_framing::{FramingLimits, Sentinel};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Starts the server; returns its address and the log of what the handler saw.
async fn server() -> (std::net::SocketAddr, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let (io, handle) = Sentinel::new(
                tcp,
                FramingLimits {
                    max_head_bytes: 8192,
                    max_headers: 50,
                },
            );
            let log = log.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: Request<Incoming>| {
                    let handle = handle.clone();
                    let log = log.clone();
                    async move {
                        if let Some(v) = handle.violation(req.headers()) {
                            log.lock().unwrap().push(format!("notice {}", v.code));
                            let mut r = Response::new(Full::new(Bytes::from_static(b"refused")));
                            *r.status_mut() = v.status;
                            r.headers_mut()
                                .insert("connection", "close".parse().unwrap());
                            return Ok::<_, hyper::Error>(r);
                        }
                        let path = req.uri().path().to_string();
                        let body = req.into_body().collect().await;
                        let (status, note) = match body {
                            Ok(b) => (StatusCode::OK, format!("{path} {:?}", b.to_bytes())),
                            Err(_) => {
                                let code = handle.body_violation().map_or("?", |v| v.code);
                                (StatusCode::BAD_REQUEST, format!("{path} body error {code}"))
                            }
                        };
                        log.lock().unwrap().push(note);
                        let mut r = Response::new(Full::new(Bytes::new()));
                        *r.status_mut() = status;
                        Ok(r)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(io), svc)
                    .await;
            });
        }
    });
    (addr, seen)
}

/// Sends raw bytes; returns the response bytes and whether the server closed.
async fn send(addr: std::net::SocketAddr, raw: &[u8]) -> (String, bool) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(raw).await.unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let closed = loop {
        match tokio::time::timeout(Duration::from_secs(2), s.read(&mut buf)).await {
            Ok(Ok(0)) => break true,
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Ok(Err(_)) => break true,
            Err(_) => break false,
        }
    };
    (String::from_utf8_lossy(&out).into_owned(), closed)
}

fn statuses(raw: &str) -> Vec<u16> {
    raw.match_indices("HTTP/1.1 ")
        .filter_map(|(i, _)| raw.get(i + 9..i + 12)?.parse().ok())
        .collect()
}

#[tokio::test]
async fn cl_te_probe_after_a_valid_request_gets_400_in_order_and_closes() {
    let (addr, seen) = server().await;
    let raw = b"POST /first HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello\
POST /second HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n\
GET /third HTTP/1.1\r\nHost: x\r\n\r\n";
    let (resp, closed) = send(addr, raw).await;
    assert_eq!(statuses(&resp), vec![200, 400], "{resp}");
    assert!(closed);
    assert_eq!(
        *seen.lock().unwrap(),
        vec![
            "/first b\"hello\"".to_string(),
            "notice cl_and_te".to_string()
        ]
    );
}

#[tokio::test]
async fn a_broken_chunked_body_fails_in_hyper_and_closes() {
    let (addr, seen) = server().await;
    let raw = b"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n1;e=\x01\r\nz\r\n0\r\n\r\n\
GET /next HTTP/1.1\r\nHost: x\r\n\r\n";
    let (resp, closed) = send(addr, raw).await;
    assert_eq!(statuses(&resp), vec![400], "{resp}");
    assert!(closed);
    assert_eq!(
        *seen.lock().unwrap(),
        vec!["/c body error bad_chunk_extension".to_string()]
    );
}
