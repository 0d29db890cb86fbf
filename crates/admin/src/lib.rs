//! The admin listener: `GET /healthz` (liveness), `GET /readyz` (readiness: 503 until the
//! gateway serves, and again while it drains), `GET /metrics` (OpenMetrics text).
//!
//! It runs on its own address (loopback by default) so that it is never exposed with the
//! data plane. Plain hyper rather than axum (ADR 0005).
//!
//! The admin API under `/admin/v1/` (consumers, keys, token revocations, history) is served by
//! an [`ApiHandler`] the gateway installs. It needs its own credential: a bearer token whose
//! SHA-256 is configured (`admin.token_sha256`), compared in constant time. Without a
//! configured hash the API answers 404, as if it did not exist (deny by default).

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

/// A response of the admin API.
pub type AdminResponse = Response<Full<Bytes>>;

/// Serves an authenticated admin API request: `(method, path, query, body)`.
pub type ApiHandler = Arc<
    dyn Fn(
            Method,
            String,
            Option<String>,
            Bytes,
        ) -> std::pin::Pin<Box<dyn Future<Output = AdminResponse> + Send>>
        + Send
        + Sync,
>;

/// Largest admin API request body.
const MAX_API_BODY: usize = 64 * 1024;

/// What the admin endpoints read.
#[derive(Clone)]
pub struct AdminState {
    metrics: Metrics,
    ready: Arc<AtomicBool>,
    before_scrape: Option<Hook>,
    api: Option<(Arc<[u8; 32]>, ApiHandler)>,
    jwks: Option<Bytes>,
}

impl AdminState {
    /// State over the gateway's metrics and readiness flag.
    pub fn new(metrics: Metrics, ready: Arc<AtomicBool>) -> Self {
        Self {
            metrics,
            ready,
            before_scrape: None,
            api: None,
            jwks: None,
        }
    }

    /// Publishes `jwks` (the public keys of gateway-minted identity tokens) at
    /// `/.well-known/jwks.json`, without a credential: upstreams need it to verify tokens and
    /// it holds public keys only.
    pub fn with_jwks(mut self, jwks: String) -> Self {
        self.jwks = Some(Bytes::from(jwks));
        self
    }

    /// Serves the admin API with `handler` to callers presenting the token whose SHA-256 is
    /// `token_sha256`.
    pub fn with_api(mut self, token_sha256: [u8; 32], handler: ApiHandler) -> Self {
        self.api = Some((Arc::new(token_sha256), handler));
        self
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
            let svc = service_fn(move |req: Request<Incoming>| {
                let state = state.clone();
                async move {
                    if req.uri().path().starts_with("/admin/") {
                        return Ok::<_, Infallible>(api(&state, req).await);
                    }
                    Ok::<_, Infallible>(route(&state, &req))
                }
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

/// The token presented as `Authorization: Bearer <token>` hashes to the configured value.
fn authorized(expected: &[u8; 32], headers: &http::HeaderMap) -> bool {
    let Some(token) = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.trim().as_bytes());
    aws_lc_rs::constant_time::verify_slices_are_equal(digest.as_ref(), expected).is_ok()
}

async fn api(state: &AdminState, req: Request<Incoming>) -> AdminResponse {
    use http_body_util::BodyExt;
    let Some((expected, handler)) = &state.api else {
        return problem(StatusCode::NOT_FOUND, "not-found", "Not found");
    };
    if !authorized(expected, req.headers()) {
        tracing::warn!(target: "portcullis::audit", path = %req.uri().path(), "admin API: refused credential");
        let mut r = problem(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Authentication required",
        );
        r.headers_mut().insert(
            http::header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer"),
        );
        return r;
    }
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query = req.uri().query().map(str::to_string);
    let limited = http_body_util::Limited::new(req.into_body(), MAX_API_BODY);
    let body = match limited.collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return problem(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "Payload too large",
            );
        }
    };
    handler(method, path, query, body).await
}

/// Routes one admin request.
pub fn route(state: &AdminState, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    let path = req.uri().path();
    if path == "/.well-known/jwks.json"
        && let Some(jwks) = &state.jwks
        && (req.method() == Method::GET || req.method() == Method::HEAD)
    {
        let mut r = Response::new(Full::new(jwks.clone()));
        r.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/jwk-set+json"),
        );
        r.headers_mut().insert(
            http::header::CACHE_CONTROL,
            HeaderValue::from_static("max-age=60"),
        );
        return r;
    }
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
