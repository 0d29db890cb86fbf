//! Brute-force lockout, reusable by any guard that checks a guessable secret (Basic passwords
//! and TOTP codes today; API keys or HMAC signatures can share it).
//!
//! Failures are counted per key (the caller chooses keys such as `user:alice` or
//! `ip:203.0.113.7`) in a sliding window. When a key reaches its threshold within the window it
//! is locked for `base_lockout`, doubling with every further lockout of the same key up to
//! `max_lockout`; a success resets the key. While locked, the caller refuses **before**
//! verifying, so a locked account is refused even with the right password and an attacker's
//! guesses cost the gateway nothing.
//!
//! State is in memory and bounded (`capacity` keys): attackers choose the keys (usernames,
//! spoofable addresses behind no proxy), so when the table is full, keys neither locked nor
//! recently failed are dropped first; if every slot holds a live lock, new keys are not
//! tracked (their IP key still is). Account locks are also written to the store by the guard
//! so they survive a restart. Time comes from a [`Clock`], so tests move time without sleeping.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

use portcullis_config::LockoutSpec;

/// Default number of keys tracked.
pub const DEFAULT_CAPACITY: usize = 100_000;

/// Where the lockout reads the time (Unix seconds).
pub trait Clock: Send + Sync + 'static {
    /// Now, in Unix seconds.
    fn now(&self) -> i64;
}

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
    }
}

/// Thresholds and durations, compiled from [`LockoutSpec`]. Seconds throughout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Failures within `window` that lock a key.
    pub max_failures: u32,
    /// Length of the sliding window.
    pub window: i64,
    /// First lockout.
    pub base_lockout: i64,
    /// Longest lockout (the doubling stops here).
    pub max_lockout: i64,
}

fn secs(d: portcullis_config::HumanDuration) -> i64 {
    i64::try_from(d.get().as_secs()).unwrap_or(i64::MAX)
}

impl LockoutPolicy {
    /// The per-username policy of a spec.
    pub fn per_user(spec: &LockoutSpec) -> Self {
        Self {
            max_failures: spec.max_failures.max(1),
            window: secs(spec.window).max(1),
            base_lockout: secs(spec.base_lockout).max(1),
            max_lockout: secs(spec.max_lockout).max(1),
        }
    }

    /// The per-client-address policy of a spec: same durations, its own (higher) threshold,
    /// since many users may share one address (NAT, corporate proxies).
    pub fn per_ip(spec: &LockoutSpec) -> Self {
        Self {
            max_failures: spec.max_failures_per_ip.max(1),
            ..Self::per_user(spec)
        }
    }

    /// Length of the `level`-th lockout (0-based): `base · 2^level`, at most `max_lockout`.
    pub fn lockout_secs(&self, level: u32) -> i64 {
        let factor = 1i64.checked_shl(level.min(62)).unwrap_or(i64::MAX);
        self.base_lockout
            .saturating_mul(factor)
            .min(self.max_lockout)
            .max(1)
    }
}

#[derive(Debug, Default)]
struct Entry {
    /// Times of recent failures (at most `max_failures`).
    failures: VecDeque<i64>,
    /// Locked until this time (exclusive); 0 when never locked.
    locked_until: i64,
    /// When the current lock began.
    locked_at: i64,
    /// Lockouts so far: the next one lasts `base · 2^level`.
    level: u32,
    /// Last failure, to forget the level after a long quiet period.
    last_failure: i64,
}

impl Entry {
    fn is_live(&self, now: i64, policy_window: i64) -> bool {
        self.locked_until > now || self.last_failure.saturating_add(policy_window) > now
    }
}

/// A failure that locked its key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Locked {
    /// Until when (Unix seconds).
    pub until: i64,
    /// How long, in seconds.
    pub secs: i64,
}

/// A key's current lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockState {
    /// Seconds until it ends.
    pub retry_after: i64,
    /// When it began (an operator change to the account after this lifts it).
    pub since: i64,
}

/// Failure counters and locks, shared by the guards of every config version.
#[derive(Debug)]
pub struct Lockout {
    entries: Mutex<HashMap<String, Entry>>,
    capacity: usize,
    /// The latest `locked_until` ever set. Every authenticated request asks whether its
    /// address is locked; while no lock can still be running (nearly always), the answer
    /// comes from this atomic without building a key or taking the table's mutex, which
    /// every worker would otherwise contend for.
    latest_lock_until: AtomicI64,
}

impl Default for Lockout {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY)
    }
}

impl Lockout {
    /// An empty table tracking at most `capacity` keys.
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
            latest_lock_until: AtomicI64::new(i64::MIN),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, Entry>) -> T) -> T {
        match self.entries.lock() {
            Ok(mut g) => f(&mut g),
            // A panic elsewhere while holding the lock: the table is still consistent
            // (every update is a few field writes), so keep using it.
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
    }

    /// Whether some key may be locked at `now` (false: none is, no lookup needed).
    pub fn any_locked(&self, now: i64) -> bool {
        self.latest_lock_until.load(Ordering::Acquire) > now
    }

    /// Seconds until `key` may try again, if it is locked at `now`.
    pub fn retry_after(&self, key: &str, now: i64) -> Option<i64> {
        if !self.any_locked(now) {
            return None;
        }
        self.with(|m| {
            m.get(key)
                .filter(|e| e.locked_until > now)
                .map(|e| e.locked_until - now)
        })
    }

    /// The lock of `key` at `now`, if any.
    pub fn lock_state(&self, key: &str, now: i64) -> Option<LockState> {
        if !self.any_locked(now) {
            return None;
        }
        self.with(|m| {
            m.get(key)
                .filter(|e| e.locked_until > now)
                .map(|e| LockState {
                    retry_after: e.locked_until - now,
                    since: e.locked_at,
                })
        })
    }

    /// Counts a failure of `key` at `now`. Returns the lock if this failure reached the
    /// threshold.
    pub fn record_failure(&self, policy: &LockoutPolicy, key: &str, now: i64) -> Option<Locked> {
        let capacity = self.capacity;
        self.with(|m| {
            if !m.contains_key(key) && m.len() >= capacity {
                // Make room: forget keys that are neither locked nor recently failing, then
                // (still full) every key that is not locked.
                m.retain(|_, e| e.is_live(now, policy.window.max(policy.max_lockout)));
                if m.len() >= capacity {
                    m.retain(|_, e| e.locked_until > now);
                }
                if m.len() >= capacity {
                    return None;
                }
            }
            let e = m.entry(key.to_string()).or_default();
            // After a quiet period as long as the longest lockout, start again from the base.
            if e.last_failure > 0
                && now.saturating_sub(e.last_failure.max(e.locked_until)) > policy.max_lockout
            {
                e.level = 0;
            }
            e.last_failure = now;
            while e
                .failures
                .front()
                .is_some_and(|t| *t <= now.saturating_sub(policy.window))
            {
                e.failures.pop_front();
            }
            e.failures.push_back(now);
            let threshold = usize::try_from(policy.max_failures).unwrap_or(usize::MAX);
            if e.failures.len() < threshold {
                return None;
            }
            let secs = policy.lockout_secs(e.level);
            e.level = e.level.saturating_add(1);
            e.failures.clear();
            e.locked_until = now.saturating_add(secs);
            e.locked_at = now;
            self.latest_lock_until
                .fetch_max(e.locked_until, Ordering::AcqRel);
            Some(Locked {
                until: e.locked_until,
                secs,
            })
        })
    }

    /// A success of `key`: forget its failures and lockout level.
    pub fn record_success(&self, key: &str) {
        self.with(|m| {
            m.remove(key);
        });
    }

    /// Number of keys tracked (for tests and metrics).
    pub fn len(&self) -> usize {
        self.with(|m| m.len())
    }

    /// Whether no key is tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> LockoutPolicy {
        LockoutPolicy {
            max_failures: 3,
            window: 60,
            base_lockout: 10,
            max_lockout: 35,
        }
    }

    #[test]
    fn any_locked_follows_the_latest_running_lock() {
        let l = Lockout::default();
        let p = policy();
        assert!(!l.any_locked(100));
        for t in [100, 101, 102] {
            l.record_failure(&p, "ip:a", t);
        }
        // Locked 102..112; failures alone (another key) do not flip the flag.
        l.record_failure(&p, "ip:b", 103);
        assert!(l.any_locked(111));
        assert_eq!(l.retry_after("ip:a", 111), Some(1));
        assert!(!l.any_locked(112));
        assert_eq!(l.retry_after("ip:a", 112), None);
    }

    #[test]
    fn locks_after_n_failures_in_the_window() {
        let l = Lockout::default();
        let p = policy();
        assert_eq!(l.record_failure(&p, "user:a", 100), None);
        assert_eq!(l.record_failure(&p, "user:a", 110), None);
        assert_eq!(l.retry_after("user:a", 111), None);
        let locked = l.record_failure(&p, "user:a", 120).unwrap();
        assert_eq!(
            locked,
            Locked {
                until: 130,
                secs: 10
            }
        );
        assert_eq!(l.retry_after("user:a", 121), Some(9));
        assert_eq!(
            l.lock_state("user:a", 121),
            Some(LockState {
                retry_after: 9,
                since: 120
            })
        );
        assert_eq!(l.retry_after("user:a", 130), None, "lock ends on time");
        // Other keys are untouched.
        assert_eq!(l.retry_after("user:b", 121), None);
    }

    #[test]
    fn failures_outside_the_window_do_not_count() {
        let l = Lockout::default();
        let p = policy();
        l.record_failure(&p, "k", 0);
        l.record_failure(&p, "k", 30);
        // The first failure slid out of the 60 s window.
        assert_eq!(l.record_failure(&p, "k", 61), None);
        assert!(l.record_failure(&p, "k", 62).is_some());
    }

    #[test]
    fn lockouts_double_up_to_the_maximum_and_success_resets() {
        let l = Lockout::default();
        let p = policy();
        let mut now = 1000;
        let mut lengths = Vec::new();
        for _ in 0..4 {
            let mut locked = None;
            for _ in 0..3 {
                locked = l.record_failure(&p, "k", now);
            }
            let locked = locked.unwrap();
            lengths.push(locked.secs);
            now = locked.until;
        }
        assert_eq!(lengths, [10, 20, 35, 35]);
        l.record_success("k");
        assert!(l.is_empty());
        for _ in 0..2 {
            assert_eq!(l.record_failure(&p, "k", now), None);
        }
        assert_eq!(l.record_failure(&p, "k", now).unwrap().secs, 10);
    }

    #[test]
    fn level_is_forgotten_after_a_long_quiet_period() {
        let l = Lockout::default();
        let p = policy();
        for _ in 0..3 {
            l.record_failure(&p, "k", 0);
        }
        for _ in 0..3 {
            l.record_failure(&p, "k", 10);
        }
        assert_eq!(l.retry_after("k", 11), Some(19), "second lock: 20 s");
        // Quiet for longer than max_lockout after the lock ended: back to the base.
        let later = 30 + 36;
        for _ in 0..2 {
            l.record_failure(&p, "k", later);
        }
        assert_eq!(l.record_failure(&p, "k", later).unwrap().secs, 10);
    }

    #[test]
    fn the_table_is_bounded_and_keeps_live_locks() {
        let l = Lockout::new(2);
        let p = LockoutPolicy {
            max_failures: 1,
            ..policy()
        };
        assert!(l.record_failure(&p, "a", 0).is_some());
        assert!(l.record_failure(&p, "b", 0).is_some());
        // Full of live locks: a new key is not tracked, existing locks are kept.
        assert_eq!(l.record_failure(&p, "c", 1), None);
        assert_eq!(l.len(), 2);
        assert!(l.retry_after("a", 1).is_some());
        // Once the locks are stale, room is made.
        assert!(l.record_failure(&p, "c", 1000).is_some());
        assert_eq!(l.retry_after("a", 1000), None);
    }

    #[test]
    fn policy_from_spec() {
        let spec = LockoutSpec::default();
        let user = LockoutPolicy::per_user(&spec);
        assert_eq!(
            user,
            LockoutPolicy {
                max_failures: 5,
                window: 900,
                base_lockout: 60,
                max_lockout: 3600
            }
        );
        assert_eq!(LockoutPolicy::per_ip(&spec).max_failures, 20);
        assert_eq!(user.lockout_secs(0), 60);
        assert_eq!(user.lockout_secs(5), 1920);
        assert_eq!(user.lockout_secs(6), 3600);
        assert_eq!(user.lockout_secs(u32::MAX), 3600);
    }
}
