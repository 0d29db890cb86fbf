//! Bearer-token revocation: single tokens by `jti`, and every token of a subject issued
//! before a cut-off ("log this user out everywhere").
//!
//! Revocations are written to the store (`portcullis tokens revoke`) and mirrored in memory:
//! the request path only reads a hash set under a read lock. A refresher pulls new entries
//! by sequence number once a second, so a revocation applies within about a second on every
//! gateway sharing the store, without a restart.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use portcullis_store::{Store, StoreError};

#[derive(Debug, Default)]
struct State {
    seq: i64,
    /// Revoked `jti`s per issuer. Nested (not keyed by a tuple) so that a lookup borrows the
    /// request's `&str`s instead of allocating two `String`s on every request.
    jtis: HashMap<String, HashSet<String>>,
    /// Subject cut-offs per issuer.
    subjects: HashMap<String, HashMap<String, i64>>,
}

/// The in-memory mirror of the store's token revocations.
pub struct Revocations {
    store: Arc<dyn Store>,
    state: RwLock<State>,
}

impl std::fmt::Debug for Revocations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Revocations").finish_non_exhaustive()
    }
}

impl Revocations {
    /// Loads every revocation from `store` (blocking).
    pub fn load(store: Arc<dyn Store>) -> Result<Arc<Self>, StoreError> {
        let r = Arc::new(Self {
            store,
            state: RwLock::new(State::default()),
        });
        r.refresh()?;
        Ok(r)
    }

    /// Pulls revocations newer than the last seen (blocking).
    pub fn refresh(&self) -> Result<(), StoreError> {
        let since = self.state.read().unwrap_or_else(|p| p.into_inner()).seq;
        let new = self.store.token_revocations_since(since)?;
        if new.is_empty() {
            return Ok(());
        }
        let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
        for (seq, r) in new {
            state.seq = state.seq.max(seq);
            match r.kind.as_str() {
                "jti" => {
                    state.jtis.entry(r.issuer).or_default().insert(r.value);
                }
                _ => {
                    let cutoff = r.before.unwrap_or(r.created_at);
                    let entry = state
                        .subjects
                        .entry(r.issuer)
                        .or_default()
                        .entry(r.value)
                        .or_insert(cutoff);
                    *entry = (*entry).max(cutoff);
                }
            }
        }
        Ok(())
    }

    /// Starts the once-a-second refresher on the current runtime; it stops when the list is
    /// dropped.
    pub fn start_refresher(self: &Arc<Self>) {
        portcullis_core::periodic::every_second_on_blocking_pool(self, Self::refresh, |e| {
            tracing::error!(error = %e, "token revocations could not be refreshed");
        });
    }

    /// Why a verified token is refused, if it is: `jwt_revoked` (its `jti`) or
    /// `jwt_subject_revoked` (issued before its subject's cut-off, or without `iat` while a
    /// cut-off exists).
    pub fn check(
        &self,
        issuer: &str,
        jti: Option<&str>,
        subject: &str,
        issued_at: Option<i64>,
    ) -> Option<&'static str> {
        let state = self.state.read().unwrap_or_else(|p| p.into_inner());
        if let Some(jti) = jti
            && state.jtis.get(issuer).is_some_and(|set| set.contains(jti))
        {
            return Some("jwt_revoked");
        }
        let cutoff = state.subjects.get(issuer)?.get(subject)?;
        match issued_at {
            Some(iat) if iat >= *cutoff => None,
            _ => Some("jwt_subject_revoked"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portcullis_store::{SqliteStore, TokenRevocation};

    #[test]
    fn refresh_picks_up_new_revocations() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).unwrap());
        let list = Revocations::load(store).unwrap();
        assert_eq!(list.check("iss", Some("j1"), "alice", Some(100)), None);
        // Written by another process (the CLI) through its own connection.
        let other = SqliteStore::open(&path).unwrap();
        let r = |kind: &str, value: &str, before| TokenRevocation {
            issuer: "iss".into(),
            kind: kind.into(),
            value: value.into(),
            before,
            created_at: 1000,
        };
        other
            .revoke_token(&r("jti", "j1", None), "test", 1000)
            .unwrap();
        other
            .revoke_token(&r("subject", "bob", Some(500)), "test", 1000)
            .unwrap();
        list.refresh().unwrap();
        assert_eq!(
            list.check("iss", Some("j1"), "alice", Some(100)),
            Some("jwt_revoked")
        );
        assert_eq!(list.check("other", Some("j1"), "alice", Some(100)), None);
        assert_eq!(
            list.check("iss", None, "bob", Some(499)),
            Some("jwt_subject_revoked")
        );
        assert_eq!(
            list.check("iss", None, "bob", None),
            Some("jwt_subject_revoked")
        );
        assert_eq!(list.check("iss", None, "bob", Some(500)), None);
    }
}
