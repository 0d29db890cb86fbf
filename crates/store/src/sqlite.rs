//! The embedded SQLite store: one file under the data directory, WAL mode, migrations by
//! `PRAGMA user_version`.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::{Value, json};

use crate::model::{
    AccountRecord, ApiKeyRecord, Consumer, HistoryEntry, KeyKind, NewConsumer, TokenRevocation,
};
use crate::{Result, Store, StoreError};

/// Schema migrations; entry `i` moves the file from version `i` to `i + 1`. Append only.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE consumers (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    plan        TEXT,
    roles       TEXT NOT NULL DEFAULT '[]',
    scopes      TEXT NOT NULL DEFAULT '[]',
    status      TEXT NOT NULL DEFAULT 'active',
    created_at  INTEGER NOT NULL
);
CREATE TABLE api_keys (
    id              TEXT PRIMARY KEY,
    consumer_id     TEXT NOT NULL REFERENCES consumers(id),
    hash            BLOB NOT NULL UNIQUE,
    scopes          TEXT NOT NULL DEFAULT '[]',
    allow_ips       TEXT NOT NULL DEFAULT '[]',
    allow_referrers TEXT NOT NULL DEFAULT '[]',
    routes          TEXT NOT NULL DEFAULT '[]',
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER,
    revoked_at      INTEGER,
    last_used_at    INTEGER,
    replaced_by     TEXT
);
CREATE INDEX api_keys_consumer ON api_keys(consumer_id);
CREATE TABLE history (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    at       INTEGER NOT NULL,
    actor    TEXT NOT NULL,
    action   TEXT NOT NULL,
    subject  TEXT NOT NULL,
    detail   TEXT NOT NULL DEFAULT '{}'
);
"#,
    r#"
CREATE TABLE quota_usage (
    key      TEXT NOT NULL,
    window   TEXT NOT NULL,
    used     INTEGER NOT NULL,
    PRIMARY KEY (key, window)
);
"#,
    r#"
CREATE TABLE token_revocations (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    issuer     TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('jti', 'subject')),
    value      TEXT NOT NULL,
    before     INTEGER,
    created_at INTEGER NOT NULL
);
"#,
    // HMAC signing keys live with API keys (same ids, consumers, expiry, revocation, history);
    // their secret is kept sealed because the gateway must read it back.
    r#"
ALTER TABLE api_keys ADD COLUMN kind TEXT NOT NULL DEFAULT 'api_key';
ALTER TABLE api_keys ADD COLUMN sealed_secret BLOB;
"#,
    // Built-in accounts (Basic + TOTP). Migration 7.
    r#"
CREATE TABLE accounts (
    username        TEXT PRIMARY KEY,
    consumer_id     TEXT NOT NULL REFERENCES consumers(id),
    password_hash   TEXT NOT NULL,
    roles           TEXT NOT NULL DEFAULT '[]',
    scopes          TEXT NOT NULL DEFAULT '[]',
    status          TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    totp_sealed     BLOB,
    totp_last_step  INTEGER,
    locked_until    INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX accounts_consumer ON accounts(consumer_id);
"#,
];

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn to_json(list: &[String]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".into())
}

fn from_json(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

/// The SQLite store. One connection behind a mutex: writes are rare (CLI, admin API) and reads
/// take microseconds; WAL lets other processes (the CLI while the gateway runs) read and write.
pub struct SqliteStore {
    conn: Mutex<Connection>,
}

impl SqliteStore {
    /// Opens (creating if needed) the store file and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Backend(format!("{}: {e}", dir.display())))?;
        }
        let conn = Connection::open(path)
            .map_err(|e| StoreError::Backend(format!("{}: {e}", path.display())))?;
        Self::init(conn)
    }

    /// An in-memory store (tests, `check`).
    pub fn in_memory() -> Result<Self> {
        Self::init(Connection::open_in_memory().map_err(backend)?)
    }

    fn init(mut conn: Connection) -> Result<Self> {
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(backend)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(backend)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(backend)?;
        migrate(&mut conn)?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        let mut conn = self
            .conn
            .lock()
            .map_err(|_| StoreError::Backend("store lock poisoned".into()))?;
        f(&mut conn)
    }
}

/// Applies the migrations the file has not seen, each in its own transaction.
fn migrate(conn: &mut Connection) -> Result<()> {
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(backend)?;
    let supported = i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX);
    if version > supported {
        return Err(StoreError::TooNew {
            found: version,
            supported,
        });
    }
    for (i, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(version).unwrap_or(0))
    {
        let tx = conn.transaction().map_err(backend)?;
        tx.execute_batch(sql).map_err(backend)?;
        tx.pragma_update(
            None,
            "user_version",
            i64::try_from(i + 1).unwrap_or(i64::MAX),
        )
        .map_err(backend)?;
        tx.commit().map_err(backend)?;
    }
    Ok(())
}

fn history(
    tx: &rusqlite::Transaction<'_>,
    now: i64,
    actor: &str,
    action: &str,
    subject: &str,
    detail: Value,
) -> Result<()> {
    tx.execute(
        "INSERT INTO history (at, actor, action, subject, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![now, actor, action, subject, detail.to_string()],
    )
    .map_err(backend)?;
    Ok(())
}

fn consumer_row(r: &Row<'_>) -> rusqlite::Result<Consumer> {
    Ok(Consumer {
        id: r.get(0)?,
        name: r.get(1)?,
        plan: r.get(2)?,
        roles: from_json(&r.get::<_, String>(3)?),
        scopes: from_json(&r.get::<_, String>(4)?),
        status: r.get(5)?,
        created_at: r.get(6)?,
    })
}

const KEY_COLUMNS: &str = "id, consumer_id, hash, scopes, allow_ips, allow_referrers, routes, created_at, expires_at, revoked_at, last_used_at, replaced_by, kind, sealed_secret";

fn key_row(r: &Row<'_>) -> rusqlite::Result<ApiKeyRecord> {
    Ok(ApiKeyRecord {
        id: r.get(0)?,
        consumer_id: r.get(1)?,
        hash: r.get(2)?,
        scopes: from_json(&r.get::<_, String>(3)?),
        allow_ips: from_json(&r.get::<_, String>(4)?),
        allow_referrers: from_json(&r.get::<_, String>(5)?),
        routes: from_json(&r.get::<_, String>(6)?),
        created_at: r.get(7)?,
        expires_at: r.get(8)?,
        revoked_at: r.get(9)?,
        last_used_at: r.get(10)?,
        replaced_by: r.get(11)?,
        // An unknown kind (a newer binary's row) must never authenticate as an API key.
        kind: KeyKind::parse(&r.get::<_, String>(12)?).unwrap_or(KeyKind::Hmac),
        sealed_secret: r.get(13)?,
    })
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation)
}

const ACCOUNT_COLUMNS: &str = "username, consumer_id, password_hash, roles, scopes, status, totp_sealed, totp_last_step, locked_until, created_at, updated_at";

fn account_row(r: &Row<'_>) -> rusqlite::Result<AccountRecord> {
    Ok(AccountRecord {
        username: r.get(0)?,
        consumer_id: r.get(1)?,
        password_hash: r.get(2)?,
        roles: from_json(&r.get::<_, String>(3)?),
        scopes: from_json(&r.get::<_, String>(4)?),
        status: r.get(5)?,
        totp_sealed: r.get(6)?,
        totp_last_step: r.get(7)?,
        locked_until: r.get(8)?,
        created_at: r.get(9)?,
        updated_at: r.get(10)?,
    })
}

/// Runs one account update with its history entry in a transaction; `NotFound` if no row.
fn update_account(
    conn: &mut Connection,
    username: &str,
    sql: &str,
    params: &[&dyn rusqlite::ToSql],
    history_entry: (i64, &str, &str, Value),
) -> Result<()> {
    let tx = conn.transaction().map_err(backend)?;
    let n = tx.execute(sql, params).map_err(backend)?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("account `{username}`")));
    }
    let (now, actor, action, detail) = history_entry;
    history(&tx, now, actor, action, username, detail)?;
    tx.commit().map_err(backend)
}

impl Store for SqliteStore {
    fn create_account(&self, a: &AccountRecord, actor: &str, now: i64) -> Result<()> {
        self.with(|conn| {
            let tx = conn.transaction().map_err(backend)?;
            tx.execute(
                &format!("INSERT INTO accounts ({ACCOUNT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"),
                params![
                    a.username,
                    a.consumer_id,
                    a.password_hash,
                    to_json(&a.roles),
                    to_json(&a.scopes),
                    a.status,
                    a.totp_sealed,
                    a.totp_last_step,
                    a.locked_until,
                    a.created_at,
                    a.updated_at
                ],
            )
            .map_err(|e| match &e {
                rusqlite::Error::SqliteFailure(f, _) if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY => {
                    StoreError::NotFound(format!("consumer `{}`", a.consumer_id))
                }
                _ if is_unique_violation(&e) => StoreError::Conflict(format!("account `{}`", a.username)),
                _ => backend(e),
            })?;
            history(
                &tx,
                now,
                actor,
                "account.create",
                &a.username,
                json!({ "consumer": a.consumer_id, "roles": a.roles, "scopes": a.scopes }),
            )?;
            tx.commit().map_err(backend)
        })
    }

    fn account(&self, username: &str) -> Result<Option<AccountRecord>> {
        self.with(|conn| {
            conn.query_row(
                &format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE username = ?1"),
                params![username],
                account_row,
            )
            .optional()
            .map_err(backend)
        })
    }

    fn list_accounts(&self) -> Result<Vec<AccountRecord>> {
        self.with(|conn| {
            let mut stmt = conn
                .prepare(&format!(
                    "SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY username"
                ))
                .map_err(backend)?;
            let rows = stmt.query_map([], account_row).map_err(backend)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(backend)
        })
    }

    fn set_account_password(
        &self,
        username: &str,
        hash: &str,
        actor: &str,
        now: i64,
    ) -> Result<()> {
        self.with(|conn| {
            update_account(
                conn,
                username,
                "UPDATE accounts SET password_hash = ?2, locked_until = NULL, updated_at = ?3 WHERE username = ?1",
                &[&username, &hash, &now],
                (now, actor, "account.passwd", json!({})),
            )
        })
    }

    fn set_account_status(
        &self,
        username: &str,
        status: &str,
        actor: &str,
        now: i64,
    ) -> Result<bool> {
        self.with(|conn| {
            let current: Option<(String, Option<i64>)> = conn
                .query_row(
                    "SELECT status, locked_until FROM accounts WHERE username = ?1",
                    params![username],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(backend)?;
            let Some((current, locked_until)) = current else {
                return Err(StoreError::NotFound(format!("account `{username}`")));
            };
            let unlocks = status == "active" && locked_until.is_some_and(|t| t > now);
            if current == status && !unlocks {
                return Ok(false);
            }
            update_account(
                conn,
                username,
                "UPDATE accounts SET status = ?2, locked_until = CASE WHEN ?2 = 'active' THEN NULL ELSE locked_until END, updated_at = ?3 WHERE username = ?1",
                &[&username, &status, &now],
                (now, actor, if status == "active" { "account.enable" } else { "account.disable" }, json!({ "unlocked": unlocks })),
            )?;
            Ok(true)
        })
    }

    fn set_account_totp(
        &self,
        username: &str,
        sealed: Option<&[u8]>,
        actor: &str,
        now: i64,
    ) -> Result<()> {
        self.with(|conn| {
            update_account(
                conn,
                username,
                "UPDATE accounts SET totp_sealed = ?2, totp_last_step = NULL, updated_at = ?3 WHERE username = ?1",
                &[&username, &sealed, &now],
                (now, actor, if sealed.is_some() { "account.totp_enroll" } else { "account.totp_remove" }, json!({})),
            )
        })
    }

    fn use_totp_step(&self, username: &str, step: i64) -> Result<bool> {
        self.with(|conn| {
            let n = conn
                .execute(
                    "UPDATE accounts SET totp_last_step = ?2 WHERE username = ?1 AND (totp_last_step IS NULL OR totp_last_step < ?2)",
                    params![username, step],
                )
                .map_err(backend)?;
            Ok(n == 1)
        })
    }

    fn lock_account(&self, username: &str, until: i64, actor: &str, now: i64) -> Result<()> {
        self.with(|conn| {
            update_account(
                conn,
                username,
                "UPDATE accounts SET locked_until = MAX(COALESCE(locked_until, 0), ?2) WHERE username = ?1",
                &[&username, &until],
                (now, actor, "account.lock", json!({ "until": until })),
            )
        })
    }

    fn create_consumer(&self, new: &NewConsumer, actor: &str, now: i64) -> Result<Consumer> {
        let id = format!("c_{}", new_id());
        self.with(|conn| {
            let tx = conn.transaction().map_err(backend)?;
            tx.execute(
                "INSERT INTO consumers (id, name, plan, roles, scopes, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![id, new.name, new.plan, to_json(&new.roles), to_json(&new.scopes), now],
            )
            .map_err(|e| if is_unique_violation(&e) { StoreError::Conflict(format!("consumer `{}`", new.name)) } else { backend(e) })?;
            history(&tx, now, actor, "consumer.create", &id, json!({ "name": new.name, "plan": new.plan }))?;
            tx.commit().map_err(backend)?;
            Ok(())
        })?;
        Ok(Consumer {
            id,
            name: new.name.clone(),
            plan: new.plan.clone(),
            roles: new.roles.clone(),
            scopes: new.scopes.clone(),
            status: "active".into(),
            created_at: now,
        })
    }

    fn consumer_by_name(&self, name: &str) -> Result<Option<Consumer>> {
        self.with(|conn| {
            conn.query_row(
                "SELECT id, name, plan, roles, scopes, status, created_at FROM consumers WHERE name = ?1",
                params![name],
                consumer_row,
            )
            .optional()
            .map_err(backend)
        })
    }

    fn consumer(&self, id: &str) -> Result<Option<Consumer>> {
        self.with(|conn| {
            conn.query_row(
                "SELECT id, name, plan, roles, scopes, status, created_at FROM consumers WHERE id = ?1",
                params![id],
                consumer_row,
            )
            .optional()
            .map_err(backend)
        })
    }

    fn insert_api_key(&self, k: &ApiKeyRecord, actor: &str, now: i64) -> Result<()> {
        self.with(|conn| {
            let tx = conn.transaction().map_err(backend)?;
            tx.execute(
                &format!("INSERT INTO api_keys ({KEY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"),
                params![
                    k.id,
                    k.consumer_id,
                    k.hash,
                    to_json(&k.scopes),
                    to_json(&k.allow_ips),
                    to_json(&k.allow_referrers),
                    to_json(&k.routes),
                    k.created_at,
                    k.expires_at,
                    k.revoked_at,
                    k.last_used_at,
                    k.replaced_by,
                    k.kind.as_str(),
                    k.sealed_secret
                ],
            )
            .map_err(|e| match &e {
                rusqlite::Error::SqliteFailure(f, _) if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY => {
                    StoreError::NotFound(format!("consumer `{}`", k.consumer_id))
                }
                _ if is_unique_violation(&e) => StoreError::Conflict(format!("api key `{}`", k.id)),
                _ => backend(e),
            })?;
            history(
                &tx,
                now,
                actor,
                "api_key.create",
                &k.id,
                json!({ "consumer": k.consumer_id, "kind": k.kind.as_str(), "scopes": k.scopes, "expires_at": k.expires_at }),
            )?;
            tx.commit().map_err(backend)
        })
    }

    fn api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>> {
        self.with(|conn| {
            conn.query_row(
                &format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE id = ?1"),
                params![id],
                key_row,
            )
            .optional()
            .map_err(backend)
        })
    }

    fn list_api_keys(&self, consumer_id: Option<&str>) -> Result<Vec<ApiKeyRecord>> {
        self.with(|conn| {
            let mut stmt = conn
                .prepare(&format!(
                    "SELECT {KEY_COLUMNS} FROM api_keys WHERE (?1 IS NULL OR consumer_id = ?1) ORDER BY created_at DESC, id"
                ))
                .map_err(backend)?;
            let rows = stmt.query_map(params![consumer_id], key_row).map_err(backend)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(backend)
        })
    }

    fn revoke_api_key(&self, id: &str, actor: &str, now: i64) -> Result<bool> {
        self.with(|conn| {
            let tx = conn.transaction().map_err(backend)?;
            let exists: Option<Option<i64>> = tx
                .query_row(
                    "SELECT revoked_at FROM api_keys WHERE id = ?1",
                    params![id],
                    |r| r.get(0),
                )
                .optional()
                .map_err(backend)?;
            let changed = match exists {
                None => return Err(StoreError::NotFound(format!("api key `{id}`"))),
                Some(Some(_)) => false,
                Some(None) => {
                    tx.execute(
                        "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1",
                        params![id, now],
                    )
                    .map_err(backend)?;
                    history(&tx, now, actor, "api_key.revoke", id, json!({}))?;
                    true
                }
            };
            tx.commit().map_err(backend)?;
            Ok(changed)
        })
    }

    fn retire_api_key(
        &self,
        id: &str,
        replaced_by: &str,
        expires_at: i64,
        actor: &str,
        now: i64,
    ) -> Result<()> {
        self.with(|conn| {
            let tx = conn.transaction().map_err(backend)?;
            let n = tx
                .execute(
                    "UPDATE api_keys SET expires_at = MIN(COALESCE(expires_at, ?2), ?2), replaced_by = ?3 WHERE id = ?1 AND revoked_at IS NULL",
                    params![id, expires_at, replaced_by],
                )
                .map_err(backend)?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("active api key `{id}`")));
            }
            history(&tx, now, actor, "api_key.rotate", id, json!({ "replaced_by": replaced_by, "expires_at": expires_at }))?;
            tx.commit().map_err(backend)
        })
    }

    fn touch_api_key(&self, id: &str, now: i64) -> Result<()> {
        self.with(|conn| {
            conn.execute(
                "UPDATE api_keys SET last_used_at = ?2 WHERE id = ?1",
                params![id, now],
            )
            .map_err(backend)?;
            Ok(())
        })
    }

    fn quota_used(&self, key: &str, window: &str) -> Result<u64> {
        self.with(|conn| {
            let used: Option<i64> = conn
                .query_row(
                    "SELECT used FROM quota_usage WHERE key = ?1 AND window = ?2",
                    params![key, window],
                    |r| r.get(0),
                )
                .optional()
                .map_err(backend)?;
            Ok(used.and_then(|u| u64::try_from(u).ok()).unwrap_or(0))
        })
    }

    fn quota_add(&self, deltas: &[(String, String, u64)]) -> Result<()> {
        self.with(|conn| {
            let tx = conn.unchecked_transaction().map_err(backend)?;
            {
                let mut stmt = tx
                    .prepare_cached(
                        "INSERT INTO quota_usage (key, window, used) VALUES (?1, ?2, ?3)
                         ON CONFLICT (key, window) DO UPDATE SET used = used + excluded.used",
                    )
                    .map_err(backend)?;
                for (key, window, delta) in deltas {
                    let delta = i64::try_from(*delta).unwrap_or(i64::MAX);
                    stmt.execute(params![key, window, delta]).map_err(backend)?;
                }
            }
            tx.commit().map_err(backend)
        })
    }

    fn quota_usage(&self, fragment: &str) -> Result<Vec<(String, String, u64)>> {
        self.with(|conn| {
            let mut stmt = conn
                .prepare(
                    "SELECT key, window, used FROM quota_usage
                     WHERE instr(key, ?1) > 0 ORDER BY window DESC, key",
                )
                .map_err(backend)?;
            let rows = stmt
                .query_map(params![fragment], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                    ))
                })
                .map_err(backend)?;
            let mut out = Vec::new();
            for row in rows {
                let (k, w, u) = row.map_err(backend)?;
                out.push((k, w, u64::try_from(u).unwrap_or(0)));
            }
            Ok(out)
        })
    }

    fn revoke_token(&self, r: &TokenRevocation, actor: &str, now: i64) -> Result<i64> {
        self.with(|conn| {
            let tx = conn.unchecked_transaction().map_err(backend)?;
            tx.execute(
                "INSERT INTO token_revocations (issuer, kind, value, before, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![r.issuer, r.kind, r.value, r.before, now],
            )
            .map_err(backend)?;
            let seq = tx.last_insert_rowid();
            tx.execute(
                "INSERT INTO history (at, actor, action, subject, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    now,
                    actor,
                    format!("token.revoke_{}", r.kind),
                    r.value,
                    json!({"issuer": r.issuer, "before": r.before}).to_string()
                ],
            )
            .map_err(backend)?;
            tx.commit().map_err(backend)?;
            Ok(seq)
        })
    }

    fn token_revocations_since(&self, seq: i64) -> Result<Vec<(i64, TokenRevocation)>> {
        self.with(|conn| {
            let mut stmt = conn
                .prepare(
                    "SELECT seq, issuer, kind, value, before, created_at FROM token_revocations
                     WHERE seq > ?1 ORDER BY seq",
                )
                .map_err(backend)?;
            let rows = stmt
                .query_map(params![seq], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        TokenRevocation {
                            issuer: r.get(1)?,
                            kind: r.get(2)?,
                            value: r.get(3)?,
                            before: r.get(4)?,
                            created_at: r.get(5)?,
                        },
                    ))
                })
                .map_err(backend)?;
            rows.collect::<std::result::Result<Vec<_>, _>>()
                .map_err(backend)
        })
    }

    fn history(&self, limit: usize) -> Result<Vec<HistoryEntry>> {
        self.with(|conn| {
            let mut stmt = conn
                .prepare("SELECT seq, at, actor, action, subject, detail FROM history ORDER BY seq DESC LIMIT ?1")
                .map_err(backend)?;
            let rows = stmt
                .query_map(params![i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
                    Ok(HistoryEntry {
                        seq: r.get(0)?,
                        at: r.get(1)?,
                        actor: r.get(2)?,
                        action: r.get(3)?,
                        subject: r.get(4)?,
                        detail: serde_json::from_str(&r.get::<_, String>(5)?).unwrap_or(Value::Null),
                    })
                })
                .map_err(backend)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(backend)
        })
    }
}

/// A random id: 16 lowercase hex characters from the OS generator (via SQLite's
/// `randomblob`-free path: std's hasher keys are random per process, mixed with time and a
/// counter). Ids are identifiers, not secrets.
fn new_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    format!("{:016x}", h.finish())
}
