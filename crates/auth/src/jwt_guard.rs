//! The JWT guard: `Authorization: Bearer <token>` verified by a [`JwtVerifier`].

use std::sync::Arc;

use http::header::{AUTHORIZATION, HeaderValue, WWW_AUTHENTICATE};
use portcullis_core::{Denial, Guard, GuardId, Phase, ProblemType, RequestCx, Step};

use crate::jwt::JwtVerifier;
use crate::revocation::Revocations;

const ID: GuardId = GuardId("jwt");

/// Verifies bearer tokens. Signature checks are CPU work of tens of microseconds and run
/// inline. The token is removed before forwarding; the identity travels in gateway headers.
pub struct JwtGuard {
    verifier: Arc<JwtVerifier>,
    revocations: Option<Arc<Revocations>>,
}

impl JwtGuard {
    /// A guard over a compiled verifier.
    pub fn new(verifier: Arc<JwtVerifier>) -> Self {
        Self {
            verifier,
            revocations: None,
        }
    }

    /// Also refuses revoked tokens (by `jti` or subject cut-off).
    pub fn with_revocations(mut self, revocations: Arc<Revocations>) -> Self {
        self.revocations = Some(revocations);
        self
    }
}

fn unauthorized(reason: &'static str) -> Step {
    Step::Deny(
        Denial::new(ProblemType::Unauthorized, reason, ID)
            .with_header(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")),
    )
}

impl Guard for JwtGuard {
    fn id(&self) -> GuardId {
        ID
    }

    fn phases(&self) -> &'static [Phase] {
        &[Phase::Request]
    }

    fn on_request(&self, cx: &mut RequestCx, req: &mut http::request::Parts) -> Step {
        let Some(value) = req.headers.remove(AUTHORIZATION) else {
            return unauthorized("jwt_missing");
        };
        let Ok(text) = value.to_str() else {
            return unauthorized("jwt_malformed");
        };
        let token = match text.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            _ => return unauthorized("jwt_not_bearer"),
        };
        let result = self.verifier.verify(token);
        // The issuer may have rotated its keys: a token naming a `kid` we do not know waits
        // for one refresh (rate-limited for all requests together, see `jwks_remote`), then
        // is verified again. Past the limit the token is refused at once — except before the
        // first keys arrived, when it waits for the fetch in progress (start-up).
        if matches!(result, Err("jwt_unknown_kid"))
            && let Some(remote) = self.verifier.remote_keys()
            && (remote.may_refresh() || !remote.has_keys())
        {
            let remote = remote.clone();
            let verifier = self.verifier.clone();
            let revocations = self.revocations.clone();
            let token = token.to_owned();
            return Step::Wait(Box::pin(async move {
                remote.refresh_for_unknown_kid().await;
                let resume: portcullis_core::Resume = Box::new(move |cx: &mut RequestCx| {
                    let result = verifier.verify(&token);
                    finish(&verifier, revocations.as_deref(), cx, result)
                });
                resume
            }));
        }
        finish(&self.verifier, self.revocations.as_deref(), cx, result)
    }
}

/// The step for a verification result: revocation check, identity into the context, or the
/// generic 401 (the step-up variant for a genuine token that is not strong enough).
fn finish(
    verifier: &JwtVerifier,
    revocations: Option<&Revocations>,
    cx: &mut RequestCx,
    result: Result<portcullis_core::Identity, &'static str>,
) -> Step {
    match result {
        Ok(identity) => {
            if let Some(list) = revocations {
                let iat = identity
                    .claims
                    .as_deref()
                    .and_then(|c| c.get("iat"))
                    .and_then(serde_json::Value::as_i64);
                if let Some(reason) = list.check(
                    verifier.issuer(),
                    identity.credential_id.as_deref(),
                    &identity.consumer_id,
                    iat,
                ) {
                    return unauthorized(reason);
                }
            }
            cx.identity = Some(identity);
            Step::Continue
        }
        // RFC 9470 step-up: tell the client the token is genuine but its authentication
        // is not strong enough, so it can re-authenticate instead of giving up.
        Err(reason @ ("jwt_mfa_required" | "jwt_acr_required")) => Step::Deny(
            Denial::new(ProblemType::Unauthorized, reason, ID).with_header(
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"insufficient_user_authentication\""),
            ),
        ),
        Err(reason) => unauthorized(reason),
    }
}

/// The `Authorization` value is a bearer token shaped like a JWT (three dot-separated parts),
/// so that an opaque token on an `any_of` route goes to introspection instead.
fn bearer_jwt(req: &http::request::Parts) -> bool {
    req.headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.split_once(' '))
        .is_some_and(|(scheme, token)| {
            scheme.eq_ignore_ascii_case("bearer") && token.trim().matches('.').count() == 2
        })
}

impl crate::combine::Credential for JwtGuard {
    fn presented(&self, _cx: &RequestCx, req: &http::request::Parts) -> bool {
        bearer_jwt(req)
    }

    fn strip(&self, req: &mut http::request::Parts) {
        if bearer_jwt(req) {
            req.headers.remove(AUTHORIZATION);
        }
    }

    fn challenge(&self) -> HeaderValue {
        HeaderValue::from_static("Bearer")
    }
}
