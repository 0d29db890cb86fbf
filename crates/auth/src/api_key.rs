//! The API-key format: `pcs_<id>_<secret><check>`.
//!
//! - `pcs_` — a fixed prefix, so secret scanners (and people) recognise a leaked key;
//! - `<id>` — 12 base62 characters (71 bits), the key's public id: safe to show, log and type
//!   into `portcullis keys revoke`, and the lookup key in the store;
//! - `<secret>` — 43 base62 characters from the OS CSPRNG: 256 bits of entropy;
//! - `<check>` — 6 base62 characters of CRC-32 over `pcs_<id>_<secret>`, so a mistyped or
//!   truncated key is refused without a store lookup (and without costing a hash).
//!
//! At rest only `HMAC-SHA-256(pepper, key)` is kept; the pepper lives outside the database, so
//! a stolen database alone does not allow offline guessing. Verification compares hashes in
//! constant time.

use aws_lc_rs::{constant_time, hmac, rand};
use portcullis_core::Secret;

/// The prefix of every key.
pub const PREFIX: &str = "pcs_";
/// Characters in the public id.
pub const ID_LEN: usize = 12;
/// Characters in the secret (43 × log2(62) ≈ 256 bits).
pub const SECRET_LEN: usize = 43;
/// Characters in the checksum.
pub const CHECK_LEN: usize = 6;
/// Total length of a key.
pub const KEY_LEN: usize = PREFIX.len() + ID_LEN + 1 + SECRET_LEN + CHECK_LEN;

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Why a presented key was refused before any lookup. Clients are never told which.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyFormatError {
    /// Not `pcs_…` of the right length and alphabet.
    #[error("not an API key")]
    Malformed,
    /// The checksum does not match (a typo or a truncated key).
    #[error("API key checksum mismatch")]
    Checksum,
}

/// The random source failed.
#[derive(Clone, Copy, Debug, thiserror::Error)]
#[error("the system random generator failed")]
pub struct RandomError;

/// A newly generated key: its public id and the full key (shown once).
#[derive(Debug)]
pub struct NewKey {
    /// Public id.
    pub id: String,
    /// The key itself; print once, never store or log.
    pub key: Secret<String>,
}

fn base62(n: usize) -> Result<String, RandomError> {
    // Rejection sampling keeps every character uniform: bytes ≥ 248 (= 4 × 62) are redrawn.
    let mut out = String::with_capacity(n);
    let mut buf = [0u8; 64];
    while out.len() < n {
        rand::fill(&mut buf).map_err(|_| RandomError)?;
        for &b in &buf {
            if out.len() == n {
                break;
            }
            if b < 248
                && let Some(&c) = ALPHABET.get(usize::from(b % 62))
            {
                out.push(char::from(c));
            }
        }
    }
    Ok(out)
}

fn checksum(body: &str) -> String {
    let mut v = u64::from(crc32fast::hash(body.as_bytes()));
    let mut digits = [b'0'; CHECK_LEN];
    for d in digits.iter_mut().rev() {
        *d = ALPHABET
            .get(usize::try_from(v % 62).unwrap_or(0))
            .copied()
            .unwrap_or(b'0');
        v /= 62;
    }
    digits.iter().map(|&b| char::from(b)).collect()
}

/// Generates a key.
pub fn generate() -> Result<NewKey, RandomError> {
    let id = base62(ID_LEN)?;
    let secret = base62(SECRET_LEN)?;
    let body = format!("{PREFIX}{id}_{secret}");
    let key = format!("{body}{}", checksum(&body));
    Ok(NewKey {
        id,
        key: Secret::new(key),
    })
}

/// Checks a presented key's shape and checksum; returns its public id.
pub fn parse(presented: &str) -> Result<&str, KeyFormatError> {
    if presented.len() != KEY_LEN || !presented.starts_with(PREFIX) {
        return Err(KeyFormatError::Malformed);
    }
    let rest = presented
        .get(PREFIX.len()..)
        .ok_or(KeyFormatError::Malformed)?;
    let id = rest.get(..ID_LEN).ok_or(KeyFormatError::Malformed)?;
    let sep = rest.get(ID_LEN..=ID_LEN).ok_or(KeyFormatError::Malformed)?;
    let secret = rest
        .get(ID_LEN + 1..ID_LEN + 1 + SECRET_LEN)
        .ok_or(KeyFormatError::Malformed)?;
    let check = rest
        .get(ID_LEN + 1 + SECRET_LEN..)
        .ok_or(KeyFormatError::Malformed)?;
    let alnum = |s: &str| s.bytes().all(|b| b.is_ascii_alphanumeric());
    if sep != "_" || !alnum(id) || !alnum(secret) || !alnum(check) {
        return Err(KeyFormatError::Malformed);
    }
    let body = presented
        .get(..KEY_LEN - CHECK_LEN)
        .ok_or(KeyFormatError::Malformed)?;
    if checksum(body) != check {
        return Err(KeyFormatError::Checksum);
    }
    Ok(id)
}

/// The server-side secret mixed into every key hash. Loaded from a file or the environment
/// by the binary; at least 32 bytes.
pub struct Pepper(hmac::Key);

impl Pepper {
    /// A pepper from secret bytes; `None` if shorter than 32 bytes.
    pub fn new(bytes: &[u8]) -> Option<Self> {
        (bytes.len() >= 32).then(|| Self(hmac::Key::new(hmac::HMAC_SHA256, bytes)))
    }

    /// `HMAC-SHA-256(pepper, key)`: what the store keeps.
    pub fn hash(&self, key: &str) -> Vec<u8> {
        hmac::sign(&self.0, key.as_bytes()).as_ref().to_vec()
    }

    /// Whether `presented` hashes to `stored`, compared in constant time.
    pub fn verify(&self, presented: &str, stored: &[u8]) -> bool {
        let computed = self.hash(presented);
        constant_time::verify_slices_are_equal(&computed, stored).is_ok()
    }
}

impl std::fmt::Debug for Pepper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pepper([redacted])")
    }
}

/// Issues a key from `template` (scopes, restrictions, expiry of the record; its id, hash and
/// timestamps are set here): stores its peppered hash with a history entry by `actor` and
/// returns `(id, key)` — the only time the key exists outside the client.
pub fn issue(
    store: &dyn portcullis_store::Store,
    pepper: &Pepper,
    template: &portcullis_store::ApiKeyRecord,
    actor: &str,
    now: i64,
) -> Result<(String, Secret<String>), String> {
    let new = generate().map_err(|e| e.to_string())?;
    let record = portcullis_store::ApiKeyRecord {
        id: new.id.clone(),
        hash: pepper.hash(new.key.expose()),
        created_at: now,
        revoked_at: None,
        last_used_at: None,
        replaced_by: None,
        kind: portcullis_store::KeyKind::ApiKey,
        sealed_secret: None,
        ..template.clone()
    };
    store
        .insert_api_key(&record, actor, now)
        .map_err(|e| e.to_string())?;
    Ok((new.id, new.key))
}

/// Issues an HMAC signing key from `template` (scopes, restrictions, expiry): a fresh id and a
/// 256-bit secret (43 base62 characters), the secret sealed under the keyring's current master
/// key bound to `hmac:<id>`. Returns `(id, secret)` — the only time the secret leaves the
/// store unsealed. The hash column holds SHA-256 of `hmac:<id>` (unique, and never equal to
/// the peppered hash of any API key, so the id is useless as a bearer key).
pub fn issue_signing_key(
    store: &dyn portcullis_store::Store,
    keyring: &crate::sealed::Keyring,
    template: &portcullis_store::ApiKeyRecord,
    actor: &str,
    now: i64,
) -> Result<(String, Secret<String>), String> {
    let id = base62(ID_LEN).map_err(|e| e.to_string())?;
    let secret = Secret::new(base62(SECRET_LEN).map_err(|e| e.to_string())?);
    let context = crate::seal_context(&id);
    let sealed = keyring
        .seal(&context, secret.expose().as_bytes())
        .map_err(|e| e.to_string())?;
    let record = portcullis_store::ApiKeyRecord {
        id: id.clone(),
        hash: aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, context.as_bytes())
            .as_ref()
            .to_vec(),
        created_at: now,
        revoked_at: None,
        last_used_at: None,
        replaced_by: None,
        kind: portcullis_store::KeyKind::Hmac,
        sealed_secret: Some(sealed),
        ..template.clone()
    };
    store
        .insert_api_key(&record, actor, now)
        .map_err(|e| e.to_string())?;
    Ok((id, secret))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn generated_keys_parse_to_their_id() {
        let k = generate().unwrap();
        let key = k.key.expose();
        assert_eq!(key.len(), KEY_LEN);
        assert!(key.starts_with("pcs_"));
        assert_eq!(parse(key), Ok(k.id.as_str()));
        assert_ne!(generate().unwrap().key.expose(), key);
        assert_eq!(format!("{:?}", k.key), "[redacted]");
    }

    #[test]
    fn typos_and_truncations_are_refused_without_lookup() {
        let k = generate().unwrap();
        let key = k.key.expose().clone();
        // Change one secret character.
        let mut typo = key.clone().into_bytes();
        let i = PREFIX.len() + ID_LEN + 5;
        typo[i] = if typo[i] == b'a' { b'b' } else { b'a' };
        assert_eq!(
            parse(std::str::from_utf8(&typo).unwrap()),
            Err(KeyFormatError::Checksum)
        );
        assert_eq!(parse(&key[..key.len() - 1]), Err(KeyFormatError::Malformed));
        assert_eq!(
            parse(&key.replace("pcs_", "pcx_")),
            Err(KeyFormatError::Malformed)
        );
        assert_eq!(parse(""), Err(KeyFormatError::Malformed));
    }

    #[test]
    fn hashes_verify_only_with_the_same_pepper_and_key() {
        let p1 = Pepper::new(&[7u8; 32]).unwrap();
        let p2 = Pepper::new(&[8u8; 32]).unwrap();
        assert!(Pepper::new(&[1u8; 31]).is_none());
        let k = generate().unwrap();
        let stored = p1.hash(k.key.expose());
        assert_eq!(stored.len(), 32);
        assert!(p1.verify(k.key.expose(), &stored));
        assert!(!p2.verify(k.key.expose(), &stored));
        assert!(!p1.verify(generate().unwrap().key.expose(), &stored));
        assert_eq!(format!("{p1:?}"), "Pepper([redacted])");
    }

    #[test]
    fn secrets_are_uniform_base62() {
        let mut counts = [0usize; 62];
        for _ in 0..200 {
            for b in base62(43).unwrap().bytes() {
                let i = ALPHABET.iter().position(|&c| c == b).unwrap();
                counts[i] += 1;
            }
        }
        // 8600 draws, 138.7 expected per symbol: every symbol appears, none dominates.
        assert!(counts.iter().all(|&c| c > 60 && c < 260), "{counts:?}");
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in ".{0,80}") {
            let _ = parse(&s);
        }
    }
}
