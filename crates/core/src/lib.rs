//! Shared vocabulary of portcullis.
//!
//! Every other crate speaks in these types: a request's context ([`RequestCx`]), who the
//! caller is ([`Identity`]), what a guard decided ([`Step`], [`Denial`]), the stable error
//! catalogue ([`ProblemType`]) and the [`Guard`] trait whose phases the pipeline runs.
//!
//! Invariants kept here:
//! - a [`Denial`] carries a `reason` for logs only; the client sees the [`ProblemType`];
//! - secrets travel as [`Secret`], whose `Debug`/`Display` never print the value;
//! - the crate knows nothing of sockets, so guards are testable without a runtime.

mod chain;
mod context;
mod guard;
mod ids;
pub mod periodic;
mod problem;
mod secret;

pub use chain::{Chain, ChainEntry, GuardMode, Outcome, RequestRun};
pub use context::{Country, Decision, Identity, Observation, Observations, RequestCx, TlsInfo};
pub use guard::{Guard, Phase, Resume, Step, Wait};
pub use ids::{ClientIp, GuardId, RequestId, RouteId};
pub use problem::{Denial, GatewayResponse, ProblemMembers, ProblemType};
pub use secret::{Redacted, Secret};
