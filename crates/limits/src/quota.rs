//! Calendar quotas (per day or month in a time zone), counted in memory and persisted in the
//! store so that a restart does not reset them.
//!
//! The request path never writes to the store: it increments an in-memory counter and marks
//! the delta pending; a flusher writes pending deltas once a second and at shutdown
//! ([`QuotaState::flush`]). A crash loses at most the last second of counts. The first
//! request of a key in a window reads the persisted count off the async workers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use http::HeaderValue;
use jiff::{Timestamp, ToSpan, Zoned, tz::TimeZone};
use portcullis_config::{KeyPart, QuotaPeriod, QuotaSpec};
use portcullis_core::{Denial, Guard, GuardId, Phase, ProblemType, RequestCx, Step};
use portcullis_store::Store;

use crate::key::{build_key, compile_parts, limit_name};
use crate::rate_guard::{LimitSpecError, RATELIMIT, RATELIMIT_POLICY};

const ID: GuardId = GuardId("quota");

/// Most counters held in memory; beyond it, persisted idle counters are dropped first.
const MAX_COUNTERS: usize = 200_000;

#[derive(Debug, Default)]
struct Counter {
    used: u64,
    pending: u64,
}

/// Counters of every quota, shared by all config versions.
pub struct QuotaState {
    store: Arc<dyn Store>,
    counters: Mutex<HashMap<(String, String), Counter>>,
    /// Wall clock override for tests (seconds since the epoch).
    now_override: Mutex<Option<Timestamp>>,
}

impl std::fmt::Debug for QuotaState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QuotaState").finish_non_exhaustive()
    }
}

impl QuotaState {
    /// Counters persisted in `store`.
    pub fn new(store: Arc<dyn Store>) -> Arc<Self> {
        Arc::new(Self {
            store,
            counters: Mutex::new(HashMap::new()),
            now_override: Mutex::new(None),
        })
    }

    /// Pins the wall clock (tests of window boundaries).
    pub fn set_now(&self, now: Option<Timestamp>) {
        *self.now_override.lock().unwrap_or_else(|p| p.into_inner()) = now;
    }

    fn now(&self) -> Timestamp {
        self.now_override
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .unwrap_or_else(Timestamp::now)
    }

    /// Writes pending counts to the store (blocking: call from a blocking thread). Counters of
    /// windows other than the current ones are dropped once written.
    pub fn flush(&self) -> Result<(), portcullis_store::StoreError> {
        let deltas: Vec<(String, String, u64)> = {
            let mut map = self.counters.lock().unwrap_or_else(|p| p.into_inner());
            map.iter_mut()
                .filter(|(_, c)| c.pending > 0)
                .map(|((k, w), c)| {
                    let d = c.pending;
                    c.pending = 0;
                    (k.clone(), w.clone(), d)
                })
                .collect()
        };
        if deltas.is_empty() {
            return Ok(());
        }
        if let Err(e) = self.store.quota_add(&deltas) {
            // Put the counts back so the next flush retries them.
            let mut map = self.counters.lock().unwrap_or_else(|p| p.into_inner());
            for (k, w, d) in deltas {
                map.entry((k, w)).or_default().pending += d;
            }
            return Err(e);
        }
        Ok(())
    }

    /// Starts the once-a-second flusher on the current Tokio runtime. It stops when the state
    /// is dropped.
    pub fn start_flusher(self: &Arc<Self>) {
        portcullis_core::periodic::every_second_on_blocking_pool(self, Self::flush, |e| {
            tracing::error!(error = %e, "quota counts could not be written; retrying");
        });
    }

    /// Counts one request against every `(key, window, limit)` if all allow it, under one
    /// lock, so a request refused by one quota is not counted by the others.
    fn take_all(&self, wanted: &[Wanted]) -> Take {
        let mut map = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        let missing: Vec<usize> = wanted
            .iter()
            .enumerate()
            .filter(|(_, w)| !map.contains_key(&(w.key.clone(), w.window.clone())))
            .map(|(i, _)| i)
            .collect();
        if !missing.is_empty() {
            return Take::Missing(missing);
        }
        for (i, w) in wanted.iter().enumerate() {
            if map
                .get(&(w.key.clone(), w.window.clone()))
                .is_some_and(|c| c.used >= w.limit)
            {
                return Take::Exhausted(i);
            }
        }
        let mut remaining = Vec::with_capacity(wanted.len());
        for w in wanted {
            if let Some(c) = map.get_mut(&(w.key.clone(), w.window.clone())) {
                c.used += 1;
                c.pending += 1;
                remaining.push(w.limit.saturating_sub(c.used));
            }
        }
        Take::Taken(remaining)
    }

    /// Usage of keys containing `fragment` in memory (not yet flushed counts included), merged
    /// with the store: `(key, window, used)`.
    pub fn usage(
        &self,
        fragment: &str,
    ) -> Result<Vec<(String, String, u64)>, portcullis_store::StoreError> {
        let mut rows = self.store.quota_usage(fragment)?;
        let map = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        for ((k, w), c) in map.iter() {
            if !k.contains(fragment) {
                continue;
            }
            match rows.iter_mut().find(|(rk, rw, _)| rk == k && rw == w) {
                Some(row) => row.2 = row.2.max(c.used),
                None => rows.push((k.clone(), w.clone(), c.used)),
            }
        }
        Ok(rows)
    }

    /// Installs the persisted count of a key (if no request installed it meanwhile).
    fn load(&self, key: &str, window: &str, persisted: u64) {
        let mut map = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_COUNTERS {
            map.retain(|_, c| c.pending > 0);
        }
        map.entry((key.to_string(), window.to_string()))
            .or_insert(Counter {
                used: persisted,
                pending: 0,
            });
    }
}

struct Quota {
    name: String,
    label: Arc<str>,
    key: Vec<KeyPart>,
    per: QuotaPeriod,
    limit: u64,
    plans: HashMap<String, u64>,
    tiers: HashMap<String, u64>,
    tz: TimeZone,
}

/// Enforces a route's quotas.
pub struct QuotaGuard {
    route: String,
    quotas: Arc<[Quota]>,
    state: Arc<QuotaState>,
}

impl std::fmt::Debug for QuotaGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QuotaGuard")
            .field("route", &self.route)
            .finish_non_exhaustive()
    }
}

/// The calendar window containing `now` in `tz`: its label and the seconds until it ends.
pub fn window(per: QuotaPeriod, tz: &TimeZone, now: Timestamp) -> (String, u64) {
    let zoned: Zoned = now.to_zoned(tz.clone());
    let (label, next) = match per {
        QuotaPeriod::Day => (
            zoned.strftime("%Y-%m-%d").to_string(),
            zoned.date().checked_add(1.day()),
        ),
        QuotaPeriod::Month => (
            zoned.strftime("%Y-%m").to_string(),
            zoned.date().first_of_month().checked_add(1.month()),
        ),
    };
    let left = next
        .ok()
        .and_then(|d| d.to_zoned(tz.clone()).ok())
        .map(|z| z.timestamp().as_second() - now.as_second())
        .and_then(|s| u64::try_from(s).ok())
        .unwrap_or(86_400);
    (label, left.max(1))
}

#[derive(Clone)]
struct QuotaHeaders(Vec<HeaderValue>, Vec<HeaderValue>);

impl QuotaGuard {
    /// Compiles the quotas of route `route`.
    pub fn new(
        route: &str,
        specs: &[QuotaSpec],
        authenticated: bool,
        state: Arc<QuotaState>,
    ) -> Result<Self, LimitSpecError> {
        let mut quotas = Vec::new();
        for (i, s) in specs.iter().enumerate() {
            let key = compile_parts(&s.key, authenticated)?;
            let tz = TimeZone::get(&s.time_zone)
                .map_err(|e| LimitSpecError(format!("time zone `{}`: {e}", s.time_zone)))?;
            let name = limit_name(s.name.as_ref(), "quota", i)?;
            quotas.push(Quota {
                label: name.as_str().into(),
                name,
                key,
                per: s.per,
                limit: s.limit,
                plans: s.plans.clone().into_iter().collect(),
                tiers: s.tiers.clone().into_iter().collect(),
                tz,
            });
        }
        Ok(Self {
            route: route.to_string(),
            quotas: quotas.into(),
            state,
        })
    }

    fn decide(
        route: &str,
        quotas: &Arc<[Quota]>,
        state: &Arc<QuotaState>,
        cx: &mut RequestCx,
        headers: &http::HeaderMap,
    ) -> Step {
        let now = state.now();
        let plan = cx.identity.as_ref().and_then(|i| i.plan.clone());
        let tier = cx
            .extensions
            .get::<crate::tier::Tier>()
            .map(|t| t.0.clone());
        let mut wanted = Vec::with_capacity(quotas.len());
        for q in quotas.iter() {
            let limit = tier
                .as_deref()
                .and_then(|t| q.tiers.get(t).copied())
                .or_else(|| plan.as_deref().and_then(|p| q.plans.get(p).copied()))
                .unwrap_or(q.limit);
            let mut key = String::with_capacity(48);
            key.push_str(&q.name);
            build_key(&mut key, &q.key, cx, route, headers);
            let (window, left) = window(q.per, &q.tz, now);
            wanted.push(Wanted {
                key,
                window,
                limit,
                left,
            });
        }
        match state.take_all(&wanted) {
            Take::Taken(remaining) => {
                for q in quotas.iter() {
                    cx.observe("quota", q.label.clone(), "allowed");
                }
                let mut policy = Vec::new();
                let mut status = Vec::new();
                for ((q, w), r) in quotas.iter().zip(&wanted).zip(remaining) {
                    policy.extend(
                        HeaderValue::from_str(&format!(
                            "\"{}\";q={};w={}",
                            q.name, w.limit, w.left
                        ))
                        .ok(),
                    );
                    status.extend(
                        HeaderValue::from_str(&format!("\"{}\";r={r};t={}", q.name, w.left)).ok(),
                    );
                }
                cx.extensions.insert(QuotaHeaders(policy, status));
                Step::Continue
            }
            Take::Exhausted(i) => {
                if let Some(q) = quotas.get(i) {
                    cx.observe("quota", q.label.clone(), "exhausted");
                }
                let (Some(q), Some(w)) = (quotas.get(i), wanted.get(i)) else {
                    return Step::Deny(Denial::new(
                        ProblemType::TooManyRequests,
                        "quota_exhausted",
                        ID,
                    ));
                };
                let mut denial = Denial::new(ProblemType::TooManyRequests, "quota_exhausted", ID)
                    .with_header(http::header::RETRY_AFTER, HeaderValue::from(w.left));
                if let (Ok(p), Ok(s)) = (
                    HeaderValue::from_str(&format!("\"{}\";q={};w={}", q.name, w.limit, w.left)),
                    HeaderValue::from_str(&format!("\"{}\";r=0;t={}", q.name, w.left)),
                ) {
                    denial = denial
                        .with_header(RATELIMIT_POLICY.clone(), p)
                        .with_header(RATELIMIT.clone(), s);
                }
                Step::Deny(denial)
            }
            Take::Missing(missing) => {
                let to_load: Vec<(String, String)> = missing
                    .iter()
                    .filter_map(|&i| wanted.get(i))
                    .map(|w| (w.key.clone(), w.window.clone()))
                    .collect();
                let state = state.clone();
                let quotas = quotas.clone();
                let route = route.to_string();
                let headers = headers.clone();
                Step::Wait(Box::pin(async move {
                    let reader = state.clone();
                    let read = tokio::task::spawn_blocking(move || {
                        to_load
                            .into_iter()
                            .map(|(k, w)| reader.store.quota_used(&k, &w).map(|u| (k, w, u)))
                            .collect::<Result<Vec<_>, _>>()
                    })
                    .await;
                    let resume: portcullis_core::Resume = match read {
                        Ok(Ok(rows)) => {
                            for (k, w, used) in rows {
                                state.load(&k, &w, used);
                            }
                            Box::new(move |cx: &mut RequestCx| {
                                Self::decide(&route, &quotas, &state, cx, &headers)
                            })
                        }
                        _ => {
                            tracing::error!("quota store unavailable");
                            Box::new(|_| {
                                Step::Deny(Denial::new(
                                    ProblemType::ServiceUnavailable,
                                    "store_unavailable",
                                    ID,
                                ))
                            })
                        }
                    };
                    resume
                }))
            }
        }
    }
}

struct Wanted {
    key: String,
    window: String,
    limit: u64,
    left: u64,
}

enum Take {
    Taken(Vec<u64>),
    Exhausted(usize),
    Missing(Vec<usize>),
}

impl Guard for QuotaGuard {
    fn id(&self) -> GuardId {
        ID
    }

    fn phases(&self) -> &'static [Phase] {
        &[Phase::Request, Phase::Response]
    }

    fn on_request(&self, cx: &mut RequestCx, req: &mut http::request::Parts) -> Step {
        Self::decide(&self.route, &self.quotas, &self.state, cx, &req.headers)
    }

    fn on_response(&self, cx: &mut RequestCx, resp: &mut http::response::Parts) -> Step {
        if let Some(QuotaHeaders(policy, status)) = cx.extensions.remove::<QuotaHeaders>() {
            for p in policy {
                resp.headers.append(RATELIMIT_POLICY.clone(), p);
            }
            for s in status {
                resp.headers.append(RATELIMIT.clone(), s);
            }
        }
        Step::Continue
    }
}
