//! The portcullis config model.
//!
//! `spec` is the file model (YAML through serde-saphyr, unknown keys refused); `load` reads a
//! file and turns every problem into a [`ConfigError`] naming file, line, column and the key
//! path; `validate` runs the semantic checks (`portcullis check` and hot reload run the same
//! code); `schema` generates `docs/portcullis.schema.json` from the types.

pub mod cidr;
mod diagnostic;
pub mod duration;
mod load;
mod locate;
pub mod schema;
pub mod spec;
mod validate;

pub use cidr::Cidr;
pub use diagnostic::{ConfigError, Diagnostic, Severity};
pub use duration::HumanDuration;
pub use load::{Loaded, load_file, load_str, resolve_paths};
pub use locate::locate;
pub use spec::*;
pub use validate::{MAX_BODY_LIMIT, ROUTABLE_METHODS, validate};
