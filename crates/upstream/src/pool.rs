//! An upstream: targets, a pooled client, balancing, health, retries.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, Request, Response};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use portcullis_config::{Balance, UpstreamKind, UpstreamSpec};

use crate::body::{InFlight, ResponseBody, Tracked};
use crate::echo::echo_response;
use crate::errors::{UpstreamError, UpstreamErrorKind};
use crate::target::Target;

type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A response from an upstream.
pub struct UpstreamResponse {
    /// The response; its body keeps the target's in-flight count until it ends.
    pub response: Response<ResponseBody>,
    /// The target that answered (`echo` for the echo service), for logs.
    pub target: Arc<str>,
    /// Time to the response head.
    pub elapsed: Duration,
}

/// Health of one target, for metrics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetHealth {
    /// The target URL.
    pub target: Arc<str>,
    /// Active health checks pass (or none configured).
    pub healthy: bool,
    /// Passively ejected right now.
    pub ejected: bool,
    /// Requests in flight.
    pub in_flight: usize,
}

/// One configured upstream for one config version.
pub struct Upstream {
    inner: Arc<Inner>,
    health_task: Option<tokio::task::JoinHandle<()>>,
}

struct Inner {
    id: String,
    targets: Vec<Target>,
    balance: Balance,
    retries: u32,
    request_timeout: Duration,
    max_in_flight: usize,
    in_flight: Arc<AtomicUsize>,
    next: AtomicUsize,
    client: Option<HttpsClient>,
    eject_after: u32,
    eject_for: Duration,
}

impl Drop for Upstream {
    fn drop(&mut self) {
        if let Some(t) = self.health_task.take() {
            t.abort();
        }
    }
}

fn idempotent(m: &Method) -> bool {
    matches!(
        *m,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::PUT | Method::DELETE
    )
}

impl Upstream {
    /// Builds the upstream: parses targets, sets up the pooled client and TLS, and starts
    /// active health checks (a tokio runtime must be running when they are configured).
    pub fn build(spec: &UpstreamSpec) -> Result<Arc<Self>, UpstreamError> {
        let targets = spec
            .targets
            .iter()
            .map(|t| {
                Target::parse(t).ok_or_else(|| {
                    UpstreamError::new(
                        UpstreamErrorKind::Config,
                        format!("target `{t}` is not an absolute URL"),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let client = match spec.kind {
            UpstreamKind::Echo => None,
            UpstreamKind::Http => {
                let tls = crate::tls::client_config(&spec.tls)?;
                let mut http = HttpConnector::new();
                http.enforce_http(false);
                http.set_nodelay(true);
                http.set_connect_timeout(Some(spec.timeouts.connect.get()));
                let builder = hyper_rustls::HttpsConnectorBuilder::new()
                    .with_tls_config(tls)
                    .https_or_http();
                let builder = match &spec.tls.server_name {
                    Some(name) => {
                        let name =
                            rustls::pki_types::ServerName::try_from(name.clone()).map_err(|e| {
                                UpstreamError::new(
                                    UpstreamErrorKind::Config,
                                    format!("tls.server_name `{name}`: {e}"),
                                )
                            })?;
                        builder.with_server_name_resolver(
                            hyper_rustls::FixedServerNameResolver::new(name),
                        )
                    }
                    None => builder,
                };
                let connector = if spec.http2 {
                    builder.enable_all_versions().wrap_connector(http)
                } else {
                    builder.enable_http1().wrap_connector(http)
                };
                let mut b = Client::builder(TokioExecutor::new());
                b.pool_idle_timeout(spec.timeouts.idle.get())
                    .pool_max_idle_per_host(spec.pool_max_idle)
                    .pool_timer(TokioTimer::new())
                    .timer(TokioTimer::new());
                // HTTP/2 to plain-http targets is prior knowledge; https negotiates by ALPN.
                let all_plain = targets.iter().all(|t| t.scheme == http::uri::Scheme::HTTP);
                if spec.http2 && all_plain {
                    b.http2_only(true);
                }
                Some(b.build(connector))
            }
        };
        let inner = Arc::new(Inner {
            id: spec.id.clone(),
            targets,
            balance: spec.balance,
            retries: spec.retries,
            request_timeout: spec.timeouts.request.get(),
            max_in_flight: spec.max_in_flight,
            in_flight: Arc::new(AtomicUsize::new(0)),
            next: AtomicUsize::new(0),
            client,
            eject_after: spec.passive_health.consecutive_failures,
            eject_for: spec.passive_health.eject_for.get(),
        });
        let health_task = match (&spec.health_check, spec.kind) {
            (Some(hc), UpstreamKind::Http) if tokio::runtime::Handle::try_current().is_ok() => {
                let weak = Arc::downgrade(&inner);
                let hc = hc.clone();
                Some(tokio::spawn(health_loop(weak, hc)))
            }
            _ => None,
        };
        Ok(Arc::new(Self { inner, health_task }))
    }

    /// The upstream id.
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// Health of every target.
    pub fn health(&self) -> Vec<TargetHealth> {
        let now = Instant::now();
        self.inner
            .targets
            .iter()
            .map(|t| TargetHealth {
                target: t.url.clone(),
                healthy: t.healthy.load(Ordering::Relaxed),
                ejected: t.is_ejected(now),
                in_flight: t.in_flight.load(Ordering::Relaxed),
            })
            .collect()
    }

    /// Sends a request (origin-form URI, headers prepared by the gateway) and returns the
    /// response head with a streaming body.
    pub async fn send(&self, req: Request<Bytes>) -> Result<UpstreamResponse, UpstreamError> {
        let inner = &self.inner;
        let started = Instant::now();
        // Admission is one atomic step, so concurrent requests never overshoot the cap; the
        // slot is released when the response body ends (or on any early return).
        let admitted = inner.in_flight.fetch_add(1, Ordering::SeqCst);
        let mut admission = InFlight(vec![inner.in_flight.clone()]);
        if inner.max_in_flight > 0 && admitted >= inner.max_in_flight {
            return Err(UpstreamError::new(
                UpstreamErrorKind::Overloaded,
                "max_in_flight reached",
            ));
        }
        let Some(client) = &inner.client else {
            let resp = echo_response(&req);
            let (parts, body) = resp.into_parts();
            let body = Full::new(body).map_err(|never| match never {}).boxed();
            return Ok(UpstreamResponse {
                response: Response::from_parts(parts, body),
                target: "echo".into(),
                elapsed: started.elapsed(),
            });
        };
        let (parts, body) = req.into_parts();
        let path_and_query = parts
            .uri
            .path_and_query()
            .map_or("/", |pq| pq.as_str())
            .to_string();
        let attempts = if idempotent(&parts.method) {
            inner.retries.saturating_add(1)
        } else {
            1
        };
        let mut headers = Some(parts.headers);
        let mut tried: Vec<usize> = Vec::new();
        let mut last_err =
            UpstreamError::new(UpstreamErrorKind::NoHealthyTarget, "no healthy target");
        for attempt in 0..attempts {
            let Some(idx) = self.pick(&tried) else { break };
            tried.push(idx);
            let Some(target) = inner.targets.get(idx) else {
                break;
            };
            let Some(uri) = target.uri_for(&path_and_query) else {
                return Err(UpstreamError::new(
                    UpstreamErrorKind::Protocol,
                    "cannot build target URI",
                ));
            };
            let mut builder = Request::builder()
                .method(parts.method.clone())
                .uri(uri)
                .version(http::Version::HTTP_11);
            if let Some(h) = builder.headers_mut() {
                // Only a request that may be retried keeps a copy of its headers.
                *h = if attempt + 1 == attempts {
                    headers.take().unwrap_or_default()
                } else {
                    headers.clone().unwrap_or_default()
                };
                h.remove(http::header::HOST);
            }
            let Ok(outgoing) = builder.body(Full::new(body.clone())) else {
                return Err(UpstreamError::new(
                    UpstreamErrorKind::Protocol,
                    "cannot build request",
                ));
            };
            let mut guard = InFlight::enter(vec![target.in_flight.clone()]);
            match tokio::time::timeout(inner.request_timeout, client.request(outgoing)).await {
                Ok(Ok(resp)) => {
                    let failed = matches!(resp.status().as_u16(), 502..=504);
                    target.record(!failed, inner.eject_after, inner.eject_for);
                    let (parts, incoming) = resp.into_parts();
                    let mut counters = std::mem::take(&mut admission.0);
                    counters.append(&mut guard.0);
                    let body = Tracked {
                        inner: incoming,
                        guard: Some(InFlight(counters)),
                    }
                    .boxed();
                    return Ok(UpstreamResponse {
                        response: Response::from_parts(parts, body),
                        target: target.url.clone(),
                        elapsed: started.elapsed(),
                    });
                }
                Ok(Err(e)) => {
                    target.record(false, inner.eject_after, inner.eject_for);
                    let kind = if e.is_connect() {
                        UpstreamErrorKind::Connect
                    } else {
                        UpstreamErrorKind::Protocol
                    };
                    last_err = UpstreamError::new(kind, format!("{}: {e}", target.url));
                    // Only a failure to connect is known to have sent nothing.
                    if kind != UpstreamErrorKind::Connect {
                        return Err(last_err);
                    }
                }
                Err(_) => {
                    target.record(false, inner.eject_after, inner.eject_for);
                    // The request may have been processed: no retry after a timeout.
                    return Err(UpstreamError::new(
                        UpstreamErrorKind::Timeout,
                        format!(
                            "{}: no response within {:?}",
                            target.url, inner.request_timeout
                        ),
                    ));
                }
            }
        }
        Err(last_err)
    }

    /// Chooses an available target not yet tried.
    fn pick(&self, tried: &[usize]) -> Option<usize> {
        let inner = &self.inner;
        let now = Instant::now();
        let n = inner.targets.len();
        let candidates: Vec<usize> = (0..n)
            .filter(|i| !tried.contains(i))
            .filter(|&i| inner.targets.get(i).is_some_and(|t| t.available(now)))
            .collect();
        if candidates.is_empty() {
            return None;
        }
        match inner.balance {
            Balance::RoundRobin => {
                let start = inner.next.fetch_add(1, Ordering::Relaxed);
                candidates.get(start % candidates.len()).copied()
            }
            Balance::LeastConnections => {
                let start = inner.next.fetch_add(1, Ordering::Relaxed);
                let len = candidates.len();
                // Ties are broken round robin so equal targets share load.
                (0..len)
                    .filter_map(|k| candidates.get((start + k) % len).copied())
                    .min_by_key(|&i| {
                        inner
                            .targets
                            .get(i)
                            .map_or(usize::MAX, |t| t.in_flight.load(Ordering::Relaxed))
                    })
            }
        }
    }
}

async fn health_loop(inner: Weak<Inner>, hc: portcullis_config::HealthCheckSpec) {
    let mut ticker = tokio::time::interval(hc.interval.get());
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let Some(inner) = inner.upgrade() else { return };
        let Some(client) = inner.client.clone() else {
            return;
        };
        for target in &inner.targets {
            let Some(uri) = target.uri_for(&hc.path) else {
                continue;
            };
            let Ok(req) = Request::get(uri).body(Full::new(Bytes::new())) else {
                continue;
            };
            let ok = match tokio::time::timeout(hc.timeout.get(), client.request(req)).await {
                Ok(Ok(resp)) => resp.status().is_success(),
                _ => false,
            };
            target.record_check(ok, hc.unhealthy_threshold, hc.healthy_threshold);
        }
    }
}
