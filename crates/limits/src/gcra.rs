//! The generic cell rate algorithm (GCRA), as pure arithmetic on one key's state.
//!
//! A limit of `count` requests per `period` with a burst of `burst` has an emission interval
//! `T = period / count` and a tolerance `τ = T × (burst − 1)`. The only state per key is the
//! theoretical arrival time `TAT` (nanoseconds on the limiter's clock). A request at `now` is
//! admitted when `max(TAT, now) − τ ≤ now`, and then `TAT := max(TAT, now) + T`.
//!
//! So from idle exactly `burst` requests are admitted at once, then one every `T`. The same
//! arithmetic gives the `RateLimit` header values (how many more now, when full again) and
//! the throttling delay (when the next slot opens), so one state word serves all three.
//! A Redis implementation runs this exact arithmetic in a Lua script.

use std::time::Duration;

/// The parameters of one limit, in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Gcra {
    /// Emission interval `T`.
    pub interval_ns: u64,
    /// Tolerance `τ = T × (burst − 1)`.
    pub tolerance_ns: u64,
    /// Requests per period (for the `RateLimit-Policy` header).
    pub count: u32,
    /// The period.
    pub period: Duration,
    /// Requests admitted at once from idle.
    pub burst: u32,
}

/// The answer for one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// Admitted now.
    pub allowed: bool,
    /// Requests that would still be admitted right now after this one.
    pub remaining: u32,
    /// Until the key is back to a full burst.
    pub reset_after: Duration,
    /// Refused: how long until a request would be admitted. Zero when admitted.
    pub retry_after: Duration,
}

impl Gcra {
    /// `count` requests per `period` with `burst` at once. `count` and `burst` are at least 1;
    /// `T` is rounded down to whole nanoseconds.
    pub fn new(count: u32, period: Duration, burst: u32) -> Self {
        let count = count.max(1);
        let burst = burst.max(1);
        let period_ns = u64::try_from(period.as_nanos()).unwrap_or(u64::MAX);
        let interval_ns = (period_ns / u64::from(count)).max(1);
        Self {
            interval_ns,
            tolerance_ns: interval_ns.saturating_mul(u64::from(burst - 1)),
            count,
            period,
            burst,
        }
    }

    /// Decides a request at `now` for a key whose state is `tat` (`None`: never seen).
    /// Returns the verdict and the new state (unchanged when refused).
    pub fn check(&self, tat: Option<u64>, now: u64) -> (Verdict, u64) {
        let tat = tat.unwrap_or(now).max(now);
        let allow_at = tat.saturating_sub(self.tolerance_ns);
        if allow_at > now {
            let verdict = Verdict {
                allowed: false,
                remaining: 0,
                reset_after: Duration::from_nanos(tat - now),
                retry_after: Duration::from_nanos(allow_at - now),
            };
            return (verdict, tat);
        }
        let new_tat = tat.saturating_add(self.interval_ns);
        (
            Verdict {
                allowed: true,
                remaining: self.remaining(new_tat, now),
                reset_after: Duration::from_nanos(new_tat - now),
                retry_after: Duration::ZERO,
            },
            new_tat,
        )
    }

    /// Throttling: admits the request after a delay of at most `max_wait`, reserving its slot
    /// now so later requests queue behind it. Returns the delay and the new state, or `None`
    /// (state unchanged) when the wait would be longer or `max_queue` requests already wait.
    pub fn reserve(
        &self,
        tat: Option<u64>,
        now: u64,
        max_wait: Duration,
        max_queue: u32,
    ) -> Option<(Duration, u64)> {
        let tat = tat.unwrap_or(now).max(now);
        let allow_at = tat.saturating_sub(self.tolerance_ns);
        let wait_ns = allow_at.saturating_sub(now);
        let max_wait_ns = u64::try_from(max_wait.as_nanos()).unwrap_or(u64::MAX);
        if wait_ns > max_wait_ns {
            return None;
        }
        // Requests already waiting: every T of wait is one reservation ahead of this one.
        if wait_ns > 0 && wait_ns.div_ceil(self.interval_ns) > u64::from(max_queue) {
            return None;
        }
        Some((
            Duration::from_nanos(wait_ns),
            tat.saturating_add(self.interval_ns),
        ))
    }

    /// Requests admissible at `now` given state `tat`.
    pub fn remaining(&self, tat: u64, now: u64) -> u32 {
        let used = tat.saturating_sub(now);
        if used > self.tolerance_ns.saturating_add(self.interval_ns) {
            return 0;
        }
        let free = self.tolerance_ns.saturating_add(self.interval_ns) - used;
        u32::try_from(free / self.interval_ns).unwrap_or(u32::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    #[test]
    fn from_idle_admits_exactly_the_burst() {
        let g = Gcra::new(10, Duration::from_secs(1), 5);
        let mut tat = None;
        let mut admitted = 0;
        for _ in 0..20 {
            let (v, t) = g.check(tat, 100 * S);
            tat = Some(t);
            if v.allowed {
                admitted += 1;
            }
        }
        assert_eq!(admitted, 5);
    }

    #[test]
    fn remaining_counts_down_to_zero() {
        let g = Gcra::new(1, Duration::from_secs(1), 3);
        let (v1, t) = g.check(None, S);
        assert_eq!(v1.remaining, 2);
        let (v2, t) = g.check(Some(t), S);
        assert_eq!(v2.remaining, 1);
        let (v3, t) = g.check(Some(t), S);
        assert_eq!(v3.remaining, 0);
        let (v4, _) = g.check(Some(t), S);
        assert!(!v4.allowed);
        assert_eq!(v4.retry_after, Duration::from_secs(1));
        assert_eq!(v4.reset_after, Duration::from_secs(3));
    }

    #[test]
    fn reserve_queues_behind_earlier_reservations() {
        let g = Gcra::new(1, Duration::from_secs(1), 1);
        let (_, t) = g.check(None, S);
        let (d1, t) = g
            .reserve(Some(t), S, Duration::from_secs(5), 10)
            .expect("first");
        assert_eq!(d1, Duration::from_secs(1));
        let (d2, t) = g
            .reserve(Some(t), S, Duration::from_secs(5), 10)
            .expect("second");
        assert_eq!(d2, Duration::from_secs(2));
        assert!(
            g.reserve(Some(t), S, Duration::from_millis(2500), 10)
                .is_none()
        );
        assert!(g.reserve(Some(t), S, Duration::from_secs(5), 2).is_none());
    }
}
