//! Semantic checks and security lints over a parsed config. `portcullis check`, start-up and
//! hot reload all run exactly this.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::path::Path;

use http::{HeaderName, Method};

use crate::diagnostic::{Diagnostic, Severity};
use crate::locate::locate;
use crate::spec::{ConfigSpec, PlainHttpAction, UpstreamKind};

/// Methods a route may serve. TRACE, TRACK and CONNECT are refused everywhere; unknown
/// methods can never be routed.
pub const ROUTABLE_METHODS: [&str; 7] =
    ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// The largest body limit accepted (1 GiB): buffering more is a configuration mistake.
pub const MAX_BODY_LIMIT: u64 = 1 << 30;

/// Hosts, path and header conditions: two routes with the same key must not share a method.
type RouteMatchKey = (Vec<String>, String, Vec<(String, String)>);

struct Sink<'a> {
    source: &'a str,
    file: &'a Path,
    out: Vec<Diagnostic>,
}

impl Sink<'_> {
    fn push(&mut self, severity: Severity, path: String, message: String) {
        let (line, column) = locate(self.source, &path);
        self.out.push(Diagnostic {
            severity,
            file: self.file.to_path_buf(),
            line,
            column,
            path,
            message,
        });
    }
    fn error(&mut self, path: String, message: impl Into<String>) {
        self.push(Severity::Error, path, message.into());
    }
    fn warn(&mut self, path: String, message: impl Into<String>) {
        self.push(Severity::Warning, path, message.into());
    }
}

fn is_loopback(ip: IpAddr) -> bool {
    ip.is_loopback()
}

fn valid_header_name(name: &str) -> bool {
    HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes()).is_ok()
}

/// Checks a route path: absolute, no dot segments, well-formed `{name}` / `{*rest}` segments.
fn path_problem(path: &str) -> Option<String> {
    if !path.starts_with('/') {
        return Some("must start with `/`".into());
    }
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let last = segments.len().saturating_sub(1);
    for (i, seg) in segments.iter().enumerate() {
        if *seg == "." || *seg == ".." {
            return Some("must not contain `.` or `..` segments".into());
        }
        if seg.contains('{') || seg.contains('}') {
            let inner = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}'));
            let Some(inner) = inner else {
                return Some(format!(
                    "segment `{seg}`: a parameter must be a whole segment, like `{{id}}`"
                ));
            };
            let name = inner.strip_prefix('*').unwrap_or(inner);
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Some(format!(
                    "segment `{seg}`: parameter names use letters, digits and `_`"
                ));
            }
            if inner.starts_with('*') && i != last {
                return Some(format!(
                    "segment `{seg}`: a catch-all must be the last segment"
                ));
            }
        }
    }
    None
}

fn target_problem(target: &str) -> Option<String> {
    let uri: http::Uri = match target.parse() {
        Ok(u) => u,
        Err(_) => return Some(format!("`{target}` is not a URL")),
    };
    match uri.scheme_str() {
        Some("http" | "https") => {}
        _ => return Some(format!("`{target}` must start with http:// or https://")),
    }
    let Some(authority) = uri.authority() else {
        return Some(format!("`{target}` has no host"));
    };
    if authority.as_str().contains('@') {
        return Some(format!("`{target}`: credentials in URLs are not allowed"));
    }
    if uri.query().is_some() {
        return Some(format!("`{target}`: a target URL cannot have a query"));
    }
    if target.contains('#') {
        return Some(format!("`{target}`: a target URL cannot have a fragment"));
    }
    None
}

/// Every error and warning for `spec`; `source` is used to locate them.
pub fn validate(spec: &ConfigSpec, source: &str, file: &Path) -> Vec<Diagnostic> {
    let mut s = Sink {
        source,
        file,
        out: Vec::new(),
    };

    // === listeners ===
    if spec.listeners.is_empty() {
        s.error("listeners".into(), "at least one listener is required");
    }
    let mut ids = HashSet::new();
    let mut addresses = HashSet::new();
    for (i, l) in spec.listeners.iter().enumerate() {
        if l.id.trim().is_empty() {
            s.error(format!("listeners[{i}].id"), "must not be empty");
        }
        if !ids.insert(l.id.as_str()) {
            s.error(
                format!("listeners[{i}].id"),
                format!("duplicate listener id `{}`", l.id),
            );
        }
        if !addresses.insert(l.address) && l.address.port() != 0 {
            s.error(
                format!("listeners[{i}].address"),
                format!("address {} is used twice", l.address),
            );
        }
        if spec.admin.enabled && l.address == spec.admin.address && l.address.port() != 0 {
            s.error(
                format!("listeners[{i}].address"),
                "the admin listener uses the same address",
            );
        }
        match &l.tls {
            Some(tls) => {
                for (j, c) in tls.certificates.iter().enumerate() {
                    if !c.cert_file.exists() {
                        s.error(
                            format!("listeners[{i}].tls.certificates[{j}].cert_file"),
                            format!("file `{}` does not exist", c.cert_file.display()),
                        );
                    }
                    if !c.key_file.exists() {
                        s.error(
                            format!("listeners[{i}].tls.certificates[{j}].key_file"),
                            format!("file `{}` does not exist", c.key_file.display()),
                        );
                    }
                }
                if tls.certificates.is_empty() && !is_loopback(l.address.ip()) {
                    s.warn(
                        format!("listeners[{i}].tls"),
                        "no certificate configured on a non-loopback address: a self-signed development certificate will be served",
                    );
                }
            }
            None => {
                if l.plain_http == PlainHttpAction::Serve && !is_loopback(l.address.ip()) {
                    s.warn(
                        format!("listeners[{i}].plain_http"),
                        "serves plain HTTP on a non-loopback address: traffic and credentials travel unencrypted (use only behind a TLS-terminating balancer)",
                    );
                }
            }
        }
    }
    if spec.admin.enabled && !is_loopback(spec.admin.address.ip()) {
        s.warn("admin.address".into(), "the admin listener is reachable from the network; keep it on loopback or a management network");
    }
    if !spec.security_headers.hsts.enabled {
        s.warn(
            "security_headers.hsts.enabled".into(),
            "HSTS is disabled: browsers may be downgraded to plain HTTP",
        );
    }

    // === upstreams ===
    let mut upstream_ids = HashSet::new();
    for (i, u) in spec.upstreams.iter().enumerate() {
        if !upstream_ids.insert(u.id.as_str()) {
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
                        "an `echo` upstream has no targets",
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
                    "must start with `/`",
                );
            }
            if hc.interval.get().is_zero() || hc.timeout.get().is_zero() {
                s.error(
                    format!("upstreams[{i}].health_check"),
                    "interval and timeout must be positive",
                );
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
                && !p.exists()
            {
                s.error(
                    format!("upstreams[{i}].tls.{name}"),
                    format!("file `{}` does not exist", p.display()),
                );
            }
        }
        if u.timeouts.connect.get().is_zero() || u.timeouts.request.get().is_zero() {
            s.error(
                format!("upstreams[{i}].timeouts"),
                "timeouts must be positive",
            );
        }
    }

    // === routes ===
    let mut route_ids = HashSet::new();
    let mut seen: HashMap<RouteMatchKey, Vec<(usize, Vec<String>)>> = HashMap::new();
    for (i, r) in spec.routes.iter().enumerate() {
        if !route_ids.insert(r.id.as_str()) {
            s.error(
                format!("routes[{i}].id"),
                format!("duplicate route id `{}`", r.id),
            );
        }
        if let Some(p) = path_problem(&r.path) {
            s.error(format!("routes[{i}].path"), format!("`{}` {p}", r.path));
        }
        if r.methods.is_empty() {
            s.error(format!("routes[{i}].methods"), "list at least one method");
        }
        let mut methods = Vec::new();
        for m in &r.methods {
            let upper = m.to_ascii_uppercase();
            if matches!(upper.as_str(), "TRACE" | "TRACK" | "CONNECT") {
                s.error(format!("routes[{i}].methods"), format!("{upper} is never forwarded (it exposes the request to cross-site tracing or tunnels); remove it"));
            } else if !ROUTABLE_METHODS.contains(&upper.as_str())
                || Method::from_bytes(upper.as_bytes()).is_err()
            {
                s.error(
                    format!("routes[{i}].methods"),
                    format!(
                        "`{m}` is not a routable method (one of {})",
                        ROUTABLE_METHODS.join(", ")
                    ),
                );
            }
            methods.push(upper);
        }
        if !upstream_ids.contains(r.upstream.as_str()) {
            let known: Vec<&str> = spec.upstreams.iter().map(|u| u.id.as_str()).collect();
            s.error(
                format!("routes[{i}].upstream"),
                format!(
                    "unknown upstream `{}` (known: {})",
                    r.upstream,
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            );
        }
        if let Some(prefix) = &r.strip_prefix
            && (!r.path.starts_with(prefix.as_str()) || !prefix.starts_with('/'))
        {
            s.error(
                format!("routes[{i}].strip_prefix"),
                format!("`{prefix}` is not a prefix of the path `{}`", r.path),
            );
        }
        for name in r.match_headers.keys() {
            if !valid_header_name(name) {
                s.error(
                    format!("routes[{i}].match_headers"),
                    format!("`{name}` is not a header name"),
                );
            }
        }
        if !r.public {
            s.error(
                format!("routes[{i}].public"),
                "deny by default: this route has no authentication; set `public: true` to serve it to anyone",
            );
        }
        if let Some(b) = r.max_body_bytes
            && b > MAX_BODY_LIMIT
        {
            s.error(
                format!("routes[{i}].max_body_bytes"),
                "at most 1 GiB (bodies are buffered)",
            );
        }
        if r.log_query_values {
            s.warn(
                format!("routes[{i}].log_query_values"),
                "query values (tokens, personal data) will appear in the access log",
            );
        }
        let mut hosts: Vec<String> = r.hosts.iter().map(|h| h.to_ascii_lowercase()).collect();
        hosts.sort();
        let mut mh: Vec<(String, String)> = r
            .match_headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            .collect();
        mh.sort();
        let key = (hosts, r.path.clone(), mh);
        let entry = seen.entry(key).or_default();
        for (other, other_methods) in entry.iter() {
            if let Some(m) = methods.iter().find(|m| other_methods.contains(m)) {
                s.error(
                    format!("routes[{i}].methods"),
                    format!(
                        "route `{}` already serves {m} on this host and path (routes[{other}])",
                        spec.routes.get(*other).map_or("", |r| r.id.as_str())
                    ),
                );
            }
        }
        entry.push((i, methods));
    }

    // === limits, logging ===
    let l = &spec.limits;
    for (name, v) in [
        ("max_header_bytes", l.max_header_bytes as u64),
        ("max_headers", l.max_headers as u64),
        ("max_uri_bytes", l.max_uri_bytes as u64),
        ("max_body_bytes", l.max_body_bytes),
        ("max_connections", l.max_connections as u64),
        ("max_connections_per_ip", l.max_connections_per_ip as u64),
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
            "at most 1 GiB (bodies are buffered)",
        );
    }
    if l.max_header_bytes > 1 << 20 {
        s.error("limits.max_header_bytes".into(), "at most 1 MiB");
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
    for h in &spec.logging.redact_headers {
        if !valid_header_name(h) {
            s.error(
                "logging.redact_headers".into(),
                format!("`{h}` is not a header name"),
            );
        }
    }
    if !valid_header_name(&spec.request_id.header) {
        s.error(
            "request_id.header".into(),
            format!("`{}` is not a header name", spec.request_id.header),
        );
    }
    for h in &spec.security_headers.strip {
        if !valid_header_name(h) {
            s.error(
                "security_headers.strip".into(),
                format!("`{h}` is not a header name"),
            );
        }
    }
    s.out
}
