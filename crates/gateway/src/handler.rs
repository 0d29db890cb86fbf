//! One request's way through the gateway: framing verdict, request id, client address,
//! plain-HTTP policy, path safety, routing, the route's guard chain, body buffering,
//! forwarding, response guards, and the access log when the response body ends.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use portcullis_config::PlainHttpAction;
use portcullis_core::{
    Decision, Denial, GatewayResponse, GuardId, ProblemType, RequestCx, RequestId, TlsInfo,
};
use portcullis_framing::FramingHandle;
use portcullis_upstream::UpstreamErrorKind;

use crate::Shared;
use crate::body::{Body, full};
use crate::client_addr::set_forwarding_headers;
use crate::observe::{LogCtx, logged};
use crate::path::unsafe_path_reason;
use crate::problem::problem_response;
use crate::router::RouteMatch;
use crate::runtime::{Route, RuntimeConfig};

const GATEWAY: GuardId = GuardId("gateway");
const ROUTER: GuardId = GuardId("router");
const FRAMING: GuardId = GuardId("framing");
const UPSTREAM: GuardId = GuardId("upstream");

/// What the gateway knows about the connection a request arrived on.
pub struct ConnInfo {
    /// The TCP peer.
    pub peer: std::net::SocketAddr,
    /// The listener id.
    pub listener: Arc<str>,
    /// TLS details, for TLS listeners.
    pub tls: Option<TlsInfo>,
    /// The framing sentinel's handle (HTTP/1 connections).
    pub framing: Option<FramingHandle>,
    /// Plain-HTTP policy of the listener.
    pub plain_http: PlainHttpAction,
    /// Port for https redirects.
    pub redirect_port: u16,
}

/// The `Proxy` request header, never forwarded (httpoxy).
const PROXY: HeaderName = HeaderName::from_static("proxy");

/// Hop-by-hop headers (RFC 9110 §7.6.1), never forwarded in either direction.
const HOP_BY_HOP: [HeaderName; 7] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

fn strip_hop_by_hop(headers: &mut HeaderMap) {
    // Headers named by `Connection` are hop-by-hop too.
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| HeaderName::from_bytes(n.trim().to_ascii_lowercase().as_bytes()).ok())
        .collect();
    for n in named {
        headers.remove(n);
    }
    for n in &HOP_BY_HOP {
        headers.remove(n);
    }
}

/// The request's host: the URI authority (HTTP/2, absolute form) or `Host`, lowercase, no port.
fn request_host(req: &Request<Incoming>) -> Option<String> {
    let raw = req.uri().host().map(str::to_string).or_else(|| {
        req.headers()
            .get(header::HOST)?
            .to_str()
            .ok()
            .map(str::to_string)
    })?;
    let host = if let Some(rest) = raw.strip_prefix('[') {
        rest.split(']').next().unwrap_or("").to_string()
    } else {
        raw.rsplit_once(':')
            .map_or(raw.as_str(), |(h, _)| h)
            .to_string()
    };
    Some(host.to_ascii_lowercase())
}

/// Handles one request. Never fails: every error becomes a problem response.
pub async fn handle(
    shared: Arc<Shared>,
    conn: Arc<ConnInfo>,
    req: Request<Incoming>,
) -> Result<Response<Body>, std::convert::Infallible> {
    let started = Instant::now();
    let rt = shared.config.load_full();
    let trusted_peer = rt.trusted.contains(conn.peer.ip());
    let request_id = if trusted_peer {
        req.headers()
            .get(&rt.request_id_header)
            .and_then(|v| v.to_str().ok())
            .and_then(RequestId::from_trusted)
            .unwrap_or_else(RequestId::generate)
    } else {
        RequestId::generate()
    };
    let mut cx = RequestCx::new(request_id, conn.peer, started);
    cx.tls = conn.tls.clone();
    cx.client_ip = portcullis_core::ClientIp(rt.trusted.resolve(conn.peer.ip(), req.headers()));
    let mut log = LogCtx::new(&shared, &conn, &rt, &req);

    let (resp, route) = decide(&shared, &conn, &rt, &mut cx, &mut log, req).await;
    let mut resp = resp;
    if let Ok(v) = HeaderValue::from_str(cx.request_id.as_str()) {
        resp.headers_mut().insert(rt.request_id_header.clone(), v);
    }
    Ok(logged(resp, cx, log, rt.clone(), route))
}

/// Runs everything up to the response head; returns the response and the route index.
async fn decide(
    shared: &Arc<Shared>,
    conn: &ConnInfo,
    rt: &Arc<RuntimeConfig>,
    cx: &mut RequestCx,
    log: &mut LogCtx,
    req: Request<Incoming>,
) -> (Response<Body>, Option<usize>) {
    // 1. The sentinel's notice of a framing violation: answer and close.
    if let Some(v) = conn
        .framing
        .as_ref()
        .and_then(|f| f.violation(req.headers()))
    {
        let problem = if v.status == StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE {
            ProblemType::HeadersTooLarge
        } else {
            ProblemType::BadRequest
        };
        shared.metrics.framing_violation(v.code);
        let denial = Denial::new(problem, v.code, FRAMING)
            .with_status(v.status)
            .closing();
        log.path_override = Some(String::from("-"));
        return (deny_unrouted(rt, cx, denial).await, None);
    }

    // 2. Plain HTTP on a listener that only redirects or refuses.
    if conn.tls.is_none() {
        match conn.plain_http {
            PlainHttpAction::Serve => {}
            PlainHttpAction::Refuse => {
                let denial = Denial::new(ProblemType::HttpsRequired, "plain_http_refused", GATEWAY);
                return (deny_unrouted(rt, cx, denial).await, None);
            }
            PlainHttpAction::Redirect => return (redirect(rt, cx, conn, &req).await, None),
        }
    }

    // 3. Paths whose meaning could differ upstream.
    if let Some(reason) = unsafe_path_reason(req.uri().path()) {
        let denial = Denial::new(ProblemType::BadRequest, reason, ROUTER);
        return (deny_unrouted(rt, cx, denial).await, None);
    }

    // 4. Routing.
    let host = request_host(&req);
    let idx = match rt.router.route(
        host.as_deref(),
        req.uri().path(),
        req.method(),
        req.headers(),
    ) {
        RouteMatch::Found(i, params) => {
            cx.path_params = params;
            i
        }
        RouteMatch::NotFound => {
            let denial = Denial::new(ProblemType::NotFound, "no_route", ROUTER);
            return (deny_unrouted(rt, cx, denial).await, None);
        }
        RouteMatch::MethodNotAllowed(allow) => {
            let denial = Denial::new(ProblemType::MethodNotAllowed, "method_not_allowed", ROUTER)
                .with_header(header::ALLOW, allow);
            return (deny_unrouted(rt, cx, denial).await, None);
        }
    };
    let Some(route) = rt.routes.get(idx) else {
        let denial = Denial::new(ProblemType::InternalError, "route_index", ROUTER);
        return (deny_unrouted(rt, cx, denial).await, None);
    };
    cx.route = Some(route.id.clone());
    cx.requires_auth = route.requires_auth;
    log.log_query_values = route.log_query_values;

    // 5. Request phase.
    let (mut parts, body) = req.into_parts();
    for h in &rt.gateway_only_headers {
        parts.headers.remove(h);
    }
    if let Err(denial) = route.chain.on_request(cx, &mut parts).await {
        return (deny_routed(route, cx, denial).await, Some(idx));
    }

    // 6. Body: buffered up to the route's limit within the body timeout, so an invalid or
    //    oversized body is refused before anything is forwarded.
    let body = match read_body(
        body,
        route.max_body_bytes,
        rt.spec.limits.body_read_timeout.get(),
    )
    .await
    {
        Ok(b) => b,
        Err(denial) => return (deny_routed(route, cx, denial).await, Some(idx)),
    };
    log.bytes_in = body.len() as u64;
    if route.chain.wants_body()
        && let Err(denial) = route.chain.on_body(cx, &parts, &body).await
    {
        return (deny_routed(route, cx, denial).await, Some(idx));
    }

    // 7. Forward.
    let upstream_req = match prepare_upstream_request(rt, conn, cx, route, parts, body) {
        Ok(r) => r,
        Err(denial) => return (deny_routed(route, cx, denial).await, Some(idx)),
    };
    let sent = Instant::now();
    let result = route.upstream.send(upstream_req).await;
    log.upstream = Some(sent.elapsed());
    log.upstream_id = Some(route.upstream_id.clone());
    let upstream_resp = match result {
        Ok(r) => r,
        Err(e) => {
            let (problem, reason) = match e.kind() {
                UpstreamErrorKind::Timeout => (ProblemType::GatewayTimeout, "upstream_timeout"),
                UpstreamErrorKind::NoHealthyTarget => {
                    (ProblemType::ServiceUnavailable, "no_healthy_target")
                }
                UpstreamErrorKind::Overloaded => {
                    (ProblemType::ServiceUnavailable, "upstream_overloaded")
                }
                UpstreamErrorKind::Connect => (ProblemType::BadGateway, "upstream_connect"),
                _ => (ProblemType::BadGateway, "upstream_protocol"),
            };
            tracing::warn!(request_id = %cx.request_id, route = %route.id, upstream = %route.upstream_id, error = %e, "upstream request failed");
            let mut denial = Denial::new(problem, reason, UPSTREAM);
            if problem == ProblemType::ServiceUnavailable {
                denial = denial.with_header(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            return (deny_routed(route, cx, denial).await, Some(idx));
        }
    };
    log.upstream_target = Some(upstream_resp.target.clone());
    let (mut parts, body) = upstream_resp.response.into_parts();
    strip_hop_by_hop(&mut parts.headers);

    // 8. Response phases.
    if let Err(denial) = route.chain.on_response(cx, &mut parts).await {
        return (deny_routed(route, cx, denial).await, Some(idx));
    }
    let body = if route.chain.wants_response_body() {
        match body.collect().await {
            Ok(c) => {
                let mut bytes = c.to_bytes();
                if let Err(denial) = route.chain.on_response_body(cx, &parts, &mut bytes).await {
                    return (deny_routed(route, cx, denial).await, Some(idx));
                }
                parts.headers.remove(header::CONTENT_LENGTH);
                full(bytes)
            }
            Err(_) => {
                let denial = Denial::new(ProblemType::BadGateway, "upstream_body", UPSTREAM);
                return (deny_routed(route, cx, denial).await, Some(idx));
            }
        }
    } else {
        body
    };
    (Response::from_parts(parts, body), Some(idx))
}

/// Reads the whole body with a size cap and a deadline.
async fn read_body(body: Incoming, max: u64, timeout: Duration) -> Result<Bytes, Denial> {
    use http_body::Body as _;
    if body.is_end_stream() {
        return Ok(Bytes::new());
    }
    let limit = usize::try_from(max).unwrap_or(usize::MAX);
    match tokio::time::timeout(timeout, Limited::new(body, limit).collect()).await {
        Err(_) => {
            Err(Denial::new(ProblemType::RequestTimeout, "body_read_timeout", GATEWAY).closing())
        }
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            Err(Denial::new(ProblemType::PayloadTooLarge, "body_too_large", GATEWAY).closing())
        }
        Ok(Err(_)) => Err(Denial::new(ProblemType::BadRequest, "body_invalid", GATEWAY).closing()),
    }
}

/// Builds the upstream request: origin-form URI (prefix stripped), no hop-by-hop headers, the
/// gateway's own forwarding headers and request id.
fn prepare_upstream_request(
    rt: &RuntimeConfig,
    conn: &ConnInfo,
    cx: &RequestCx,
    route: &Route,
    mut parts: http::request::Parts,
    body: Bytes,
) -> Result<Request<Bytes>, Denial> {
    let original = parts.uri.path();
    let path = match route
        .strip_prefix
        .as_deref()
        .and_then(|p| original.strip_prefix(p))
    {
        Some("") => "/".to_string(),
        Some(rest) if rest.starts_with('/') => rest.to_string(),
        Some(rest) => format!("/{rest}"),
        None => original.to_string(),
    };
    let authority = parts.uri.authority().map(|a| a.as_str().to_string());
    let target = match parts.uri.query() {
        Some(q) => format!("{path}?{q}"),
        None => path,
    };
    parts.uri = target
        .parse::<Uri>()
        .map_err(|_| Denial::new(ProblemType::BadRequest, "bad_target", GATEWAY))?;
    // HTTP/2 clients send no Host; the authority becomes the forwarded Host.
    strip_hop_by_hop(&mut parts.headers);
    // `Proxy` is no standard request header; CGI-style upstreams turn it into `HTTP_PROXY`,
    // which their HTTP clients take as the proxy for outgoing calls (httpoxy, CVE-2016-5385).
    parts.headers.remove(PROXY);
    set_forwarding_headers(
        &mut parts.headers,
        conn.peer.ip(),
        rt.trusted.contains(conn.peer.ip()),
        conn.tls.is_some(),
        authority.as_deref(),
    );
    if let Ok(v) = HeaderValue::from_str(cx.request_id.as_str()) {
        parts.headers.insert(rt.request_id_header.clone(), v);
    }
    set_identity_headers(&mut parts.headers, cx.identity.as_ref());
    parts.version = http::Version::HTTP_11;
    Ok(Request::from_parts(parts, body))
}

/// Identity headers the gateway alone may set: client-supplied copies are always removed,
/// and the authenticated identity (if any) is written, so upstreams can trust them.
const IDENTITY_HEADERS: [&str; 4] = [
    "x-consumer-id",
    "x-consumer-scopes",
    "x-consumer-roles",
    "x-authenticated-by",
];

fn set_identity_headers(headers: &mut HeaderMap, identity: Option<&portcullis_core::Identity>) {
    for name in IDENTITY_HEADERS {
        headers.remove(name);
    }
    let Some(id) = identity else { return };
    let values = [
        id.consumer_id.clone(),
        id.scopes.join(" "),
        id.roles.join(" "),
        id.method.to_string(),
    ];
    for (name, value) in IDENTITY_HEADERS.iter().zip(values) {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(*name, v);
        }
    }
}

/// A 308 to the https URL of the same host and target.
async fn redirect(
    rt: &RuntimeConfig,
    cx: &mut RequestCx,
    conn: &ConnInfo,
    req: &Request<Incoming>,
) -> Response<Body> {
    let host = request_host(req).filter(|h| {
        !h.is_empty()
            && h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':'))
    });
    let Some(host) = host else {
        let denial = Denial::new(ProblemType::HttpsRequired, "redirect_without_host", GATEWAY);
        return deny_unrouted(rt, cx, denial).await;
    };
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host
    };
    let port = if conn.redirect_port == 443 {
        String::new()
    } else {
        format!(":{}", conn.redirect_port)
    };
    let target = req.uri().path_and_query().map_or("/", |pq| pq.as_str());
    let location = format!("https://{host}{port}{target}");
    let mut resp = Response::new(crate::body::empty());
    *resp.status_mut() = StatusCode::PERMANENT_REDIRECT;
    if let Ok(v) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp.extensions_mut().insert(GatewayResponse);
    cx.decision = Some(Decision {
        guard: GATEWAY,
        verdict: "deny",
        reason: "https_redirect",
    });
    finish(&rt.unrouted_chain, cx, resp).await
}

/// A problem response for a request that matched no route (security headers still apply).
async fn deny_unrouted(rt: &RuntimeConfig, cx: &mut RequestCx, denial: Denial) -> Response<Body> {
    record(cx, &denial);
    let resp = problem_response(&denial, &cx.request_id);
    finish(&rt.unrouted_chain, cx, resp).await
}

/// A problem response for a routed request; the route's response guards run on it.
async fn deny_routed(route: &Route, cx: &mut RequestCx, denial: Denial) -> Response<Body> {
    record(cx, &denial);
    let members = cx.extensions.remove::<portcullis_core::ProblemMembers>();
    let resp = crate::problem::problem_response_with(&denial, &cx.request_id, members.as_ref());
    finish(&route.chain, cx, resp).await
}

fn record(cx: &mut RequestCx, denial: &Denial) {
    if cx.decision.is_none() || cx.decision.is_some_and(|d| d.verdict != "deny") {
        cx.decision = Some(Decision {
            guard: denial.guard,
            verdict: "deny",
            reason: denial.reason,
        });
    }
}

/// Runs the response phase over a gateway-made response. A guard that denies here can only
/// swap in another problem; its headers are not re-processed (no loops).
async fn finish(
    chain: &portcullis_core::Chain,
    cx: &mut RequestCx,
    resp: Response<Body>,
) -> Response<Body> {
    let (mut parts, body) = resp.into_parts();
    match chain.on_response(cx, &mut parts).await {
        Ok(()) => Response::from_parts(parts, body),
        Err(denial) => problem_response(&denial, &cx.request_id),
    }
}
