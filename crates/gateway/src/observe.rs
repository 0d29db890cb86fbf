//! The access log line and request metrics, written when the response body ends (or the
//! client goes away), so that bytes sent and total duration are true.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body::{Body as HttpBody, Frame, SizeHint};
use hyper::body::Incoming;
use portcullis_core::{Outcome, RequestCx};
use portcullis_telemetry::{AccessRecord, Metrics};

use crate::Shared;
use crate::body::{Body, BoxError};
use crate::handler::ConnInfo;
use crate::runtime::RuntimeConfig;

/// What the log line needs beyond the request context.
pub struct LogCtx {
    metrics: Metrics,
    access_log: bool,
    listener: Arc<str>,
    method: http::Method,
    host: Option<String>,
    path_and_query: String,
    http_version: &'static str,
    user_agent: Option<String>,
    /// Replaces the path in the log (framing violations: the head was not trusted).
    pub path_override: Option<String>,
    /// The route allows query values in logs.
    pub log_query_values: bool,
    /// Request body bytes read.
    pub bytes_in: u64,
    /// Time waiting for the upstream.
    pub upstream: Option<Duration>,
    /// The upstream id.
    pub upstream_id: Option<Arc<str>>,
    /// The target that answered.
    pub upstream_target: Option<Arc<str>>,
}

impl LogCtx {
    /// Captures the request facts the log needs before the request is consumed.
    pub fn new(
        shared: &Shared,
        conn: &ConnInfo,
        rt: &RuntimeConfig,
        req: &Request<Incoming>,
    ) -> Self {
        Self {
            metrics: shared.metrics.clone(),
            access_log: rt.spec.logging.access_log,
            listener: conn.listener.clone(),
            method: req.method().clone(),
            host: req.uri().host().map(str::to_string).or_else(|| {
                req.headers()
                    .get(http::header::HOST)?
                    .to_str()
                    .ok()
                    .map(str::to_string)
            }),
            path_and_query: req
                .uri()
                .path_and_query()
                .map_or_else(|| "/".to_string(), |pq| pq.as_str().to_string()),
            http_version: match req.version() {
                http::Version::HTTP_2 => "HTTP/2",
                http::Version::HTTP_10 => "HTTP/1.0",
                _ => "HTTP/1.1",
            },
            user_agent: req
                .headers()
                .get(http::header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            path_override: None,
            log_query_values: false,
            bytes_in: 0,
            upstream: None,
            upstream_id: None,
            upstream_target: None,
        }
    }
}

/// Wraps the response body so the log line is written exactly once, at its end.
pub fn logged(
    resp: Response<Body>,
    cx: RequestCx,
    log: LogCtx,
    rt: Arc<RuntimeConfig>,
    route: Option<usize>,
) -> Response<Body> {
    let status = resp.status().as_u16();
    let (parts, body) = resp.into_parts();
    let body = LoggedBody {
        inner: body,
        bytes_out: 0,
        pending: Some(Pending {
            cx,
            log,
            rt,
            route,
            status,
        }),
    };
    Response::from_parts(parts, http_body_util::BodyExt::boxed(body))
}

struct Pending {
    cx: RequestCx,
    log: LogCtx,
    rt: Arc<RuntimeConfig>,
    route: Option<usize>,
    status: u16,
}

struct LoggedBody {
    inner: Body,
    bytes_out: u64,
    pending: Option<Pending>,
}

impl LoggedBody {
    fn emit(&mut self) {
        let Some(p) = self.pending.take() else { return };
        let total = p.cx.started.elapsed();
        let route_id = p.cx.route.as_ref().map_or("-", |r| r.as_str());
        let verdict = match p.cx.decision {
            Some(d) => d.verdict,
            None if p.status >= 500 => "error",
            None if !p.cx.would_deny.is_empty() => "would_deny",
            None => "allow",
        };
        p.log
            .metrics
            .observe_request(route_id, p.status, verdict, total);
        if let (Some(u), Some(d)) = (&p.log.upstream_id, p.log.upstream) {
            p.log.metrics.observe_upstream(u, d);
        }
        if let Some(d) = p.cx.decision {
            p.log
                .metrics
                .observe_decision(d.guard.as_str(), d.verdict, d.reason);
        }
        for d in &p.cx.would_deny {
            p.log
                .metrics
                .observe_decision(d.guard.as_str(), d.verdict, d.reason);
        }
        if let Some(f) =
            p.cx.extensions
                .get::<portcullis_firewall::FirewallFindings>()
        {
            for m in &f.verdict.matches {
                p.log.metrics.observe_firewall_match(
                    route_id,
                    &m.rule_id,
                    m.category.as_str(),
                    f.action,
                );
            }
        }
        if let Some(events) = p.cx.extensions.get::<portcullis_core::Observations>() {
            for e in &events.0 {
                p.log
                    .metrics
                    .observe_event(route_id, e.family, &e.name, e.outcome);
            }
        }
        let outcome = Outcome {
            status: p.status,
            bytes_out: self.bytes_out,
            upstream: p.log.upstream,
            total,
        };
        if let Some(route) = p.route.and_then(|i| p.rt.routes.get(i)) {
            route.chain.on_log(&p.cx, &outcome);
        }
        if !p.log.access_log {
            return;
        }
        let path = p.log.path_override.clone().unwrap_or_else(|| {
            portcullis_telemetry::redact_query(&p.log.path_and_query, p.log.log_query_values)
                .into_owned()
        });
        let record = AccessRecord {
            request_id: p.cx.request_id.as_str().to_string(),
            client_ip: p.cx.client_ip.to_string(),
            peer: Some(p.cx.peer.to_string()),
            listener: p.log.listener.to_string(),
            method: p.log.method.as_str().to_string(),
            host: p.log.host.clone(),
            route: route_id.to_string(),
            path,
            status: p.status,
            bytes_in: p.log.bytes_in,
            bytes_out: self.bytes_out,
            duration_ms: total.as_secs_f64() * 1000.0,
            upstream_ms: p.log.upstream.map(|d| d.as_secs_f64() * 1000.0),
            upstream: p.log.upstream_target.as_ref().map(|t| t.to_string()),
            verdict: verdict.to_string(),
            guard: p.cx.decision.map(|d| d.guard.as_str().to_string()),
            reason: p.cx.decision.map(|d| d.reason.to_string()),
            tls_version: p.cx.tls.as_ref().map(|t| t.version.to_string()),
            http_version: p.log.http_version.to_string(),
            user_agent: p.log.user_agent.clone(),
        };
        record.emit();
    }
}

impl HttpBody for LoggedBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.bytes_out += data.len() as u64;
                }
            }
            Poll::Ready(None) => this.emit(),
            Poll::Ready(Some(Err(_))) => this.emit(),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for LoggedBody {
    fn drop(&mut self) {
        self.emit();
    }
}
