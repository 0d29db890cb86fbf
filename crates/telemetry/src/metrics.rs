//! Prometheus metrics on an explicit registry (no globals), served by the admin listener.

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    status: String,
    verdict: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabel {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UpstreamLabel {
    upstream: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TargetLabels {
    upstream: String,
    target: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabels {
    guard: String,
    verdict: String,
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventLabels {
    route: String,
    family: String,
    name: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FirewallLabels {
    route: String,
    rule: String,
    category: String,
    action: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ListenerKind {
    listener: String,
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ListenerReason {
    listener: String,
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ListenerLabel {
    listener: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabel {
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabel {
    result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VersionLabel {
    version: String,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// Latency buckets for a proxy: 0.5 ms … 10 s.
fn latency_histogram() -> Histogram {
    Histogram::new([
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ])
}

struct Inner {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_duration: HistogramFamily<RouteLabel>,
    upstream_duration: HistogramFamily<UpstreamLabel>,
    decisions: Family<DecisionLabels, Counter>,
    events: Family<EventLabels, Counter>,
    firewall: Family<FirewallLabels, Counter>,
    upstream_healthy: Family<TargetLabels, Gauge>,
    tls_failures: Family<ListenerKind, Counter>,
    connections_open: Family<ListenerLabel, Gauge>,
    connections_rejected: Family<ListenerReason, Counter>,
    framing: Family<CodeLabel, Counter>,
    reloads: Family<ResultLabel, Counter>,
    config_version: Gauge,
}

/// The gateway's metrics. Cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

/// Decrements the open-connections gauge when the connection ends.
pub struct ConnectionGauge(Gauge);

impl Drop for ConnectionGauge {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl Metrics {
    /// A registry with every portcullis metric, labelled with the build version.
    pub fn new(version: &str) -> Self {
        let mut registry = Registry::with_prefix("portcullis");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "requests",
            "Requests by route, status and verdict",
            requests.clone(),
        );
        let request_duration: HistogramFamily<RouteLabel> =
            Family::new_with_constructor(latency_histogram);
        registry.register(
            "request_duration_seconds",
            "Time from request head to the end of the response body",
            request_duration.clone(),
        );
        let upstream_duration: HistogramFamily<UpstreamLabel> =
            Family::new_with_constructor(latency_histogram);
        registry.register(
            "upstream_duration_seconds",
            "Time waiting for the upstream's response head",
            upstream_duration.clone(),
        );
        let events = Family::<EventLabels, Counter>::default();
        registry.register(
            "limit_and_policy_events",
            "Per-limit outcomes (allowed, limited, throttled, exhausted) and per-policy decisions",
            events.clone(),
        );
        let firewall = Family::<FirewallLabels, Counter>::default();
        registry.register(
            "firewall_matches",
            "Firewall rule matches by route, rule, category and what the request's verdict did (blocked, detected, scored)",
            firewall.clone(),
        );
        let decisions = Family::<DecisionLabels, Counter>::default();
        registry.register(
            "guard_decisions",
            "Guard decisions other than allow",
            decisions.clone(),
        );
        let upstream_healthy = Family::<TargetLabels, Gauge>::default();
        registry.register(
            "upstream_target_healthy",
            "1 when an upstream target is healthy and not ejected",
            upstream_healthy.clone(),
        );
        let tls_failures = Family::<ListenerKind, Counter>::default();
        registry.register(
            "tls_handshake_failures",
            "Failed TLS handshakes by kind",
            tls_failures.clone(),
        );
        let connections_open = Family::<ListenerLabel, Gauge>::default();
        registry.register(
            "connections_open",
            "Open client connections",
            connections_open.clone(),
        );
        let connections_rejected = Family::<ListenerReason, Counter>::default();
        registry.register(
            "connections_rejected",
            "Client connections refused at accept time",
            connections_rejected.clone(),
        );
        let framing = Family::<CodeLabel, Counter>::default();
        registry.register(
            "framing_violations",
            "HTTP/1 framing violations refused",
            framing.clone(),
        );
        let reloads = Family::<ResultLabel, Counter>::default();
        registry.register(
            "config_reloads",
            "Config loads and reloads by result",
            reloads.clone(),
        );
        let config_version = Gauge::default();
        registry.register(
            "config_version",
            "Version number of the config being served",
            config_version.clone(),
        );
        let build = Family::<VersionLabel, Gauge>::default();
        build
            .get_or_create(&VersionLabel {
                version: version.to_string(),
            })
            .set(1);
        registry.register("build_info", "Build information", build);
        Self(Arc::new(Inner {
            registry,
            requests,
            request_duration,
            upstream_duration,
            decisions,
            events,
            firewall,
            upstream_healthy,
            tls_failures,
            connections_open,
            connections_rejected,
            framing,
            reloads,
            config_version,
        }))
    }

    /// Counts a finished request and its duration.
    pub fn observe_request(&self, route: &str, status: u16, verdict: &str, total: Duration) {
        self.0
            .requests
            .get_or_create(&RequestLabels {
                route: route.to_string(),
                status: status.to_string(),
                verdict: verdict.to_string(),
            })
            .inc();
        self.0
            .request_duration
            .get_or_create(&RouteLabel {
                route: route.to_string(),
            })
            .observe(total.as_secs_f64());
    }

    /// Records the time an upstream took to answer.
    pub fn observe_upstream(&self, upstream: &str, d: Duration) {
        self.0
            .upstream_duration
            .get_or_create(&UpstreamLabel {
                upstream: upstream.to_string(),
            })
            .observe(d.as_secs_f64());
    }

    /// Counts a guard decision.
    pub fn observe_decision(&self, guard: &str, verdict: &str, reason: &str) {
        self.0
            .decisions
            .get_or_create(&DecisionLabels {
                guard: guard.to_string(),
                verdict: verdict.to_string(),
                reason: reason.to_string(),
            })
            .inc();
    }

    /// Counts a limit outcome or policy decision.
    pub fn observe_event(&self, route: &str, family: &str, name: &str, outcome: &str) {
        self.0
            .events
            .get_or_create(&EventLabels {
                route: route.to_string(),
                family: family.to_string(),
                name: name.to_string(),
                outcome: outcome.to_string(),
            })
            .inc();
    }

    /// Counts one firewall rule match. `action` is what the request's verdict did: `blocked`,
    /// `detected` (over the threshold in detect-only mode) or `scored` (under the threshold).
    pub fn observe_firewall_match(&self, route: &str, rule: &str, category: &str, action: &str) {
        self.0
            .firewall
            .get_or_create(&FirewallLabels {
                route: route.to_string(),
                rule: rule.to_string(),
                category: category.to_string(),
                action: action.to_string(),
            })
            .inc();
    }

    /// Counts a refused framing violation.
    pub fn framing_violation(&self, code: &str) {
        self.0
            .framing
            .get_or_create(&CodeLabel {
                code: code.to_string(),
            })
            .inc();
    }

    /// Counts a connection refused at accept time.
    pub fn connection_rejected(&self, listener: &str, reason: &str) {
        self.0
            .connections_rejected
            .get_or_create(&ListenerReason {
                listener: listener.to_string(),
                reason: reason.to_string(),
            })
            .inc();
    }

    /// Counts an open connection until the returned gauge guard is dropped.
    pub fn connection_opened(&self, listener: &str) -> ConnectionGauge {
        let g = self
            .0
            .connections_open
            .get_or_create(&ListenerLabel {
                listener: listener.to_string(),
            })
            .clone();
        g.inc();
        ConnectionGauge(g)
    }

    /// Counts a failed TLS handshake.
    pub fn tls_handshake_failed(&self, listener: &str, kind: &str) {
        self.0
            .tls_failures
            .get_or_create(&ListenerKind {
                listener: listener.to_string(),
                kind: kind.to_string(),
            })
            .inc();
    }

    /// Records a config load or reload.
    pub fn config_loaded(&self, version: u64, ok: bool) {
        self.0
            .reloads
            .get_or_create(&ResultLabel {
                result: if ok { "ok" } else { "error" }.to_string(),
            })
            .inc();
        if ok {
            self.0
                .config_version
                .set(i64::try_from(version).unwrap_or(i64::MAX));
        }
    }

    /// Replaces the upstream health series with `(upstream, target, healthy)` triples, so
    /// targets removed by a reload disappear.
    pub fn set_upstream_health(&self, health: Vec<(String, String, bool)>) {
        self.0.upstream_healthy.clear();
        for (upstream, target, healthy) in health {
            self.0
                .upstream_healthy
                .get_or_create(&TargetLabels { upstream, target })
                .set(i64::from(healthy));
        }
    }

    /// The OpenMetrics text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.0.registry).is_err() {
            out.clear();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_show_up_in_the_exposition() {
        let m = Metrics::new("0.1.0");
        m.observe_request("echo", 200, "allow", Duration::from_millis(3));
        m.observe_request("echo", 200, "allow", Duration::from_millis(3));
        m.observe_decision("ip_policy", "deny", "ip_denied_route");
        m.framing_violation("cl_and_te");
        m.tls_handshake_failed("https", "protocol_version");
        m.config_loaded(3, true);
        let text = m.encode();
        assert!(
            text.contains(
                r#"portcullis_requests_total{route="echo",status="200",verdict="allow"} 2"#
            ),
            "{text}"
        );
        assert!(
            text.contains("portcullis_request_duration_seconds_bucket"),
            "{text}"
        );
        assert!(
            text.contains(r#"portcullis_guard_decisions_total{guard="ip_policy""#),
            "{text}"
        );
        assert!(
            text.contains(r#"portcullis_framing_violations_total{code="cl_and_te"} 1"#),
            "{text}"
        );
        assert!(text.contains("portcullis_config_version 3"), "{text}");
        assert!(
            text.contains(r#"portcullis_build_info{version="0.1.0"} 1"#),
            "{text}"
        );
    }

    #[test]
    fn connection_gauge_goes_up_and_down() {
        let m = Metrics::new("x");
        let g = m.connection_opened("https");
        assert!(
            m.encode()
                .contains(r#"portcullis_connections_open{listener="https"} 1"#)
        );
        drop(g);
        assert!(
            m.encode()
                .contains(r#"portcullis_connections_open{listener="https"} 0"#)
        );
    }

    #[test]
    fn upstream_health_is_replaced_not_merged() {
        let m = Metrics::new("x");
        m.set_upstream_health(vec![
            ("api".into(), "http://a".into(), true),
            ("api".into(), "http://b".into(), false),
        ]);
        let t = m.encode();
        assert!(t.contains(r#"target="http://b"} 0"#), "{t}");
        m.set_upstream_health(vec![("api".into(), "http://a".into(), true)]);
        assert!(!m.encode().contains("http://b"));
    }
}
