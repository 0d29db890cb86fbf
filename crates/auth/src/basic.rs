//! Built-in accounts: the password policy, Argon2id hashing and verification, the
//! `Authorization: Basic` parser and the verified-credential cache.
//!
//! Hashes are Argon2id PHC strings with OWASP's parameters (m = 19 MiB, t = 2, p = 1). A
//! verification costs tens of milliseconds of CPU, which is the point; callers run it on the
//! blocking pool behind a semaphore ([`crate::BasicGuard`]). An unknown username costs the
//! same: the password is verified against a fixed dummy hash made once with the same
//! parameters ([`burn_dummy`]), so response time does not tell which usernames exist.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use aws_lc_rs::{constant_time, digest, hmac};
use base64::Engine;

/// Shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest password accepted, in bytes (longer inputs only cost hashing time).
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// Lowest zxcvbn score accepted (0–4; 3 is "safely unguessable: moderate protection from
/// offline slow-hash scenarios").
pub const MIN_ZXCVBN_SCORE: u8 = 3;
/// Argon2 memory cost in KiB (OWASP: 19 MiB).
pub const ARGON2_M_COST: u32 = 19 * 1024;
/// Argon2 iterations (OWASP: 2).
pub const ARGON2_T_COST: u32 = 2;
/// Argon2 parallelism (OWASP: 1).
pub const ARGON2_P_COST: u32 = 1;
/// Longest username, in bytes.
pub const MAX_USERNAME_BYTES: usize = 64;

/// Why a username or password was refused when it was set.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PasswordError {
    /// Fewer than [`MIN_PASSWORD_CHARS`] characters.
    #[error("password too short: {got} characters, at least {min} required")]
    TooShort {
        /// Characters given.
        got: usize,
        /// Required.
        min: usize,
    },
    /// More than [`MAX_PASSWORD_BYTES`] bytes.
    #[error("password too long: at most {max} bytes")]
    TooLong {
        /// The cap.
        max: usize,
    },
    /// The password contains the username (case-insensitively).
    #[error("password must not contain the username")]
    ContainsUsername,
    /// zxcvbn estimates the password guessable.
    #[error("password too weak (strength {score}/4, at least {min}/4 required){hint}")]
    TooWeak {
        /// zxcvbn's score.
        score: u8,
        /// Required score.
        min: u8,
        /// zxcvbn's warning and suggestions, prefixed with `: `, or empty.
        hint: String,
    },
    /// The username is empty, too long, or has a colon or control character.
    #[error("username must be 1 to 64 bytes without `:`, spaces or control characters")]
    BadUsername,
    /// Hashing failed (random generator or parameters).
    #[error("password hashing failed: {0}")]
    Hash(String),
}

/// Checks a username: Basic splits user and password at the first `:`, so it cannot contain
/// one; spaces and control characters only make for confusable names.
pub fn check_username(username: &str) -> Result<(), PasswordError> {
    if username.is_empty()
        || username.len() > MAX_USERNAME_BYTES
        || username
            .chars()
            .any(|c| c == ':' || c.is_whitespace() || c.is_control())
    {
        return Err(PasswordError::BadUsername);
    }
    Ok(())
}

/// The password policy, applied whenever a password is set: at least 12 characters, not
/// containing the username, and a zxcvbn score of at least 3 (with the username as a known
/// input, so `alice2024!alice` style passwords score low).
pub fn check_policy(username: &str, password: &str) -> Result<(), PasswordError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(PasswordError::TooShort {
            got: chars,
            min: MIN_PASSWORD_CHARS,
        });
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordError::TooLong {
            max: MAX_PASSWORD_BYTES,
        });
    }
    if !username.is_empty() && password.to_lowercase().contains(&username.to_lowercase()) {
        return Err(PasswordError::ContainsUsername);
    }
    let estimate = zxcvbn::zxcvbn(password, &[username]);
    let score = estimate.score() as u8;
    if score < MIN_ZXCVBN_SCORE {
        let mut hint = String::new();
        if let Some(feedback) = estimate.feedback() {
            let mut parts = Vec::new();
            if let Some(w) = feedback.warning() {
                parts.push(w.to_string());
            }
            parts.extend(feedback.suggestions().iter().map(ToString::to_string));
            if !parts.is_empty() {
                hint = format!(": {}", parts.join(" "));
            }
        }
        return Err(PasswordError::TooWeak {
            score,
            min: MIN_ZXCVBN_SCORE,
            hint,
        });
    }
    Ok(())
}

/// The one Argon2id configuration used for hashing. Verification reads the parameters from
/// each PHC string, so raising these later keeps old hashes valid.
fn hasher() -> Result<Argon2<'static>, PasswordError> {
    let params = Params::new(ARGON2_M_COST, ARGON2_T_COST, ARGON2_P_COST, None)
        .map_err(|e| PasswordError::Hash(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password to an Argon2id PHC string with a fresh random salt. Does not apply the
/// policy (call [`check_policy`] first).
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    hasher()?
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// Whether `password` matches the PHC string `phc`. An unparsable stored hash verifies the
/// dummy instead (same time) and fails.
pub fn verify_password(password: &str, phc: &str) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else {
        burn_dummy(password);
        return false;
    };
    match hasher() {
        Ok(h) => h.verify_password(password.as_bytes(), &hash).is_ok(),
        Err(_) => false,
    }
}

/// A fixed hash with the same parameters as real ones, made once per process.
fn dummy_hash() -> Option<&'static str> {
    static DUMMY: OnceLock<Option<String>> = OnceLock::new();
    DUMMY
        .get_or_init(|| hash_password("portcullis dummy password, never valid").ok())
        .as_deref()
}

/// Spends the time of one verification on a hash no password matches (unknown usernames,
/// disabled accounts), so timing does not tell them apart from a wrong password.
pub fn burn_dummy(password: &str) {
    if let (Some(phc), Ok(h)) = (dummy_hash(), hasher())
        && let Ok(hash) = PasswordHash::new(phc)
    {
        let _ = h.verify_password(password.as_bytes(), &hash);
    }
}

/// Makes the dummy hash now (at start-up), so the first unknown-user request does not pay
/// for hashing it on top of verifying.
pub fn warm_up() {
    let _ = dummy_hash();
}

/// Credentials from an `Authorization: Basic` header value. The password is a plain `String`
/// only inside the guard's blocking task; it is never logged or stored.
pub struct BasicCredentials {
    /// The username.
    pub username: String,
    /// The password.
    pub password: String,
}

impl std::fmt::Debug for BasicCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicCredentials")
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .finish()
    }
}

/// Why a Basic header did not parse (for the log; the client sees one generic 401).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BasicParseError {
    /// Not the `Basic` scheme.
    NotBasic,
    /// Not base64, not UTF-8, or no colon.
    Malformed,
}

/// Parses `Basic <base64(user:password)>` (RFC 7617; scheme case-insensitive, UTF-8).
pub fn parse_basic(value: &[u8]) -> Result<BasicCredentials, BasicParseError> {
    let text = std::str::from_utf8(value).map_err(|_| BasicParseError::Malformed)?;
    let text = text.trim();
    let (scheme, token) = text.split_once(' ').ok_or(BasicParseError::NotBasic)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(BasicParseError::NotBasic);
    }
    let token = token.trim();
    if token.len() > 4 * MAX_PASSWORD_BYTES {
        return Err(BasicParseError::Malformed);
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(token)
        .map_err(|_| BasicParseError::Malformed)?;
    let decoded = String::from_utf8(decoded).map_err(|_| BasicParseError::Malformed)?;
    let (username, password) = decoded.split_once(':').ok_or(BasicParseError::Malformed)?;
    if username.is_empty() {
        return Err(BasicParseError::Malformed);
    }
    Ok(BasicCredentials {
        username: username.to_string(),
        password: password.to_string(),
    })
}

// === impl VerifiedCache ===

/// Most entries kept; when full, expired ones are dropped, then everything (a correct client
/// pays Argon2 once more).
pub const VERIFIED_CACHE_CAPACITY: usize = 10_000;

struct CacheEntry {
    tag: [u8; 32],
    hash_fingerprint: [u8; 32],
    expires: i64,
}

/// Remembers, for a short time, that a username and password verified against a given stored
/// hash, so a client sending Basic on every request pays Argon2 once per `ttl`.
///
/// The trade-off: an entry is HMAC-SHA-256 of (username, password) under a random key made
/// at start-up and never stored. Someone who can read the process memory gets both and can
/// test guesses at HMAC speed instead of Argon2 speed for the cached accounts (but could as
/// well read passwords off requests in flight). A password change, a disabled account or a
/// lockout takes effect at once: the entry is bound to the stored hash, and status and locks
/// are read from the store on every request. `verified_cache: 0s` turns it off.
pub struct VerifiedCache {
    key: hmac::Key,
    entries: Mutex<HashMap<String, CacheEntry>>,
}

impl VerifiedCache {
    /// An empty cache with a fresh random key.
    pub fn new() -> Result<Self, crate::sealed::SealError> {
        let mut raw = [0u8; 32];
        aws_lc_rs::rand::fill(&mut raw).map_err(|_| crate::sealed::SealError::Random)?;
        Ok(Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, &raw),
            entries: Mutex::new(HashMap::new()),
        })
    }

    fn tag(&self, username: &str, password: &str) -> [u8; 32] {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(&u64::try_from(username.len()).unwrap_or(0).to_be_bytes());
        ctx.update(username.as_bytes());
        ctx.update(password.as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.sign().as_ref().get(..32).unwrap_or(&[0u8; 32]));
        out
    }

    fn fingerprint(phc: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(
            digest::digest(&digest::SHA256, phc.as_bytes())
                .as_ref()
                .get(..32)
                .unwrap_or(&[0u8; 32]),
        );
        out
    }

    /// Whether this username and password verified against `phc` less than `ttl` ago.
    pub fn hit(&self, username: &str, password: &str, phc: &str, now: i64) -> bool {
        let tag = self.tag(username, password);
        let fingerprint = Self::fingerprint(phc);
        let Ok(entries) = self.entries.lock() else {
            return false;
        };
        entries.get(username).is_some_and(|e| {
            e.expires > now
                && constant_time::verify_slices_are_equal(&e.tag, &tag).is_ok()
                && constant_time::verify_slices_are_equal(&e.hash_fingerprint, &fingerprint).is_ok()
        })
    }

    /// Remembers a successful verification for `ttl` seconds (nothing if `ttl` is 0).
    pub fn insert(&self, username: &str, password: &str, phc: &str, now: i64, ttl: i64) {
        if ttl <= 0 {
            return;
        }
        let entry = CacheEntry {
            tag: self.tag(username, password),
            hash_fingerprint: Self::fingerprint(phc),
            expires: now.saturating_add(ttl),
        };
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= VERIFIED_CACHE_CAPACITY && !entries.contains_key(username) {
            entries.retain(|_, e| e.expires > now);
            if entries.len() >= VERIFIED_CACHE_CAPACITY {
                entries.clear();
            }
        }
        entries.insert(username.to_string(), entry);
    }

    /// Forgets a username (a failed attempt with another password does not evict; a change
    /// of the stored hash does, through the fingerprint).
    pub fn forget(&self, username: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(username);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_refuses_short_weak_and_username_passwords_with_clear_messages() {
        let short = check_policy("alice", "Tr0ub4dor&3").unwrap_err();
        assert_eq!(short, PasswordError::TooShort { got: 11, min: 12 });
        assert!(short.to_string().contains("at least 12"), "{short}");

        let with_name = check_policy("Alice", "xx-ALICE-correct-horse-battery").unwrap_err();
        assert_eq!(with_name, PasswordError::ContainsUsername);
        assert_eq!(
            with_name.to_string(),
            "password must not contain the username"
        );

        let weak = check_policy("bob", "passwordpassword").unwrap_err();
        assert!(
            matches!(weak, PasswordError::TooWeak { score, min: 3, .. } if score < 3),
            "{weak:?}"
        );
        assert!(weak.to_string().starts_with("password too weak"), "{weak}");
        let weak = check_policy("bob", "aaaaaaaaaaaaaaaa").unwrap_err();
        assert!(matches!(weak, PasswordError::TooWeak { .. }), "{weak:?}");

        let long = "x".repeat(MAX_PASSWORD_BYTES + 1);
        assert_eq!(
            check_policy("bob", &long).unwrap_err(),
            PasswordError::TooLong {
                max: MAX_PASSWORD_BYTES
            }
        );
        // The benign twin: a long random-looking passphrase passes.
        check_policy("alice", "violet-Staple-orbit-47-quench").unwrap();
        check_policy("alice", "ünïcödé pässwörd with spaces 9").unwrap();
    }

    #[test]
    fn usernames() {
        for ok in ["alice", "a.b-c_d@example.com", "Ωmega"] {
            check_username(ok).unwrap();
        }
        let long = "a".repeat(65);
        for bad in ["", "a:b", "a b", "a\tb", "a\u{7}", long.as_str()] {
            assert_eq!(
                check_username(bad),
                Err(PasswordError::BadUsername),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn argon2id_hash_with_owasp_parameters_verifies_only_the_right_password() {
        let phc = hash_password("violet-Staple-orbit-47").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_password("violet-Staple-orbit-47", &phc));
        assert!(!verify_password("violet-Staple-orbit-48", &phc));
        assert!(!verify_password("", &phc));
        // Salted: the same password hashes differently.
        assert_ne!(phc, hash_password("violet-Staple-orbit-47").unwrap());
        // A damaged stored hash fails closed.
        assert!(!verify_password(
            "violet-Staple-orbit-47",
            "not a phc string"
        ));
        assert!(!verify_password(
            "x",
            "$argon2id$v=19$m=19456,t=2,p=1$AAAA$"
        ));
        // The dummy hash matches nothing a client would send.
        burn_dummy("anything");
    }

    #[test]
    fn basic_header_parsing() {
        let ok = parse_basic(b"Basic YWxpY2U6czNjcjN0OndpdGg6Y29sb25z").unwrap();
        assert_eq!(ok.username, "alice");
        assert_eq!(ok.password, "s3cr3t:with:colons");
        assert!(!format!("{ok:?}").contains("s3cr3t"));
        let lower = parse_basic(b"basic YWxpY2U6eA==").unwrap();
        assert_eq!(
            (lower.username.as_str(), lower.password.as_str()),
            ("alice", "x")
        );
        for (bad, why) in [
            (&b"Bearer abc"[..], BasicParseError::NotBasic),
            (b"Basic", BasicParseError::NotBasic),
            (b"Basic !!!", BasicParseError::Malformed),
            (b"Basic YWxpY2U=", BasicParseError::Malformed), // no colon
            (b"Basic OnB3", BasicParseError::Malformed),     // empty username
            (b"Basic /w==", BasicParseError::Malformed),     // not UTF-8
            (b"\xff\xfe", BasicParseError::Malformed),
        ] {
            assert_eq!(parse_basic(bad).unwrap_err(), why, "{bad:?}");
        }
    }

    proptest::proptest! {
        /// Any header value: no panic, and what parses has a non-empty, colon-free username.
        #[test]
        fn parse_basic_never_panics(value in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            if let Ok(c) = parse_basic(&value) {
                proptest::prop_assert!(!c.username.is_empty() && !c.username.contains(':'));
            }
        }

        /// Whatever a client encodes (username without a colon) comes back unchanged.
        #[test]
        fn parse_basic_round_trips(user in "[^:\\x00-\\x1f]{1,20}", password in "\\PC{0,40}") {
            let header = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
            );
            let c = parse_basic(header.as_bytes()).unwrap();
            proptest::prop_assert_eq!(c.username, user);
            proptest::prop_assert_eq!(c.password, password);
        }
    }

    #[test]
    fn verified_cache_is_bound_to_password_hash_and_time() {
        let cache = VerifiedCache::new().unwrap();
        cache.insert("alice", "pw-one", "$hash1", 100, 60);
        assert!(cache.hit("alice", "pw-one", "$hash1", 159));
        assert!(!cache.hit("alice", "pw-one", "$hash1", 160), "expired");
        assert!(
            !cache.hit("alice", "pw-two", "$hash1", 110),
            "other password"
        );
        assert!(
            !cache.hit("alice", "pw-one", "$hash2", 110),
            "password changed"
        );
        assert!(!cache.hit("bob", "pw-one", "$hash1", 110), "other user");
        // No confusion between (user, password) splits.
        cache.insert("ab", "c", "$h", 100, 60);
        assert!(!cache.hit("a", "bc", "$h", 110));
        cache.forget("alice");
        assert!(!cache.hit("alice", "pw-one", "$hash1", 110));
        cache.insert("carol", "pw", "$h", 100, 0);
        assert!(!cache.hit("carol", "pw", "$h", 100), "ttl 0 disables");
    }
}
