//! The portcullis config model.
//!
//! `spec` is the file model (YAML through serde-saphyr, unknown keys refused); `load` reads a
//! file and turns every problem into a [`ConfigError`] naming file, line, column and the key
//! path; `validate` runs the semantic checks (`portcullis check` and hot reload run the same
//! code); `schema` generates `docs/portcullis.schema.json` from the types.

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod cidr;
pub mod contract;
mod diagnostic;
pub mod duration;
pub mod firewall;
mod load;
mod locate;
pub mod rate;
pub mod schema;
pub mod spec;
mod validate;

pub use cidr::Cidr;
pub use diagnostic::{ConfigError, Diagnostic, Severity};
pub use duration::HumanDuration;
pub use load::{Loaded, MAX_CONFIG_BYTES, load_file, load_str, resolve_paths};
pub use locate::{SourceMap, locate};
pub use rate::{KeyPart, parse_key, parse_rate};
pub use spec::*;
pub use validate::{
    FORBIDDEN_METHODS, MAX_BODY_LIMIT, MAX_HEADER_LIMIT, ROUTABLE_METHODS, remote_url_problem,
    validate,
};
