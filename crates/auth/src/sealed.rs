//! Secrets that must be recovered, not just verified (TOTP seeds, HMAC signing secrets), kept
//! at rest under AES-256-GCM with a master key that never enters the store.
//!
//! A sealed blob is `version (1) ‖ key id (8) ‖ nonce (12) ‖ ciphertext ‖ tag (16)`. The key id
//! is the first 8 bytes of SHA-256 of the master key, so a [`Keyring`] holding the current key
//! and the previous ones opens blobs sealed under any of them while new blobs are always sealed
//! under the current key: that is how the master key is rotated (see docs/authentication.md).
//! Every blob is bound to a context string (for example `totp:alice`) as additional
//! authenticated data, so a blob copied to another row does not open.

use std::path::Path;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::digest;

/// Environment variable holding the master key as hex (64 characters) when no file is set.
pub const MASTER_KEY_ENV: &str = "PORTCULLIS_MASTER_KEY";

const VERSION: u8 = 1;
const KEY_ID_LEN: usize = 8;
const HEADER_LEN: usize = 1 + KEY_ID_LEN + NONCE_LEN;

/// Why a blob did not open or a key did not load. Deliberately coarse: the reason a sealed
/// secret fails to open is never told to a client.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    /// The key material is not 32 bytes (or 64 hex characters).
    #[error("a master key must be exactly 32 bytes (64 hex characters)")]
    BadKey,
    /// No key in the keyring has the blob's key id.
    #[error("sealed under a master key that is not in the keyring")]
    UnknownKey,
    /// The blob is truncated, of another version, tampered with or bound to another context.
    #[error("sealed secret is damaged or belongs elsewhere")]
    Corrupt,
    /// The system random generator failed.
    #[error("the system random generator failed")]
    Random,
}

/// One AES-256 master key.
pub struct MasterKey {
    id: [u8; KEY_ID_LEN],
    key: LessSafeKey,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey({})", self.id_hex())
    }
}

impl MasterKey {
    /// A key from 32 raw bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SealError> {
        if bytes.len() != 32 {
            return Err(SealError::BadKey);
        }
        let hash = digest::digest(&digest::SHA256, bytes);
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(hash.as_ref().get(..KEY_ID_LEN).ok_or(SealError::BadKey)?);
        let key = UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| SealError::BadKey)?;
        Ok(Self {
            id,
            key: LessSafeKey::new(key),
        })
    }

    /// A key from its text form: 64 hex characters (surrounding whitespace ignored).
    pub fn from_hex(text: &str) -> Result<Self, SealError> {
        let text = text.trim();
        if text.len() != 64 {
            return Err(SealError::BadKey);
        }
        let bytes: Option<Vec<u8>> = (0..text.len())
            .step_by(2)
            .map(|i| {
                text.get(i..i + 2)
                    .and_then(|b| u8::from_str_radix(b, 16).ok())
            })
            .collect();
        Self::from_bytes(&bytes.ok_or(SealError::BadKey)?)
    }

    /// A key from a file holding either 32 raw bytes or 64 hex characters.
    pub fn from_file(path: &Path) -> Result<Self, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let key = if bytes.len() == 32 {
            Self::from_bytes(&bytes)
        } else {
            std::str::from_utf8(&bytes)
                .map_err(|_| SealError::BadKey)
                .and_then(Self::from_hex)
        };
        key.map_err(|e| format!("{}: {e}", path.display()))
    }

    /// A fresh random key, as 64 hex characters (for `portcullis` to print or write once).
    pub fn generate_hex() -> Result<String, SealError> {
        let mut bytes = [0u8; 32];
        aws_lc_rs::rand::fill(&mut bytes).map_err(|_| SealError::Random)?;
        Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// The key's public fingerprint (its id), safe to log.
    pub fn id_hex(&self) -> String {
        self.id.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// The current master key and the previous ones still accepted for opening.
#[derive(Debug)]
pub struct Keyring {
    current: MasterKey,
    previous: Vec<MasterKey>,
}

impl Keyring {
    /// A keyring sealing under `current` and opening under `current` or any of `previous`.
    pub fn new(current: MasterKey, previous: Vec<MasterKey>) -> Self {
        Self { current, previous }
    }

    /// Loads the keyring: the current key from `file` if given, else from the environment
    /// variable `PORTCULLIS_MASTER_KEY` (hex); previous keys from `previous_files`.
    pub fn load(file: Option<&Path>, previous_files: &[impl AsRef<Path>]) -> Result<Self, String> {
        let current = match file {
            Some(f) => MasterKey::from_file(f)?,
            None => match std::env::var(MASTER_KEY_ENV) {
                Ok(hex) => {
                    MasterKey::from_hex(&hex).map_err(|e| format!("{MASTER_KEY_ENV}: {e}"))?
                }
                Err(_) => {
                    return Err(format!(
                        "no master key: set `store.master_key_file` or {MASTER_KEY_ENV}"
                    ));
                }
            },
        };
        let previous = previous_files
            .iter()
            .map(|f| MasterKey::from_file(f.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::new(current, previous))
    }

    /// The key new blobs are sealed under.
    pub fn current(&self) -> &MasterKey {
        &self.current
    }

    /// Encrypts `plaintext` under the current key, bound to `context`.
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).map_err(|_| SealError::Random)?;
        let mut out = Vec::with_capacity(HEADER_LEN + plaintext.len() + 16);
        out.push(VERSION);
        out.extend_from_slice(&self.current.id);
        out.extend_from_slice(&nonce);
        let mut body = plaintext.to_vec();
        self.current
            .key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut body,
            )
            .map_err(|_| SealError::Corrupt)?;
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Decrypts a blob sealed under any key of the ring, for the same `context`.
    pub fn open(&self, context: &str, blob: &[u8]) -> Result<Vec<u8>, SealError> {
        let (header, sealed) = blob
            .split_at_checked(HEADER_LEN)
            .ok_or(SealError::Corrupt)?;
        let (version, rest) = header.split_first().ok_or(SealError::Corrupt)?;
        if *version != VERSION {
            return Err(SealError::Corrupt);
        }
        let (id, nonce) = rest.split_at(KEY_ID_LEN);
        let key = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == id)
            .ok_or(SealError::UnknownKey)?;
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::Corrupt)?;
        let mut body = sealed.to_vec();
        let plain = key
            .key
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut body)
            .map_err(|_| SealError::Corrupt)?;
        Ok(plain.to_vec())
    }

    /// Whether a blob is sealed under the current key (false: re-seal it when rotating).
    pub fn is_current(&self, blob: &[u8]) -> bool {
        blob.get(1..1 + KEY_ID_LEN) == Some(&self.current.id[..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> MasterKey {
        MasterKey::from_bytes(&[byte; 32]).unwrap()
    }

    #[test]
    fn round_trip_bound_to_context() {
        let ring = Keyring::new(key(1), vec![]);
        let blob = ring.seal("totp:alice", b"seed").unwrap();
        assert_eq!(ring.open("totp:alice", &blob).unwrap(), b"seed");
        // A blob moved to another row does not open.
        assert_eq!(ring.open("totp:bob", &blob), Err(SealError::Corrupt));
        // Nonces are fresh: the same secret seals differently each time.
        assert_ne!(blob, ring.seal("totp:alice", b"seed").unwrap());
    }

    #[test]
    fn tampering_is_detected() {
        let ring = Keyring::new(key(1), vec![]);
        let blob = ring.seal("c", b"secret").unwrap();
        for i in 0..blob.len() {
            let mut bad = blob.clone();
            bad[i] ^= 0x01;
            assert!(ring.open("c", &bad).is_err(), "flip at byte {i} accepted");
        }
        assert_eq!(ring.open("c", &blob[..10]), Err(SealError::Corrupt));
        assert_eq!(ring.open("c", &[]), Err(SealError::Corrupt));
    }

    #[test]
    fn rotation_opens_old_blobs_and_seals_under_the_new_key() {
        let old = Keyring::new(key(1), vec![]);
        let blob = old.seal("c", b"secret").unwrap();
        let rotated = Keyring::new(key(2), vec![key(1)]);
        assert!(!rotated.is_current(&blob));
        assert_eq!(rotated.open("c", &blob).unwrap(), b"secret");
        let resealed = rotated.seal("c", b"secret").unwrap();
        assert!(rotated.is_current(&resealed));
        // Once the old key is dropped, old blobs are refused, not misread.
        let only_new = Keyring::new(key(2), vec![]);
        assert_eq!(only_new.open("c", &blob), Err(SealError::UnknownKey));
        assert_eq!(only_new.open("c", &resealed).unwrap(), b"secret");
    }

    #[test]
    fn keys_load_from_hex_and_raw_files() {
        let hex = MasterKey::generate_hex().unwrap();
        assert_eq!(hex.len(), 64);
        let dir = tempfile::tempdir().unwrap();
        let hex_file = dir.path().join("hex");
        std::fs::write(&hex_file, format!("{hex}\n")).unwrap();
        let raw_file = dir.path().join("raw");
        std::fs::write(&raw_file, [7u8; 32]).unwrap();
        let a = MasterKey::from_file(&hex_file).unwrap();
        assert_eq!(a.id_hex(), MasterKey::from_hex(&hex).unwrap().id_hex());
        MasterKey::from_file(&raw_file).unwrap();
        let short = dir.path().join("short");
        std::fs::write(&short, "abcd").unwrap();
        let err = MasterKey::from_file(&short).unwrap_err();
        assert!(err.contains("short") && err.contains("32 bytes"), "{err}");
        assert!(format!("{a:?}").starts_with("MasterKey("));
        assert!(!format!("{a:?}").contains(&hex));
    }
}
