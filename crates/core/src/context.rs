//! The per-request context every guard reads and writes.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use crate::{ClientIp, GuardId, RequestId, RouteId};

/// Everything the gateway knows about one request beyond its HTTP head: who sent it, over
/// what, which route it matched, who the caller proved to be, and what was decided.
///
/// Created by the gateway after the head is parsed and before routing; guards get `&mut` in
/// their phases. Lives until the access log line is written.
#[derive(Debug)]
pub struct RequestCx {
    /// The request id (generated, or accepted from a trusted proxy).
    pub request_id: RequestId,
    /// The client address after trusted-proxy resolution.
    pub client_ip: ClientIp,
    /// The TCP peer (the proxy, when one is trusted).
    pub peer: SocketAddr,
    /// TLS details, when the connection was TLS.
    pub tls: Option<TlsInfo>,
    /// The matched route, once routing is done.
    pub route: Option<RouteId>,
    /// Path parameters of a templated route (`/users/{id}` → `id`).
    pub path_params: Vec<(String, String)>,
    /// The authenticated caller, once an authentication guard succeeded.
    pub identity: Option<Identity>,
    /// The route requires authentication (responses get `Cache-Control: no-store`).
    pub requires_auth: bool,
    /// The guard that ended the request (deny) or slowed it (delay), for the logs.
    pub decision: Option<Decision>,
    /// Denials a guard in detect-only mode would have made.
    pub would_deny: Vec<Decision>,
    /// When the gateway started handling the request.
    pub started: Instant,
    /// Per-request values guards hand to later phases or to each other.
    pub extensions: http::Extensions,
}

impl RequestCx {
    /// A context for a request from `peer`, before proxy-header resolution.
    pub fn new(request_id: RequestId, peer: SocketAddr, started: Instant) -> Self {
        Self {
            request_id,
            client_ip: ClientIp(peer.ip()),
            peer,
            tls: None,
            route: None,
            path_params: Vec::new(),
            identity: None,
            requires_auth: false,
            decision: None,
            would_deny: Vec::new(),
            started,
            extensions: http::Extensions::new(),
        }
    }

    /// The value of a path parameter of the matched route.
    pub fn path_param(&self, name: &str) -> Option<&str> {
        self.path_params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A recorded decision of one guard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    /// The guard that decided.
    pub guard: GuardId,
    /// `deny`, `would_deny` or `delay`.
    pub verdict: &'static str,
    /// Machine-readable reason.
    pub reason: &'static str,
}

/// The caller, as proved by an authentication guard.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    /// Stable consumer id (API-key owner, JWT `sub`, certificate subject ...).
    pub consumer_id: String,
    /// The method that proved it (`api_key`, `jwt`, `mtls` ...).
    pub method: &'static str,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// Granted roles.
    pub roles: Vec<String>,
    /// The credential used (API-key id, JWT `jti`...), for per-credential limits. Safe to log.
    pub credential_id: Option<String>,
    /// The consumer's plan (for plan-specific limits and quotas).
    pub plan: Option<String>,
    /// All claims of a token (JWT, introspection), for policies and owner rules.
    pub claims: Option<Arc<serde_json::Value>>,
}

/// What the TLS handshake established.
#[derive(Clone, Debug, Default)]
pub struct TlsInfo {
    /// `TLSv1_2` or `TLSv1_3`.
    pub version: &'static str,
    /// The server name the client asked for.
    pub sni: Option<Arc<str>>,
    /// The negotiated application protocol.
    pub alpn: Option<Vec<u8>>,
    /// The client certificate chain (DER), end-entity first, if one was presented and verified.
    pub client_certs: Option<Arc<Vec<Vec<u8>>>>,
}

/// The client's country (ISO 3166-1 alpha-2, upper case), when a GeoIP database knows it.
/// Set in the request context's extensions by the tier guard; read by policies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Country(pub [u8; 2]);

impl Country {
    /// From a two-letter code (case-insensitive); `None` otherwise.
    pub fn parse(code: &str) -> Option<Self> {
        match code.as_bytes() {
            [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
                Some(Self([a.to_ascii_uppercase(), b.to_ascii_uppercase()]))
            }
            _ => None,
        }
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("")
    }
}

/// Outcomes guards report for metrics beyond their own decision: one entry per limit checked
/// (`allowed`, `limited`, `throttled`, `exhausted`) or policy that decided (`allow`,
/// `deny`). Names come from the config (limit names, policy ids), so labels stay bounded.
#[derive(Clone, Debug, Default)]
pub struct Observations(pub Vec<Observation>);

/// One observation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observation {
    /// `rate_limit`, `quota`, `concurrency`, `policy`.
    pub family: &'static str,
    /// The limit's or policy's name.
    pub name: Arc<str>,
    /// What happened.
    pub outcome: &'static str,
}

impl Observations {
    /// Records an observation in a request's extensions (a field borrow, so callers may hold
    /// other parts of the context meanwhile).
    pub fn record(
        extensions: &mut http::Extensions,
        family: &'static str,
        name: Arc<str>,
        outcome: &'static str,
    ) {
        let entry = Observation {
            family,
            name,
            outcome,
        };
        match extensions.get_mut::<Observations>() {
            Some(o) => o.0.push(entry),
            None => {
                extensions.insert(Observations(vec![entry]));
            }
        }
    }
}

impl RequestCx {
    /// Records an observation for the metrics.
    pub fn observe(&mut self, family: &'static str, name: Arc<str>, outcome: &'static str) {
        Observations::record(&mut self.extensions, family, name, outcome);
    }
}
