//! End to end: JWT bearer tokens verified by the gateway; the identity reaches the upstream in
//! gateway-set headers, the token does not; forged tokens get the generic 401.

mod common;

use common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use portcullis_testkit::RecordingUpstream;
use serde_json::json;

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn bearer_tokens_from_the_configured_issuer_only() {
    let up = RecordingUpstream::start().await;
    let kp = rcgen::KeyPair::generate().unwrap();
    let attacker = rcgen::KeyPair::generate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("idp.pem");
    std::fs::write(&keys, kp.public_key_pem()).unwrap();
    let routes = format!(
        "upstreams:\n  - id: app\n    targets: [\"{}\"]\nroutes:\n  - id: orders\n    path: /orders/\n    methods: [GET]\n    upstream: app\n    authorize: {{ any_authenticated: true }}\n    auth:\n      jwt:\n        issuer: https://idp.example\n        audiences: [orders-api]\n        keys_file: {}\n",
        up.url(),
        keys.display()
    );
    let gw = start(&config(&routes));
    let claims = json!({ "iss": "https://idp.example", "aud": "orders-api", "sub": "alice",
                         "exp": now() + 300, "scope": "orders:read" });
    let good = encode(
        &Header::new(Algorithm::ES256),
        &claims,
        &EncodingKey::from_ec_pem(kp.serialize_pem().as_bytes()).unwrap(),
    )
    .unwrap();
    let forged = encode(
        &Header::new(Algorithm::ES256),
        &claims,
        &EncodingKey::from_ec_pem(attacker.serialize_pem().as_bytes()).unwrap(),
    )
    .unwrap();
    let c = client(&gw);

    let ok = c
        .get(https_url(&gw, "/orders/1"))
        .bearer_auth(&good)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let seen = up.requests();
    assert_eq!(seen[0].headers["x-consumer-id"], "alice");
    assert_eq!(seen[0].headers["x-authenticated-by"], "jwt");
    assert!(
        seen[0].headers.get("authorization").is_none(),
        "the token must not be forwarded"
    );

    for bad in [Some(forged.as_str()), Some("x.y.z"), None] {
        let mut req = c.get(https_url(&gw, "/orders/1"));
        if let Some(t) = bad {
            req = req.bearer_auth(t);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.headers()["www-authenticate"], "Bearer");
        assert_problem(r, 401, "unauthorized").await;
    }
    assert_eq!(up.requests().len(), 1);
    // The access log names the deciding guard, never the token.
    let line = gw
        .wait_access(|v| v.to_string().contains("jwt_bad_signature"))
        .expect("log line");
    assert!(line.to_string().contains("\"guard\":\"jwt\""), "{line}");
    for l in gw.lines() {
        assert!(!l.contains(&good[good.len() - 20..]), "token in log: {l}");
    }
}
