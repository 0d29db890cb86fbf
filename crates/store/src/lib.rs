//! Persistence for portcullis behind one trait, [`Store`], so that the guards never know
//! whether state lives in the embedded SQLite file ([`SqliteStore`], the default) or, later,
//! in Redis for a cluster of gateways.
//!
//! What is stored: consumers, API-key records (only the HMAC of a key, never the key),
//! built-in accounts (Argon2id hashes, sealed TOTP seeds, lockouts),
//! revocations and expiries, and an append-only change history. Times are Unix seconds.
//! Every write that changes a credential appends a history entry in the same transaction,
//! so the history can never miss a change that happened.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod model;
mod sqlite;

pub use model::{
    AccountRecord, ApiKeyRecord, Consumer, HistoryEntry, KeyKind, KeyStatus, NewConsumer,
    TokenRevocation,
};
pub use sqlite::SqliteStore;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened, read or written.
    #[error("store: {0}")]
    Backend(String),
    /// A name or id that must be unique is taken.
    #[error("already exists: {0}")]
    Conflict(String),
    /// The referenced consumer or key does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The database was written by a newer portcullis.
    #[error("store schema version {found} is newer than this build understands ({supported})")]
    TooNew {
        /// Version found in the file.
        found: i64,
        /// Newest version this build knows.
        supported: i64,
    },
}

/// Result of store operations.
pub type Result<T> = std::result::Result<T, StoreError>;

/// The persistence interface every backend implements. Methods are synchronous: SQLite
/// answers in microseconds; callers on the request path run them off the async workers.
pub trait Store: Send + Sync {
    /// Creates a consumer; its name must be unique.
    fn create_consumer(&self, new: &NewConsumer, actor: &str, now: i64) -> Result<Consumer>;
    /// A consumer by name.
    fn consumer_by_name(&self, name: &str) -> Result<Option<Consumer>>;
    /// A consumer by id.
    fn consumer(&self, id: &str) -> Result<Option<Consumer>>;
    /// Stores a new API-key record (its `hash`, never the key).
    fn insert_api_key(&self, record: &ApiKeyRecord, actor: &str, now: i64) -> Result<()>;
    /// An API-key record by its public id.
    fn api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>>;
    /// API-key records, optionally of one consumer, newest first.
    fn list_api_keys(&self, consumer_id: Option<&str>) -> Result<Vec<ApiKeyRecord>>;
    /// Revokes a key now. `Ok(false)` if it was already revoked.
    fn revoke_api_key(&self, id: &str, actor: &str, now: i64) -> Result<bool>;
    /// Ends a key at `expires_at` (rotation grace), remembering its successor.
    fn retire_api_key(
        &self,
        id: &str,
        replaced_by: &str,
        expires_at: i64,
        actor: &str,
        now: i64,
    ) -> Result<()>;
    /// Records a successful use (for `keys list` / `keys show`).
    fn touch_api_key(&self, id: &str, now: i64) -> Result<()>;
    /// The newest history entries, newest first.
    fn history(&self, limit: usize) -> Result<Vec<HistoryEntry>>;
    /// Records a token revocation (and its history entry); returns its sequence number.
    fn revoke_token(&self, revocation: &TokenRevocation, actor: &str, now: i64) -> Result<i64>;
    /// Token revocations with a sequence number above `seq`, oldest first.
    fn token_revocations_since(&self, seq: i64) -> Result<Vec<(i64, TokenRevocation)>>;
    /// Requests counted against quota `key` in calendar window `window` (e.g. `2026-12-03`).
    fn quota_used(&self, key: &str, window: &str) -> Result<u64>;
    /// Adds counts `(key, window, delta)` in one transaction.
    fn quota_add(&self, deltas: &[(String, String, u64)]) -> Result<()>;
    /// Usage rows `(key, window, used)` whose key contains `fragment`, newest window first.
    fn quota_usage(&self, fragment: &str) -> Result<Vec<(String, String, u64)>>;

    // --- built-in accounts ---
    /// Creates an account; its username must be unique and its consumer must exist.
    fn create_account(&self, account: &AccountRecord, actor: &str, now: i64) -> Result<()>;
    /// An account by username.
    fn account(&self, username: &str) -> Result<Option<AccountRecord>>;
    /// All accounts, by username.
    fn list_accounts(&self) -> Result<Vec<AccountRecord>>;
    /// Replaces an account's password hash (and lifts a lockout).
    fn set_account_password(&self, username: &str, hash: &str, actor: &str, now: i64)
    -> Result<()>;
    /// Sets `active` or `disabled`; enabling also lifts a lockout. `Ok(false)` if unchanged.
    fn set_account_status(
        &self,
        username: &str,
        status: &str,
        actor: &str,
        now: i64,
    ) -> Result<bool>;
    /// Stores (or, with `None`, removes) the sealed TOTP seed; resets the replay step.
    fn set_account_totp(
        &self,
        username: &str,
        sealed: Option<&[u8]>,
        actor: &str,
        now: i64,
    ) -> Result<()>;
    /// Consumes TOTP time step `step`: `Ok(true)` only if it is later than the last one used,
    /// atomically, so two gateways or two requests cannot both accept one code.
    fn use_totp_step(&self, username: &str, step: i64) -> Result<bool>;
    /// Locks an account until `until` (brute-force lockout), surviving restarts.
    fn lock_account(&self, username: &str, until: i64, actor: &str, now: i64) -> Result<()>;
}
