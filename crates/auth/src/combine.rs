//! Several authentication methods on one route: `any_of` (the client picks one) and `all_of`
//! (the client must pass every one, e.g. a client certificate *and* a user's JWT).
//!
//! `any_of` does not try methods one after another until one succeeds: that would let a
//! client probe credentials against several verifiers with one request and would make the
//! outcome depend on which failure came last. Instead the *first method in the configured
//! order whose credential is present* is the one that decides, and the credentials of the
//! other methods are removed so the upstream never sees an unverified one.
//!
//! `all_of` runs every method's guard in the configured order; the first names the consumer
//! and the later ones only verify (their identity does not replace it), see [`Secondary`].

use std::sync::Arc;

use bytes::Bytes;
use http::header::{HeaderValue, WWW_AUTHENTICATE};
use portcullis_core::{Denial, Guard, GuardId, Identity, Phase, ProblemType, RequestCx, Step};

/// An authentication method that can tell whether a request carries its kind of credential.
pub trait Credential: Guard {
    /// The request carries this method's credential (well formed or not).
    fn presented(&self, cx: &RequestCx, req: &http::request::Parts) -> bool;
    /// Removes this method's credential from the request (another method was chosen).
    fn strip(&self, req: &mut http::request::Parts);
    /// The `WWW-Authenticate` challenge this method answers a missing credential with.
    fn challenge(&self) -> HeaderValue;
    /// The id of the stored credential the request claims (an API key's or signing key's
    /// id), read without verifying anything; used to refuse a locked credential before any
    /// work. The id may be invented: only ids that exist are ever locked.
    fn claimed_id(&self, _req: &http::request::Parts) -> Option<String> {
        None
    }
    /// This method counts its own failures (Basic: per username, with its own thresholds), so
    /// the route's `FailureLockout` must not count them again.
    fn counts_own_failures(&self) -> bool {
        false
    }
}

const ANY_ID: GuardId = GuardId("auth_any_of");

/// Which method of an [`AnyOf`] was chosen for this request (kept for the body phase).
#[derive(Clone, Copy, Debug)]
struct Chosen(usize);

/// The first presented method decides.
pub struct AnyOf {
    methods: Vec<Arc<dyn Credential>>,
    phases: &'static [Phase],
}

impl AnyOf {
    /// Methods in order of preference (the configured `any_of` list).
    pub fn new(methods: Vec<Arc<dyn Credential>>) -> Self {
        let body = methods.iter().any(|m| m.phases().contains(&Phase::Body));
        Self {
            methods,
            phases: if body {
                &[Phase::Request, Phase::Body]
            } else {
                &[Phase::Request]
            },
        }
    }
}

impl Guard for AnyOf {
    fn id(&self) -> GuardId {
        ANY_ID
    }

    fn phases(&self) -> &'static [Phase] {
        self.phases
    }

    fn on_request(&self, cx: &mut RequestCx, req: &mut http::request::Parts) -> Step {
        let Some(i) = self.methods.iter().position(|m| m.presented(cx, req)) else {
            let mut denial = Denial::new(ProblemType::Unauthorized, "auth_missing", ANY_ID);
            for m in &self.methods {
                denial = denial.with_header(WWW_AUTHENTICATE, m.challenge());
            }
            return Step::Deny(denial);
        };
        for (j, m) in self.methods.iter().enumerate() {
            if j != i {
                m.strip(req);
            }
        }
        cx.extensions.insert(Chosen(i));
        match self.methods.get(i) {
            Some(m) if m.phases().contains(&Phase::Request) => m.on_request(cx, req),
            _ => Step::Continue,
        }
    }

    fn on_body(&self, cx: &mut RequestCx, req: &http::request::Parts, body: &Bytes) -> Step {
        let Some(Chosen(i)) = cx.extensions.get::<Chosen>().copied() else {
            return Step::Continue;
        };
        match self.methods.get(i) {
            Some(m) if m.phases().contains(&Phase::Body) => m.on_body(cx, req, body),
            _ => Step::Continue,
        }
    }
}

/// A method of an `all_of` list after the first: it must succeed, but the consumer stays the
/// one the first method established (its own identity is discarded).
pub struct Secondary(pub Arc<dyn Guard>);

/// Restores the primary identity once a secondary method has run.
fn keep_primary(primary: Option<Identity>, step: Step) -> Step {
    match step {
        Step::Continue => Step::Continue,
        Step::Wait(wait) => Step::Wait(Box::pin(async move {
            let resume = wait.await;
            let resume: portcullis_core::Resume = Box::new(move |cx: &mut RequestCx| {
                let step = resume(cx);
                if primary.is_some() {
                    cx.identity = primary;
                }
                step
            });
            resume
        })),
        other => other,
    }
}

impl Guard for Secondary {
    fn id(&self) -> GuardId {
        self.0.id()
    }

    fn phases(&self) -> &'static [Phase] {
        self.0.phases()
    }

    fn on_request(&self, cx: &mut RequestCx, req: &mut http::request::Parts) -> Step {
        let primary = cx.identity.clone();
        let step = self.0.on_request(cx, req);
        if primary.is_some() && matches!(step, Step::Continue) {
            cx.identity = primary;
            return Step::Continue;
        }
        keep_primary(primary, step)
    }

    fn on_body(&self, cx: &mut RequestCx, req: &http::request::Parts, body: &Bytes) -> Step {
        let primary = cx.identity.clone();
        let step = self.0.on_body(cx, req, body);
        if primary.is_some() && matches!(step, Step::Continue) {
            cx.identity = primary;
            return Step::Continue;
        }
        keep_primary(primary, step)
    }
}
