//! The `Guard` trait: one security concern, hooked into the phases of a request.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;

use crate::chain::Outcome;
use crate::{Denial, GuardId, RequestCx};

/// The phases of a request, in the order the pipeline runs them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    /// After routing, on the request head.
    Request,
    /// On the buffered request body.
    Body,
    /// On the upstream's response head (or the gateway's own response).
    Response,
    /// On the buffered response body.
    ResponseBody,
    /// After the response, for logging and detection. Cannot change the outcome.
    Log,
}

/// Applies the result of a guard's asynchronous work to the context and gives the final step.
pub type Resume = Box<dyn FnOnce(&mut RequestCx) -> Step + Send>;

/// Asynchronous work of a guard (a Redis call, token introspection, a store miss). The future
/// owns what it needs (it may not borrow the context); its output is applied by [`Resume`].
pub type Wait = Pin<Box<dyn Future<Output = Resume> + Send>>;

/// What a guard decided in one phase.
pub enum Step {
    /// Go on with the next guard.
    Continue,
    /// Refuse the request (or, in a response phase, replace the response) with a problem.
    Deny(Denial),
    /// Slow the request down by this much, then go on (throttling).
    Delay(Duration),
    /// Do I/O first; the pipeline awaits it and applies the resumption.
    Wait(Wait),
}

impl std::fmt::Debug for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Continue => f.write_str("Continue"),
            Self::Deny(d) => f.debug_tuple("Deny").field(d).finish(),
            Self::Delay(d) => f.debug_tuple("Delay").field(d).finish(),
            Self::Wait(_) => f.write_str("Wait(..)"),
        }
    }
}

/// One security concern of a route, compiled from config once per config version.
///
/// Every phase defaults to `Continue`, so a guard implements only the phases it cares about
/// and lists them in [`Guard::phases`] (the chain skips the rest without a virtual call).
/// Guards are shared by all requests of a config version: they hold compiled state only and
/// keep per-request data in the [`RequestCx`].
pub trait Guard: Send + Sync + 'static {
    /// Stable name for logs and metrics (`ip_policy`, `request_limits` ...).
    fn id(&self) -> GuardId;

    /// The phases this guard implements.
    fn phases(&self) -> &'static [Phase];

    /// Inspects the request head. May rewrite headers (e.g. set identity headers).
    fn on_request(&self, _cx: &mut RequestCx, _req: &mut http::request::Parts) -> Step {
        Step::Continue
    }

    /// Inspects the buffered request body.
    fn on_body(&self, _cx: &mut RequestCx, _req: &http::request::Parts, _body: &Bytes) -> Step {
        Step::Continue
    }

    /// Inspects or rewrites the response head. A `Deny` replaces the response with a problem.
    fn on_response(&self, _cx: &mut RequestCx, _resp: &mut http::response::Parts) -> Step {
        Step::Continue
    }

    /// Inspects or rewrites the buffered response body.
    fn on_response_body(
        &self,
        _cx: &mut RequestCx,
        _resp: &http::response::Parts,
        _body: &mut Bytes,
    ) -> Step {
        Step::Continue
    }

    /// Observes the finished request.
    fn on_log(&self, _cx: &RequestCx, _outcome: &Outcome) {}
}
