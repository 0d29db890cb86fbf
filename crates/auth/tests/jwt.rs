//! The JWT attack suite: each forged or broken token is refused, its valid twin accepted.
#![allow(missing_docs)]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use portcullis_auth::jwt::JwtVerifier;
use portcullis_config::JwtAuthSpec;
use serde_json::{Value, json};

struct Issuer {
    _dir: tempfile::TempDir,
    verifier: JwtVerifier,
    key: EncodingKey,
    public_pem: String,
    attacker: EncodingKey,
    attacker_pub: String,
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn issuer() -> Issuer {
    let kp = rcgen::KeyPair::generate().unwrap();
    let bad = rcgen::KeyPair::generate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("issuer.pem");
    std::fs::write(&path, kp.public_key_pem()).unwrap();
    let spec: JwtAuthSpec = serde_saphyr::from_str(&format!(
        "issuer: https://idp.example\naudiences: [orders-api]\nkeys_file: {}\nalgorithms: [ES256]\nleeway: 5s\nmax_token_bytes: 4096\nroles_claim: realm.roles\n",
        path.display()
    ))
    .unwrap();
    Issuer {
        verifier: JwtVerifier::from_spec(&spec).unwrap(),
        key: EncodingKey::from_ec_pem(kp.serialize_pem().as_bytes()).unwrap(),
        public_pem: kp.public_key_pem(),
        attacker: EncodingKey::from_ec_pem(bad.serialize_pem().as_bytes()).unwrap(),
        attacker_pub: bad.public_key_pem(),
        _dir: dir,
    }
}

fn claims() -> Value {
    json!({ "iss": "https://idp.example", "aud": "orders-api", "sub": "alice", "exp": now() + 300,
            "iat": now(), "scope": "orders:read orders:write", "realm": { "roles": ["buyer"] } })
}

fn sign(key: &EncodingKey, header: &Header, claims: &Value) -> String {
    encode(header, claims, key).unwrap()
}

/// A token with an arbitrary header and signature bytes (for forgeries jsonwebtoken refuses to make).
fn raw(header: Value, claims: &Value, sig: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        B64.encode(header.to_string()),
        B64.encode(claims.to_string()),
        B64.encode(sig)
    )
}

#[test]
fn valid_token_yields_identity() {
    let i = issuer();
    let t = sign(&i.key, &Header::new(Algorithm::ES256), &claims());
    let id = i.verifier.verify(&t).unwrap();
    assert_eq!(id.consumer_id, "alice");
    assert_eq!(id.scopes, vec!["orders:read", "orders:write"]);
    assert_eq!(id.roles, vec!["buyer"]);
    // Scopes as an array are accepted too.
    let mut c = claims();
    c["scope"] = json!(["a", "b"]);
    assert_eq!(
        i.verifier
            .verify(&sign(&i.key, &Header::new(Algorithm::ES256), &c))
            .unwrap()
            .scopes,
        vec!["a", "b"]
    );
}

#[test]
fn forged_and_broken_tokens_are_refused() {
    let i = issuer();
    let good = sign(&i.key, &Header::new(Algorithm::ES256), &claims());
    let (h, rest) = good.split_once('.').unwrap();
    let (p, _s) = rest.split_once('.').unwrap();
    let mut cases: Vec<(&str, String)> = Vec::new();
    for alg in ["none", "None", "NONE", "nOnE"] {
        cases.push((
            "alg none",
            raw(json!({"alg": alg, "typ": "JWT"}), &claims(), b""),
        ));
    }
    // HS256 signed with the issuer's public key as the HMAC secret (algorithm confusion).
    let hs = EncodingKey::from_secret(i.public_pem.as_bytes());
    cases.push((
        "hs256 with public key",
        sign(&hs, &Header::new(Algorithm::HS256), &claims()),
    ));
    cases.push(("signature stripped", format!("{h}.{p}.")));
    cases.push((
        "wrong key",
        sign(&i.attacker, &Header::new(Algorithm::ES256), &claims()),
    ));
    // CVE-2022-21449: an all-zero ECDSA signature.
    cases.push((
        "ecdsa zero signature",
        raw(json!({"alg": "ES256"}), &claims(), &[0u8; 64]),
    ));
    let mut c = claims();
    c["exp"] = json!(now() - 120);
    cases.push(("expired", sign(&i.key, &Header::new(Algorithm::ES256), &c)));
    let mut c = claims();
    c["nbf"] = json!(now() + 600);
    cases.push((
        "nbf in the future",
        sign(&i.key, &Header::new(Algorithm::ES256), &c),
    ));
    let mut c = claims();
    c["iat"] = json!(now() + 600);
    cases.push((
        "iat in the future",
        sign(&i.key, &Header::new(Algorithm::ES256), &c),
    ));
    let mut c = claims();
    c.as_object_mut().unwrap().remove("exp");
    cases.push(("no exp", sign(&i.key, &Header::new(Algorithm::ES256), &c)));
    let mut c = claims();
    c["iss"] = json!("https://evil.example");
    cases.push((
        "wrong iss",
        sign(&i.key, &Header::new(Algorithm::ES256), &c),
    ));
    let mut c = claims();
    c["aud"] = json!("other-api");
    cases.push((
        "wrong aud",
        sign(&i.key, &Header::new(Algorithm::ES256), &c),
    ));
    // Header tricks pointing at an attacker's key: signed by the attacker, never trusted.
    for (field, value) in [
        ("jku", json!("https://evil.example/jwks.json")),
        ("x5u", json!("https://evil.example/cert.pem")),
        ("kid", json!("../../../../etc/passwd")),
        ("kid", json!("x' UNION SELECT 'key")),
    ] {
        let mut header = Header::new(Algorithm::ES256);
        match field {
            "jku" => header.jku = value.as_str().map(str::to_string),
            "x5u" => header.x5u = value.as_str().map(str::to_string),
            _ => header.kid = value.as_str().map(str::to_string),
        }
        cases.push(("header trick", sign(&i.attacker, &header, &claims())));
    }
    let attacker_jwk = raw(
        json!({"alg": "ES256", "jwk": {"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"}, "x5c": [i.attacker_pub]}),
        &claims(),
        &[1u8; 64],
    );
    cases.push(("embedded jwk", attacker_jwk));
    cases.push(("oversized", format!("{good}{}", "A".repeat(5000))));
    cases.push(("garbage", "not.a.jwt".to_string()));
    for (name, token) in cases {
        assert!(i.verifier.verify(&token).is_err(), "{name} was accepted");
    }
    // The valid twin passes after all that.
    assert!(i.verifier.verify(&good).is_ok());
}

#[test]
fn amr_and_acr_requirements_are_enforced_after_the_signature() {
    let kp = rcgen::KeyPair::generate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("issuer.pem");
    std::fs::write(&path, kp.public_key_pem()).unwrap();
    let spec: JwtAuthSpec = serde_saphyr::from_str(&format!(
        "issuer: https://idp.example\naudiences: [orders-api]\nkeys_file: {}\nrequire_amr: [otp, hwk, mfa]\nrequire_acr: [urn:acr:strong]\n",
        path.display()
    ))
    .unwrap();
    let v = JwtVerifier::from_spec(&spec).unwrap();
    let key = EncodingKey::from_ec_pem(kp.serialize_pem().as_bytes()).unwrap();
    let header = Header::new(Algorithm::ES256);
    let with = |amr: Value, acr: Value| {
        let mut c = claims();
        c["amr"] = amr;
        c["acr"] = acr;
        sign(&key, &header, &c)
    };
    let strong = json!("urn:acr:strong");
    assert!(
        v.verify(&with(json!(["pwd", "otp"]), strong.clone()))
            .is_ok()
    );
    assert_eq!(
        v.verify(&with(json!(["pwd"]), strong.clone())).unwrap_err(),
        "jwt_mfa_required"
    );
    assert_eq!(
        v.verify(&with(json!(null), strong.clone())).unwrap_err(),
        "jwt_mfa_required"
    );
    assert_eq!(
        v.verify(&with(json!(["hwk"]), json!("urn:acr:weak")))
            .unwrap_err(),
        "jwt_acr_required"
    );
    // A forged token never gets as far as the step-up answer.
    let attacker = rcgen::KeyPair::generate().unwrap();
    let mut c = claims();
    c["amr"] = json!(["pwd"]);
    let forged = sign(
        &EncodingKey::from_ec_pem(attacker.serialize_pem().as_bytes()).unwrap(),
        &header,
        &c,
    );
    assert_eq!(v.verify(&forged).unwrap_err(), "jwt_bad_signature");
}

#[test]
fn verified_tokens_are_cached_only_until_they_expire() {
    let kp = rcgen::KeyPair::generate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("issuer.pem");
    std::fs::write(&path, kp.public_key_pem()).unwrap();
    let spec: JwtAuthSpec = serde_saphyr::from_str(&format!(
        "issuer: https://idp.example\naudiences: [orders-api]\nkeys_file: {}\nleeway: 0s\n",
        path.display()
    ))
    .unwrap();
    let v = JwtVerifier::from_spec(&spec).unwrap();
    let key = EncodingKey::from_ec_pem(kp.serialize_pem().as_bytes()).unwrap();
    let mut c = claims();
    c["exp"] = json!(now() + 2);
    let t = sign(&key, &Header::new(Algorithm::ES256), &c);
    assert!(v.verify(&t).is_ok());
    assert!(v.verify(&t).is_ok(), "second verification (cached)");
    // One changed byte of the signature is a different token: verified afresh and refused.
    let mut forged = t.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    assert!(v.verify(&forged).is_err());
    std::thread::sleep(std::time::Duration::from_millis(3100));
    assert_eq!(
        v.verify(&t).unwrap_err(),
        "jwt_expired",
        "the cache never outlives exp"
    );
}

#[test]
fn hmac_only_with_an_explicit_secret_and_then_only_hmac() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "0123456789abcdef0123456789abcdef-long-enough\n").unwrap();
    let spec: JwtAuthSpec = serde_saphyr::from_str(&format!(
        "issuer: https://idp.example\naudiences: [orders-api]\nhmac_secret_file: {}\nalgorithms: [HS256]\n",
        secret.display()
    ))
    .unwrap();
    let v = JwtVerifier::from_spec(&spec).unwrap();
    let good = sign(
        &EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef-long-enough"),
        &Header::new(Algorithm::HS256),
        &claims(),
    );
    assert!(v.verify(&good).is_ok());
    let wrong = sign(
        &EncodingKey::from_secret(b"another secret of more than thirty-two bytes"),
        &Header::new(Algorithm::HS256),
        &claims(),
    );
    assert_eq!(v.verify(&wrong).unwrap_err(), "jwt_bad_signature");
    // An asymmetric token is not accepted by an HMAC issuer.
    let kp = rcgen::KeyPair::generate().unwrap();
    let es = sign(
        &EncodingKey::from_ec_pem(kp.serialize_pem().as_bytes()).unwrap(),
        &Header::new(Algorithm::ES256),
        &claims(),
    );
    assert_eq!(v.verify(&es).unwrap_err(), "jwt_algorithm_not_allowed");
    // HS384 signed with the right secret but not in the allow-list: refused.
    let hs384 = sign(
        &EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef-long-enough"),
        &Header::new(Algorithm::HS384),
        &claims(),
    );
    assert_eq!(v.verify(&hs384).unwrap_err(), "jwt_algorithm_not_allowed");
    // Short secrets are refused when the verifier is built.
    std::fs::write(&secret, "too-short-secret").unwrap();
    assert!(JwtVerifier::from_spec(&spec).is_err());
    // HMAC algorithms with public keys are refused too.
    let pem = dir.path().join("k.pem");
    std::fs::write(&pem, kp.public_key_pem()).unwrap();
    let mixed: JwtAuthSpec = serde_saphyr::from_str(&format!(
        "issuer: https://idp.example\naudiences: [orders-api]\nkeys_file: {}\nalgorithms: [HS256]\n",
        pem.display()
    ))
    .unwrap();
    assert!(JwtVerifier::from_spec(&mixed).is_err());
}
