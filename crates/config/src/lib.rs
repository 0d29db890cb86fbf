//! The portcullis config model.
//!
//! `spec` is the file model (YAML through serde-saphyr, unknown keys refused); `load` reads a
//! file and turns every problem into a [`ConfigError`] naming file, line, column and the key
//! path; `validate` runs the semantic checks (`portcullis check` and hot reload run the same
//! code); `schema` generates `docs/portcullis.schema.json` from the types.

pub mod cidr;
pub mod duration;
pub mod spec;

pub use cidr::Cidr;
pub use duration::HumanDuration;
pub use spec::*;
