//! Per-key GCRA state with bounded memory.
//!
//! Attackers choose the keys (client addresses, header values), so the table is capped. A key
//! whose theoretical arrival time lies in the past is in exactly the state of a key never
//! seen, so dropping it loses nothing: a full shard first sweeps those. Only when a shard is
//! full of keys that are all being limited right now is the one closest to recovery evicted
//! (it gets a fresh burst; counted in [`KeyedLimiter::evictions`]).

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::clock::Clock;
use crate::gcra::{Gcra, Verdict};

const SHARDS: usize = 16;

/// Longest key kept verbatim; longer keys are replaced by a hash of themselves.
pub const MAX_KEY_BYTES: usize = 256;

/// GCRA state for many keys.
pub struct KeyedLimiter {
    shards: Vec<Mutex<HashMap<Box<str>, u64>>>,
    per_shard: usize,
    hasher: RandomState,
    clock: Arc<dyn Clock>,
    evictions: AtomicU64,
}

impl std::fmt::Debug for KeyedLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyedLimiter")
            .field("per_shard", &self.per_shard)
            .finish_non_exhaustive()
    }
}

/// The result of asking to throttle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Throttled {
    /// Admitted at once.
    Now(Verdict),
    /// Admitted after this delay (the slot is reserved).
    After(Duration),
    /// Neither: refuse.
    Refused(Verdict),
}

impl KeyedLimiter {
    /// A table holding at most about `max_keys` keys.
    pub fn new(max_keys: usize, clock: Arc<dyn Clock>) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            per_shard: max_keys.div_ceil(SHARDS).max(1),
            hasher: RandomState::new(),
            clock,
            evictions: AtomicU64::new(0),
        }
    }

    /// Active keys evicted because the table was full.
    pub fn evictions(&self) -> u64 {
        self.evictions.load(Ordering::Relaxed)
    }

    /// Keys currently held.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().map(|m| m.len()).unwrap_or(0))
            .sum()
    }

    /// True when no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Decides one request of `key` under `gcra`.
    pub fn check(&self, gcra: &Gcra, key: &str) -> Verdict {
        let now = self.clock.now_ns();
        self.with_state(key, now, |tat| {
            let (verdict, new_tat) = gcra.check(tat, now);
            (verdict, verdict.allowed.then_some(new_tat))
        })
    }

    /// Admits now, or reserves a slot at most `max_wait` ahead with at most `max_queue`
    /// requests already waiting, or refuses.
    pub fn throttle(
        &self,
        gcra: &Gcra,
        key: &str,
        max_wait: Duration,
        max_queue: u32,
    ) -> Throttled {
        let now = self.clock.now_ns();
        self.with_state(key, now, |tat| {
            let (verdict, new_tat) = gcra.check(tat, now);
            if verdict.allowed {
                return (Throttled::Now(verdict), Some(new_tat));
            }
            match gcra.reserve(tat, now, max_wait, max_queue) {
                Some((delay, reserved)) => (Throttled::After(delay), Some(reserved)),
                None => (Throttled::Refused(verdict), None),
            }
        })
    }

    fn with_state<R>(
        &self,
        key: &str,
        now: u64,
        decide: impl FnOnce(Option<u64>) -> (R, Option<u64>),
    ) -> R {
        let hashed;
        let key = if key.len() > MAX_KEY_BYTES {
            hashed = format!("#{:016x}", self.hasher.hash_one(key));
            hashed.as_str()
        } else {
            key
        };
        let shard = (self.hasher.hash_one(key) as usize) % SHARDS;
        let Some(lock) = self.shards.get(shard) else {
            return decide(None).0;
        };
        // A poisoned shard only means another thread panicked mid-update of plain integers.
        let mut map = lock.lock().unwrap_or_else(|p| p.into_inner());
        let tat = map.get(key).copied().filter(|&t| t > now);
        let (result, new_tat) = decide(tat);
        if let Some(new_tat) = new_tat {
            if let Some(slot) = map.get_mut(key) {
                *slot = new_tat;
            } else {
                if map.len() >= self.per_shard {
                    self.make_room(&mut map, now);
                }
                map.insert(key.into(), new_tat);
            }
        }
        result
    }

    fn make_room(&self, map: &mut HashMap<Box<str>, u64>, now: u64) {
        map.retain(|_, &mut tat| tat > now);
        if map.len() < self.per_shard {
            return;
        }
        let victim = map
            .iter()
            .min_by_key(|(_, tat)| **tat)
            .map(|(k, _)| k.clone());
        if let Some(victim) = victim {
            map.remove(&victim);
            self.evictions.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[test]
    fn keys_are_independent_and_bounded() {
        let clock = ManualClock::at(1_000_000_000);
        let limiter = KeyedLimiter::new(32, Arc::new(clock.clone()));
        let g = Gcra::new(1, Duration::from_secs(60), 1);
        assert!(limiter.check(&g, "a").allowed);
        assert!(!limiter.check(&g, "a").allowed);
        assert!(limiter.check(&g, "b").allowed);
        for i in 0..1000 {
            limiter.check(&g, &format!("k{i}"));
        }
        assert!(limiter.len() <= 32 + SHARDS);
        assert!(limiter.evictions() > 0);
        // After the period, expired keys are swept instead of evicting.
        clock.advance(Duration::from_secs(61));
        let before = limiter.evictions();
        for i in 0..1000 {
            limiter.check(&g, &format!("n{i}"));
        }
        assert!(limiter.evictions() - before < 1000);
    }

    #[test]
    fn long_keys_are_hashed() {
        let clock = ManualClock::at(1);
        let limiter = KeyedLimiter::new(100, Arc::new(clock));
        let g = Gcra::new(1, Duration::from_secs(60), 1);
        let long = "x".repeat(10_000);
        assert!(limiter.check(&g, &long).allowed);
        assert!(!limiter.check(&g, &long).allowed);
    }
}
