//! Semantic checks and security lints over a parsed config. `portcullis check`, start-up and
//! hot reload all run exactly this: errors refuse the config (all of them are reported at
//! once), warnings are lints.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use http::{HeaderName, HeaderValue, Method};

use crate::diagnostic::{Diagnostic, Severity, snippet};
use crate::locate::SourceMap;
use crate::spec::{ConfigSpec, PlainHttpAction, UpstreamKind};

/// The common methods (RFC 9110 without TRACE and CONNECT, plus PATCH). Routes may list
/// other methods as long as they are valid HTTP tokens.
pub const ROUTABLE_METHODS: [&str; 7] =
    ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// Methods that are never forwarded and may not be listed: TRACE and TRACK reflect the
/// request (cross-site tracing), CONNECT opens tunnels.
pub const FORBIDDEN_METHODS: [&str; 3] = ["TRACE", "TRACK", "CONNECT"];

/// The largest body limit accepted (1 GiB): buffering more is a configuration mistake.
pub const MAX_BODY_LIMIT: u64 = 1 << 30;

/// The largest request head limit accepted (1 MiB).
pub const MAX_HEADER_LIMIT: usize = 1 << 20;

/// Hosts, path shape and header conditions: two routes with the same key must not share a
/// method.
type RouteMatchKey = (Vec<String>, String, Vec<(String, String)>);

mod access;

struct Sink<'a> {
    source: &'a str,
    map: SourceMap,
    file: &'a Path,
    out: Vec<Diagnostic>,
}

impl Sink<'_> {
    fn push(
        &mut self,
        severity: Severity,
        path: String,
        (line, column): (u64, u64),
        message: String,
    ) {
        self.out.push(Diagnostic {
            severity,
            file: self.file.to_path_buf(),
            line,
            column,
            snippet: snippet(self.source, line, column),
            path,
            message,
        });
    }
    /// An error about the value at `path`.
    fn error(&mut self, path: String, message: impl Into<String>) {
        let at = self.map.value(&path);
        self.push(Severity::Error, path, at, message.into());
    }
    /// An error about the key at `path` itself (e.g. a header name).
    fn error_at_key(&mut self, path: String, message: impl Into<String>) {
        let at = self.map.key(&path);
        self.push(Severity::Error, path, at, message.into());
    }
    fn warn(&mut self, path: String, message: impl Into<String>) {
        let at = self.map.value(&path);
        self.push(Severity::Warning, path, at, message.into());
    }
}

fn valid_header_name(name: &str) -> bool {
    HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes()).is_ok()
}

/// Whether binding both addresses would collide: same port and the same IP, or one of them
/// a wildcard that covers the other (`0.0.0.0` covers IPv4; `[::]` is dual-stack by default
/// on Linux and covers both families).
fn addresses_conflict(a: SocketAddr, b: SocketAddr) -> bool {
    if a.port() != b.port() || a.port() == 0 {
        return false;
    }
    let covers = |w: IpAddr, other: IpAddr| match w {
        IpAddr::V4(v4) => v4.is_unspecified() && other.is_ipv4(),
        IpAddr::V6(v6) => v6.is_unspecified(),
    };
    a.ip() == b.ip() || covers(a.ip(), b.ip()) || covers(b.ip(), a.ip())
}

fn is_dot_segment(seg: &str) -> bool {
    let lower = seg.to_ascii_lowercase().replace("%2e", ".");
    lower == "." || lower == ".."
}

/// Checks a route path: absolute, no dot segments, no empty segments, no query or fragment,
/// well-formed `{name}` / `{*rest}` segments with unique names, catch-all last.
fn path_problem(path: &str) -> Option<String> {
    let Some(rest) = path.strip_prefix('/') else {
        return Some("must start with `/`".into());
    };
    if let Some(c) = path
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || matches!(c, '?' | '#' | '\\'))
    {
        return Some(format!(
            "must not contain {c:?} (no query, fragment, backslash or whitespace)"
        ));
    }
    let segments: Vec<&str> = rest.split('/').collect();
    let last = segments.len().saturating_sub(1);
    let mut names = HashSet::new();
    for (i, seg) in segments.iter().enumerate() {
        if is_dot_segment(seg) {
            return Some("must not contain `.` or `..` segments".into());
        }
        if seg.is_empty() && i != last {
            return Some("must not contain empty segments (`//`)".into());
        }
        if seg.contains('{') || seg.contains('}') {
            let inner = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}'));
            let Some(inner) = inner else {
                return Some(format!(
                    "segment `{seg}`: a parameter must be a whole segment, like `{{id}}`"
                ));
            };
            let catch_all = inner.starts_with('*');
            let name = inner.strip_prefix('*').unwrap_or(inner);
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Some(format!(
                    "segment `{seg}`: parameter names use letters, digits and `_`"
                ));
            }
            if !names.insert(name) {
                return Some(format!("parameter `{name}` appears twice"));
            }
            if catch_all && i != last {
                return Some(format!(
                    "segment `{seg}`: a catch-all must be the last segment"
                ));
            }
        }
    }
    None
}

/// The path with parameter names erased, so `/u/{id}` and `/u/{uid}` compare equal.
fn path_shape(path: &str) -> String {
    path.split('/')
        .map(|seg| {
            if seg.starts_with("{*") && seg.ends_with('}') {
                "{*}"
            } else if seg.starts_with('{') && seg.ends_with('}') {
                "{}"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn target_problem(target: &str) -> Option<String> {
    if target.contains('#') {
        return Some(format!("`{target}`: a target URL cannot have a fragment"));
    }
    let uri: http::Uri = match target.parse() {
        Ok(u) => u,
        Err(_) => return Some(format!("`{target}` is not an absolute URL")),
    };
    match uri.scheme_str() {
        Some("http" | "https") => {}
        _ => return Some(format!("`{target}` must start with http:// or https://")),
    }
    let Some(authority) = uri.authority() else {
        return Some(format!("`{target}` has no host"));
    };
    if authority.as_str().contains('@') {
        return Some(format!(
            "`{target}`: credentials in URLs are not allowed (use upstream tls client certificates)"
        ));
    }
    if authority.host().is_empty() {
        return Some(format!("`{target}` has no host"));
    }
    if uri.query().is_some() {
        return Some(format!("`{target}`: a target URL cannot have a query"));
    }
    None
}

fn host_problem(host: &str) -> Option<String> {
    if host.is_empty() {
        return Some("a host name cannot be empty".into());
    }
    match host.parse::<http::uri::Authority>() {
        Ok(a) if !a.as_str().contains('@') && !a.host().is_empty() => None,
        _ => Some(format!(
            "`{host}` is not a host name (write `api.example.com`, optionally with `:port`)"
        )),
    }
}

fn validate_identity_token(s: &mut Sink<'_>, at: &str, t: &crate::spec::UpstreamIdentityTokenSpec) {
    if !["ES256", "EdDSA"].contains(&t.algorithm.as_str()) {
        s.error(format!("{at}.algorithm"), "ES256 or EdDSA");
    }
    let ttl = t.ttl.get();
    if ttl < std::time::Duration::from_secs(1)
        || ttl > std::time::Duration::from_secs(crate::spec::MAX_IDENTITY_TTL_SECS)
    {
        s.error(
            format!("{at}.ttl"),
            "between 1s and 60s: the token proves a single request",
        );
    }
    if t.audience.trim().is_empty() {
        s.error(format!("{at}.audience"), "must not be empty");
    }
    if t.issuer.trim().is_empty() {
        s.error(format!("{at}.issuer"), "must not be empty");
    }
    if !valid_header_name(&t.header) {
        s.error(
            format!("{at}.header"),
            format!("`{}` is not a header name", t.header),
        );
    }
}

fn validate_hmac(s: &mut Sink<'_>, i: usize, h: &crate::spec::HmacAuthSpec) {
    let skew = h.max_skew.get();
    if skew > std::time::Duration::from_secs(crate::spec::DEFAULT_HMAC_MAX_SKEW_SECS)
        || skew < std::time::Duration::from_secs(1)
    {
        s.error(
            format!("routes[{i}].auth.hmac.max_skew"),
            "between 1s and 300s",
        );
    }
    for name in &h.required_headers {
        if !valid_header_name(name) || name.bytes().any(|b| b.is_ascii_uppercase()) {
            s.error(
                format!("routes[{i}].auth.hmac.required_headers"),
                format!("`{name}` is not a lower-case header name"),
            );
        } else if name == "authorization" {
            s.error(
                format!("routes[{i}].auth.hmac.required_headers"),
                "`authorization` carries the signature and cannot be signed",
            );
        }
    }
}

/// Algorithms a JWT issuer may use (never `none`, never HMAC here).
const JWT_ALGORITHMS: [&str; 9] = [
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
];

/// Built-in accounts: a realm that fits in a quoted header parameter, a
/// bounded verified-password cache.
fn validate_basic(s: &mut Sink<'_>, i: usize, b: &crate::spec::BasicAuthSpec) {
    if b.realm.is_empty()
        || b.realm.len() > 128
        || b.realm
            .chars()
            .any(|c| c == '"' || c == '\\' || c.is_control())
    {
        s.error(
            format!("routes[{i}].auth.basic.realm"),
            "1 to 128 characters, without quotes, backslashes or control characters",
        );
    }
    if b.verified_cache.get() > std::time::Duration::from_secs(15 * 60) {
        s.error(
            format!("routes[{i}].auth.basic.verified_cache"),
            "at most 15m",
        );
    }
}

fn validate_jwt(s: &mut Sink<'_>, i: usize, j: &crate::spec::JwtAuthSpec) {
    if j.algorithms.is_empty() {
        s.error(
            format!("routes[{i}].auth.jwt.algorithms"),
            "list at least one algorithm",
        );
    }
    let hmac = j.hmac_secret_file.is_some();
    for a in &j.algorithms {
        if hmac {
            if !["HS256", "HS384", "HS512"].contains(&a.as_str()) {
                s.error(
                    format!("routes[{i}].auth.jwt.algorithms"),
                    format!("`{a}`: with hmac_secret_file only HS256, HS384 and HS512 (set `algorithms: [HS256]`)"),
                );
            }
            continue;
        }
        if !JWT_ALGORITHMS.contains(&a.as_str()) {
            s.error(
                format!("routes[{i}].auth.jwt.algorithms"),
                format!(
                    "`{a}` is not accepted (one of {})",
                    JWT_ALGORITHMS.join(", ")
                ),
            );
        }
    }
    if j.audiences.is_empty() {
        s.error(
            format!("routes[{i}].auth.jwt.audiences"),
            "name at least one audience",
        );
    }
    if j.issuer.trim().is_empty() {
        s.error(format!("routes[{i}].auth.jwt.issuer"), "must not be empty");
    }
    if j.leeway.get() > std::time::Duration::from_secs(60) {
        s.error(format!("routes[{i}].auth.jwt.leeway"), "at most 60s");
    }
    let sources = [
        ("keys_file", j.keys_file.is_some()),
        ("hmac_secret_file", j.hmac_secret_file.is_some()),
        ("jwks_url", j.jwks_url.is_some()),
        ("discovery_url", j.discovery_url.is_some()),
    ];
    let named: Vec<&str> = sources
        .iter()
        .filter(|(_, on)| *on)
        .map(|(n, _)| *n)
        .collect();
    if named.len() != 1 {
        let field = match named.get(1) {
            Some(second) => format!("routes[{i}].auth.jwt.{second}"),
            None => format!("routes[{i}].auth.jwt"),
        };
        s.error(
            field,
            "name exactly one key source: keys_file (public keys), hmac_secret_file (shared \
             secret), jwks_url or discovery_url",
        );
    }
    for (key, f) in [
        ("keys_file", &j.keys_file),
        ("hmac_secret_file", &j.hmac_secret_file),
    ] {
        let Some(f) = f else { continue };
        if !f.is_file() {
            s.error(
                format!("routes[{i}].auth.jwt.{key}"),
                format!("file `{}` does not exist", f.display()),
            );
        } else if key == "hmac_secret_file"
            && std::fs::read(f).map_or(0, |b| b.trim_ascii_end().len()) < 32
        {
            s.error(
                format!("routes[{i}].auth.jwt.hmac_secret_file"),
                "the secret must be at least 32 bytes (256 bits)",
            );
        }
    }
    for (key, url) in [
        ("jwks_url", &j.jwks_url),
        ("discovery_url", &j.discovery_url),
    ] {
        if let Some(url) = url
            && let Some(problem) = remote_url_problem(url)
        {
            s.error(format!("routes[{i}].auth.jwt.{key}"), problem);
        }
    }
    if let Some(f) = &j.ca_file {
        if j.jwks_url.is_none() && j.discovery_url.is_none() {
            s.error(
                format!("routes[{i}].auth.jwt.ca_file"),
                "only used with jwks_url or discovery_url",
            );
        } else if !f.is_file() {
            s.error(
                format!("routes[{i}].auth.jwt.ca_file"),
                format!("file `{}` does not exist", f.display()),
            );
        }
    }
    if j.jwks_min_refresh_interval.get() < std::time::Duration::from_secs(1) {
        s.error(
            format!("routes[{i}].auth.jwt.jwks_min_refresh_interval"),
            "at least 1s",
        );
    }
    if j.jwks_refresh.get() < j.jwks_min_refresh_interval.get() {
        s.error(
            format!("routes[{i}].auth.jwt.jwks_refresh"),
            "at least jwks_min_refresh_interval",
        );
    }
}

/// Why `url` cannot name an identity provider endpoint: not `https://`, or plain `http://`
/// to something other than a loopback address (a token or key fetched in clear text over a
/// network could be read or replaced on the way).
pub fn remote_url_problem(url: &str) -> Option<String> {
    let Ok(uri) = url.parse::<http::Uri>() else {
        return Some(format!("`{url}` is not a URL"));
    };
    let host = uri.host().unwrap_or_default();
    if host.is_empty() {
        return Some(format!("`{url}` names no host"));
    }
    if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
        return Some("credentials in the URL are not accepted".into());
    }
    match uri.scheme_str() {
        Some("https") => None,
        Some("http") => {
            let h = host.trim_start_matches('[').trim_end_matches(']');
            let loopback = h == "localhost"
                || h.parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback());
            (!loopback)
                .then(|| format!("`{url}`: plain http only to a loopback address; use https"))
        }
        _ => Some(format!("`{url}`: use https://")),
    }
}

fn validate_introspection(s: &mut Sink<'_>, i: usize, t: &crate::spec::IntrospectionAuthSpec) {
    let at = |f: &str| format!("routes[{i}].auth.introspection.{f}");
    if let Some(problem) = remote_url_problem(&t.url) {
        s.error(at("url"), problem);
    }
    if t.client_id.is_empty() || t.client_id.contains(':') {
        s.error(at("client_id"), "must not be empty nor contain `:`");
    }
    if !t.client_secret_file.is_file() {
        s.error(
            at("client_secret_file"),
            format!("file `{}` does not exist", t.client_secret_file.display()),
        );
    }
    if let Some(f) = &t.ca_file
        && !f.is_file()
    {
        s.error(
            at("ca_file"),
            format!("file `{}` does not exist", f.display()),
        );
    }
    if !["503", "401"].contains(&t.on_unavailable.as_str()) {
        s.error(at("on_unavailable"), "must be `503` or `401`");
    }
    if !["sub", "username", "client_id"].contains(&t.consumer_claim.as_str()) {
        s.error(at("consumer_claim"), "must be sub, username or client_id");
    }
    if t.cache_entries == 0 {
        s.error(at("cache_entries"), "at least 1");
    }
    if t.timeout.get().is_zero() || t.timeout.get() > std::time::Duration::from_secs(30) {
        s.error(at("timeout"), "between 1ms and 30s");
    }
}

/// `any_of` / `all_of`: required with two or more methods, naming each configured method once.
fn validate_combination(s: &mut Sink<'_>, i: usize, auth: &crate::spec::AuthSpec) {
    let configured = auth.configured_methods();
    let (key, list) = match (auth.any_of.is_empty(), auth.all_of.is_empty()) {
        (false, false) => {
            s.error(
                format!("routes[{i}].auth.all_of"),
                "name either any_of or all_of, not both",
            );
            return;
        }
        (false, true) => ("any_of", &auth.any_of),
        (true, false) => ("all_of", &auth.all_of),
        (true, true) => {
            if configured.len() > 1 {
                s.error(
                    format!("routes[{i}].auth"),
                    format!(
                        "{} methods are configured: say how they combine with `any_of: [{}]` (the client uses one) or `all_of: [{}]` (the client passes every one)",
                        configured.len(),
                        configured.join(", "),
                        configured.join(", ")
                    ),
                );
            }
            return;
        }
    };
    for (j, name) in list.iter().enumerate() {
        if !configured.contains(&name.as_str()) {
            s.error(
                format!("routes[{i}].auth.{key}[{j}]"),
                format!(
                    "`{name}` has no block under this route's auth (configured: {})",
                    configured.join(", ")
                ),
            );
        } else if list.iter().take(j).any(|n| n == name) {
            s.error(
                format!("routes[{i}].auth.{key}[{j}]"),
                format!("`{name}` is listed twice"),
            );
        }
    }
    for m in &configured {
        if !list.iter().any(|n| n == m) {
            s.error(
                format!("routes[{i}].auth.{key}"),
                format!("the `{m}` block is configured but not listed here"),
            );
        }
    }
}

/// Every error and warning for `spec`; `source` (the YAML text `spec` was parsed from) is
/// used to locate them, `file` names them. Pass an empty `source` for a spec built in code:
/// the diagnostics then carry no line and column.
pub fn validate(spec: &ConfigSpec, source: &str, file: &Path) -> Vec<Diagnostic> {
    let mut s = Sink {
        source,
        map: SourceMap::build(source),
        file,
        out: Vec::new(),
    };
    listeners(spec, &mut s);
    let upstream_ids = upstreams(spec, &mut s);
    routes(spec, &upstream_ids, &mut s);
    limits_and_logging(spec, &mut s);
    if let Some(p) = &spec.policies {
        access::policies(&mut s, p);
    }
    access::tiers(&mut s, spec);
    access::admin(&mut s, spec);
    if let Some(t) = &spec.upstream_identity_token {
        validate_identity_token(&mut s, "upstream_identity_token", t);
    }
    auth_lockout(spec, &mut s);
    s.out
}

/// The lockout thresholds must be usable: a zero threshold would lock on nothing, and the
/// doubling needs `base_lockout <= max_lockout`.
fn auth_lockout(spec: &ConfigSpec, s: &mut Sink<'_>) {
    lockout_spec(s, "auth_lockout", &spec.auth_lockout);
    for (i, r) in spec.routes.iter().enumerate() {
        if let Some(l) = r
            .auth
            .as_ref()
            .and_then(|a| a.basic.as_ref())
            .and_then(|b| b.lockout.as_ref())
        {
            lockout_spec(s, &format!("routes[{i}].auth.basic.lockout"), l);
        }
    }
}

fn lockout_spec(s: &mut Sink<'_>, at: &str, l: &crate::spec::LockoutSpec) {
    if l.max_failures == 0 {
        s.error(format!("{at}.max_failures"), "at least 1");
    }
    if l.max_failures_per_ip == 0 {
        s.error(format!("{at}.max_failures_per_ip"), "at least 1");
    }
    for (key, d) in [
        ("window", l.window),
        ("base_lockout", l.base_lockout),
        ("max_lockout", l.max_lockout),
    ] {
        if d.get() < std::time::Duration::from_secs(1) {
            s.error(format!("{at}.{key}"), "at least 1s");
        }
    }
    if l.base_lockout.get() > l.max_lockout.get() {
        s.error(
            format!("{at}.base_lockout"),
            "must not exceed `max_lockout`",
        );
    }
}

fn listeners(spec: &ConfigSpec, s: &mut Sink<'_>) {
    if spec.listeners.is_empty() {
        s.error("listeners".into(), "at least one listener is required");
    }
    let mut ids = HashSet::new();
    let mut bound: Vec<(usize, SocketAddr)> = Vec::new();
    for (i, l) in spec.listeners.iter().enumerate() {
        if l.id.trim().is_empty() {
            s.error(format!("listeners[{i}].id"), "must not be empty");
        } else if !ids.insert(l.id.as_str()) {
            s.error(
                format!("listeners[{i}].id"),
                format!("duplicate listener id `{}`", l.id),
            );
        }
        if let Some((j, other)) = bound
            .iter()
            .find(|(_, other)| addresses_conflict(*other, l.address))
        {
            s.error(
                format!("listeners[{i}].address"),
                format!(
                    "{} collides with listeners[{j}] ({other}): each listener needs its own address and port",
                    l.address
                ),
            );
        }
        bound.push((i, l.address));
        if spec.admin.enabled && addresses_conflict(l.address, spec.admin.address) {
            s.error(
                format!("listeners[{i}].address"),
                format!(
                    "{} collides with the admin listener ({}); give `admin.address` another port",
                    l.address, spec.admin.address
                ),
            );
        }
        match &l.tls {
            Some(tls) => {
                for (j, c) in tls.certificates.iter().enumerate() {
                    for (name, p) in [("cert_file", &c.cert_file), ("key_file", &c.key_file)] {
                        if !p.is_file() {
                            s.error(
                                format!("listeners[{i}].tls.certificates[{j}].{name}"),
                                format!(
                                    "file `{}` does not exist (relative paths are resolved against the config file's directory)",
                                    p.display()
                                ),
                            );
                        }
                    }
                }
                if tls.certificates.is_empty() && !l.address.ip().is_loopback() {
                    s.warn(
                        format!("listeners[{i}].tls"),
                        "no certificate configured on a non-loopback address: a self-signed development certificate will be served",
                    );
                }
            }
            None => {
                if l.plain_http == PlainHttpAction::Serve && !l.address.ip().is_loopback() {
                    s.warn(
                        format!("listeners[{i}].plain_http"),
                        "serves plain HTTP on a non-loopback address: traffic and credentials travel unencrypted (use only behind a TLS-terminating balancer)",
                    );
                }
            }
        }
    }
    if spec.admin.enabled && !spec.admin.address.ip().is_loopback() {
        s.warn(
            "admin.address".into(),
            "the admin listener is reachable from the network; keep it on loopback or a management network",
        );
    }
    if !spec.security_headers.hsts.enabled {
        s.warn(
            "security_headers.hsts.enabled".into(),
            "HSTS is disabled: browsers may be downgraded to plain HTTP",
        );
    }
    for (i, c) in spec.client_ip.trusted_proxies.iter().enumerate() {
        if c.0.prefix_len() == 0 {
            s.warn(
                format!("client_ip.trusted_proxies[{i}]"),
                format!(
                    "{c} trusts every peer: any client can forge its address with X-Forwarded-For"
                ),
            );
        }
    }
}

fn upstreams<'a>(spec: &'a ConfigSpec, s: &mut Sink<'_>) -> HashSet<&'a str> {
    let mut upstream_ids = HashSet::new();
    for (i, u) in spec.upstreams.iter().enumerate() {
        if u.id.trim().is_empty() {
            s.error(format!("upstreams[{i}].id"), "must not be empty");
        } else if !upstream_ids.insert(u.id.as_str()) {
            s.error(
                format!("upstreams[{i}].id"),
                format!("duplicate upstream id `{}`", u.id),
            );
        }
        match u.kind {
            UpstreamKind::Echo => {
                if !u.targets.is_empty() {
                    s.error(
                        format!("upstreams[{i}].targets"),
                        "an `echo` upstream has no targets (remove them, or use `kind: http`)",
                    );
                }
            }
            UpstreamKind::Http => {
                if u.targets.is_empty() {
                    s.error(
                        format!("upstreams[{i}].targets"),
                        "at least one target URL is required (or `kind: echo`)",
                    );
                }
                for (j, t) in u.targets.iter().enumerate() {
                    if let Some(p) = target_problem(t) {
                        s.error(format!("upstreams[{i}].targets[{j}]"), p);
                    } else if t.starts_with("https://") && u.tls.server_name.is_none() {
                        let host = t
                            .parse::<http::Uri>()
                            .ok()
                            .and_then(|uri| uri.host().map(str::to_string));
                        if host
                            .is_some_and(|h| h.trim_matches(['[', ']']).parse::<IpAddr>().is_ok())
                        {
                            s.warn(
                                format!("upstreams[{i}].targets[{j}]"),
                                "https target given by IP address: set `tls.server_name` to the name in its certificate",
                            );
                        }
                    }
                }
            }
        }
        if let Some(hc) = &u.health_check {
            if !hc.path.starts_with('/') {
                s.error(
                    format!("upstreams[{i}].health_check.path"),
                    format!("`{}` must start with `/`", hc.path),
                );
            }
            for (name, d) in [("interval", hc.interval), ("timeout", hc.timeout)] {
                if d.get().is_zero() {
                    s.error(
                        format!("upstreams[{i}].health_check.{name}"),
                        "must be positive",
                    );
                }
            }
            for (name, n) in [
                ("unhealthy_threshold", hc.unhealthy_threshold),
                ("healthy_threshold", hc.healthy_threshold),
            ] {
                if n == 0 {
                    s.error(
                        format!("upstreams[{i}].health_check.{name}"),
                        "must be at least 1",
                    );
                }
            }
        }
        if u.tls.client_cert_file.is_some() != u.tls.client_key_file.is_some() {
            s.error(
                format!("upstreams[{i}].tls"),
                "client_cert_file and client_key_file go together",
            );
        }
        for (name, p) in [
            ("ca_file", &u.tls.ca_file),
            ("client_cert_file", &u.tls.client_cert_file),
            ("client_key_file", &u.tls.client_key_file),
        ] {
            if let Some(p) = p
                && !p.is_file()
            {
                s.error(
                    format!("upstreams[{i}].tls.{name}"),
                    format!(
                        "file `{}` does not exist (relative paths are resolved against the config file's directory)",
                        p.display()
                    ),
                );
            }
        }
        for (name, d) in [
            ("connect", u.timeouts.connect),
            ("request", u.timeouts.request),
        ] {
            if d.get().is_zero() {
                s.error(
                    format!("upstreams[{i}].timeouts.{name}"),
                    "must be positive",
                );
            }
        }
    }
    upstream_ids
}

fn routes(spec: &ConfigSpec, upstream_ids: &HashSet<&str>, s: &mut Sink<'_>) {
    let mut route_ids = HashSet::new();
    let tier_names: Vec<&str> = spec.tiers.iter().map(|t| t.name.as_str()).collect();
    let mut seen: HashMap<RouteMatchKey, Vec<(usize, Vec<String>)>> = HashMap::new();
    for (i, r) in spec.routes.iter().enumerate() {
        if r.id.trim().is_empty() {
            s.error(format!("routes[{i}].id"), "must not be empty");
        } else if !route_ids.insert(r.id.as_str()) {
            s.error(
                format!("routes[{i}].id"),
                format!("duplicate route id `{}`", r.id),
            );
        }
        for (j, h) in r.hosts.iter().enumerate() {
            if let Some(p) = host_problem(h) {
                s.error(format!("routes[{i}].hosts[{j}]"), p);
            }
        }
        let path_ok = match path_problem(&r.path) {
            Some(p) => {
                s.error(format!("routes[{i}].path"), format!("`{}` {p}", r.path));
                false
            }
            None => true,
        };
        if r.methods.is_empty() {
            s.error(format!("routes[{i}].methods"), "list at least one method");
        }
        let mut methods: Vec<String> = Vec::new();
        for (j, m) in r.methods.iter().enumerate() {
            let upper = m.trim().to_ascii_uppercase();
            if FORBIDDEN_METHODS.contains(&upper.as_str()) {
                s.error(
                    format!("routes[{i}].methods[{j}]"),
                    format!("{upper} is never forwarded (it exposes the request to cross-site tracing or opens tunnels); remove it"),
                );
            } else if upper.is_empty() || Method::from_bytes(upper.as_bytes()).is_err() {
                s.error(
                    format!("routes[{i}].methods[{j}]"),
                    format!(
                        "`{m}` is not an HTTP method token (e.g. {})",
                        ROUTABLE_METHODS.join(", ")
                    ),
                );
            } else if methods.contains(&upper) {
                s.error(
                    format!("routes[{i}].methods[{j}]"),
                    format!("{upper} is listed twice"),
                );
            } else {
                methods.push(upper);
            }
        }
        if !upstream_ids.contains(r.upstream.as_str()) {
            let known: Vec<&str> = spec.upstreams.iter().map(|u| u.id.as_str()).collect();
            s.error(
                format!("routes[{i}].upstream"),
                format!(
                    "unknown upstream `{}` (known: {})",
                    r.upstream,
                    if known.is_empty() {
                        "none; define it under `upstreams:`".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            );
        }
        if let Some(prefix) = &r.strip_prefix {
            let rest = r.path.strip_prefix(prefix.as_str());
            if !prefix.starts_with('/') || prefix.contains('{') || rest.is_none() {
                s.error(
                    format!("routes[{i}].strip_prefix"),
                    format!(
                        "`{prefix}` is not a literal prefix of the path `{}`",
                        r.path
                    ),
                );
            } else if let Some(rest) = rest
                && !(prefix.ends_with('/') || rest.is_empty() || rest.starts_with('/'))
            {
                s.error(
                    format!("routes[{i}].strip_prefix"),
                    format!(
                        "`{prefix}` ends inside a path segment of `{}`: strip whole segments (e.g. `/v1` from `/v1/users`)",
                        r.path
                    ),
                );
            }
        }
        for (name, value) in &r.match_headers {
            if !valid_header_name(name) {
                s.error_at_key(
                    format!("routes[{i}].match_headers.{name}"),
                    format!("`{name}` is not a valid header name"),
                );
            } else if HeaderValue::from_str(value).is_err() {
                s.error(
                    format!("routes[{i}].match_headers.{name}"),
                    format!("`{value}` is not a valid header value"),
                );
            }
        }
        if let Some(t) = &r.upstream_identity_token {
            validate_identity_token(s, &format!("routes[{i}].upstream_identity_token"), t);
        }
        if r.public && r.auth.is_some() {
            s.error(
                format!("routes[{i}].public"),
                "a route with an auth block cannot be public; remove one of them",
            );
        } else if let Some(auth) = &r.auth {
            if let Some(j) = &auth.jwt {
                validate_jwt(s, i, j);
            }
            if let Some(t) = &auth.introspection {
                validate_introspection(s, i, t);
            }
            if let Some(m) = &auth.mtls
                && !["san_uri", "san_dns", "san_email", "subject_cn"].contains(&m.identity.as_str())
            {
                s.error(
                    format!("routes[{i}].auth.mtls.identity"),
                    "must be san_uri, san_dns, san_email or subject_cn",
                );
            }
            if let Some(h) = &auth.hmac {
                validate_hmac(s, i, h);
            }
            if let Some(b) = &auth.basic {
                validate_basic(s, i, b);
            }
            validate_combination(s, i, auth);
            if auth.mtls.is_some()
                && !spec
                    .listeners
                    .iter()
                    .any(|l| l.tls.as_ref().is_some_and(|t| t.client_auth.is_some()))
            {
                s.error(
                    format!("routes[{i}].auth.mtls"),
                    "no listener verifies client certificates: add `tls.client_auth` to a listener",
                );
            }
            match &auth.api_key {
                None if !auth.configured_methods().is_empty() => {}
                None => s.error(
                    format!("routes[{i}].auth"),
                    "name at least one method (api_key, jwt, mtls, introspection, hmac, basic)",
                ),
                Some(k) => {
                    if !valid_header_name(&k.header) {
                        s.error(
                            format!("routes[{i}].auth.api_key.header"),
                            format!("`{}` is not a header name", k.header),
                        );
                    }
                    if k.query
                        .as_deref()
                        .is_some_and(|q| q.is_empty() || q.contains(['&', '=', '#']))
                    {
                        s.error(
                            format!("routes[{i}].auth.api_key.query"),
                            "not a query parameter name",
                        );
                    }
                    if k.query.is_some() {
                        s.warn(format!("routes[{i}].auth.api_key.query"), "API keys in URLs leak into logs, caches and browser history; prefer the header");
                    }
                }
            }
        } else if r.public {
            s.warn(
                format!("routes[{i}].public"),
                format!(
                    "note: route `{}` is public: anyone who can reach the gateway may call it",
                    r.id
                ),
            );
        } else {
            s.error(
                format!("routes[{i}].public"),
                "deny by default: this route has no authentication; add an `auth` block or set `public: true` to serve it to anyone",
            );
        }
        access::route_access(s, i, r, spec.policies.as_ref(), &tier_names);
        access::route_contract(s, i, r);
        if let Some(b) = r.max_body_bytes
            && b > MAX_BODY_LIMIT
        {
            s.error(
                format!("routes[{i}].max_body_bytes"),
                format!("{b} is more than 1 GiB ({MAX_BODY_LIMIT}); bodies are buffered"),
            );
        }
        if r.log_query_values {
            s.warn(
                format!("routes[{i}].log_query_values"),
                "query values (tokens, personal data) will appear in the access log",
            );
        }
        if !path_ok {
            continue;
        }
        let mut hosts: Vec<String> = r.hosts.iter().map(|h| h.to_ascii_lowercase()).collect();
        hosts.sort();
        hosts.dedup();
        let mut mh: Vec<(String, String)> = r
            .match_headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            .collect();
        mh.sort();
        let key = (hosts, path_shape(&r.path), mh);
        let entry = seen.entry(key).or_default();
        for (other, other_methods) in entry.iter() {
            if let Some(m) = methods.iter().find(|m| other_methods.contains(m)) {
                s.error(
                    format!("routes[{i}].methods"),
                    format!(
                        "route `{}` (routes[{other}]) already serves {m} on the same hosts, path and match_headers",
                        spec.routes.get(*other).map_or("", |r| r.id.as_str())
                    ),
                );
            }
        }
        entry.push((i, methods));
    }
}

fn limits_and_logging(spec: &ConfigSpec, s: &mut Sink<'_>) {
    let l = &spec.limits;
    let as_u64 = |v: usize| u64::try_from(v).unwrap_or(u64::MAX);
    for (name, v) in [
        ("max_header_bytes", as_u64(l.max_header_bytes)),
        ("max_headers", as_u64(l.max_headers)),
        ("max_uri_bytes", as_u64(l.max_uri_bytes)),
        ("max_body_bytes", l.max_body_bytes),
        ("max_connections", as_u64(l.max_connections)),
        ("max_connections_per_ip", as_u64(l.max_connections_per_ip)),
        (
            "h2_max_concurrent_streams",
            u64::from(l.h2_max_concurrent_streams),
        ),
    ] {
        if v == 0 {
            s.error(format!("limits.{name}"), "must be greater than 0");
        }
    }
    if l.max_body_bytes > MAX_BODY_LIMIT {
        s.error(
            "limits.max_body_bytes".into(),
            format!(
                "{} is more than 1 GiB ({MAX_BODY_LIMIT}); bodies are buffered",
                l.max_body_bytes
            ),
        );
    }
    if l.max_headers > 256 {
        s.error("limits.max_headers".into(), "at most 256");
    }
    if l.max_header_bytes > MAX_HEADER_LIMIT {
        s.error(
            "limits.max_header_bytes".into(),
            format!("at most 1 MiB ({MAX_HEADER_LIMIT})"),
        );
    }
    for (name, d) in [
        ("header_read_timeout", l.header_read_timeout),
        ("body_read_timeout", l.body_read_timeout),
        ("idle_timeout", l.idle_timeout),
        ("tls_handshake_timeout", l.tls_handshake_timeout),
    ] {
        if d.get().is_zero() {
            s.error(format!("limits.{name}"), "must be positive");
        }
    }
    if !matches!(
        spec.logging.level.to_ascii_lowercase().as_str(),
        "error" | "warn" | "info" | "debug" | "trace" | "off"
    ) {
        s.error(
            "logging.level".into(),
            format!(
                "`{}` is not one of error, warn, info, debug, trace, off",
                spec.logging.level
            ),
        );
    }
    for (i, h) in spec.logging.redact_headers.iter().enumerate() {
        if !valid_header_name(h) {
            s.error(
                format!("logging.redact_headers[{i}]"),
                format!("`{h}` is not a valid header name"),
            );
        }
    }
    if !valid_header_name(&spec.request_id.header) {
        s.error(
            "request_id.header".into(),
            format!("`{}` is not a valid header name", spec.request_id.header),
        );
    }
    for (i, h) in spec.security_headers.strip.iter().enumerate() {
        if !valid_header_name(h) {
            s.error(
                format!("security_headers.strip[{i}]"),
                format!("`{h}` is not a valid header name"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        for ok in ["/", "/echo/", "/a/b", "/u/{id}", "/f/{*rest}", "/u/{id}/x/"] {
            assert_eq!(path_problem(ok), None, "{ok}");
        }
        for bad in [
            "echo",
            "/a/../b",
            "/a/./b",
            "/a/%2E%2e/b",
            "/a//b",
            "/a?x=1",
            "/a#f",
            "/a b",
            "/u/{}",
            "/u/{a-b}",
            "/u/x{id}",
            "/f/{*rest}/x",
            "/u/{id}/{id}",
            "/u/{id",
        ] {
            assert!(path_problem(bad).is_some(), "{bad}");
        }
        assert_eq!(path_shape("/u/{id}/f/{*r}"), "/u/{}/f/{*}");
    }

    #[test]
    fn targets() {
        for ok in [
            "http://10.0.0.1:8080",
            "https://api.internal/base",
            "http://[::1]:80",
        ] {
            assert_eq!(target_problem(ok), None, "{ok}");
        }
        for bad in [
            "ftp://x",
            "api.internal",
            "/path",
            "http://",
            "http://u:p@h",
            "http://h/?q=1",
            "http://h/#f",
            "http:///x",
        ] {
            assert!(target_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn address_conflicts() {
        let a = |s: &str| s.parse::<SocketAddr>().unwrap();
        assert!(addresses_conflict(a("127.0.0.1:80"), a("127.0.0.1:80")));
        assert!(addresses_conflict(a("0.0.0.0:80"), a("127.0.0.1:80")));
        assert!(addresses_conflict(a("10.0.0.1:80"), a("[::]:80")));
        assert!(!addresses_conflict(a("0.0.0.0:80"), a("[::1]:80")));
        assert!(!addresses_conflict(a("127.0.0.1:80"), a("127.0.0.1:81")));
        assert!(!addresses_conflict(a("127.0.0.1:0"), a("127.0.0.1:0")));
    }
}
