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
//!
//! Over TLS with client certificates ([`serve_tls`]), a certificate verified in the handshake
//! is a credential too: instead of the token, or in addition to it ([`ApiCredentials`]).

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
    api: Option<(Arc<ApiCredentials>, ApiHandler)>,
    jwks: Option<Bytes>,
}

/// What the admin API accepts as a credential.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ApiCredentials {
    /// SHA-256 of the bearer token, if a token is configured.
    pub token_sha256: Option<[u8; 32]>,
    /// A client certificate verified in the TLS handshake is a credential.
    pub client_certificate: bool,
    /// Both the token and a verified certificate are needed (when both are configured).
    pub require_both: bool,
}

impl ApiCredentials {
    /// Whether a request with these headers, on a connection with (`cert`) or without a
    /// verified client certificate, is admitted. Nothing configured admits nothing.
    fn admit(&self, headers: &http::HeaderMap, cert: bool) -> bool {
        let token = self.token_sha256.as_ref().map(|t| authorized(t, headers));
        let cert = self.client_certificate.then_some(cert);
        match (token, cert) {
            (Some(t), Some(c)) if self.require_both => t && c,
            (Some(t), Some(c)) => t || c,
            (Some(t), None) => t,
            (None, Some(c)) => c,
            (None, None) => false,
        }
    }
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
    pub fn with_api(self, token_sha256: [u8; 32], handler: ApiHandler) -> Self {
        self.with_api_credentials(
            ApiCredentials {
                token_sha256: Some(token_sha256),
                ..ApiCredentials::default()
            },
            handler,
        )
    }

    /// Serves the admin API with `handler` to callers presenting `credentials`.
    pub fn with_api_credentials(
        mut self,
        credentials: ApiCredentials,
        handler: ApiHandler,
    ) -> Self {
        self.api = Some((Arc::new(credentials), handler));
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
    serve_tls(listener, state, None, shutdown).await;
}

/// Serves the admin endpoints, over TLS when `tls` is given (a client certificate verified in
/// the handshake then counts as an API credential, see [`ApiCredentials`]).
pub async fn serve_tls(
    listener: TcpListener,
    state: AdminState,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
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
        let tls = tls.clone();
        tokio::spawn(async move {
            let Some(acceptor) = tls else {
                serve_connection(TokioIo::new(tcp), state, false).await;
                return;
            };
            match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => {
                    // rustls verified the chain in the handshake; present means verified.
                    let cert = stream.get_ref().1.peer_certificates().is_some();
                    serve_connection(TokioIo::new(stream), state, cert).await;
                }
                Ok(Err(e)) => {
                    tracing::warn!(target: "portcullis::audit", peer = %peer, error = %e, "admin TLS handshake refused");
                }
                Err(_) => tracing::debug!(peer = %peer, "admin TLS handshake timed out"),
            }
        });
    }
}

async fn serve_connection<IO>(io: TokioIo<IO>, state: AdminState, cert: bool)
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let svc = service_fn(move |req: Request<Incoming>| {
        let state = state.clone();
        async move {
            if req.uri().path().starts_with("/admin/") {
                return Ok::<_, Infallible>(api(&state, req, cert).await);
            }
            Ok::<_, Infallible>(route(&state, &req))
        }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(10))
        .serve_connection(io, svc);
    if let Err(e) = conn.await {
        tracing::debug!(error = %e, "admin connection error");
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

async fn api(state: &AdminState, req: Request<Incoming>, cert: bool) -> AdminResponse {
    use http_body_util::BodyExt;
    let Some((credentials, handler)) = &state.api else {
        return problem(StatusCode::NOT_FOUND, "not-found", "Not found");
    };
    if !credentials.admit(req.headers(), cert) {
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
