//! The rate-limit guard: every configured limit of a route, GCRA per key, with the IETF
//! `RateLimit` / `RateLimit-Policy` headers, `Retry-After`, and throttling.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderName, HeaderValue};
use portcullis_config::{KeyPart, RateLimitSpec, parse_rate};
use portcullis_core::{Denial, Guard, GuardId, Phase, ProblemType, RequestCx, Step};

use crate::gcra::{Gcra, Verdict};
use crate::key::{build_key, compile_parts, limit_name};
use crate::keyed::{KeyedLimiter, Throttled};

const ID: GuardId = GuardId("rate_limit");

/// `RateLimit-Policy` (draft-ietf-httpapi-ratelimit-headers).
pub static RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
/// `RateLimit`.
pub static RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");

/// One compiled limit.
#[derive(Debug)]
struct Limit {
    name: String,
    label: Arc<str>,
    key: Vec<KeyPart>,
    default: Gcra,
    plans: HashMap<String, Gcra>,
    tiers: HashMap<String, Gcra>,
    throttle: Option<(Duration, u32)>,
}

/// The values of the most constraining limit, kept for the response headers.
#[derive(Clone, Debug)]
struct Headers {
    policy: HeaderValue,
    state: HeaderValue,
}

/// Enforces a route's rate limits.
#[derive(Debug)]
pub struct RateLimitGuard {
    route: String,
    limits: Vec<Limit>,
    table: Arc<KeyedLimiter>,
}

/// The spec could not be compiled (validation normally catches this first).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct LimitSpecError(pub String);

fn gcra(rate: &str, burst: Option<u32>) -> Result<Gcra, LimitSpecError> {
    let (count, period) = parse_rate(rate).map_err(LimitSpecError)?;
    Ok(Gcra::new(count, period, burst.unwrap_or(count)))
}

impl RateLimitGuard {
    /// Compiles the limits of route `route`. State lives in `table`, shared across config
    /// versions so that a reload does not hand every client a fresh burst.
    pub fn new(
        route: &str,
        specs: &[RateLimitSpec],
        authenticated: bool,
        table: Arc<KeyedLimiter>,
    ) -> Result<Self, LimitSpecError> {
        let mut limits = Vec::with_capacity(specs.len());
        for (i, s) in specs.iter().enumerate() {
            let key = compile_parts(&s.key, authenticated)?;
            let mut plans = HashMap::new();
            for (plan, p) in &s.plans {
                plans.insert(plan.clone(), gcra(&p.rate, p.burst)?);
            }
            let mut tiers = HashMap::new();
            for (tier, p) in &s.tiers {
                tiers.insert(tier.clone(), gcra(&p.rate, p.burst)?);
            }
            let name = limit_name(s.name.as_ref(), "limit", i)?;
            limits.push(Limit {
                label: name.as_str().into(),
                name,
                key,
                default: gcra(&s.rate, s.burst)?,
                plans,
                tiers,
                throttle: s.throttle.as_ref().map(|t| (t.max_wait.get(), t.max_queue)),
            });
        }
        Ok(Self {
            route: route.to_string(),
            limits,
            table,
        })
    }
}

fn secs_ceil(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

fn headers_for(limit: &Limit, gcra: &Gcra, v: &Verdict) -> Headers {
    let policy = format!(
        "\"{}\";q={};w={}",
        limit.name,
        gcra.count,
        secs_ceil(gcra.period).max(1)
    );
    let state = format!(
        "\"{}\";r={};t={}",
        limit.name,
        v.remaining,
        secs_ceil(v.reset_after)
    );
    // Names are checked at compile time; these are digits and quotes only otherwise.
    Headers {
        policy: HeaderValue::from_str(&policy).unwrap_or(HeaderValue::from_static("")),
        state: HeaderValue::from_str(&state).unwrap_or(HeaderValue::from_static("")),
    }
}

impl Guard for RateLimitGuard {
    fn id(&self) -> GuardId {
        ID
    }

    fn phases(&self) -> &'static [Phase] {
        &[Phase::Request, Phase::Response]
    }

    fn on_request(&self, cx: &mut RequestCx, req: &mut http::request::Parts) -> Step {
        let plan = cx.identity.as_ref().and_then(|i| i.plan.clone());
        let tier = cx
            .extensions
            .get::<crate::tier::Tier>()
            .map(|t| t.0.clone());
        let mut tightest: Option<(u32, Headers)> = None;
        let mut delay = Duration::ZERO;
        let mut key = String::with_capacity(64);
        for limit in &self.limits {
            // A tier (suspicious source) overrides the plan: a stolen gold key used from a
            // blocked network still gets the tier's limit.
            let gcra = tier
                .as_deref()
                .and_then(|t| limit.tiers.get(t))
                .or_else(|| plan.as_deref().and_then(|p| limit.plans.get(p)))
                .unwrap_or(&limit.default);
            key.clear();
            key.push_str(&self.route);
            key.push('#');
            key.push_str(&limit.name);
            build_key(&mut key, &limit.key, cx, &self.route, &req.headers);
            let mut outcome = "allowed";
            let verdict = match limit.throttle {
                None => self.table.check(gcra, &key),
                Some((max_wait, max_queue)) => {
                    match self.table.throttle(gcra, &key, max_wait, max_queue) {
                        Throttled::Now(v) => v,
                        Throttled::After(d) => {
                            outcome = "throttled";
                            delay = delay.max(d);
                            Verdict {
                                allowed: true,
                                remaining: 0,
                                reset_after: d + Duration::from_nanos(
                                    gcra.tolerance_ns + gcra.interval_ns,
                                ),
                                retry_after: Duration::ZERO,
                            }
                        }
                        Throttled::Refused(v) => v,
                    }
                }
            };
            let headers = headers_for(limit, gcra, &verdict);
            cx.observe(
                "rate_limit",
                limit.label.clone(),
                if verdict.allowed { outcome } else { "limited" },
            );
            if !verdict.allowed {
                let retry = secs_ceil(verdict.retry_after).max(1);
                let denial = Denial::new(ProblemType::TooManyRequests, "rate_limited", ID)
                    .with_header(http::header::RETRY_AFTER, HeaderValue::from(retry))
                    .with_header(RATELIMIT_POLICY.clone(), headers.policy)
                    .with_header(RATELIMIT.clone(), headers.state);
                return Step::Deny(denial);
            }
            if tightest
                .as_ref()
                .is_none_or(|(r, _)| verdict.remaining < *r)
            {
                tightest = Some((verdict.remaining, headers));
            }
        }
        if let Some((_, h)) = tightest {
            cx.extensions.insert(h);
        }
        if delay > Duration::ZERO {
            return Step::Delay(delay);
        }
        Step::Continue
    }

    fn on_response(&self, cx: &mut RequestCx, resp: &mut http::response::Parts) -> Step {
        if let Some(h) = cx.extensions.remove::<Headers>() {
            resp.headers.append(RATELIMIT_POLICY.clone(), h.policy);
            resp.headers.append(RATELIMIT.clone(), h.state);
        }
        Step::Continue
    }
}
