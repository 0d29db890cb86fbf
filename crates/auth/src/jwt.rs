//! JWT bearer tokens from one issuer with keys from a file (PEM or JWKS) or fetched from the
//! issuer ([`crate::jwks_remote`]).
//!
//! Rules (ARCHITECTURE invariants): algorithm allow-list per issuer, never `none`; HMAC
//! (HS256/384/512) only for an issuer configured with an explicit shared secret of at least 32
//! bytes, and then only HMAC (a public key can never serve as an HMAC secret); `jku`, `x5u`, `jwk` and `x5c` are never used to find keys, `kid` only chooses among
//! the configured ones; `exp`, `iss` and `aud` are required; `nbf` and `iat` are honoured
//! with a small leeway; oversized tokens are refused before parsing.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use portcullis_config::JwtAuthSpec;
use portcullis_core::Identity;
use serde_json::Value;
use std::sync::Arc;

use crate::jwks_remote::{RemoteKeys, VerifyKey};

/// One issuer's verification settings, compiled once per config version.
pub struct JwtVerifier {
    issuer: String,
    audiences: Vec<String>,
    algorithms: Vec<Algorithm>,
    keys: Keys,
    leeway: u64,
    max_token_bytes: usize,
    scopes_claim: String,
    roles_claim: String,
    require_amr: Vec<String>,
    require_acr: Vec<String>,
    cache: VerifiedCache,
}

/// Where the verification keys come from.
enum Keys {
    /// Read once from `keys_file` or `hmac_secret_file`.
    Fixed(Arc<Vec<VerifyKey>>),
    /// Fetched from the issuer, replaced on refresh.
    Remote(Arc<RemoteKeys>),
}

/// Tokens that passed every check, by SHA-256 of the exact token text, until their `exp`.
///
/// A client sends the same token on every request until it expires; verifying its signature
/// each time costs tens of microseconds (ES256 ≈ 40 µs), more than the rest of the pipeline.
/// Only successes are cached (a failure is never remembered, so nothing can be poisoned);
/// `exp` is re-checked on every hit; revocation is checked separately on every request. The
/// cache is bounded and simply cleared when full.
struct VerifiedCache {
    shards: Vec<CacheShard>,
    per_shard: usize,
}

/// One shard: token hash → (identity, `exp`).
type CacheShard = std::sync::Mutex<std::collections::HashMap<[u8; 32], (Identity, u64)>>;

const CACHE_SHARDS: usize = 16;
/// Verified tokens remembered per issuer.
pub const CACHE_CAPACITY: usize = 16_384;

impl VerifiedCache {
    fn new() -> Self {
        Self {
            shards: (0..CACHE_SHARDS)
                .map(|_| std::sync::Mutex::new(std::collections::HashMap::new()))
                .collect(),
            per_shard: CACHE_CAPACITY / CACHE_SHARDS,
        }
    }

    fn key(token: &str) -> [u8; 32] {
        let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
        let mut k = [0u8; 32];
        k.copy_from_slice(d.as_ref());
        k
    }

    fn shard(&self, key: &[u8; 32]) -> Option<&CacheShard> {
        self.shards.get(usize::from(key[0]) % CACHE_SHARDS)
    }

    fn get(&self, key: &[u8; 32], now: u64) -> Option<Identity> {
        let map = self.shard(key)?.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(key) {
            Some((id, exp)) if *exp > now => Some(id.clone()),
            _ => None,
        }
    }

    fn put(&self, key: [u8; 32], identity: &Identity, exp: u64) {
        let Some(shard) = self.shard(&key) else {
            return;
        };
        let mut map = shard.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= self.per_shard {
            map.clear();
        }
        map.insert(key, (identity.clone(), exp));
    }
}

fn algorithm(name: &str) -> Option<Algorithm> {
    Some(match name {
        "RS256" => Algorithm::RS256,
        "RS384" => Algorithm::RS384,
        "RS512" => Algorithm::RS512,
        "PS256" => Algorithm::PS256,
        "PS384" => Algorithm::PS384,
        "PS512" => Algorithm::PS512,
        "ES256" => Algorithm::ES256,
        "ES384" => Algorithm::ES384,
        "EdDSA" => Algorithm::EdDSA,
        "HS256" => Algorithm::HS256,
        "HS384" => Algorithm::HS384,
        "HS512" => Algorithm::HS512,
        _ => return None,
    })
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The value at a dotted claim path.
fn claim<'a>(claims: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(claims, |v, k| v.get(k))
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => s.split_whitespace().map(str::to_string).collect(),
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

impl JwtVerifier {
    /// Loads the issuer's keys and settings.
    pub fn from_spec(spec: &JwtAuthSpec) -> Result<Self, String> {
        let algorithms = spec
            .algorithms
            .iter()
            .map(|a| algorithm(a).ok_or_else(|| format!("algorithm `{a}` is not accepted")))
            .collect::<Result<Vec<_>, _>>()?;
        let mut keys = Vec::new();
        let remote = RemoteKeys::from_spec(spec)?;
        if remote.is_some() {
            if algorithms
                .iter()
                .any(|a| matches!(a, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512))
            {
                return Err("HMAC algorithms need hmac_secret_file".into());
            }
        } else if let Some(secret_file) = &spec.hmac_secret_file {
            // Shared-secret issuers: HMAC algorithms only (validation refuses the others).
            if algorithms
                .iter()
                .any(|a| !matches!(a, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512))
            {
                return Err("hmac_secret_file accepts HS256, HS384 and HS512 only".into());
            }
            let bytes = std::fs::read(secret_file)
                .map_err(|e| format!("{}: {e}", secret_file.display()))?;
            let secret = bytes.trim_ascii_end();
            if secret.len() < 32 {
                return Err(format!(
                    "{}: the secret must be at least 32 bytes",
                    secret_file.display()
                ));
            }
            keys.push((None, DecodingKey::from_secret(secret)));
        } else {
            let keys_file = spec
                .keys_file
                .as_ref()
                .ok_or("name keys_file or hmac_secret_file")?;
            if algorithms
                .iter()
                .any(|a| matches!(a, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512))
            {
                return Err("HMAC algorithms need hmac_secret_file".into());
            }
            let text = std::fs::read_to_string(keys_file)
                .map_err(|e| format!("{}: {e}", keys_file.display()))?;
            if text.trim_start().starts_with('{') {
                let set: JwkSet = serde_json::from_str(&text)
                    .map_err(|e| format!("{}: not a JWKS: {e}", keys_file.display()))?;
                for jwk in &set.keys {
                    let key = DecodingKey::from_jwk(jwk)
                        .map_err(|e| format!("{}: {e}", keys_file.display()))?;
                    keys.push((jwk.common.key_id.clone(), key));
                }
            } else {
                let pem = text.as_bytes();
                let key = DecodingKey::from_ec_pem(pem)
                    .or_else(|_| DecodingKey::from_rsa_pem(pem))
                    .or_else(|_| DecodingKey::from_ed_pem(pem))
                    .map_err(|e| format!("{}: no usable public key: {e}", keys_file.display()))?;
                keys.push((None, key));
            }
        }
        let keys = match remote {
            Some(remote) => {
                remote.start();
                Keys::Remote(remote)
            }
            None if keys.is_empty() => return Err("no keys".into()),
            None => Keys::Fixed(Arc::new(keys)),
        };
        Ok(Self {
            issuer: spec.issuer.clone(),
            audiences: spec.audiences.clone(),
            algorithms,
            keys,
            leeway: spec.leeway.get().as_secs().min(60),
            max_token_bytes: spec.max_token_bytes,
            scopes_claim: spec.scopes_claim.clone(),
            roles_claim: spec.roles_claim.clone(),
            require_amr: spec.require_amr.clone(),
            require_acr: spec.require_acr.clone(),
            cache: VerifiedCache::new(),
        })
    }

    /// The remote key source, when keys are fetched from the issuer.
    pub fn remote_keys(&self) -> Option<&Arc<RemoteKeys>> {
        match &self.keys {
            Keys::Remote(r) => Some(r),
            Keys::Fixed(_) => None,
        }
    }

    /// The issuer (`iss`) this verifier accepts.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Verifies a token; the error is a reason for the log only. Tokens that verified before
    /// and have not expired are answered from a cache (see `VerifiedCache`).
    pub fn verify(&self, token: &str) -> Result<Identity, &'static str> {
        if token.len() > self.max_token_bytes {
            return Err("jwt_too_large");
        }
        let key = VerifiedCache::key(token);
        if let Some(identity) = self.cache.get(&key, now()) {
            return Ok(identity);
        }
        let identity = self.verify_uncached(token)?;
        // Remember it until `exp` (no leeway: a cached token never outlives its expiry).
        if let Some(exp) = identity
            .claims
            .as_deref()
            .and_then(|c| c.get("exp"))
            .and_then(Value::as_u64)
        {
            self.cache.put(key, &identity, exp);
        }
        Ok(identity)
    }

    /// Verifies a token without consulting or filling the cache (benchmarks, tests).
    pub fn verify_uncached(&self, token: &str) -> Result<Identity, &'static str> {
        let header = decode_header(token).map_err(|_| "jwt_malformed")?;
        if !self.algorithms.contains(&header.alg) {
            return Err("jwt_algorithm_not_allowed");
        }
        let keys = match &self.keys {
            Keys::Fixed(k) => k.clone(),
            Keys::Remote(r) => r.current(),
        };
        let candidates: Vec<&DecodingKey> = match &header.kid {
            Some(kid) => keys
                .iter()
                .filter(|(k, _)| k.as_deref() == Some(kid.as_str()) || k.is_none())
                .map(|(_, key)| key)
                .collect(),
            None => keys.iter().map(|(_, key)| key).collect(),
        };
        if candidates.is_empty() {
            return Err("jwt_unknown_kid");
        }
        let mut validation = Validation::new(header.alg);
        validation.algorithms = vec![header.alg];
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&self.audiences);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = self.leeway;
        let mut last = "jwt_bad_signature";
        for key in candidates {
            match decode::<Value>(token, key, &validation) {
                Ok(data) => {
                    let claims = data.claims;
                    if let Some(iat) = claims.get("iat") {
                        let Some(iat) = iat.as_u64() else {
                            return Err("jwt_bad_iat");
                        };
                        if iat > now().saturating_add(self.leeway) {
                            return Err("jwt_issued_in_future");
                        }
                    }
                    let sub = claims
                        .get("sub")
                        .and_then(Value::as_str)
                        .ok_or("jwt_no_subject")?;
                    // Step-up requirements (multi-factor, assurance level): checked after
                    // the signature, so only a genuine token can learn it fell short.
                    if !self.require_amr.is_empty()
                        && !strings(claims.get("amr"))
                            .iter()
                            .any(|m| self.require_amr.contains(m))
                    {
                        return Err("jwt_mfa_required");
                    }
                    if !self.require_acr.is_empty()
                        && !claims
                            .get("acr")
                            .and_then(Value::as_str)
                            .is_some_and(|a| self.require_acr.iter().any(|r| r == a))
                    {
                        return Err("jwt_acr_required");
                    }
                    let credential_id =
                        claims.get("jti").and_then(Value::as_str).map(str::to_owned);
                    return Ok(Identity {
                        consumer_id: sub.to_string(),
                        method: "jwt",
                        scopes: strings(claim(&claims, &self.scopes_claim)),
                        roles: strings(claim(&claims, &self.roles_claim)),
                        credential_id,
                        plan: claims
                            .get("plan")
                            .and_then(Value::as_str)
                            .map(str::to_owned),
                        claims: Some(Arc::new(claims)),
                    });
                }
                Err(e) => {
                    use jsonwebtoken::errors::ErrorKind as K;
                    last = match e.kind() {
                        K::ExpiredSignature => "jwt_expired",
                        K::ImmatureSignature => "jwt_not_yet_valid",
                        K::InvalidIssuer => "jwt_wrong_issuer",
                        K::InvalidAudience => "jwt_wrong_audience",
                        K::MissingRequiredClaim(_) => "jwt_missing_claim",
                        K::InvalidAlgorithm => "jwt_algorithm_not_allowed",
                        K::InvalidSignature => "jwt_bad_signature",
                        _ => "jwt_invalid",
                    };
                    // Claim errors do not depend on the key: no point trying others.
                    if last != "jwt_bad_signature" && last != "jwt_invalid" {
                        return Err(last);
                    }
                }
            }
        }
        Err(last)
    }
}
