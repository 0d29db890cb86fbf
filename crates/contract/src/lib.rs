//! The positive model of the API firewall: requests are checked against what the API
//! declares (an OpenAPI 3.0/3.1 document) and against structural body limits.
//!
//! - [`Contract`]: a spec loaded once per config version: `$ref`s followed within the spec's
//!   directory only (never URLs), schemas rewritten to JSON Schema 2020-12 and compiled once,
//!   a (method, path) matcher. [`Contract::validate`] checks a request and returns
//!   [`Violation`]s.
//! - [`BodyLimits`]: JSON depth / members / string length / duplicate keys / UTF-8, XML
//!   without DTDs, form and multipart limits, with or without a spec.
//! - [`ContractGuard`] and [`BodyHygieneGuard`] plug both into the pipeline.
//!
//! Invariants: nothing here panics on request input or makes unbounded work; no violation
//! message contains a submitted value; no network access ever happens while loading.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod contract;
mod errors;
mod guard;
pub mod hygiene;
mod load;
mod operation;
mod schema;
pub mod spec;
mod validate;
mod violation;

pub use contract::{Contract, Lookup, Matched};
pub use errors::LoadError;
pub use guard::{BodyHygieneGuard, ContractGuard, MatchedOperation};
pub use hygiene::BodyLimits;
pub use operation::{Operation, OperationId, ParamIn};
pub use spec::{BodyLimitsSpec, FormLimitsSpec, MultipartLimitsSpec, OpenApiSpec, XmlLimitsSpec};
pub use validate::Rejection;
pub use violation::{MAX_VIOLATIONS, Violation, Violations};
