//! The firewall as a [`Guard`] of the request pipeline, in the body phase (the gateway
//! buffers the body before `on_body`, so the head and the body are inspected together).

use std::sync::Arc;

use bytes::Bytes;
use portcullis_core::{Decision, Denial, Guard, GuardId, Phase, ProblemType, RequestCx, Step};
use serde::Serialize;

use crate::engine::Firewall;
use crate::location::Location;
use crate::rules::Category;
use crate::scoring::Verdict;
use crate::spec::FirewallMode;

const ID: GuardId = GuardId("firewall");

/// A schema hint: true for a location whose value is already constrained (integer, enum,
/// UUID, date) by a schema check of this request (which operation matched is in the
/// context), so the firewall skips it.
pub type SchemaHint = Arc<dyn Fn(&RequestCx, &Location) -> bool + Send + Sync>;

/// The log target of security events (shared with authentication's lockout events).
pub const SECURITY_TARGET: &str = "portcullis::security";

/// What the firewall found, left in `RequestCx::extensions` for the metrics (the gateway
/// counts every match by rule and category when the request ends) and for the problem writer
/// (whose 403 body lists [`FirewallFindings::public_details`]).
#[derive(Clone, Debug)]
pub struct FirewallFindings {
    /// The full verdict, excerpts included: for logs only.
    pub verdict: Verdict,
    /// What the verdict did to the request: `blocked`, `detected` (over the threshold in
    /// detect-only mode) or `scored` (matches under the threshold).
    pub action: &'static str,
}

/// The client-safe part of a finding: no submitted value, no excerpt.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct PublicFinding {
    /// Rule id.
    pub rule: String,
    /// Attack class.
    pub category: Category,
    /// Where (the parameter name is the client's own, so it is safe to echo).
    pub location: String,
}

impl FirewallFindings {
    /// What a 403 problem body may say: rule ids, categories and locations, never values.
    pub fn public_details(&self) -> Vec<PublicFinding> {
        let mut out: Vec<PublicFinding> = Vec::new();
        for m in &self.verdict.matches {
            let f = PublicFinding {
                rule: m.rule_id.clone(),
                category: m.category,
                location: truncate(&m.location.to_string(), 80),
            };
            if !out.contains(&f) {
                out.push(f);
            }
        }
        out
    }
}

fn truncate(s: &str, max: usize) -> String {
    s.chars()
        .take(max)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// Runs a compiled [`Firewall`] on every request of a route.
#[derive(Clone)]
pub struct FirewallGuard {
    firewall: Arc<Firewall>,
    hint: Option<SchemaHint>,
}

impl std::fmt::Debug for FirewallGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FirewallGuard")
            .field("mode", &self.firewall.mode())
            .field("hint", &self.hint.is_some())
            .finish()
    }
}

impl FirewallGuard {
    /// A guard over a compiled firewall.
    pub fn new(firewall: Arc<Firewall>) -> Self {
        Self {
            firewall,
            hint: None,
        }
    }

    /// Skips locations the route's schema already constrains.
    pub fn with_schema_hint(mut self, hint: SchemaHint) -> Self {
        self.hint = Some(hint);
        self
    }
}

impl Guard for FirewallGuard {
    fn id(&self) -> GuardId {
        ID
    }

    fn phases(&self) -> &'static [Phase] {
        &[Phase::Body]
    }

    fn on_body(&self, cx: &mut RequestCx, req: &http::request::Parts, body: &Bytes) -> Step {
        let verdict = match &self.hint {
            Some(h) => {
                let cx_ref: &RequestCx = cx;
                self.firewall.inspect_with(req, body, &|l| h(cx_ref, l))
            }
            None => self.firewall.inspect(req, body),
        };
        if verdict.matches.is_empty() {
            return Step::Continue;
        }
        let over = verdict.over_threshold;
        let action = match (over, self.firewall.mode()) {
            (true, FirewallMode::Block) => "blocked",
            (true, _) => "detected",
            (false, _) => "scored",
        };
        log_evidence(cx, &verdict, action);
        cx.extensions.insert(FirewallFindings { verdict, action });
        if !over {
            return Step::Continue;
        }
        match self.firewall.mode() {
            FirewallMode::Block => {
                let details = cx
                    .extensions
                    .get::<FirewallFindings>()
                    .map(FirewallFindings::public_details)
                    .unwrap_or_default();
                if let Ok(v) = serde_json::to_value(details) {
                    let mut members = serde_json::Map::new();
                    members.insert("findings".into(), v);
                    cx.extensions
                        .insert(portcullis_core::ProblemMembers(Arc::new(members)));
                }
                Step::Deny(Denial::new(ProblemType::Forbidden, "firewall_blocked", ID))
            }
            FirewallMode::Off => Step::Continue,
            FirewallMode::DetectOnly => {
                cx.would_deny.push(Decision {
                    guard: ID,
                    verdict: "would_deny",
                    reason: "firewall_blocked",
                });
                Step::Continue
            }
        }
    }
}

/// The audit record of a request the firewall matched: one security event with every match's
/// rule, category, severity, location and redacted excerpt (at most 40 characters and half
/// the value, see [`crate::Match::excerpt`]), never the whole value. Warn level when the
/// verdict blocked or would have blocked, info when the matches stayed under the threshold.
fn log_evidence(cx: &RequestCx, verdict: &Verdict, action: &'static str) {
    let route = cx.route.as_ref().map_or("-", |r| r.as_str());
    let findings = serde_json::to_string(&verdict.matches).unwrap_or_default();
    if verdict.over_threshold {
        tracing::warn!(target: SECURITY_TARGET, event = "firewall_match", action, route, request_id = cx.request_id.as_str(), client_ip = %cx.client_ip, score = verdict.score, findings, "firewall rules matched");
    } else {
        tracing::info!(target: SECURITY_TARGET, event = "firewall_match", action, route, request_id = cx.request_id.as_str(), client_ip = %cx.client_ip, score = verdict.score, findings, "firewall rules matched below the threshold");
    }
}
