//! Brute-force and credential-stuffing lockout for **every** authentication method: a
//! [`FailureLockout`] wraps a route's authentication guard (one method, the `any_of` set, or
//! each method of an `all_of` list) and counts what it refuses.
//!
//! - **Before** the inner guard runs: a locked client address (or a locked real credential id
//!   the request claims) is refused with 429 and `Retry-After`, without verifying anything,
//!   so guesses against a locked key cost the gateway nothing and a valid key from a locked
//!   address is refused too.
//! - **After**: a refusal that is the generic 401 counts one failure for the client address
//!   key ([`ip_key`]: IPv4 by address, IPv6 by its /64) and, when the inner guard marked the
//!   failure as belonging to a credential that exists in the store ([`FailedCredential`]),
//!   one for that credential's key. Ids the client merely invented are never counted, so the
//!   table cannot be filled with them. Reasons in [`NOT_COUNTED`] (missing credentials,
//!   identity provider outages, step-up demands), and every status other than 401 (403, 429,
//!   503), are not guesses and do not count.
//! - A success resets the credential's key, never the address key: a stuffing client holding
//!   one valid key must not wipe its address's count by using it.
//!
//! Methods that count their own failures (Basic, per username, see
//! [`Credential::counts_own_failures`]) are not counted again; they share the same
//! [`Lockout`] table, so one address lock covers every method. Locks are in memory (they do not
//! survive a restart) and bounded (see [`crate::lockout`]); thresholds, windows and the
//! doubling lockout come from the top-level `auth_lockout`.
//!
//! Failures and lockouts are logged on [`SECURITY_TARGET`] (`portcullis::security`) with the
//! route, client address, method, reason and, for a real credential, its id; never a secret or
//! a submitted token.

use std::net::IpAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{HeaderValue, RETRY_AFTER};
use portcullis_config::LockoutSpec;
use portcullis_core::{Denial, Guard, GuardId, Phase, ProblemType, RequestCx, Resume, Step};

use crate::combine::Credential;
use crate::lockout::{Clock, Lockout, LockoutPolicy, SystemClock};

pub use crate::basic_guard::SECURITY_TARGET;

/// The guard id of the lockout's own 429 (the generic lockout problem, as Basic's).
pub const ID: GuardId = GuardId("auth_lockout");

/// The reason logged for a request refused because its address or credential is locked.
pub const LOCKED_REASON: &str = "auth_locked_out";

/// 401 reasons that are not guesses and are never counted:
/// - no credential at all (a browser's first request before the challenge, an `any_of`
///   route answered without any of its credentials);
/// - the identity provider or the gateway's own setup failed (introspection endpoint down or
///   refusing the gateway, a signing secret the master key cannot open);
/// - a genuine token that is not strong enough (step-up: `amr` / `acr`);
/// - a signed request outside the clock-skew window (a client clock problem).
///
/// Statuses other than 401 (403 for a key used from a forbidden address, 429, 503) are never
/// counted either.
pub const NOT_COUNTED: &[&str] = &[
    "auth_missing",
    "api_key_missing",
    "jwt_missing",
    "token_missing",
    "hmac_missing",
    "basic_missing",
    "mtls_no_certificate",
    "introspection_unavailable",
    "introspection_client_rejected",
    "introspection_garbage",
    "introspection_request_invalid",
    "hmac_secret_unreadable",
    "hmac_secret_missing",
    "hmac_timestamp_outside_window",
    "jwt_mfa_required",
    "jwt_acr_required",
];

/// Left in the request extensions by a guard whose failed credential exists in the store
/// (API key or HMAC key id): the failure also counts for that credential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailedCredential(pub String);

/// The lockout key of a client address: IPv4 by address, IPv6 by its /64 (one customer
/// usually holds a whole /64, so counting single IPv6 addresses would be trivial to evade).
/// IPv4-mapped IPv6 addresses count as their IPv4 address.
pub fn ip_key(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => format!("ip:{v4}"),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let [a, b, c, d, ..] = s;
            format!("ip:{a:x}:{b:x}:{c:x}:{d:x}::/64")
        }
    }
}

/// The lockout key of a stored credential id.
pub fn credential_key(id: &str) -> String {
    format!("cred:{id}")
}

/// Identity methods whose `credential_id` is a stored key that failures are counted for.
const COUNTED_CREDENTIAL_METHODS: &[&str] = &["api_key", "hmac"];

/// The counting half, shared with the futures of asynchronous inner guards.
struct Counter {
    lockout: Arc<Lockout>,
    clock: Arc<dyn Clock>,
    credential_policy: LockoutPolicy,
    ip_policy: LockoutPolicy,
    route: Arc<str>,
    /// Guards that count their own failures (Basic).
    own: Vec<GuardId>,
}

/// Counts failures of a route's authentication and refuses locked addresses and credentials.
pub struct FailureLockout {
    inner: Arc<dyn Guard>,
    /// The methods inside `inner` (one, or the `any_of` set), to find the claimed credential.
    methods: Vec<Arc<dyn Credential>>,
    counter: Arc<Counter>,
    phases: &'static [Phase],
}

// === impl FailureLockout ===

impl FailureLockout {
    /// Wraps `inner`, the guard made of `methods` (the method itself, or their `AnyOf`),
    /// counting into the shared `lockout` with the thresholds of `spec`.
    pub fn new(
        inner: Arc<dyn Guard>,
        methods: Vec<Arc<dyn Credential>>,
        route: &str,
        spec: &LockoutSpec,
        lockout: Arc<Lockout>,
    ) -> Self {
        let phases: &'static [Phase] = if inner.phases().contains(&Phase::Body) {
            &[Phase::Request, Phase::Body]
        } else {
            &[Phase::Request]
        };
        let own = methods
            .iter()
            .filter(|m| m.counts_own_failures())
            .map(|m| m.id())
            .collect();
        Self {
            inner,
            methods,
            counter: Arc::new(Counter {
                lockout,
                clock: Arc::new(SystemClock),
                credential_policy: LockoutPolicy::per_user(spec),
                ip_policy: LockoutPolicy::per_ip(spec),
                route: route.into(),
                own,
            }),
            phases,
        }
    }

    /// The same guard reading time from `clock` (tests).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        if let Some(c) = Arc::get_mut(&mut self.counter) {
            c.clock = clock;
        }
        self
    }

    /// The credential id the request claims, for the method that will decide (the first
    /// presented one, as `any_of` chooses).
    fn claimed_id(&self, cx: &RequestCx, req: &http::request::Parts) -> Option<String> {
        let method = self.methods.iter().find(|m| m.presented(cx, req))?;
        method.claimed_id(req)
    }
}

fn locked(retry_after: i64) -> Step {
    Step::Deny(
        Denial::new(ProblemType::TooManyRequests, LOCKED_REASON, ID)
            .with_header(RETRY_AFTER, HeaderValue::from(retry_after.max(1))),
    )
}

impl Guard for FailureLockout {
    fn id(&self) -> GuardId {
        self.inner.id()
    }

    fn phases(&self) -> &'static [Phase] {
        self.phases
    }

    fn on_request(&self, cx: &mut RequestCx, req: &mut http::request::Parts) -> Step {
        let c = &self.counter;
        let now = c.clock.now();
        let ip = cx.client_ip.0;
        // Nothing is locked (the usual case): no keys to build, no table to look up.
        if c.lockout.any_locked(now) {
            if let Some(retry) = c.lockout.retry_after(&ip_key(ip), now) {
                tracing::warn!(target: SECURITY_TARGET, event = "auth_refused_locked", scope = "ip", route = %c.route, client_ip = %ip, method = self.inner.id().as_str(), retry_after = retry, "authentication refused: client address locked out");
                return locked(retry);
            }
            if let Some(id) = self.claimed_id(cx, req)
                && let Some(retry) = c.lockout.retry_after(&credential_key(&id), now)
            {
                // Only real ids are ever locked, so `id` names a stored credential here.
                tracing::warn!(target: SECURITY_TARGET, event = "auth_refused_locked", scope = "credential", route = %c.route, client_ip = %ip, method = self.inner.id().as_str(), credential_id = %id, retry_after = retry, "authentication refused: credential locked out");
                return locked(retry);
            }
        }
        if !self.inner.phases().contains(&Phase::Request) {
            return Step::Continue;
        }
        let step = self.inner.on_request(cx, req);
        let last = !self.phases.contains(&Phase::Body);
        c.after(cx, step, last)
    }

    fn on_body(&self, cx: &mut RequestCx, req: &http::request::Parts, body: &Bytes) -> Step {
        if !self.inner.phases().contains(&Phase::Body) {
            return Step::Continue;
        }
        let step = self.inner.on_body(cx, req, body);
        self.counter.after(cx, step, true)
    }
}

// === impl Counter ===

impl Counter {
    /// Counts the inner guard's final step. `last` says whether this is its last phase (a
    /// `Continue` then is a success).
    fn after(self: &Arc<Self>, cx: &mut RequestCx, step: Step, last: bool) -> Step {
        match step {
            Step::Deny(denial) => {
                self.on_denial(cx, &denial);
                Step::Deny(denial)
            }
            Step::Continue => {
                if last {
                    self.on_success(cx);
                }
                Step::Continue
            }
            Step::Wait(wait) => {
                let me = self.clone();
                Step::Wait(Box::pin(async move {
                    let resume = wait.await;
                    let resume: Resume = Box::new(move |cx: &mut RequestCx| {
                        let step = resume(cx);
                        me.after(cx, step, last)
                    });
                    resume
                }))
            }
            delay @ Step::Delay(_) => delay,
        }
    }

    fn on_denial(&self, cx: &mut RequestCx, denial: &Denial) {
        let failed = cx.extensions.remove::<FailedCredential>();
        if denial.problem != ProblemType::Unauthorized || self.own.contains(&denial.guard) {
            return;
        }
        let ip = cx.client_ip.0;
        let method = denial.guard.as_str();
        let reason = denial.reason;
        if NOT_COUNTED.contains(&reason) {
            tracing::debug!(target: SECURITY_TARGET, event = "auth_failure", counted = false, route = %self.route, client_ip = %ip, method, reason, "authentication failed (not counted)");
            return;
        }
        let now = self.clock.now();
        let credential = failed.map(|FailedCredential(id)| id);
        tracing::info!(target: SECURITY_TARGET, event = "auth_failure", counted = true, route = %self.route, client_ip = %ip, method, reason, credential_id = credential.as_deref(), "authentication failed");
        if let Some(l) = self
            .lockout
            .record_failure(&self.ip_policy, &ip_key(ip), now)
        {
            tracing::warn!(target: SECURITY_TARGET, event = "lockout", scope = "ip", route = %self.route, client_ip = %ip, method, reason, seconds = l.secs, "client address locked out after repeated authentication failures");
        }
        if let Some(id) = credential
            && let Some(l) =
                self.lockout
                    .record_failure(&self.credential_policy, &credential_key(&id), now)
        {
            tracing::warn!(target: SECURITY_TARGET, event = "lockout", scope = "credential", route = %self.route, client_ip = %ip, method, reason, credential_id = %id, seconds = l.secs, "credential locked out after repeated authentication failures");
        }
    }

    fn on_success(&self, cx: &RequestCx) {
        let Some(identity) = &cx.identity else {
            return;
        };
        if COUNTED_CREDENTIAL_METHODS.contains(&identity.method)
            && let Some(id) = &identity.credential_id
        {
            self.lockout.record_success(&credential_key(id));
        }
    }
}

#[cfg(test)]
mod tests;
