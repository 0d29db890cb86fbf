//! The config types live in `portcullis-config` (every YAML mapping does); re-exported here
//! so the crate's modules and users can name them as `portcullis_contract::spec::…`.

pub use portcullis_config::contract::*;
