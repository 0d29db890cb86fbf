//! The JWT guard: `Authorization: Bearer <token>` verified by a [`JwtVerifier`].

use std::sync::Arc;

use http::header::{AUTHORIZATION, HeaderValue, WWW_AUTHENTICATE};
use portcullis_core::{Denial, Guard, GuardId, Phase, ProblemType, RequestCx, Step};

use crate::jwt::JwtVerifier;

const ID: GuardId = GuardId("jwt");

/// Verifies bearer tokens. Signature checks are CPU work of tens of microseconds and run
/// inline. The token is removed before forwarding; the identity travels in gateway headers.
pub struct JwtGuard {
    verifier: Arc<JwtVerifier>,
}

impl JwtGuard {
    /// A guard over a compiled verifier.
    pub fn new(verifier: Arc<JwtVerifier>) -> Self {
        Self { verifier }
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
        match self.verifier.verify(token) {
            Ok(identity) => {
                cx.identity = Some(identity);
                Step::Continue
            }
            Err(reason) => unauthorized(reason),
        }
    }
}
