//! The HMAC request-signing guard (`auth.hmac`): every request of the route carries a
//! `PCS1-HMAC-SHA256` signature (docs/request-signing.md) by an unrevoked, unexpired signing
//! key, made within `max_skew` of the gateway's clock, with a nonce never seen before, over a
//! body whose hash is checked against the buffered body before anything is forwarded.
//!
//! Order of checks, cheapest and unauthenticated first: header shape, timestamp window,
//! required headers, canonicalisation; then the store lookup and constant-time signature
//! check; only then the nonce is remembered (so unsigned traffic cannot fill the replay
//! store). Every failure is the same 401 for the client; the reason goes to the log.

use std::sync::Arc;

use aws_lc_rs::constant_time;
use bytes::Bytes;
use http::header::{AUTHORIZATION, HeaderValue, WWW_AUTHENTICATE};
use portcullis_config::HmacAuthSpec;
use portcullis_core::{
    Denial, Guard, GuardId, Identity, Phase, ProblemType, RequestCx, Resume, Step,
};
use portcullis_store::{KeyKind, Store};

use crate::failure_lockout::FailedCredential;
use crate::nonce::{NonceOutcome, NonceStore};
use crate::sealed::Keyring;
use crate::signing::{self, SignatureParams};

const ID: GuardId = GuardId("hmac");

/// The body hash a verified signature vouches for, handed from the request phase to the body
/// phase in the request context.
#[derive(Clone, Debug)]
struct ClaimedBodyHash(String);

/// The seal context of a signing key's secret: a sealed secret copied to another key's row
/// does not open.
pub fn seal_context(key_id: &str) -> String {
    format!("hmac:{key_id}")
}

/// Checks HMAC request signatures against signing keys in the store.
pub struct HmacGuard {
    store: Arc<dyn Store>,
    keyring: Arc<Keyring>,
    nonces: Arc<NonceStore>,
    max_skew: i64,
    required: Vec<String>,
    route: String,
    clock: fn() -> i64,
}

fn system_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl HmacGuard {
    /// A guard for route `route`. `nonces` must outlive config reloads (a fresh store after a
    /// reload would accept replays of requests signed just before it).
    pub fn new(
        spec: &HmacAuthSpec,
        route: &str,
        store: Arc<dyn Store>,
        keyring: Arc<Keyring>,
        nonces: Arc<NonceStore>,
    ) -> Self {
        let mut required: Vec<String> = spec
            .required_headers
            .iter()
            .map(|h| h.to_ascii_lowercase())
            .collect();
        if !required.iter().any(|h| h == "host") {
            required.push("host".into());
        }
        Self {
            store,
            keyring,
            nonces,
            max_skew: i64::try_from(spec.max_skew.get().as_secs()).unwrap_or(300),
            required,
            route: route.to_string(),
            clock: system_now,
        }
    }

    /// The same guard reading time from `clock` (tests).
    pub fn with_clock(mut self, clock: fn() -> i64) -> Self {
        self.clock = clock;
        self
    }

    fn unauthorized(reason: &'static str) -> Step {
        Step::Deny(
            Denial::new(ProblemType::Unauthorized, reason, ID).with_header(
                WWW_AUTHENTICATE,
                HeaderValue::from_static(signing::ALGORITHM),
            ),
        )
    }

    /// Everything that needs no store: header shape, window, required headers and the string
    /// to sign. The `Authorization` header is taken out (never forwarded upstream).
    fn prepare(
        &self,
        req: &mut http::request::Parts,
        now: i64,
    ) -> Result<(SignatureParams, String), &'static str> {
        let value = req.headers.remove(AUTHORIZATION).ok_or("hmac_missing")?;
        let text = value.to_str().map_err(|_| "hmac_malformed")?;
        let params = SignatureParams::parse(text).map_err(|_| "hmac_malformed")?;
        if now.abs_diff(params.timestamp) > self.max_skew.unsigned_abs() {
            return Err("hmac_timestamp_outside_window");
        }
        signing::check_required(&params, &self.required, &req.headers)
            .map_err(|_| "hmac_required_header_unsigned")?;
        let canonical = signing::canonical_request(
            req.method.as_str(),
            &req.uri,
            &req.headers,
            &params.signed_headers,
            &params.body_sha256,
        )
        .map_err(|_| "hmac_not_canonicalisable")?;
        let sts =
            signing::string_to_sign(params.timestamp, &params.nonce, &params.key_id, &canonical);
        Ok((params, sts))
    }
}

impl Guard for HmacGuard {
    fn id(&self) -> GuardId {
        ID
    }

    fn phases(&self) -> &'static [Phase] {
        &[Phase::Request, Phase::Body]
    }

    fn on_request(&self, cx: &mut RequestCx, req: &mut http::request::Parts) -> Step {
        let now = (self.clock)();
        let (params, sts) = match self.prepare(req, now) {
            Ok(p) => p,
            Err(reason) => return Self::unauthorized(reason),
        };
        let store = self.store.clone();
        let keyring = self.keyring.clone();
        let nonces = self.nonces.clone();
        let max_skew = self.max_skew;
        let route = self.route.clone();
        let ip = cx.client_ip.0;
        let origin = crate::api_key_guard::request_origin(req);
        let key_id = params.key_id.clone();
        Step::Wait(Box::pin(async move {
            let looked_up = tokio::task::spawn_blocking(move || {
                let record = store.api_key(&key_id);
                let consumer = match &record {
                    Ok(Some(r)) => store.consumer(&r.consumer_id).ok().flatten(),
                    _ => None,
                };
                (record, consumer, store)
            })
            .await;
            let resume: Resume = Box::new(move |cx: &mut RequestCx| {
                let Ok((record, consumer, store)) = looked_up else {
                    return Step::Deny(Denial::new(
                        ProblemType::ServiceUnavailable,
                        "store_task_failed",
                        ID,
                    ));
                };
                let record = match record {
                    Ok(Some(r)) if r.kind == KeyKind::Hmac => r,
                    Ok(_) => {
                        // Same work as a known key, so timing does not tell which ids exist.
                        let _ = signing::signature(&[0u8; 43], &sts);
                        return Self::unauthorized("hmac_key_unknown");
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "credential store unavailable");
                        return Step::Deny(Denial::new(
                            ProblemType::ServiceUnavailable,
                            "store_unavailable",
                            ID,
                        ));
                    }
                };
                let secret = match record
                    .sealed_secret
                    .as_deref()
                    .map(|blob| keyring.open(&seal_context(&record.id), blob))
                {
                    Some(Ok(s)) => s,
                    Some(Err(e)) => {
                        // An operator problem (wrong or rotated-out master key), not the
                        // client's: log loudly, refuse like any other failure.
                        tracing::error!(key_id = %record.id, error = %e, "signing secret does not open");
                        return Self::unauthorized("hmac_secret_unreadable");
                    }
                    None => return Self::unauthorized("hmac_secret_missing"),
                };
                let expected = signing::signature(&secret, &sts);
                if constant_time::verify_slices_are_equal(
                    expected.as_bytes(),
                    params.signature.as_bytes(),
                )
                .is_err()
                {
                    // A real key id with a wrong signature: also counts for the key.
                    cx.extensions.insert(FailedCredential(record.id));
                    return Self::unauthorized("hmac_bad_signature");
                }
                if let Some((problem, reason)) =
                    crate::api_key_guard::refuse(&record, now, ip, origin.as_deref(), &route)
                {
                    return match problem {
                        ProblemType::Unauthorized => Self::unauthorized(reason),
                        other => Step::Deny(Denial::new(other, reason, ID)),
                    };
                }
                let Some(consumer) = consumer.filter(|c| c.status == "active") else {
                    return Self::unauthorized("consumer_disabled");
                };
                match nonces.check_and_insert(
                    &record.id,
                    &params.nonce,
                    params.timestamp.saturating_add(max_skew),
                    now,
                ) {
                    NonceOutcome::Fresh => {}
                    NonceOutcome::Replayed => return Self::unauthorized("hmac_replayed"),
                    NonceOutcome::Full => {
                        tracing::warn!("signing nonce store full: refusing signed requests");
                        return Step::Deny(Denial::new(
                            ProblemType::ServiceUnavailable,
                            "hmac_nonce_store_full",
                            ID,
                        ));
                    }
                }
                let key_id = record.id.clone();
                tokio::task::spawn_blocking(move || {
                    let _ = store.touch_api_key(&key_id, now);
                });
                cx.extensions.insert(ClaimedBodyHash(params.body_sha256));
                cx.identity = Some(Identity {
                    consumer_id: consumer.name,
                    method: "hmac",
                    scopes: if record.scopes.is_empty() {
                        consumer.scopes
                    } else {
                        record.scopes
                    },
                    roles: consumer.roles,
                    credential_id: Some(record.id),
                    plan: consumer.plan,
                    claims: None,
                });
                Step::Continue
            });
            resume
        }))
    }

    fn on_body(&self, cx: &mut RequestCx, _req: &http::request::Parts, body: &Bytes) -> Step {
        // Fail closed: no verified claim means the request phase did not authenticate.
        let Some(ClaimedBodyHash(claimed)) = cx.extensions.get::<ClaimedBodyHash>() else {
            return Self::unauthorized("hmac_no_verified_signature");
        };
        let actual = signing::sha256_hex(body);
        if constant_time::verify_slices_are_equal(actual.as_bytes(), claimed.as_bytes()).is_err() {
            if let Some(id) = cx.identity.as_ref().and_then(|i| i.credential_id.clone()) {
                cx.extensions.insert(FailedCredential(id));
            }
            return Self::unauthorized("hmac_body_mismatch");
        }
        Step::Continue
    }
}

impl crate::combine::Credential for HmacGuard {
    fn presented(&self, _cx: &RequestCx, req: &http::request::Parts) -> bool {
        signed(req)
    }

    fn strip(&self, req: &mut http::request::Parts) {
        if signed(req) {
            req.headers.remove(AUTHORIZATION);
        }
    }

    fn challenge(&self) -> HeaderValue {
        HeaderValue::from_static(signing::ALGORITHM)
    }

    fn claimed_id(&self, req: &http::request::Parts) -> Option<String> {
        let text = req.headers.get(AUTHORIZATION)?.to_str().ok()?;
        SignatureParams::parse(text).ok().map(|p| p.key_id)
    }
}

/// The `Authorization` header uses the signing scheme.
fn signed(req: &http::request::Parts) -> bool {
    req.headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.split_once(' '))
        .is_some_and(|(scheme, _)| scheme.eq_ignore_ascii_case(signing::ALGORITHM))
}

#[cfg(test)]
mod tests;
