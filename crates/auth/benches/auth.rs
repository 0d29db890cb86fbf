//! Per-request CPU cost of each authentication method's check (no I/O): API-key format
//! check + peppered HMAC comparison, JWT verification with ES256, RS256 and EdDSA keys, HMAC
//! request-signature verification (parse, canonicalise, HMAC, compare) and minting an ES256
//! identity token for the upstream.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use portcullis_auth::api_key::{self, Pepper};
use portcullis_auth::jwt::JwtVerifier;
use portcullis_auth::signing;
use portcullis_config::JwtAuthSpec;

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn bench(c: &mut Criterion) {
    let pepper = Pepper::new(&[7u8; 32]).unwrap();
    let key = api_key::generate().unwrap();
    let stored = pepper.hash(key.key.expose());
    c.bench_function("api_key_parse_and_verify", |b| {
        b.iter(|| {
            let id = api_key::parse(black_box(key.key.expose())).unwrap();
            black_box(id);
            assert!(pepper.verify(key.key.expose(), &stored));
        })
    });

    // A signed POST with a query and two signed headers, verified as the guard does.
    let uri: http::Uri = "/orders/42?b=2&a=1".parse().unwrap();
    let mut headers = http::HeaderMap::new();
    headers.insert("host", "api.example.com".parse().unwrap());
    headers.insert("content-type", "application/json".parse().unwrap());
    let secret = b"ExampleSecretDoNotUse0123456789abcdefghijkl";
    let signed = ["content-type".to_string(), "host".to_string()];
    let header = signing::sign(
        secret,
        "a1B2c3D4e5F6",
        "POST",
        &uri,
        &headers,
        &signed,
        br#"{"qty":1}"#,
        1,
        "AAECAwQFBgcICQoLDA0ODw",
    )
    .unwrap()
    .to_header();
    c.bench_function("hmac_signature_verify", |b| {
        b.iter(|| {
            let p = signing::SignatureParams::parse(black_box(&header)).unwrap();
            assert!(signing::verify(secret, &p, "POST", &uri, &headers).unwrap());
        })
    });

    let dir = tempfile::tempdir().unwrap();
    let signer = portcullis_auth::identity_token::IdentitySigner::load_or_generate(
        "ES256",
        &dir.path().join("identity.pem"),
    )
    .unwrap();
    let identity = portcullis_core::Identity {
        consumer_id: "alice".into(),
        method: "api_key",
        scopes: vec!["orders:read".into()],
        ..Default::default()
    };
    c.bench_function("identity_token_mint_es256", |b| {
        b.iter(|| {
            let claims = portcullis_auth::identity_token::claims(
                "portcullis",
                "orders-api",
                &identity,
                30,
                1,
                "jti",
            );
            black_box(signer.sign(&claims).unwrap());
        })
    });

    let claims = serde_json::json!({"iss": "https://idp", "aud": "api", "sub": "alice",
        "exp": now() + 3600, "iat": now(), "scope": "a b c"});
    let cases: Vec<(&str, Algorithm, rcgen::KeyPair)> = vec![
        (
            "jwt_es256",
            Algorithm::ES256,
            rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap(),
        ),
        (
            "jwt_eddsa",
            Algorithm::EdDSA,
            rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap(),
        ),
        (
            "jwt_rs256",
            Algorithm::RS256,
            rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap(),
        ),
    ];
    for (name, alg, kp) in cases {
        let pem_path = dir.path().join(format!("{name}.pem"));
        std::fs::write(&pem_path, kp.public_key_pem()).unwrap();
        let spec: JwtAuthSpec = serde_saphyr::from_str(&format!(
            "issuer: https://idp\naudiences: [api]\nkeys_file: {}\nalgorithms: [{}]\n",
            pem_path.display(),
            match alg {
                Algorithm::ES256 => "ES256",
                Algorithm::EdDSA => "EdDSA",
                _ => "RS256",
            }
        ))
        .unwrap();
        let verifier = JwtVerifier::from_spec(&spec).unwrap();
        let pem = kp.serialize_pem();
        let enc = match alg {
            Algorithm::ES256 => EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
            Algorithm::EdDSA => EncodingKey::from_ed_pem(pem.as_bytes()).unwrap(),
            _ => EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
        };
        let token = encode(&Header::new(alg), &claims, &enc).unwrap();
        c.bench_function(name, |b| {
            b.iter(|| black_box(verifier.verify_uncached(black_box(&token)).unwrap()))
        });
        c.bench_function(&format!("{name}_cached"), |b| {
            b.iter(|| black_box(verifier.verify(black_box(&token)).unwrap()))
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
