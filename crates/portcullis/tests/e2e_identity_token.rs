//! End to end: the gateway mints a short-lived JWT carrying the authenticated caller to the
//! upstream; the upstream verifies it against the JWKS published on the admin listener.
//! Client-supplied copies of the header never reach the upstream.

mod common;

use common::*;
use portcullis_testkit::{GatewayProcess, RecordingUpstream};

async fn setup() -> (GatewayProcess, RecordingUpstream) {
    let up = RecordingUpstream::start().await;
    let routes = format!(
        "upstream_identity_token: {{ audience: orders-api, ttl: 30s }}\nupstreams:\n  - id: app\n    targets: [\"{}\"]\nroutes:\n  - id: orders\n    path: /orders/\n    methods: [GET]\n    upstream: app\n    authorize: {{ any_authenticated: true }}\n    auth:\n      api_key: {{}}\n  - id: eddsa\n    path: /eddsa/\n    methods: [GET]\n    upstream: app\n    authorize: {{ any_authenticated: true }}\n    auth:\n      api_key: {{}}\n    upstream_identity_token: {{ algorithm: EdDSA, audience: billing, ttl: 10s, header: x-caller }}\n  - id: open\n    path: /open/\n    methods: [GET]\n    upstream: app\n    public: true\n",
        up.url()
    );
    (start(&config(&routes)), up)
}

fn api_key(gw: &GatewayProcess, consumer: &str) -> String {
    let v = cli_json(
        gw,
        &[
            "keys",
            "create",
            "--consumer",
            consumer,
            "--scopes",
            "orders:read",
        ],
    );
    v["key"].as_str().unwrap().to_string()
}

/// Verifies `token` the way an upstream would: keys from the admin listener's JWKS only.
async fn verify(
    gw: &GatewayProcess,
    token: &str,
    audience: &str,
) -> Result<serde_json::Value, jsonwebtoken::errors::Error> {
    let url = format!("http://{}/.well-known/jwks.json", gw.addr("admin"));
    let resp = plain_client().get(url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let set: jsonwebtoken::jwk::JwkSet = resp.json().await.unwrap();
    let header = jsonwebtoken::decode_header(token)?;
    let jwk = set
        .find(header.kid.as_deref().unwrap_or_default())
        .expect("kid in the JWKS");
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk)?;
    let mut v = jsonwebtoken::Validation::new(header.alg);
    v.set_audience(&[audience]);
    v.set_issuer(&["portcullis"]);
    v.set_required_spec_claims(&["exp", "iat", "aud", "iss", "sub"]);
    jsonwebtoken::decode::<serde_json::Value>(token, &key, &v).map(|d| d.claims)
}

#[tokio::test]
async fn upstream_receives_a_verifiable_identity_token_and_never_a_forged_one() {
    let (gw, up) = setup().await;
    let key = api_key(&gw, "alice");

    // Authenticated, with a forged token: the upstream gets the gateway's instead.
    let r = client(&gw)
        .get(https_url(&gw, "/orders/1"))
        .header("x-api-key", &key)
        .header("x-portcullis-identity", "forged.token.here")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let seen = up.requests();
    let all: Vec<_> = seen[0]
        .headers
        .get_all("x-portcullis-identity")
        .iter()
        .collect();
    assert_eq!(all.len(), 1, "exactly one token");
    let token = all[0].to_str().unwrap().to_string();
    assert_ne!(token, "forged.token.here");
    let claims = verify(&gw, &token, "orders-api").await.unwrap();
    assert_eq!(claims["sub"], "alice");
    // The token is a bearer credential for the upstream: never in the gateway's log.
    assert!(gw.wait_access(|_| true).is_some());
    assert!(
        !gw.lines().join("\n").contains(&token),
        "identity token logged"
    );
    assert_eq!(claims["scope"], "orders:read");
    assert_eq!(claims["auth_method"], "api_key");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        30
    );
    assert!(claims["jti"].as_str().is_some_and(|j| j.len() >= 22));
    // Attack twins: the wrong audience, a tampered payload.
    assert!(verify(&gw, &token, "billing").await.is_err());
    let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
    parts[1] = parts[1].replacen('e', "f", 1);
    assert!(verify(&gw, &parts.join("."), "orders-api").await.is_err());

    // Per route: EdDSA, another audience and header, on the same JWKS.
    let r = client(&gw)
        .get(https_url(&gw, "/eddsa/1"))
        .header("x-api-key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let token = up.requests()[1].headers["x-caller"]
        .to_str()
        .unwrap()
        .to_string();
    let claims = verify(&gw, &token, "billing").await.unwrap();
    assert_eq!(claims["sub"], "alice");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        10
    );

    // Public route: a client-supplied token is stripped, none is minted.
    let r = client(&gw)
        .get(https_url(&gw, "/open/x"))
        .header("x-portcullis-identity", "forged.token.here")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        up.requests()[2]
            .headers
            .get("x-portcullis-identity")
            .is_none()
    );

    // Unauthenticated with a forged token: refused, nothing forwarded.
    let r = client(&gw)
        .get(https_url(&gw, "/orders/1"))
        .header("x-portcullis-identity", "forged.token.here")
        .send()
        .await
        .unwrap();
    assert_problem(r, 401, "unauthorized").await;
    assert_eq!(up.requests().len(), 3);

    // The generated key is private to the gateway's user.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(gw.dir().join("data/identity-es256.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
