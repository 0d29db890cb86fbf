//! Security headers on every response; fingerprinting headers removed.

use http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, HeaderName, HeaderValue, PRAGMA, REFERRER_POLICY,
    STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use portcullis_config::SecurityHeadersSpec;
use portcullis_core::{Guard, GuardId, Phase, RequestCx, Step};

const ID: GuardId = GuardId("security_headers");

/// Adds the configured security headers to every response (upstream or gateway-made) and
/// removes headers that tell an attacker which stack runs behind the gateway. Header values
/// are built once at compile time; the per-response cost is a few map operations.
#[derive(Debug, Clone)]
pub struct SecurityHeadersGuard {
    hsts: Option<HeaderValue>,
    set: Vec<(HeaderName, HeaderValue)>,
    no_store_when_authenticated: bool,
    strip: Vec<HeaderName>,
}

impl SecurityHeadersGuard {
    /// Compiles the header set. Invalid names in `strip` were refused by config validation;
    /// any that slip through are skipped rather than failing a request.
    pub fn compile(spec: &SecurityHeadersSpec) -> Self {
        let hsts = spec.hsts.enabled.then(|| {
            let mut v = format!("max-age={}", spec.hsts.max_age.get().as_secs());
            if spec.hsts.include_subdomains {
                v.push_str("; includeSubDomains");
            }
            if spec.hsts.preload {
                v.push_str("; preload");
            }
            HeaderValue::from_str(&v).unwrap_or(HeaderValue::from_static("max-age=31536000"))
        });
        let mut set = Vec::new();
        if spec.content_type_options {
            set.push((X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")));
        }
        if spec.frame_options {
            set.push((X_FRAME_OPTIONS, HeaderValue::from_static("DENY")));
            set.push((
                CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("frame-ancestors 'none'"),
            ));
        }
        if spec.referrer_policy {
            set.push((REFERRER_POLICY, HeaderValue::from_static("no-referrer")));
        }
        let strip = spec
            .strip
            .iter()
            .filter_map(|n| HeaderName::from_bytes(n.trim().to_ascii_lowercase().as_bytes()).ok())
            .collect();
        Self {
            hsts,
            set,
            no_store_when_authenticated: spec.no_store_when_authenticated,
            strip,
        }
    }
}

impl Guard for SecurityHeadersGuard {
    fn id(&self) -> GuardId {
        ID
    }

    fn phases(&self) -> &'static [Phase] {
        &[Phase::Response]
    }

    fn on_response(&self, cx: &mut RequestCx, resp: &mut http::response::Parts) -> Step {
        let headers = &mut resp.headers;
        for name in &self.strip {
            headers.remove(name);
        }
        // HSTS is meaningful (and allowed by RFC 6797) only over a secure transport.
        if let (Some(hsts), Some(_)) = (&self.hsts, &cx.tls) {
            headers.insert(STRICT_TRANSPORT_SECURITY, hsts.clone());
        }
        for (name, value) in &self.set {
            if !headers.contains_key(name) {
                headers.insert(name.clone(), value.clone());
            }
        }
        if self.no_store_when_authenticated && (cx.requires_auth || cx.identity.is_some()) {
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
        }
        Step::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portcullis_core::{RequestId, TlsInfo};
    use std::time::Instant;

    fn respond(spec: &SecurityHeadersSpec, tls: bool, auth: bool) -> http::HeaderMap {
        let g = SecurityHeadersGuard::compile(spec);
        let mut cx = RequestCx::new(
            RequestId::generate(),
            "127.0.0.1:9".parse().unwrap(),
            Instant::now(),
        );
        if tls {
            cx.tls = Some(TlsInfo::default());
        }
        cx.requires_auth = auth;
        let mut parts = http::Response::builder()
            .header("server", "Apache/2.4.1")
            .header("x-powered-by", "PHP/5.6")
            .header("X-AspNet-Version", "4.0")
            .header("content-type", "application/json")
            .body(())
            .unwrap()
            .into_parts()
            .0;
        assert!(matches!(g.on_response(&mut cx, &mut parts), Step::Continue));
        parts.headers
    }

    #[test]
    fn fingerprints_are_removed_and_defaults_added() {
        let h = respond(&SecurityHeadersSpec::default(), true, false);
        assert!(h.get("server").is_none());
        assert!(h.get("x-powered-by").is_none());
        assert!(h.get("x-aspnet-version").is_none());
        assert_eq!(
            h["strict-transport-security"],
            "max-age=31536000; includeSubDomains"
        );
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["content-type"], "application/json");
        assert!(h.get("cache-control").is_none());
    }

    #[test]
    fn hsts_only_over_tls_and_no_store_when_authenticated() {
        let h = respond(&SecurityHeadersSpec::default(), false, true);
        assert!(h.get("strict-transport-security").is_none());
        assert_eq!(h["cache-control"], "no-store");
    }

    #[test]
    fn hsts_can_be_disabled_or_preloaded() {
        let mut spec = SecurityHeadersSpec::default();
        spec.hsts.preload = true;
        assert!(
            respond(&spec, true, false)["strict-transport-security"]
                .to_str()
                .unwrap()
                .ends_with("; preload")
        );
        spec.hsts.enabled = false;
        assert!(
            respond(&spec, true, false)
                .get("strict-transport-security")
                .is_none()
        );
    }
}
