//! The limiter admits exactly what GCRA arithmetic says, at window boundaries and over time.

use std::sync::Arc;
use std::time::Duration;

use portcullis_limits::clock::ManualClock;
use portcullis_limits::gcra::Gcra;
use portcullis_limits::keyed::{KeyedLimiter, Throttled};
use proptest::prelude::*;

const MS: u64 = 1_000_000;

proptest! {
    /// Hammering a key every millisecond from idle admits `burst` at once and then exactly one
    /// per emission interval: `burst + floor(t / T)` by time `t`.
    #[test]
    fn hammering_admits_burst_plus_one_per_interval(
        interval_ms in 1u64..50,
        burst in 1u32..20,
        duration_ms in 0u64..2000,
    ) {
        let clock = ManualClock::at(10_000 * MS);
        let limiter = KeyedLimiter::new(1000, Arc::new(clock.clone()));
        // count/period chosen so that T = interval_ms exactly.
        let g = Gcra::new(1000, Duration::from_millis(interval_ms * 1000), burst);
        prop_assert_eq!(g.interval_ns, interval_ms * MS);
        let mut admitted = 0u64;
        for t in 0..=duration_ms {
            // More attempts at each instant than the burst could ever admit: only the
            // arithmetic decides.
            for _ in 0..burst + 2 {
                if limiter.check(&g, "k").allowed {
                    admitted += 1;
                }
            }
            if t < duration_ms {
                clock.advance(Duration::from_millis(1));
            }
        }
        prop_assert_eq!(admitted, u64::from(burst) + duration_ms / interval_ms);
    }

    /// After any idle gap at least as long as `burst × T`, a full burst is available again.
    #[test]
    fn idle_restores_the_full_burst(burst in 1u32..30, extra_ms in 0u64..100) {
        let clock = ManualClock::at(MS);
        let limiter = KeyedLimiter::new(1000, Arc::new(clock.clone()));
        let g = Gcra::new(10, Duration::from_secs(1), burst);
        let first = (0..100).filter(|_| limiter.check(&g, "k").allowed).count();
        prop_assert_eq!(first, burst as usize);
        clock.advance(Duration::from_millis(100 * u64::from(burst) + extra_ms));
        let second = (0..100).filter(|_| limiter.check(&g, "k").allowed).count();
        prop_assert_eq!(second, burst as usize);
    }
}

#[test]
fn one_nanosecond_before_the_boundary_is_refused_and_at_it_admitted() {
    let clock = ManualClock::at(MS);
    let limiter = KeyedLimiter::new(10, Arc::new(clock.clone()));
    let g = Gcra::new(1, Duration::from_secs(1), 1);
    assert!(limiter.check(&g, "k").allowed);
    clock.advance(Duration::from_nanos(999_999_999));
    let v = limiter.check(&g, "k");
    assert!(!v.allowed);
    assert_eq!(v.retry_after, Duration::from_nanos(1));
    clock.advance(Duration::from_nanos(1));
    assert!(limiter.check(&g, "k").allowed);
}

#[test]
fn throttling_delays_each_request_by_one_more_interval_and_bounds_the_queue() {
    let clock = ManualClock::at(MS);
    let limiter = KeyedLimiter::new(10, Arc::new(clock.clone()));
    let g = Gcra::new(4, Duration::from_secs(1), 2); // T = 250 ms, burst 2
    let wait = Duration::from_secs(1);
    let mut got = Vec::new();
    for _ in 0..8 {
        got.push(limiter.throttle(&g, "k", wait, 3));
    }
    assert!(matches!(got[0], Throttled::Now(_)));
    assert!(matches!(got[1], Throttled::Now(_)));
    assert_eq!(got[2], Throttled::After(Duration::from_millis(250)));
    assert_eq!(got[3], Throttled::After(Duration::from_millis(500)));
    assert_eq!(got[4], Throttled::After(Duration::from_millis(750)));
    // A fourth waiter would exceed max_queue = 3.
    assert!(matches!(got[5], Throttled::Refused(_)));
    // With time passing the queue drains and reservations are honoured in order.
    clock.advance(Duration::from_millis(750));
    assert!(
        matches!(limiter.throttle(&g, "k", wait, 3), Throttled::After(d) if d == Duration::from_millis(250))
    );
}
