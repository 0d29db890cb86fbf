//! The admin listener: `GET /healthz` (liveness), `GET /readyz` (readiness: 503 until the
//! gateway serves, and again while it drains), `GET /metrics` (OpenMetrics text).
//!
//! It runs on its own address (loopback by default) so that it is never exposed with the
//! data plane. Plain hyper rather than axum: three read-only endpoints do not justify the
//! dependency (ADR 0005). The consumer and key admin API of the identity issue extends
//! [`route`] — with its own authentication — when it arrives.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::header::{ALLOW, CONTENT_TYPE, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use portcullis_telemetry::Metrics;
use tokio::net::TcpListener;

/// Content type of the metrics exposition.
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

type Hook = Arc<dyn Fn() + Send + Sync>;

/// What the admin endpoints read.
#[derive(Clone)]
pub struct AdminState {
    metrics: Metrics,
    ready: Arc<AtomicBool>,
    before_scrape: Option<Hook>,
}

impl AdminState {
    /// State over the gateway's metrics and readiness flag.
    pub fn new(metrics: Metrics, ready: Arc<AtomicBool>) -> Self {
        Self {
            metrics,
            ready,
            before_scrape: None,
        }
    }

    /// Runs `hook` before each `/metrics` scrape (to refresh gauges computed on demand, such
    /// as upstream health).
    pub fn with_before_scrape(mut self, hook: Hook) -> Self {
        self.before_scrape = Some(hook);
        self
    }
}

/// Serves the admin endpoints on `listener` until `shutdown` completes.
pub async fn serve(listener: TcpListener, state: AdminState, shutdown: impl Future<Output = ()>) {
    tokio::pin!(shutdown);
    loop {
        let (tcp, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::debug!(error = %e, "admin accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => return,
        };
        let state = state.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| {
                let state = state.clone();
                async move { Ok::<_, Infallible>(route(&state, &req)) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(10))
                .serve_connection(TokioIo::new(tcp), svc);
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "admin connection error");
            }
        });
    }
}

fn json(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

fn problem(status: StatusCode, slug: &str, title: &str) -> Response<Full<Bytes>> {
    let body = format!(
        "{{\"type\":\"urn:portcullis:problem:{slug}\",\"title\":\"{title}\",\"status\":{}}}",
        status.as_u16()
    );
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    r
}

/// Routes one admin request.
pub fn route(state: &AdminState, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    let path = req.uri().path();
    if !matches!(path, "/healthz" | "/readyz" | "/metrics") {
        return problem(StatusCode::NOT_FOUND, "not-found", "Not found");
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut r = problem(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            "Method not allowed",
        );
        r.headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET"));
        return r;
    }
    match path {
        "/healthz" => json(StatusCode::OK, "{\"status\":\"ok\"}"),
        "/readyz" if state.ready.load(Ordering::SeqCst) => {
            json(StatusCode::OK, "{\"status\":\"ready\"}")
        }
        "/readyz" => json(
            StatusCode::SERVICE_UNAVAILABLE,
            "{\"status\":\"not ready\"}",
        ),
        _ => {
            if let Some(hook) = &state.before_scrape {
                hook();
            }
            let mut r = Response::new(Full::new(Bytes::from(state.metrics.encode())));
            r.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static(OPENMETRICS));
            r
        }
    }
}
