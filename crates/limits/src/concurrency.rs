//! Caps on requests in flight per key (per consumer, per IP...) on a route.
//!
//! A permit is taken in the request phase and kept in the request context; it is returned
//! when the context is dropped, after the response has been sent and logged, so a slow client
//! reading a large response still counts.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use http::HeaderValue;
use portcullis_config::{ConcurrencySpec, KeyPart};
use portcullis_core::{Denial, Guard, GuardId, Phase, ProblemType, RequestCx, Step};

use crate::key::{build_key, compile_parts};
use crate::rate_guard::LimitSpecError;

const ID: GuardId = GuardId("concurrency");

/// In-flight counts by key, shared by all config versions.
#[derive(Debug, Default)]
pub struct InFlight {
    counts: Mutex<HashMap<String, u32>>,
}

impl InFlight {
    /// An empty table.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Requests of `key` in flight.
    pub fn count(&self, key: &str) -> u32 {
        self.counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .copied()
            .unwrap_or(0)
    }

    fn acquire(self: &Arc<Self>, key: String, max: u32) -> Option<Permit> {
        let mut map = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let n = map.entry(key.clone()).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(Permit {
            table: self.clone(),
            key,
        })
    }
}

/// One request's place; released on drop.
#[derive(Debug)]
pub struct Permit {
    table: Arc<InFlight>,
    key: String,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut map = self.table.counts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = map.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.key);
            }
        }
    }
}

/// Enforces a route's concurrency cap.
#[derive(Debug)]
pub struct ConcurrencyGuard {
    route: String,
    key: Vec<KeyPart>,
    max: u32,
    table: Arc<InFlight>,
}

impl ConcurrencyGuard {
    /// Compiles the cap of route `route`.
    pub fn new(
        route: &str,
        spec: &ConcurrencySpec,
        authenticated: bool,
        table: Arc<InFlight>,
    ) -> Result<Self, LimitSpecError> {
        let key = compile_parts(&spec.key, authenticated)?;
        Ok(Self {
            route: route.to_string(),
            key,
            max: spec.max_in_flight,
            table,
        })
    }
}

impl Guard for ConcurrencyGuard {
    fn id(&self) -> GuardId {
        ID
    }

    fn phases(&self) -> &'static [Phase] {
        &[Phase::Request]
    }

    fn on_request(&self, cx: &mut RequestCx, req: &mut http::request::Parts) -> Step {
        let mut key = String::with_capacity(48);
        key.push_str(&self.route);
        build_key(&mut key, &self.key, cx, &self.route, &req.headers);
        let label: Arc<str> = "in_flight".into();
        match self.table.acquire(key, self.max) {
            Some(permit) => {
                cx.extensions.insert(Arc::new(permit));
                cx.observe("concurrency", label, "allowed");
                Step::Continue
            }
            None => {
                cx.observe("concurrency", label, "limited");
                Step::Deny(
                    Denial::new(ProblemType::TooManyRequests, "concurrency_limited", ID)
                        .with_header(http::header::RETRY_AFTER, HeaderValue::from_static("1")),
                )
            }
        }
    }
}
