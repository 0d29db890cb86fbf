//! The Basic guard: built-in accounts with `Authorization: Basic`, an optional TOTP second
//! factor in `X-OTP`, and brute-force lockout per username and per client address.
//!
//! Order of checks, and why:
//! 1. header parsing (no work for garbage);
//! 2. the client address's lock (in memory);
//! 3. on the blocking pool, behind a semaphore: the store read, then the username's lock (in
//!    memory, or persisted in the account row; an operator's `enable` or `passwd` after the
//!    lock lifts it), all before any hashing, so guesses against a locked key cost nothing and
//!    a locked account is refused even with the right password; then Argon2id (or the dummy
//!    hash for an unknown user, the same cost), then the TOTP code, consumed atomically in the
//!    store;
//! 4. failures feed the lockout; a lock of a known account is written to the store.
//!
//! Every authentication failure is the same 401 problem with the same `WWW-Authenticate`
//! challenge; a lockout is 429 with `Retry-After`, for known and unknown usernames alike.

use std::sync::Arc;
use std::time::Duration;

use http::header::{AUTHORIZATION, HeaderName, HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE};
use portcullis_config::{BasicAuthSpec, LockoutSpec};
use portcullis_core::{
    Denial, Guard, GuardId, Identity, Phase, ProblemType, RequestCx, Resume, Step,
};
use portcullis_store::{AccountRecord, Consumer, Store};
use tokio::sync::Semaphore;

use crate::basic::{self, VerifiedCache};
use crate::lockout::{Clock, Lockout, LockoutPolicy, SystemClock};
use crate::sealed::Keyring;
use crate::totp;

const ID: GuardId = GuardId("basic");
/// The header carrying the TOTP code.
pub const OTP_HEADER: HeaderName = HeaderName::from_static("x-otp");
/// Log target of security events (failures, lockouts).
pub const SECURITY_TARGET: &str = "portcullis::security";
/// How long a request waits for a verification slot before a 503.
pub const PERMIT_WAIT: Duration = Duration::from_secs(2);

/// State shared by every Basic guard of every config version: it outlives reloads, so
/// lockouts and cached verifications survive them.
pub struct AccountServices {
    /// The account store.
    pub store: Arc<dyn Store>,
    /// The master keyring, to open TOTP seeds (absent: TOTP routes refuse every request).
    pub keyring: Option<Arc<Keyring>>,
    /// Failure counters and locks.
    pub lockout: Arc<Lockout>,
    /// Concurrent Argon2 verifications allowed; a flood waits here, not on the blocking pool.
    pub permits: Arc<Semaphore>,
    /// Recently verified credentials.
    pub cache: Arc<VerifiedCache>,
    /// Time.
    pub clock: Arc<dyn Clock>,
}

impl AccountServices {
    /// Services over `store`, with verifications bounded by the number of CPUs (at least 2).
    pub fn new(
        store: Arc<dyn Store>,
        keyring: Option<Arc<Keyring>>,
    ) -> Result<Self, crate::sealed::SealError> {
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get().max(2));
        Ok(Self {
            store,
            keyring,
            lockout: Arc::new(Lockout::default()),
            permits: Arc::new(Semaphore::new(cpus)),
            cache: Arc::new(VerifiedCache::new()?),
            clock: Arc::new(SystemClock),
        })
    }
}

/// HTTP Basic against built-in accounts, with optional TOTP.
pub struct BasicGuard {
    services: Arc<AccountServices>,
    challenge: HeaderValue,
    require_totp: bool,
    cache_ttl: i64,
    user_policy: LockoutPolicy,
    ip_policy: LockoutPolicy,
}

/// What the blocking task found.
enum Checked {
    Ok {
        account: Box<AccountRecord>,
        consumer: Box<Consumer>,
        otp_used: bool,
    },
    /// Refused: counts as a failure. `known` says whether the account exists.
    Failed { reason: &'static str, known: bool },
    /// The account is locked in the store (survives restarts).
    Locked { until: i64 },
    /// The store could not answer.
    Unavailable,
}

fn lock_key_user(username: &str) -> String {
    format!("user:{}", username.to_lowercase())
}

fn lock_key_ip(ip: std::net::IpAddr) -> String {
    // The same key as every other method's (IPv6 by /64): one address lock covers them all.
    crate::failure_lockout::ip_key(ip)
}

impl BasicGuard {
    /// A guard for one route.
    pub fn new(
        spec: &BasicAuthSpec,
        lockout: &LockoutSpec,
        services: Arc<AccountServices>,
    ) -> Self {
        let challenge = HeaderValue::from_str(&format!(
            "Basic realm=\"{}\", charset=\"UTF-8\"",
            spec.realm
        ))
        .unwrap_or(HeaderValue::from_static("Basic"));
        basic::warm_up();
        Self {
            services,
            challenge,
            require_totp: spec.require_totp,
            cache_ttl: i64::try_from(spec.verified_cache.get().as_secs()).unwrap_or(0),
            user_policy: LockoutPolicy::per_user(lockout),
            ip_policy: LockoutPolicy::per_ip(lockout),
        }
    }

    fn unauthorized(challenge: &HeaderValue, reason: &'static str) -> Step {
        Step::Deny(
            Denial::new(ProblemType::Unauthorized, reason, ID)
                .with_header(WWW_AUTHENTICATE, challenge.clone()),
        )
    }

    fn locked(retry_after: i64) -> Step {
        Step::Deny(
            Denial::new(ProblemType::TooManyRequests, "auth_locked_out", ID)
                .with_header(RETRY_AFTER, HeaderValue::from(retry_after.max(1))),
        )
    }
}

/// The blocking part: store read, Argon2, TOTP. Runs on the blocking pool.
fn check(
    services: &AccountServices,
    creds: &basic::BasicCredentials,
    otp: Option<&str>,
    require_totp: bool,
    cache_ttl: i64,
) -> Checked {
    let now = services.clock.now();
    let account = match services.store.account(&creds.username) {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(error = %e, "account store unavailable");
            return Checked::Unavailable;
        }
    };
    let user_key = lock_key_user(&creds.username);
    let memory_lock = services.lockout.lock_state(&user_key, now);
    let Some(account) = account else {
        if let Some(lock) = memory_lock {
            return Checked::Locked {
                until: now.saturating_add(lock.retry_after),
            };
        }
        basic::burn_dummy(&creds.password);
        return Checked::Failed {
            reason: "basic_unknown_user",
            known: false,
        };
    };
    if let Some(until) = account.locked_until.filter(|t| *t > now) {
        return Checked::Locked { until };
    }
    if let Some(lock) = memory_lock {
        // The store has no lock (or an older one): an operator who changed the account
        // since (`accounts enable`, `passwd`) lifted it; otherwise the write is in flight.
        if lock.since > account.updated_at {
            return Checked::Locked {
                until: now.saturating_add(lock.retry_after),
            };
        }
        services.lockout.record_success(&user_key);
    }
    let cached = services.cache.hit(
        &creds.username,
        &creds.password,
        &account.password_hash,
        now,
    );
    if !cached && !basic::verify_password(&creds.password, &account.password_hash) {
        return Checked::Failed {
            reason: "basic_wrong_password",
            known: true,
        };
    }
    if account.status != "active" {
        return Checked::Failed {
            reason: "basic_account_disabled",
            known: true,
        };
    }
    let consumer = match services.store.consumer(&account.consumer_id) {
        Ok(Some(c)) if c.status == "active" => c,
        Ok(_) => {
            return Checked::Failed {
                reason: "basic_consumer_disabled",
                known: true,
            };
        }
        Err(e) => {
            tracing::error!(error = %e, "account store unavailable");
            return Checked::Unavailable;
        }
    };
    // The password is right: remember it, so the second factor's failures do not make the
    // client pay Argon2 again.
    if !cached {
        services.cache.insert(
            &creds.username,
            &creds.password,
            &account.password_hash,
            now,
            cache_ttl,
        );
    }
    if require_totp && let Some(reason) = check_totp(services, &account, otp, now) {
        return Checked::Failed {
            reason,
            known: true,
        };
    }
    Checked::Ok {
        account: Box::new(account),
        consumer: Box::new(consumer),
        otp_used: require_totp,
    }
}

/// The second factor: `None` when the code is right and fresh (and is now consumed).
fn check_totp(
    services: &AccountServices,
    account: &AccountRecord,
    otp: Option<&str>,
    now: i64,
) -> Option<&'static str> {
    let Some(code) = otp else {
        return Some("totp_missing");
    };
    let Some(sealed) = &account.totp_sealed else {
        return Some("totp_not_enrolled");
    };
    let Some(keyring) = &services.keyring else {
        tracing::error!("a route requires TOTP but no master key is loaded");
        return Some("totp_no_master_key");
    };
    let Ok(seed) = keyring.open(&totp::seal_context(&account.username), sealed) else {
        tracing::error!(user = %account.username, "TOTP seed does not open under the master keyring");
        return Some("totp_seed_unreadable");
    };
    let Some(step) = totp::verify(&seed, code, now, account.totp_last_step) else {
        return Some("totp_wrong");
    };
    match services.store.use_totp_step(&account.username, step) {
        Ok(true) => None,
        // Another request used this step (or a later one) since we read the account.
        Ok(false) => Some("totp_replayed"),
        Err(e) => {
            tracing::error!(error = %e, "account store unavailable");
            Some("totp_store_unavailable")
        }
    }
}

impl Guard for BasicGuard {
    fn id(&self) -> GuardId {
        ID
    }

    fn phases(&self) -> &'static [Phase] {
        &[Phase::Request]
    }

    fn on_request(&self, cx: &mut RequestCx, req: &mut http::request::Parts) -> Step {
        // Credentials are taken out of the request: the upstream never sees them.
        let header = req.headers.remove(AUTHORIZATION);
        let otp = req
            .headers
            .remove(OTP_HEADER)
            .and_then(|v| v.to_str().ok().map(str::to_string));
        let Some(header) = header else {
            return Self::unauthorized(&self.challenge, "basic_missing");
        };
        let creds = match basic::parse_basic(header.as_bytes()) {
            Ok(c) => c,
            Err(basic::BasicParseError::NotBasic) => {
                return Self::unauthorized(&self.challenge, "basic_wrong_scheme");
            }
            Err(basic::BasicParseError::Malformed) => {
                return Self::unauthorized(&self.challenge, "basic_malformed");
            }
        };
        let ip = cx.client_ip.0;
        let now = self.services.clock.now();
        let user_key = lock_key_user(&creds.username);
        let ip_key = lock_key_ip(ip);
        // The address lock is decided here; the username lock after the store read, where an
        // operator's unlock is visible (still before any hashing).
        if let Some(retry) = self.services.lockout.retry_after(&ip_key, now) {
            tracing::warn!(target: SECURITY_TARGET, event = "auth_refused_locked", method = "basic", scope = "ip", user = %creds.username, client_ip = %ip, retry_after = retry, "authentication refused: locked out");
            return Self::locked(retry);
        }
        let services = self.services.clone();
        let challenge = self.challenge.clone();
        let require_totp = self.require_totp;
        let cache_ttl = self.cache_ttl;
        let (user_policy, ip_policy) = (self.user_policy, self.ip_policy);
        Step::Wait(Box::pin(async move {
            let username = creds.username.clone();
            let permit =
                tokio::time::timeout(PERMIT_WAIT, services.permits.clone().acquire_owned()).await;
            let checked = match permit {
                Ok(Ok(permit)) => {
                    let svc = services.clone();
                    tokio::task::spawn_blocking(move || {
                        let checked = check(&svc, &creds, otp.as_deref(), require_totp, cache_ttl);
                        drop(permit);
                        checked
                    })
                    .await
                    .unwrap_or(Checked::Unavailable)
                }
                _ => {
                    let resume: Resume = Box::new(|_cx: &mut RequestCx| {
                        Step::Deny(
                            Denial::new(ProblemType::ServiceUnavailable, "basic_busy", ID)
                                .with_header(RETRY_AFTER, HeaderValue::from_static("1")),
                        )
                    });
                    return resume;
                }
            };
            let resume: Resume = Box::new(move |cx: &mut RequestCx| match checked {
                Checked::Ok {
                    account,
                    consumer,
                    otp_used,
                } => {
                    services.lockout.record_success(&user_key);
                    let account = *account;
                    let consumer = *consumer;
                    let amr: &[&str] = if otp_used {
                        &["pwd", "otp", "mfa"]
                    } else {
                        &["pwd"]
                    };
                    cx.identity = Some(Identity {
                        consumer_id: consumer.name,
                        method: "basic",
                        scopes: if account.scopes.is_empty() {
                            consumer.scopes
                        } else {
                            account.scopes
                        },
                        roles: if account.roles.is_empty() {
                            consumer.roles
                        } else {
                            account.roles
                        },
                        credential_id: Some(format!("account:{}", account.username)),
                        plan: consumer.plan,
                        claims: Some(Arc::new(serde_json::json!({
                            "sub": account.username,
                            "amr": amr,
                        }))),
                    });
                    Step::Continue
                }
                Checked::Locked { until } => {
                    let now = services.clock.now();
                    tracing::warn!(target: SECURITY_TARGET, event = "auth_refused_locked", method = "basic", user = %username, client_ip = %ip, retry_after = until - now, "authentication refused: account locked");
                    Self::locked(until - now)
                }
                Checked::Unavailable => Step::Deny(Denial::new(
                    ProblemType::ServiceUnavailable,
                    "store_unavailable",
                    ID,
                )),
                Checked::Failed { reason, known } => {
                    let now = services.clock.now();
                    tracing::warn!(target: SECURITY_TARGET, event = "auth_failure", method = "basic", reason, user = %username, client_ip = %ip, "authentication failed");
                    let user_lock = services
                        .lockout
                        .record_failure(&user_policy, &user_key, now);
                    if let Some(locked) = services.lockout.record_failure(&ip_policy, &ip_key, now)
                    {
                        tracing::warn!(target: SECURITY_TARGET, event = "lockout", scope = "ip", client_ip = %ip, seconds = locked.secs, "client address locked out after repeated authentication failures");
                    }
                    if let Some(locked) = user_lock {
                        tracing::warn!(target: SECURITY_TARGET, event = "lockout", scope = "user", user = %username, client_ip = %ip, seconds = locked.secs, "account locked out after repeated authentication failures");
                        if known {
                            let store = services.store.clone();
                            tokio::task::spawn_blocking(move || {
                                if let Err(e) =
                                    store.lock_account(&username, locked.until, "gateway", now)
                                {
                                    tracing::error!(error = %e, "could not persist an account lockout");
                                }
                            });
                        }
                    }
                    Self::unauthorized(&challenge, reason)
                }
            });
            resume
        }))
    }
}

impl crate::combine::Credential for BasicGuard {
    fn presented(&self, _cx: &RequestCx, req: &http::request::Parts) -> bool {
        basic_scheme(req)
    }

    fn strip(&self, req: &mut http::request::Parts) {
        if basic_scheme(req) {
            req.headers.remove(AUTHORIZATION);
            req.headers.remove(OTP_HEADER);
        }
    }

    fn challenge(&self) -> HeaderValue {
        self.challenge.clone()
    }

    fn counts_own_failures(&self) -> bool {
        true
    }
}

/// The `Authorization` header uses the Basic scheme.
fn basic_scheme(req: &http::request::Parts) -> bool {
    req.headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.split_once(' '))
        .is_some_and(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicI64, Ordering};
    use std::time::Instant;

    use base64::Engine;
    use portcullis_config::HumanDuration;
    use portcullis_core::RequestId;
    use portcullis_store::{NewConsumer, SqliteStore};

    use super::*;

    const PASSWORD: &str = "violet-Staple-orbit-47";

    struct TestClock(AtomicI64);
    impl Clock for TestClock {
        fn now(&self) -> i64 {
            self.0.load(Ordering::SeqCst)
        }
    }

    fn services(clock: Arc<TestClock>) -> Arc<AccountServices> {
        let store = Arc::new(SqliteStore::in_memory().unwrap());
        let consumer = store
            .create_consumer(
                &NewConsumer {
                    name: "shop".into(),
                    scopes: vec!["orders:read".into()],
                    ..Default::default()
                },
                "test",
                0,
            )
            .unwrap();
        store
            .create_account(
                &AccountRecord {
                    username: "alice".into(),
                    consumer_id: consumer.id,
                    password_hash: basic::hash_password(PASSWORD).unwrap(),
                    roles: vec!["admin".into()],
                    scopes: vec![],
                    status: "active".into(),
                    totp_sealed: None,
                    totp_last_step: None,
                    locked_until: None,
                    created_at: 0,
                    updated_at: 0,
                },
                "test",
                0,
            )
            .unwrap();
        let mut s = AccountServices::new(store, None).unwrap();
        s.clock = clock;
        Arc::new(s)
    }

    fn guard(services: Arc<AccountServices>) -> BasicGuard {
        let spec = BasicAuthSpec {
            realm: "test".into(),
            require_totp: false,
            verified_cache: HumanDuration::secs(0),
            lockout: None,
        };
        let lockout = LockoutSpec {
            max_failures: 3,
            max_failures_per_ip: 5,
            ..LockoutSpec::default()
        };
        BasicGuard::new(&spec, &lockout, services)
    }

    /// The guard's verdict: status (200 for Continue) and the Retry-After, if any.
    async fn run(
        guard: &BasicGuard,
        ip: &str,
        user: &str,
        password: &str,
    ) -> (u16, Option<String>, RequestCx) {
        let mut cx = RequestCx::new(
            RequestId::generate(),
            format!("{ip}:40000").parse().unwrap(),
            Instant::now(),
        );
        let value = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        );
        let mut parts = http::Request::get("/x")
            .header("authorization", value)
            .body(())
            .unwrap()
            .into_parts()
            .0;
        let step = match guard.on_request(&mut cx, &mut parts) {
            Step::Wait(w) => w.await(&mut cx),
            other => other,
        };
        assert!(
            parts.headers.get("authorization").is_none(),
            "credentials removed"
        );
        match step {
            Step::Continue => (200, None, cx),
            Step::Deny(d) => {
                let retry = d
                    .headers
                    .iter()
                    .find(|(n, _)| n == RETRY_AFTER)
                    .map(|(_, v)| v.to_str().unwrap().to_string());
                (d.status.as_u16(), retry, cx)
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn identity_from_account_and_consumer() {
        let clock = Arc::new(TestClock(AtomicI64::new(1_000)));
        let g = guard(services(clock));
        let (status, _, cx) = run(&g, "10.0.0.1", "alice", PASSWORD).await;
        assert_eq!(status, 200);
        let id = cx.identity.unwrap();
        assert_eq!(id.consumer_id, "shop");
        assert_eq!(id.method, "basic");
        assert_eq!(id.roles, ["admin"], "the account's own roles");
        assert_eq!(
            id.scopes,
            ["orders:read"],
            "the consumer's scopes by default"
        );
        assert_eq!(id.credential_id.as_deref(), Some("account:alice"));
    }

    #[tokio::test]
    async fn lockout_windows_with_a_controlled_clock() {
        let clock = Arc::new(TestClock(AtomicI64::new(1_000)));
        let services = services(clock.clone());
        let g = guard(services.clone());
        // Two failures, then the window slides past them: no lock.
        for _ in 0..2 {
            assert_eq!(
                run(&g, "10.0.0.1", "alice", "wrong-password-1").await.0,
                401
            );
        }
        clock.0.store(1_000 + 15 * 60, Ordering::SeqCst);
        assert_eq!(
            run(&g, "10.0.0.2", "alice", "wrong-password-1").await.0,
            401
        );
        assert_eq!(run(&g, "10.0.0.2", "alice", PASSWORD).await.0, 200);
        // Three in the window: locked for 60 s, even with the right password.
        for _ in 0..3 {
            assert_eq!(
                run(&g, "10.0.0.3", "alice", "wrong-password-1").await.0,
                401
            );
        }
        let (status, retry, _) = run(&g, "10.0.0.3", "alice", PASSWORD).await;
        assert_eq!((status, retry.as_deref()), (429, Some("60")));
        // An unknown username locks the same way.
        for _ in 0..3 {
            assert_eq!(
                run(&g, "10.0.0.4", "nobody", "wrong-password-1").await.0,
                401
            );
        }
        assert_eq!(
            run(&g, "10.0.0.4", "nobody", "wrong-password-1").await.0,
            429
        );
        // Time passes: the lock ends and the right password works again.
        clock.0.fetch_add(61, Ordering::SeqCst);
        assert_eq!(run(&g, "10.0.0.5", "alice", PASSWORD).await.0, 200);
        // The per-address threshold (5) locks an address guessing across usernames, and
        // only that address.
        for i in 0..5 {
            let status = run(&g, "10.0.0.9", &format!("user{i}"), "wrong-password-1")
                .await
                .0;
            assert_eq!(status, 401);
        }
        assert_eq!(run(&g, "10.0.0.9", "alice", PASSWORD).await.0, 429);
        assert_eq!(run(&g, "10.0.0.8", "alice", PASSWORD).await.0, 200);
    }

    #[tokio::test]
    async fn locks_of_known_accounts_are_persisted() {
        let clock = Arc::new(TestClock(AtomicI64::new(5_000)));
        let services = services(clock.clone());
        let g = guard(services.clone());
        for _ in 0..3 {
            assert_eq!(
                run(&g, "10.0.0.1", "alice", "wrong-password-1").await.0,
                401
            );
        }
        // The write happens on the blocking pool: wait for it with a deadline.
        let deadline = Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let a = services.store.account("alice").unwrap().unwrap();
            if a.locked_until == Some(5_060) {
                break;
            }
            assert!(Instant::now() < deadline, "lock not persisted: {a:?}");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        // A fresh gateway (new in-memory state) over the same store still refuses.
        let mut fresh = AccountServices::new(services.store.clone(), None).unwrap();
        fresh.clock = clock;
        let g2 = guard(Arc::new(fresh));
        assert_eq!(run(&g2, "10.0.0.2", "alice", PASSWORD).await.0, 429);
    }
}
