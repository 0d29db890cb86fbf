//! The config types live in `portcullis-config` (every YAML mapping does); re-exported here.

pub use portcullis_config::firewall::*;
