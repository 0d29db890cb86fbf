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

fn tokens_cli(gw: &portcullis_testkit::GatewayProcess, args: &[&str]) {
    let out = std::process::Command::new(bin())
        .arg("tokens")
        .args(args)
        .arg("--config")
        .arg(gw.config_path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn revocation_by_jti_and_subject_cutoff_and_mfa_step_up() {
    let up = RecordingUpstream::start().await;
    let kp = rcgen::KeyPair::generate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("idp.pem");
    std::fs::write(&keys, kp.public_key_pem()).unwrap();
    let routes = format!(
        "upstreams:\n  - id: app\n    targets: [\"{}\"]\nroutes:\n  - id: orders\n    path: /orders/\n    methods: [GET]\n    upstream: app\n    authorize: {{ any_authenticated: true }}\n    auth:\n      jwt:\n        issuer: https://idp.example\n        audiences: [orders-api]\n        keys_file: {k}\n  - id: payments\n    path: /payments/\n    methods: [GET]\n    upstream: app\n    authorize: {{ any_authenticated: true }}\n    auth:\n      jwt:\n        issuer: https://idp.example\n        audiences: [orders-api]\n        keys_file: {k}\n        require_amr: [otp, hwk]\n",
        up.url(),
        k = keys.display()
    );
    let gw = start(&config(&routes));
    let key = EncodingKey::from_ec_pem(kp.serialize_pem().as_bytes()).unwrap();
    let mint = |sub: &str, jti: &str, iat: u64, amr: serde_json::Value| {
        encode(
            &Header::new(Algorithm::ES256),
            &json!({ "iss": "https://idp.example", "aud": "orders-api", "sub": sub, "jti": jti,
                     "iat": iat, "exp": now() + 300, "amr": amr }),
            &key,
        )
        .unwrap()
    };
    let c = client(&gw);
    let get = |path: &str, token: &str| {
        let req = c.get(https_url(&gw, path)).bearer_auth(token);
        async move { req.send().await.unwrap() }
    };
    let t1 = mint("alice", "t-1", now() - 10, json!(["pwd"]));
    let t2 = mint("alice", "t-2", now() - 10, json!(["pwd"]));
    let bob = mint("bob", "t-3", now() - 10, json!(["pwd"]));
    assert_eq!(get("/orders/1", &t1).await.status(), 200);
    // Step-up: genuine token, but no second factor → 401 with RFC 9470's error.
    let r = get("/payments/1", &t1).await;
    assert_eq!(
        r.headers()["www-authenticate"],
        "Bearer error=\"insufficient_user_authentication\""
    );
    assert_problem(r, 401, "unauthorized").await;
    let strong = mint("alice", "t-4", now() - 10, json!(["pwd", "otp"]));
    assert_eq!(get("/payments/1", &strong).await.status(), 200);

    // Revoke one token: refused on the next requests, without a restart; its twin still works.
    tokens_cli(
        &gw,
        &["revoke", "--issuer", "https://idp.example", "--jti", "t-1"],
    );
    let mut refused = false;
    for _ in 0..30 {
        if get("/orders/1", &t1).await.status() == 401 {
            refused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        refused,
        "revoked jti refused: {:?}",
        gw.lines().iter().rev().take(5).collect::<Vec<_>>()
    );
    assert_eq!(get("/orders/1", &t2).await.status(), 200);
    // Subject cut-off: all of alice's tokens issued before now are refused; bob is not
    // affected, and a token issued after the cut-off works.
    tokens_cli(
        &gw,
        &[
            "revoke",
            "--issuer",
            "https://idp.example",
            "--subject",
            "alice",
        ],
    );
    let mut refused = false;
    for _ in 0..30 {
        if get("/orders/1", &t2).await.status() == 401 {
            refused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(refused, "subject cut-off applied");
    assert_eq!(get("/orders/1", &bob).await.status(), 200);
    let fresh = mint("alice", "t-5", now() + 2, json!(["pwd"]));
    assert_eq!(get("/orders/1", &fresh).await.status(), 200);
    assert!(
        gw.wait_access(|v| v.to_string().contains("jwt_subject_revoked"))
            .is_some()
    );
}
