//! The access-log line.

use std::borrow::Cow;

use http::HeaderName;
use serde::Serialize;

/// Request headers whose values never appear in any log line.
pub const SENSITIVE_HEADERS: [&str; 8] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "api-key",
    "x-auth-token",
    "x-otp",
];

/// Whether a header's value must be redacted in logs (built-in list plus `extra`).
pub fn is_sensitive_header(name: &HeaderName, extra: &[HeaderName]) -> bool {
    SENSITIVE_HEADERS.contains(&name.as_str()) || extra.contains(name)
}

/// Redacts the values of a query string: `/a?x=1&y` → `/a?x=[redacted]&y`. Keys stay (they
/// are part of the API's shape); values may carry tokens or personal data.
pub fn redact_query(path_and_query: &str, keep_values: bool) -> Cow<'_, str> {
    let Some((path, query)) = path_and_query.split_once('?') else {
        return Cow::Borrowed(path_and_query);
    };
    if keep_values || query.is_empty() {
        return Cow::Borrowed(path_and_query);
    }
    let mut out = String::with_capacity(path_and_query.len());
    out.push_str(path);
    out.push('?');
    for (i, pair) in query.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        match pair.split_once('=') {
            Some((k, _)) => {
                out.push_str(k);
                out.push_str("=[redacted]");
            }
            None => out.push_str(pair),
        }
    }
    Cow::Owned(out)
}

/// One access-log record.
#[derive(Clone, Debug, Default, Serialize)]
pub struct AccessRecord {
    /// Request id.
    pub request_id: String,
    /// Client address (after trusted-proxy resolution).
    pub client_ip: String,
    /// TCP peer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer: Option<String>,
    /// Listener id.
    pub listener: String,
    /// Method.
    pub method: String,
    /// Host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Route id (`-` when unrouted).
    pub route: String,
    /// Path with query values redacted.
    pub path: String,
    /// Status sent.
    pub status: u16,
    /// Request body bytes.
    pub bytes_in: u64,
    /// Response body bytes.
    pub bytes_out: u64,
    /// Total duration in milliseconds.
    pub duration_ms: f64,
    /// Upstream duration in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream_ms: Option<f64>,
    /// The upstream target that answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream: Option<String>,
    /// `allow`, `deny`, `would_deny`, `delay`, `error`.
    pub verdict: String,
    /// The guard that decided.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guard: Option<String>,
    /// Its machine-readable reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// TLS version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_version: Option<String>,
    /// HTTP version.
    pub http_version: String,
    /// User agent, truncated to 256 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
}

impl AccessRecord {
    /// Writes the record as one event on target `portcullis::access` (the subscriber turns
    /// it into one JSON line).
    pub fn emit(mut self) {
        if let Some(ua) = self.user_agent.as_mut()
            && let Some((i, _)) = ua.char_indices().nth(256)
        {
            ua.truncate(i);
        }
        tracing::info!(
            target: "portcullis::access",
            request_id = %self.request_id,
            client_ip = %self.client_ip,
            peer = self.peer.as_deref(),
            listener = %self.listener,
            method = %self.method,
            host = self.host.as_deref(),
            route = %self.route,
            path = %self.path,
            status = self.status,
            bytes_in = self.bytes_in,
            bytes_out = self.bytes_out,
            duration_ms = self.duration_ms,
            upstream_ms = self.upstream_ms,
            upstream = self.upstream.as_deref(),
            verdict = %self.verdict,
            guard = self.guard.as_deref(),
            reason = self.reason.as_deref(),
            tls_version = self.tls_version.as_deref(),
            http_version = %self.http_version,
            user_agent = self.user_agent.as_deref(),
            "access"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_redacted_keys_kept() {
        assert_eq!(redact_query("/a", false), "/a");
        assert_eq!(redact_query("/a?", false), "/a?");
        assert_eq!(
            redact_query("/a?x=1&y=2", false),
            "/a?x=[redacted]&y=[redacted]"
        );
        assert_eq!(
            redact_query("/a?flag&&t=%20z", false),
            "/a?flag&&t=[redacted]"
        );
        assert_eq!(redact_query("/a?x=1", true), "/a?x=1");
        assert_eq!(redact_query("/a?token=a=b", false), "/a?token=[redacted]");
    }

    #[test]
    fn sensitive_headers_are_known() {
        let auth = HeaderName::from_static("authorization");
        let custom = HeaderName::from_static("x-session");
        assert!(is_sensitive_header(&auth, &[]));
        assert!(is_sensitive_header(&HeaderName::from_static("x-otp"), &[]));
        assert!(!is_sensitive_header(&custom, &[]));
        assert!(is_sensitive_header(&custom, std::slice::from_ref(&custom)));
    }

    #[test]
    fn record_serialises_with_stable_names() {
        let r = AccessRecord {
            request_id: "r1".into(),
            route: "echo".into(),
            status: 200,
            verdict: "allow".into(),
            ..AccessRecord::default()
        };
        let v = serde_json::to_value(&r).unwrap();
        for k in [
            "request_id",
            "client_ip",
            "route",
            "path",
            "status",
            "bytes_out",
            "duration_ms",
            "verdict",
        ] {
            assert!(v.get(k).is_some(), "{k}");
        }
    }
}
