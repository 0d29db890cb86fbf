//! Replay protection for signed requests: every `(key id, nonce)` accepted is remembered until
//! its signature's timestamp leaves the accepted window, after which the timestamp check alone
//! refuses a replay. So the store never needs to hold an entry longer than `2 × max_skew`.
//!
//! Bounded: at most `capacity` entries. When full, expired entries are dropped; if it is still
//! full the request is refused (fail closed) rather than forgetting a live nonce.
//!
//! In memory and per process: behind a load balancer with several gateways, a replay sent to
//! another node within the window is not detected. Run one node per signing client (sticky
//! routing) or accept that limit until a shared store (Redis) backs this (docs/request-signing.md).

use std::collections::HashMap;
use std::sync::Mutex;

/// Default number of remembered nonces (≈ 100 bytes each: ~10 MB at most).
pub const DEFAULT_CAPACITY: usize = 100_000;

/// What happened to a nonce offered to the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NonceOutcome {
    /// First use: remembered.
    Fresh,
    /// Seen before within its window: a replay.
    Replayed,
    /// The store is full of live nonces: refused without remembering.
    Full,
}

/// The nonces seen, each with the Unix second after which it may be forgotten.
#[derive(Debug)]
pub struct NonceStore {
    seen: Mutex<HashMap<(String, String), i64>>,
    capacity: usize,
}

impl NonceStore {
    /// An empty store holding at most `capacity` live nonces.
    pub fn new(capacity: usize) -> Self {
        Self {
            seen: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    /// Records `nonce` of `key_id`, to be remembered until `forget_after` (Unix seconds).
    /// Call only after the signature verified, so unauthenticated clients cannot fill it.
    pub fn check_and_insert(
        &self,
        key_id: &str,
        nonce: &str,
        forget_after: i64,
        now: i64,
    ) -> NonceOutcome {
        let Ok(mut seen) = self.seen.lock() else {
            return NonceOutcome::Full;
        };
        let key = (key_id.to_string(), nonce.to_string());
        if seen.get(&key).is_some_and(|&t| t >= now) {
            return NonceOutcome::Replayed;
        }
        if seen.len() >= self.capacity {
            seen.retain(|_, &mut t| t >= now);
            if seen.len() >= self.capacity {
                return NonceOutcome::Full;
            }
        }
        seen.insert(key, forget_after);
        NonceOutcome::Fresh
    }

    /// Number of remembered nonces (expired ones included until the next sweep).
    pub fn len(&self) -> usize {
        self.seen.lock().map_or(0, |s| s.len())
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Default for NonceStore {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_is_accepted_once_per_key_within_its_window() {
        let s = NonceStore::new(10);
        assert_eq!(
            s.check_and_insert("k1", "n", 1300, 1000),
            NonceOutcome::Fresh
        );
        assert_eq!(
            s.check_and_insert("k1", "n", 1300, 1001),
            NonceOutcome::Replayed
        );
        assert_eq!(
            s.check_and_insert("k1", "n", 1300, 1300),
            NonceOutcome::Replayed
        );
        // Another key may use the same nonce.
        assert_eq!(
            s.check_and_insert("k2", "n", 1300, 1001),
            NonceOutcome::Fresh
        );
        // After the window the entry is forgotten (the timestamp check refuses it then).
        assert_eq!(
            s.check_and_insert("k1", "n", 1700, 1301),
            NonceOutcome::Fresh
        );
    }

    #[test]
    fn full_store_sweeps_expired_entries_then_fails_closed() {
        let s = NonceStore::new(2);
        assert_eq!(s.check_and_insert("k", "a", 100, 0), NonceOutcome::Fresh);
        assert_eq!(s.check_and_insert("k", "b", 200, 0), NonceOutcome::Fresh);
        assert_eq!(s.check_and_insert("k", "c", 200, 50), NonceOutcome::Full);
        assert_eq!(s.len(), 2);
        // At 150 `a` has expired: swept, `c` fits.
        assert_eq!(s.check_and_insert("k", "c", 300, 150), NonceOutcome::Fresh);
        assert_eq!(
            s.check_and_insert("k", "b", 300, 150),
            NonceOutcome::Replayed
        );
        assert_eq!(s.len(), 2);
    }
}
