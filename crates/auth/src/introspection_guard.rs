//! The introspection guard: `Authorization: Bearer <opaque token>` checked with the issuer
//! (RFC 7662) through an [`Introspector`].

use std::sync::Arc;

use http::header::{AUTHORIZATION, HeaderValue, WWW_AUTHENTICATE};
use portcullis_core::{Denial, Guard, GuardId, Phase, ProblemType, RequestCx, Resume, Step};

use crate::introspection::{Introspector, Verdict, token_key};

const ID: GuardId = GuardId("introspection");

/// Checks opaque bearer tokens. A cached answer is applied inline; otherwise the provider
/// call runs as a [`Step::Wait`], so a slow provider delays only the requests that need it
/// and never blocks a runtime thread. Every refusal is the same generic 401 as the JWT
/// guard's; the token is removed before forwarding and never logged.
pub struct IntrospectionGuard {
    introspector: Arc<Introspector>,
}

impl IntrospectionGuard {
    /// A guard over compiled settings.
    pub fn new(introspector: Arc<Introspector>) -> Self {
        Self { introspector }
    }
}

fn unauthorized(reason: &'static str) -> Step {
    Step::Deny(
        Denial::new(ProblemType::Unauthorized, reason, ID)
            .with_header(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")),
    )
}

fn apply(cx: &mut RequestCx, answer: Result<portcullis_core::Identity, &'static str>) -> Step {
    match answer {
        Ok(identity) => {
            cx.identity = Some(identity);
            Step::Continue
        }
        Err(reason) => unauthorized(reason),
    }
}

impl Guard for IntrospectionGuard {
    fn id(&self) -> GuardId {
        ID
    }

    fn phases(&self) -> &'static [Phase] {
        &[Phase::Request]
    }

    fn on_request(&self, cx: &mut RequestCx, req: &mut http::request::Parts) -> Step {
        let Some(value) = req.headers.remove(AUTHORIZATION) else {
            return unauthorized("token_missing");
        };
        let Ok(text) = value.to_str() else {
            return unauthorized("token_malformed");
        };
        let token = match text.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            _ => return unauthorized("token_not_bearer"),
        };
        if token.is_empty() || token.len() > self.introspector.max_token_bytes() {
            return unauthorized("token_size");
        }
        let key = token_key(token);
        if let Some(answer) = self.introspector.cached(&key) {
            return apply(cx, answer);
        }
        let introspector = self.introspector.clone();
        let token = token.to_owned();
        Step::Wait(Box::pin(async move {
            let verdict = introspector.introspect(&token, key).await;
            drop(token);
            let resume: Resume = Box::new(move |cx: &mut RequestCx| match verdict {
                Verdict::Active(identity) => apply(cx, Ok(identity)),
                Verdict::Rejected(reason) => unauthorized(reason),
                Verdict::Unavailable(reason) if introspector.unavailable_is_503() => {
                    Step::Deny(Denial::new(ProblemType::ServiceUnavailable, reason, ID))
                }
                Verdict::Unavailable(reason) => unauthorized(reason),
            });
            resume
        }))
    }
}
impl crate::combine::Credential for IntrospectionGuard {
    fn presented(&self, _cx: &RequestCx, req: &http::request::Parts) -> bool {
        bearer(req)
    }

    fn strip(&self, req: &mut http::request::Parts) {
        if bearer(req) {
            req.headers.remove(AUTHORIZATION);
        }
    }

    fn challenge(&self) -> HeaderValue {
        HeaderValue::from_static("Bearer")
    }
}

/// Any bearer token (opaque or not): list `jwt` before `introspection` in `any_of` to send
/// JWT-shaped tokens to local verification.
fn bearer(req: &http::request::Parts) -> bool {
    req.headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.split_once(' '))
        .is_some_and(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
}
