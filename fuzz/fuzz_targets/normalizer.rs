//! Any bytes through the firewall's normaliser: never panics, bounded output.
#![no_main]
use libfuzzer_sys::fuzz_target;
use portcullis_firewall::normalize::{Limits, Normalized};

fuzz_target!(|data: &[u8]| {
    let n = Normalized::new(data, Limits::default());
    // Every variant is bounded by a small multiple of the inspected input.
    assert!(n.decoded.len() <= 4 * data.len().min(Limits::default().max_value_bytes) + 16);
});
