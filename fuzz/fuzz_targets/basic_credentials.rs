//! Any `Authorization` value and `X-OTP` code: the Basic parser and the TOTP check never panic,
//! and a parsed username never contains the separator.
#![no_main]
use libfuzzer_sys::fuzz_target;
use portcullis_auth::{basic, totp};

fuzz_target!(|data: &[u8]| {
    if let Ok(c) = basic::parse_basic(data) {
        assert!(!c.username.is_empty() && !c.username.contains(':'));
    }
    let code = String::from_utf8_lossy(data);
    let _ = totp::verify(
        &[7u8; totp::SEED_LEN],
        &code,
        1_700_000_000,
        Some(56_666_665),
    );
});
