//! The detection engine of portcullis: a negative-model API firewall.
//!
//! A request is taken apart into its free-text values ([`extract`]), each value is
//! normalised once ([`normalize`]), every built-in rule runs on the normalised variants
//! ([`rules`]: pattern rules matched per variant in one `RegexSet` pass, plus structured
//! detectors such as libinjection and the SSRF address classifier), and the scores of the
//! matches are added per request ([`scoring`]). At or above the threshold the request is
//! refused (or, in detect-only mode, recorded).
//!
//! Invariants:
//! - no input can make inspection panic, and the work per request is bounded by
//!   [`LimitsSpec`] (values, bytes per value, body bytes, nesting);
//! - every expression runs on the linear-time `regex` engine;
//! - match excerpts are redacted (at most 40 characters and at most half the value) and
//!   never reach the client; the 403 body lists rule ids, categories and locations only.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod base64text;
mod engine;
mod error;
pub mod extract;
mod guard;
mod location;
pub mod normalize;
pub mod rules;
pub mod scoring;
mod spec;

pub use engine::Firewall;
pub use error::FirewallError;
pub use guard::{FirewallFindings, FirewallGuard, PublicFinding, SECURITY_TARGET, SchemaHint};
pub use location::{Location, Part};
pub use rules::{Category, Severity};
pub use scoring::{Match, Verdict};
pub use spec::{
    CustomRuleSpec, DEFAULT_THRESHOLD, ExclusionSpec, FirewallMode, FirewallSpec, LimitsSpec,
    MatcherSpec, RulePart,
};
