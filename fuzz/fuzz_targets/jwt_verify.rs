//! Any bearer token: header decoding, signature check and claims handling never panic.
//!
//! Input layout: byte 0 picks the mode, the rest is the payload.
//! - even: the payload is the whole token, as a client would send it;
//! - odd: the payload is the claims JSON of a token correctly signed (HS256) with the issuer's
//!   secret, so the claims checks after the signature (`iat`, `sub`, `amr`, `acr`, `exp`,
//!   `aud`, `iss`) see arbitrary JSON, as they would from a compromised or sloppy issuer.
#![no_main]
use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use jsonwebtoken::{Algorithm, EncodingKey};
use libfuzzer_sys::fuzz_target;
use portcullis_auth::jwt::JwtVerifier;
use portcullis_config::JwtAuthSpec;

const SECRET: &[u8] = b"fuzz-secret-fuzz-secret-fuzz-secret!";

struct Issuer {
    _dir: tempfile::TempDir,
    verifier: JwtVerifier,
    key: EncodingKey,
}

static ISSUER: OnceLock<Issuer> = OnceLock::new();

fn issuer() -> &'static Issuer {
    ISSUER.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("hmac.secret");
        std::fs::write(&path, SECRET).expect("write secret");
        let spec: JwtAuthSpec = serde_saphyr::from_str(&format!(
            "issuer: https://idp.example\naudiences: [orders-api]\nhmac_secret_file: {}\n\
             algorithms: [HS256]\nleeway: 5s\nmax_token_bytes: 8192\nroles_claim: realm.roles\n\
             require_amr: [otp]\nrequire_acr: [gold]\n",
            path.display()
        ))
        .expect("static spec");
        Issuer {
            verifier: JwtVerifier::from_spec(&spec).expect("static spec loads"),
            key: EncodingKey::from_secret(SECRET),
            _dir: dir,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, payload)) = data.split_first() else {
        return;
    };
    let issuer = issuer();
    let token = if mode % 2 == 0 {
        String::from_utf8_lossy(payload).into_owned()
    } else {
        let message = format!(
            "{}.{}",
            B64.encode(br#"{"alg":"HS256","typ":"JWT"}"#),
            B64.encode(payload)
        );
        let Ok(sig) = jsonwebtoken::crypto::sign(message.as_bytes(), &issuer.key, Algorithm::HS256)
        else {
            return;
        };
        format!("{message}.{sig}")
    };
    let _ = issuer.verifier.verify_uncached(&token);
    let _ = issuer.verifier.verify(&token);
});
