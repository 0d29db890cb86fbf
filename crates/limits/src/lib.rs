//! Abuse control: how much of an API each consumer, key, IP or header value may use.
//!
//! - [`gcra`]: the rate arithmetic (one state word per key), exact and clock-injectable;
//! - [`keyed`]: per-key state with bounded memory (attackers choose keys);
//! - [`RateLimitGuard`]: per-route limits with plans, `RateLimit` headers and throttling;
//! - [`QuotaGuard`]: calendar quotas persisted in the store;
//! - [`ConcurrencyGuard`]: requests in flight per key;
//! - [`TierGuard`]: stricter tiers for networks and countries (GeoIP).
//!
//! State lives in [`LimitState`], which outlives config versions: a reload keeps counts.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod clock;
pub mod concurrency;
pub mod gcra;
pub mod key;
pub mod keyed;
pub mod quota;
pub mod rate_guard;
pub mod tier;

use std::sync::Arc;

pub use concurrency::{ConcurrencyGuard, InFlight};
pub use quota::{QuotaGuard, QuotaState};
pub use rate_guard::{LimitSpecError, RateLimitGuard};
pub use tier::{Tier, TierGuard, Tiers};

/// Default cap on rate-limit keys held in memory.
pub const DEFAULT_MAX_KEYS: usize = 1_000_000;

/// Limit state shared by every config version of one gateway process.
#[derive(Debug, Clone)]
pub struct LimitState {
    /// GCRA state of every rate limit.
    pub rates: Arc<keyed::KeyedLimiter>,
    /// Concurrency counts.
    pub in_flight: Arc<InFlight>,
}

impl LimitState {
    /// Fresh state on the process's monotonic clock.
    pub fn new() -> Self {
        Self::with_clock(Arc::new(clock::MonotonicClock::new()))
    }

    /// Fresh state on `clock` (tests).
    pub fn with_clock(clock: Arc<dyn clock::Clock>) -> Self {
        Self {
            rates: Arc::new(keyed::KeyedLimiter::new(DEFAULT_MAX_KEYS, clock)),
            in_flight: InFlight::new(),
        }
    }
}

impl Default for LimitState {
    fn default() -> Self {
        Self::new()
    }
}
