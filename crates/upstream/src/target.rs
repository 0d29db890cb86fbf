//! One target of an upstream and its health.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use http::Uri;
use http::uri::{Authority, Scheme};

/// A backend address with its health state.
pub(crate) struct Target {
    pub(crate) url: Arc<str>,
    pub(crate) scheme: Scheme,
    pub(crate) authority: Authority,
    /// Path prefix from the target URL (`""` or `/base`, no trailing slash).
    pub(crate) prefix: String,
    pub(crate) in_flight: Arc<AtomicUsize>,
    /// Active health: true until checks say otherwise.
    pub(crate) healthy: AtomicBool,
    check_failures: AtomicU32,
    check_successes: AtomicU32,
    /// Passive health.
    consecutive_failures: AtomicU32,
    ejected_until: Mutex<Option<Instant>>,
}

impl Target {
    pub(crate) fn parse(url: &str) -> Option<Self> {
        let uri: Uri = url.parse().ok()?;
        let scheme = uri.scheme()?.clone();
        let authority = uri.authority()?.clone();
        let prefix = uri.path().trim_end_matches('/').to_string();
        Some(Self {
            url: url.into(),
            scheme,
            authority,
            prefix,
            in_flight: Arc::new(AtomicUsize::new(0)),
            healthy: AtomicBool::new(true),
            check_failures: AtomicU32::new(0),
            check_successes: AtomicU32::new(0),
            consecutive_failures: AtomicU32::new(0),
            ejected_until: Mutex::new(None),
        })
    }

    /// The full URI for a request target (`/path?query`).
    pub(crate) fn uri_for(&self, path_and_query: &str) -> Option<Uri> {
        Uri::builder()
            .scheme(self.scheme.clone())
            .authority(self.authority.clone())
            .path_and_query(format!("{}{}", self.prefix, path_and_query))
            .build()
            .ok()
    }

    pub(crate) fn is_ejected(&self, now: Instant) -> bool {
        match self.ejected_until.lock() {
            Ok(mut until) => match *until {
                Some(t) if t > now => true,
                Some(_) => {
                    *until = None;
                    false
                }
                None => false,
            },
            Err(_) => false,
        }
    }

    pub(crate) fn available(&self, now: Instant) -> bool {
        self.healthy.load(Ordering::Relaxed) && !self.is_ejected(now)
    }

    /// Records the outcome of a proxied request (passive health).
    pub(crate) fn record(&self, ok: bool, threshold: u32, eject_for: Duration) {
        if ok {
            self.consecutive_failures.store(0, Ordering::Relaxed);
            return;
        }
        let n = self
            .consecutive_failures
            .fetch_add(1, Ordering::Relaxed)
            .saturating_add(1);
        if threshold > 0 && n >= threshold {
            if let Ok(mut until) = self.ejected_until.lock() {
                *until = Some(Instant::now() + eject_for);
            }
            self.consecutive_failures.store(0, Ordering::Relaxed);
            tracing::warn!(target = %self.url, ?eject_for, "upstream target ejected after consecutive failures");
        }
    }

    /// Records an active health check result.
    pub(crate) fn record_check(&self, ok: bool, unhealthy_after: u32, healthy_after: u32) {
        if ok {
            self.check_failures.store(0, Ordering::Relaxed);
            let n = self
                .check_successes
                .fetch_add(1, Ordering::Relaxed)
                .saturating_add(1);
            if n >= healthy_after && !self.healthy.swap(true, Ordering::Relaxed) {
                tracing::info!(target = %self.url, "upstream target healthy again");
            }
        } else {
            self.check_successes.store(0, Ordering::Relaxed);
            let n = self
                .check_failures
                .fetch_add(1, Ordering::Relaxed)
                .saturating_add(1);
            if n >= unhealthy_after && self.healthy.swap(false, Ordering::Relaxed) {
                tracing::warn!(target = %self.url, "upstream target unhealthy");
            }
        }
    }
}
