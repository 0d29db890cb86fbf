//! Any text as a config file: loading never panics and always ends (budgets hold).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = portcullis_config::load_str(text, std::path::Path::new("fuzz.yaml"));
    }
});
