//! Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP) as the second factor of
//! built-in accounts: HMAC-SHA-1, 6 digits, 30-second steps, one step of clock skew either way.
//!
//! Implemented here on aws-lc-rs's HMAC (already a dependency) rather than with a TOTP crate:
//! the algorithm is thirty lines and the RFC test vectors below pin it. What a crate would add
//! (QR rendering, URL parsing, a system clock) is either elsewhere (`portcullis keys totp`) or
//! unwanted (time comes from the caller, so tests need no sleeping).
//!
//! A code is accepted once: the caller stores the time step it matched and passes it back as
//! `last_used`, and only later steps are accepted (RFC 6238 §5.2).

use aws_lc_rs::{constant_time, hmac};

/// Length of a seed in bytes: 160 bits, as RFC 4226 recommends for HMAC-SHA-1.
pub const SEED_LEN: usize = 20;
/// Seconds per time step.
pub const STEP_SECS: i64 = 30;
/// Digits of a code.
pub const DIGITS: u32 = 6;
/// Steps of clock skew accepted before and after the current one.
pub const SKEW_STEPS: i64 = 1;

/// The sealed-secret context a user's seed is bound to (`totp:<username>`), so a sealed seed
/// copied to another account's row does not open.
pub fn seal_context(username: &str) -> String {
    format!("totp:{username}")
}

/// A fresh random 160-bit seed.
pub fn generate_seed() -> Result<[u8; SEED_LEN], crate::sealed::SealError> {
    let mut seed = [0u8; SEED_LEN];
    aws_lc_rs::rand::fill(&mut seed).map_err(|_| crate::sealed::SealError::Random)?;
    Ok(seed)
}

/// The time step of a Unix time (`floor(t / 30)`; times before 1970 map to step 0).
pub fn step_of(unix_secs: i64) -> i64 {
    unix_secs.max(0) / STEP_SECS
}

/// HOTP (RFC 4226) of `seed` at counter `counter` with `digits` digits, as a number.
fn hotp(seed: &[u8], counter: u64, digits: u32, algorithm: hmac::Algorithm) -> u32 {
    let key = hmac::Key::new(algorithm, seed);
    let tag = hmac::sign(&key, &counter.to_be_bytes());
    let mac = tag.as_ref();
    // Dynamic truncation: the low nibble of the last byte picks four bytes.
    let offset = mac.last().map_or(0, |b| usize::from(b & 0x0f));
    let word = mac
        .get(offset..offset + 4)
        .and_then(|w| <[u8; 4]>::try_from(w).ok())
        .map_or(0, u32::from_be_bytes);
    (word & 0x7fff_ffff) % 10u32.pow(digits)
}

/// The 6-digit code of `seed` at time step `step`, zero-padded.
pub fn code_at(seed: &[u8], step: i64) -> String {
    let counter = u64::try_from(step).unwrap_or(0);
    format!(
        "{:0width$}",
        hotp(seed, counter, DIGITS, hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY),
        width = DIGITS as usize
    )
}

/// Checks `code` at time `now` against the steps `now-1 ..= now+1` that are later than
/// `last_used`. Returns the matched step (to be stored as the new `last_used`), or `None`.
/// Every candidate step is compared in constant time, and all are compared, so timing does not
/// tell which step (if any) matched.
pub fn verify(seed: &[u8], code: &str, now: i64, last_used: Option<i64>) -> Option<i64> {
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let current = step_of(now);
    let mut matched = None;
    for step in (current - SKEW_STEPS)..=(current + SKEW_STEPS) {
        let expected = code_at(seed, step);
        let equal =
            constant_time::verify_slices_are_equal(expected.as_bytes(), code.as_bytes()).is_ok();
        let fresh = last_used.is_none_or(|last| step > last);
        if equal && fresh && matched.is_none() {
            matched = Some(step);
        }
    }
    matched
}

/// RFC 4648 base32 without padding, as authenticator apps expect the secret.
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let mut buffer: u32 = 0;
    let mut bits = 0u32;
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            let i = ((buffer >> bits) & 31) as usize;
            out.push(char::from(ALPHABET.get(i).copied().unwrap_or(b'A')));
        }
    }
    if bits > 0 {
        let i = ((buffer << (5 - bits)) & 31) as usize;
        out.push(char::from(ALPHABET.get(i).copied().unwrap_or(b'A')));
    }
    out
}

/// Percent-encodes a label or parameter of the `otpauth://` URI (unreserved characters kept).
fn uri_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The Key Uri Format URI authenticator apps import:
/// `otpauth://totp/<issuer>:<user>?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30`.
/// It contains the secret: print it to the enrolling operator only.
pub fn otpauth_uri(issuer: &str, username: &str, seed: &[u8]) -> String {
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        uri_escape(issuer),
        uri_escape(username),
        base32(seed),
        uri_escape(issuer),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 rows (8 digits), seed "12345678901234567890".
    #[test]
    fn rfc6238_sha1_vectors() {
        let seed = b"12345678901234567890";
        let rows: [(u64, u32); 6] = [
            (59, 94_287_082),
            (1_111_111_109, 7_081_804),
            (1_111_111_111, 14_050_471),
            (1_234_567_890, 89_005_924),
            (2_000_000_000, 69_279_037),
            (20_000_000_000, 65_353_130),
        ];
        for (t, expected) in rows {
            assert_eq!(
                hotp(seed, t / 30, 8, hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY),
                expected,
                "T = {t}"
            );
        }
    }

    /// RFC 6238 appendix B, SHA-256 and SHA-512 rows: the truncation is the same code path.
    #[test]
    fn rfc6238_sha256_and_sha512_vectors() {
        let seed256 = b"12345678901234567890123456789012";
        let seed512 = b"1234567890123456789012345678901234567890123456789012345678901234";
        assert_eq!(hotp(seed256, 59 / 30, 8, hmac::HMAC_SHA256), 46_119_246);
        assert_eq!(hotp(seed512, 59 / 30, 8, hmac::HMAC_SHA512), 90_693_936);
        assert_eq!(
            hotp(seed256, 1_111_111_109 / 30, 8, hmac::HMAC_SHA256),
            68_084_774
        );
    }

    /// RFC 4226 appendix D: HOTP values for counters 0..9 (6 digits).
    #[test]
    fn rfc4226_hotp_vectors() {
        let seed = b"12345678901234567890";
        let expected = [
            "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583",
            "399871", "520489",
        ];
        for (counter, code) in expected.iter().enumerate() {
            assert_eq!(code_at(seed, counter as i64), *code, "counter {counter}");
        }
    }

    #[test]
    fn skew_of_one_step_and_no_more() {
        let seed = [7u8; SEED_LEN];
        let now = 1_700_000_000;
        let step = step_of(now);
        assert_eq!(verify(&seed, &code_at(&seed, step), now, None), Some(step));
        assert_eq!(
            verify(&seed, &code_at(&seed, step - 1), now, None),
            Some(step - 1)
        );
        assert_eq!(
            verify(&seed, &code_at(&seed, step + 1), now, None),
            Some(step + 1)
        );
        assert_eq!(verify(&seed, &code_at(&seed, step - 2), now, None), None);
        assert_eq!(verify(&seed, &code_at(&seed, step + 2), now, None), None);
    }

    #[test]
    fn a_code_is_usable_once() {
        let seed = [9u8; SEED_LEN];
        let now = 1_700_000_000;
        let code = code_at(&seed, step_of(now));
        let used = verify(&seed, &code, now, None).unwrap();
        // Replayed within the same step, or a step later while still in the skew window.
        assert_eq!(verify(&seed, &code, now, Some(used)), None);
        assert_eq!(verify(&seed, &code, now + 30, Some(used)), None);
        // An older code after a newer one was used is refused too.
        let older = code_at(&seed, step_of(now) - 1);
        assert_eq!(verify(&seed, &older, now, Some(used)), None);
        // The next step's code is fresh.
        let next = code_at(&seed, step_of(now) + 1);
        assert_eq!(verify(&seed, &next, now + 30, Some(used)), Some(used + 1));
    }

    #[test]
    fn malformed_codes_are_refused_without_panicking() {
        let seed = [1u8; SEED_LEN];
        for bad in [
            "",
            "12345",
            "1234567",
            "12345a",
            "１２３４５６",
            "-12345",
            " ",
        ] {
            assert_eq!(verify(&seed, bad, 1_700_000_000, None), None, "{bad:?}");
        }
        assert_eq!(
            verify(&[], "123456", i64::MIN, None),
            verify(&[], "123456", 0, None)
        );
    }

    #[test]
    fn base32_and_uri() {
        // RFC 4648 §10 test vectors (padding dropped).
        assert_eq!(base32(b""), "");
        assert_eq!(base32(b"f"), "MY");
        assert_eq!(base32(b"fo"), "MZXQ");
        assert_eq!(base32(b"foo"), "MZXW6");
        assert_eq!(base32(b"foob"), "MZXW6YQ");
        assert_eq!(base32(b"fooba"), "MZXW6YTB");
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        let uri = otpauth_uri("portcullis", "alice smith", b"12345678901234567890");
        assert_eq!(
            uri,
            "otpauth://totp/portcullis:alice%20smith?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=portcullis&algorithm=SHA1&digits=6&period=30"
        );
        assert_eq!(seal_context("alice"), "totp:alice");
        assert_eq!(generate_seed().unwrap().len(), 20);
    }
}
