//! Identity to the upstream as a short-lived JWT minted by the gateway (zero trust: the
//! upstream verifies who called instead of trusting plain `X-Consumer-*` headers from whoever
//! can reach it).
//!
//! After authentication and authorization, [`IdentityTokenGuard`] replaces any client-supplied
//! copy of the token header with a fresh token signed by the gateway (`iss`, `sub` = consumer,
//! `aud`, `scope`, `roles`, `auth_method`, `iat`, `exp`, `jti`). The signing key (ES256 or
//! EdDSA) is loaded from a PKCS#8 PEM file, generated with mode 0600 if absent; its public half
//! is published as a JWKS on the admin listener (`/.well-known/jwks.json`), the only thing an
//! upstream needs to verify tokens.

use std::path::Path;
use std::sync::Arc;

use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _,
};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use http::HeaderName;
use http::header::HeaderValue;
use portcullis_core::{Denial, Guard, GuardId, Identity, Phase, ProblemType, RequestCx, Step};

const ID: GuardId = GuardId("identity_token");

enum SigningKey {
    Es256(EcdsaKeyPair),
    EdDsa(Ed25519KeyPair),
}

/// Signing an identity token failed (the crypto library refused; not expected in practice).
#[derive(Clone, Copy, Debug, thiserror::Error)]
#[error("identity token signing failed")]
pub struct SignError;

/// One gateway signing key for identity tokens, with its public JWK.
pub struct IdentitySigner {
    key: SigningKey,
    alg: &'static str,
    kid: String,
    jwk: serde_json::Value,
}

impl std::fmt::Debug for IdentitySigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IdentitySigner({} {})", self.alg, self.kid)
    }
}

fn pem_encode(der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = String::from("-----BEGIN PRIVATE KEY-----\n");
    let mut rest = b64.as_str();
    while !rest.is_empty() {
        let (line, tail) = rest.split_at(rest.len().min(64));
        out.push_str(line);
        out.push('\n');
        rest = tail;
    }
    out.push_str("-----END PRIVATE KEY-----\n");
    out
}

fn pem_decode(text: &str) -> Result<Vec<u8>, String> {
    let body: String = text
        .lines()
        .map(str::trim)
        .skip_while(|l| *l != "-----BEGIN PRIVATE KEY-----")
        .skip(1)
        .take_while(|l| *l != "-----END PRIVATE KEY-----")
        .collect();
    if body.is_empty() {
        return Err("not a PEM `PRIVATE KEY` (PKCS#8)".into());
    }
    STANDARD
        .decode(body)
        .map_err(|_| "bad base64 in PEM".to_string())
}

/// Writes `contents` to a new file readable by the owner only.
fn write_private(path: &Path, contents: &str) -> Result<(), String> {
    use std::io::Write as _;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut f = options
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    f.write_all(contents.as_bytes())
        .map_err(|e| format!("{}: {e}", path.display()))
}

impl IdentitySigner {
    /// Loads the `algorithm` (`ES256` or `EdDSA`) key from `path`, generating it (mode 0600)
    /// if the file does not exist.
    pub fn load_or_generate(algorithm: &str, path: &Path) -> Result<Self, String> {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        if !path.exists() {
            let doc = match algorithm {
                "ES256" => EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng),
                "EdDSA" => Ed25519KeyPair::generate_pkcs8(&rng),
                other => return Err(format!("unsupported algorithm `{other}`")),
            }
            .map_err(|_| "key generation failed".to_string())?;
            write_private(path, &pem_encode(doc.as_ref()))?;
            tracing::info!(path = %path.display(), algorithm, "generated the identity-token signing key");
        }
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let der = pem_decode(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let bad = |_| format!("{}: not a PKCS#8 {algorithm} private key", path.display());
        // kid: the RFC 7638 thumbprint (required members in lexicographic order, no spaces).
        let thumbprint = |canonical: String| {
            URL_SAFE_NO_PAD.encode(
                aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes())
                    .as_ref(),
            )
        };
        let (key, alg, kid, jwk) = match algorithm {
            "ES256" => {
                let k = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der)
                    .map_err(bad)?;
                // Uncompressed point: 0x04 ‖ x (32) ‖ y (32).
                let point = k.public_key().as_ref().to_vec();
                let (x, y) = match point.as_slice() {
                    [4, rest @ ..] if rest.len() == 64 => rest.split_at(32),
                    _ => return Err(format!("{}: unexpected public key", path.display())),
                };
                let (x, y) = (URL_SAFE_NO_PAD.encode(x), URL_SAFE_NO_PAD.encode(y));
                let kid = thumbprint(format!(
                    r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#
                ));
                let jwk = serde_json::json!({
                    "kty": "EC", "crv": "P-256", "x": x, "y": y,
                    "kid": kid, "alg": "ES256", "use": "sig",
                });
                (SigningKey::Es256(k), "ES256", kid, jwk)
            }
            "EdDSA" => {
                let k = Ed25519KeyPair::from_pkcs8(&der).map_err(bad)?;
                let x = URL_SAFE_NO_PAD.encode(k.public_key().as_ref());
                let kid = thumbprint(format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#));
                let jwk = serde_json::json!({
                    "kty": "OKP", "crv": "Ed25519", "x": x,
                    "kid": kid, "alg": "EdDSA", "use": "sig",
                });
                (SigningKey::EdDsa(k), "EdDSA", kid, jwk)
            }
            other => return Err(format!("unsupported algorithm `{other}`")),
        };
        Ok(Self { key, alg, kid, jwk })
    }

    /// The public key as a JWK (with `kid`, `alg`, `use`).
    pub fn jwk(&self) -> &serde_json::Value {
        &self.jwk
    }

    /// The key id in every token's header.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// A signed compact JWS over `claims`.
    pub fn sign(&self, claims: &serde_json::Value) -> Result<String, SignError> {
        let header = serde_json::json!({ "alg": self.alg, "typ": "JWT", "kid": self.kid });
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let sig = match &self.key {
            SigningKey::Es256(k) => k
                .sign(&aws_lc_rs::rand::SystemRandom::new(), input.as_bytes())
                .map_err(|_| SignError)?
                .as_ref()
                .to_vec(),
            SigningKey::EdDsa(k) => k.sign(input.as_bytes()).as_ref().to_vec(),
        };
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig)))
    }
}

/// The JWKS document publishing `signers`' public keys.
pub fn jwks(signers: &[Arc<IdentitySigner>]) -> String {
    let keys: Vec<_> = signers.iter().map(|s| s.jwk().clone()).collect();
    serde_json::json!({ "keys": keys }).to_string()
}

/// The claims of an identity token.
pub fn claims(
    issuer: &str,
    audience: &str,
    identity: &Identity,
    ttl_secs: i64,
    now: i64,
    jti: &str,
) -> serde_json::Value {
    serde_json::json!({
        "iss": issuer,
        "sub": identity.consumer_id,
        "aud": audience,
        "scope": identity.scopes.join(" "),
        "roles": identity.roles,
        "auth_method": identity.method,
        "iat": now,
        "exp": now.saturating_add(ttl_secs),
        "jti": jti,
    })
}

/// Mints the identity token for authenticated requests of a route; always removes copies the
/// client sent, so the upstream can trust the header.
pub struct IdentityTokenGuard {
    signer: Arc<IdentitySigner>,
    header: HeaderName,
    issuer: String,
    audience: String,
    ttl_secs: i64,
}

impl IdentityTokenGuard {
    /// A guard minting tokens with `signer` into `header`.
    pub fn new(
        signer: Arc<IdentitySigner>,
        header: HeaderName,
        issuer: &str,
        audience: &str,
        ttl_secs: i64,
    ) -> Self {
        Self {
            signer,
            header,
            issuer: issuer.to_string(),
            audience: audience.to_string(),
            ttl_secs,
        }
    }
}

impl Guard for IdentityTokenGuard {
    fn id(&self) -> GuardId {
        ID
    }

    fn phases(&self) -> &'static [Phase] {
        &[Phase::Request]
    }

    fn on_request(&self, cx: &mut RequestCx, req: &mut http::request::Parts) -> Step {
        req.headers.remove(&self.header);
        let Some(identity) = &cx.identity else {
            return Step::Continue;
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let Ok(jti) = crate::signing::new_nonce() else {
            return Step::Deny(Denial::new(
                ProblemType::ServiceUnavailable,
                "identity_token_random",
                ID,
            ));
        };
        let claims = claims(
            &self.issuer,
            &self.audience,
            identity,
            self.ttl_secs,
            now,
            &jti,
        );
        match self
            .signer
            .sign(&claims)
            .ok()
            .and_then(|t| HeaderValue::from_str(&t).ok())
        {
            Some(v) => {
                req.headers.insert(self.header.clone(), v);
                Step::Continue
            }
            None => Step::Deny(Denial::new(
                ProblemType::ServiceUnavailable,
                "identity_token_sign_failed",
                ID,
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> Identity {
        Identity {
            consumer_id: "alice".into(),
            method: "hmac",
            scopes: vec!["orders:read".into()],
            roles: vec!["buyer".into()],
            ..Default::default()
        }
    }

    #[test]
    fn generated_keys_sign_tokens_their_jwks_verifies() {
        let dir = tempfile::tempdir().unwrap();
        for alg in ["ES256", "EdDSA"] {
            let path = dir.path().join(format!("{alg}.pem"));
            let s = IdentitySigner::load_or_generate(alg, &path).unwrap();
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt as _;
                let mode = std::fs::metadata(&path).unwrap().permissions().mode();
                assert_eq!(mode & 0o777, 0o600);
            }
            // Reloading gives the same key.
            let again = IdentitySigner::load_or_generate(alg, &path).unwrap();
            assert_eq!(again.kid(), s.kid());
            let token = s
                .sign(&claims(
                    "portcullis",
                    "orders-api",
                    &identity(),
                    30,
                    1000,
                    "j1",
                ))
                .unwrap();
            let set: jsonwebtoken::jwk::JwkSet =
                serde_json::from_str(&jwks(&[Arc::new(s)])).unwrap();
            let key = jsonwebtoken::DecodingKey::from_jwk(&set.keys[0]).unwrap();
            let algorithm = if alg == "ES256" {
                jsonwebtoken::Algorithm::ES256
            } else {
                jsonwebtoken::Algorithm::EdDSA
            };
            let mut v = jsonwebtoken::Validation::new(algorithm);
            v.set_audience(&["orders-api"]);
            v.validate_exp = false;
            let data = jsonwebtoken::decode::<serde_json::Value>(&token, &key, &v).unwrap();
            assert_eq!(data.claims["sub"], "alice");
            assert_eq!(data.claims["exp"], 1030);
            // Tampered payload fails.
            let mut parts: Vec<&str> = token.split('.').collect();
            let forged = URL_SAFE_NO_PAD.encode(r#"{"sub":"admin","aud":"orders-api"}"#);
            parts[1] = &forged;
            assert!(jsonwebtoken::decode::<serde_json::Value>(&parts.join("."), &key, &v).is_err());
        }
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "nope").unwrap();
        assert!(IdentitySigner::load_or_generate("ES256", &junk).is_err());
    }
}
