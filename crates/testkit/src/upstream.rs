//! A real HTTP/1.1 upstream that records what it receives.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

/// One request as the upstream saw it.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// Method.
    pub method: String,
    /// Path and query.
    pub uri: String,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: Bytes,
}

type Responder = Arc<dyn Fn(&Recorded) -> Response<Full<Bytes>> + Send + Sync>;

/// The upstream. Stops when dropped.
pub struct RecordingUpstream {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Recorded>>>,
    task: tokio::task::JoinHandle<()>,
}

impl RecordingUpstream {
    /// Answers every request with 200 and a small JSON body.
    pub async fn start() -> Self {
        Self::with(|_| {
            Response::builder()
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from_static(b"{\"ok\":true}")))
                .unwrap_or_default()
        })
        .await
    }

    /// Answers with `responder`.
    pub async fn with(
        responder: impl Fn(&Recorded) -> Response<Full<Bytes>> + Send + Sync + 'static,
    ) -> Self {
        let listener = match TcpListener::bind("127.0.0.1:0").await {
            Ok(l) => l,
            Err(e) => panic!("bind upstream: {e}"),
        };
        let addr = match listener.local_addr() {
            Ok(a) => a,
            Err(e) => panic!("upstream addr: {e}"),
        };
        let seen = Arc::new(Mutex::new(Vec::new()));
        let responder: Responder = Arc::new(responder);
        let seen2 = seen.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let seen = seen2.clone();
                let responder = responder.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req: Request<Incoming>| {
                        let seen = seen.clone();
                        let responder = responder.clone();
                        async move {
                            let (parts, body) = req.into_parts();
                            let body = body
                                .collect()
                                .await
                                .map(|c| c.to_bytes())
                                .unwrap_or_default();
                            let rec = Recorded {
                                method: parts.method.to_string(),
                                uri: parts.uri.to_string(),
                                headers: parts.headers,
                                body,
                            };
                            let resp = responder(&rec);
                            if let Ok(mut s) = seen.lock() {
                                s.push(rec);
                            }
                            Ok::<_, Infallible>(resp)
                        }
                    });
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(tcp), svc)
                        .await;
                });
            }
        });
        Self { addr, seen, task }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Requests received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Waits briefly and asserts nothing arrived: used after every attack.
    pub async fn assert_nothing_forwarded(&self) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let seen = self.requests();
        assert!(
            seen.is_empty(),
            "upstream received {} request(s): {:?}",
            seen.len(),
            seen
        );
    }

    /// A responder helper: fixed status and body.
    pub fn status(
        status: u16,
        body: &'static str,
    ) -> impl Fn(&Recorded) -> Response<Full<Bytes>> + Send + Sync + 'static {
        move |_| {
            let mut r = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
            *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            r
        }
    }
}

impl Drop for RecordingUpstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}
