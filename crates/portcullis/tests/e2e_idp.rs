//! End to end: identity providers over the network. The real binary talks HTTPS (verified
//! against the provider's test CA) to a real provider stand-in ([`TestIdp`]): keys from a
//! JWKS URL or OpenID Connect discovery, rotation, rate-limited refresh on unknown `kid`,
//! last good keys kept when the provider fails; opaque tokens checked by introspection
//! (RFC 7662) with caching, and 503 when the provider cannot answer. Tokens never reach the
//! upstream nor a log line.

mod common;

use std::time::Duration;

use common::*;
use portcullis_testkit::{GatewayProcess, JwksMode, RecordingUpstream, TestIdp};
use serde_json::{Value, json};

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn claims(iss: &str) -> Value {
    json!({ "iss": iss, "aud": "orders-api", "sub": "alice", "exp": now() + 300,
            "scope": "orders:read" })
}

/// One JWT route whose keys come from `source` (a YAML line such as `jwks_url: ...`).
fn jwt_config(up: &RecordingUpstream, idp: &TestIdp, issuer: &str, source: &str) -> String {
    config(&format!(
        "upstreams:\n  - id: app\n    targets: [\"{}\"]\nroutes:\n  - id: orders\n    path: /orders/\n    methods: [GET]\n    upstream: app\n    authorize: {{ any_authenticated: true }}\n    auth:\n      jwt:\n        issuer: {issuer}\n        audiences: [orders-api]\n        {source}\n        ca_file: {}\n        jwks_refresh: 5m\n        jwks_min_refresh_interval: 3s\n",
        up.url(),
        idp.ca_file().display()
    ))
}

async fn get(c: &reqwest::Client, gw: &GatewayProcess, token: &str) -> reqwest::Response {
    c.get(https_url(gw, "/orders/1"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn assert_401(r: reqwest::Response) {
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    assert_problem(r, 401, "unauthorized").await;
}

/// No token (nor its signature part, which is what a partial leak would show) in any line
/// the gateway wrote.
fn assert_not_logged(gw: &GatewayProcess, tokens: &[&str]) {
    let lines: Vec<String> = gw.lines().into_iter().chain(gw.stderr_lines()).collect();
    assert!(!lines.is_empty(), "the gateway logged nothing");
    for t in tokens {
        let tail = &t[t.len().saturating_sub(16)..];
        for l in &lines {
            assert!(!l.contains(tail), "token in log: {l}");
        }
    }
}

#[tokio::test]
async fn jwks_url_keys_verify_tokens_and_forged_ones_are_refused() {
    let up = RecordingUpstream::start().await;
    let idp = TestIdp::start().await;
    let gw = start(&jwt_config(
        &up,
        &idp,
        &idp.issuer(),
        &format!("jwks_url: {}", idp.jwks_url()),
    ));
    let c = client(&gw);
    let good = idp.sign(&claims(&idp.issuer()));
    // Benign: a token from the provider is accepted with the fetched keys.
    let r = get(&c, &gw, &good).await;
    assert_eq!(r.status(), 200);
    let seen = up.requests();
    assert_eq!(seen[0].headers["x-consumer-id"], "alice");
    assert_eq!(seen[0].headers["x-authenticated-by"], "jwt");
    assert!(seen[0].headers.get("authorization").is_none());
    assert!(idp.jwks_calls() >= 1);
    assert_eq!(idp.discovery_calls(), 0);

    // Attack: same claims signed by a key the provider never published, same kid.
    let other = TestIdp::start().await;
    let forged = other.sign(&claims(&idp.issuer()));
    assert_401(get(&c, &gw, &forged).await).await;
    assert_eq!(up.requests().len(), 1);
    assert_not_logged(&gw, &[&good, &forged]);
}

#[tokio::test]
async fn plain_http_provider_on_loopback_is_allowed() {
    // Benign: a provider sidecar on loopback over plain HTTP (the only place http:// is
    // accepted; any other http:// URL is a config error, see crates/config/tests).
    let up = RecordingUpstream::start().await;
    let idp = TestIdp::start_plain().await;
    assert!(idp.jwks_url().starts_with("http://127.0.0.1:"));
    let gw = start(&jwt_config(
        &up,
        &idp,
        &idp.issuer(),
        &format!("discovery_url: {}", idp.discovery_url()),
    ));
    let c = client(&gw);
    let good = idp.sign(&claims(&idp.issuer()));
    assert_eq!(get(&c, &gw, &good).await.status(), 200);
    // Attack twin: a token for this issuer signed elsewhere.
    let forged = TestIdp::start_plain().await.sign(&claims(&idp.issuer()));
    assert_401(get(&c, &gw, &forged).await).await;
    assert_eq!(up.requests().len(), 1);
    assert_not_logged(&gw, &[&good, &forged]);
}

#[tokio::test]
async fn discovery_names_the_jwks_and_must_be_for_the_configured_issuer() {
    let up = RecordingUpstream::start().await;
    let idp = TestIdp::start().await;
    let gw = start(&jwt_config(
        &up,
        &idp,
        &idp.issuer(),
        &format!("discovery_url: {}", idp.discovery_url()),
    ));
    let c = client(&gw);
    let good = idp.sign(&claims(&idp.issuer()));
    let r = get(&c, &gw, &good).await;
    assert_eq!(r.status(), 200);
    assert!(idp.discovery_calls() >= 1);
    assert!(idp.jwks_calls() >= 1);
    assert_eq!(up.requests().len(), 1);

    // Attack: a discovery document for another issuer is not used, so tokens claiming the
    // configured issuer, even signed with the provider's keys, are refused.
    let jwks_before = idp.jwks_calls();
    let up2 = RecordingUpstream::start().await;
    let gw2 = start(&jwt_config(
        &up2,
        &idp,
        "https://other-issuer.example",
        &format!("discovery_url: {}", idp.discovery_url()),
    ));
    let c2 = client(&gw2);
    let token = idp.sign(&claims("https://other-issuer.example"));
    assert_401(get(&c2, &gw2, &token).await).await;
    up2.assert_nothing_forwarded().await;
    assert!(
        gw2.stderr_lines()
            .iter()
            .chain(gw2.lines().iter())
            .any(|l| l.contains("discovery document names issuer")),
        "the mismatch is logged"
    );
    assert_eq!(
        idp.jwks_calls(),
        jwks_before,
        "no JWKS fetched for the wrong issuer"
    );
    assert_not_logged(&gw, &[&good]);
    assert_not_logged(&gw2, &[&token]);
}

#[tokio::test]
async fn rotation_is_picked_up_on_unknown_kid_and_a_kid_flood_fetches_once_per_interval() {
    let up = RecordingUpstream::start().await;
    let idp = TestIdp::start().await;
    // The kid flood below is 40 failures from one address: raise the brute-force lockout's
    // per-address threshold so this test sees the JWKS fetch limit, not the lockout.
    let gw = start(&format!(
        "{}auth_lockout:\n  max_failures_per_ip: 1000\n",
        jwt_config(
            &up,
            &idp,
            &idp.issuer(),
            &format!("jwks_url: {}", idp.jwks_url()),
        )
    ));
    let c = client(&gw);
    let old = idp.sign(&claims(&idp.issuer()));
    assert_eq!(get(&c, &gw, &old).await.status(), 200);
    // Past the minimum interval (3s) since the start-up fetch.
    tokio::time::sleep(Duration::from_millis(3100)).await;

    // Benign: the provider rotates; a token under the new kid waits for one refresh.
    let kid = idp.rotate();
    let before = idp.jwks_calls();
    let new = idp.sign(&claims(&idp.issuer()));
    assert!(new.len() > 10 && kid != "k1");
    assert_eq!(get(&c, &gw, &new).await.status(), 200);
    assert_eq!(idp.jwks_calls(), before + 1, "one fetch for the new kid");

    // Attack: a flood of made-up kids within the interval causes no fetch at all.
    let mut flood = Vec::new();
    for n in 0..30 {
        let t = idp.sign_as(&claims(&idp.issuer()), Some(&format!("made-up-{n}")));
        assert_401(get(&c, &gw, &t).await).await;
        flood.push(t);
    }
    assert_eq!(idp.jwks_calls(), before + 1, "the flood fetched keys");
    // After the interval one more unknown kid may fetch once again, and only once.
    tokio::time::sleep(Duration::from_millis(3100)).await;
    for n in 0..10 {
        let t = idp.sign_as(&claims(&idp.issuer()), Some(&format!("later-{n}")));
        assert_401(get(&c, &gw, &t).await).await;
    }
    assert_eq!(idp.jwks_calls(), before + 2);
    assert_eq!(up.requests().len(), 2);
    let all: Vec<&str> = flood
        .iter()
        .map(String::as_str)
        .chain([&*old, &*new])
        .collect();
    assert_not_logged(&gw, &all);
}

#[tokio::test]
async fn last_good_keys_are_kept_when_the_provider_fails_or_sends_garbage() {
    let up = RecordingUpstream::start().await;
    let idp = TestIdp::start().await;
    let gw = start(&config(&format!(
        "upstreams:\n  - id: app\n    targets: [\"{}\"]\nroutes:\n  - id: orders\n    path: /orders/\n    methods: [GET]\n    upstream: app\n    authorize: {{ any_authenticated: true }}\n    auth:\n      jwt:\n        issuer: {}\n        audiences: [orders-api]\n        jwks_url: {}\n        ca_file: {}\n        jwks_refresh: 1s\n        jwks_min_refresh_interval: 1s\n",
        up.url(),
        idp.issuer(),
        idp.jwks_url(),
        idp.ca_file().display()
    )));
    let c = client(&gw);
    let good = idp.sign(&claims(&idp.issuer()));
    assert_eq!(get(&c, &gw, &good).await.status(), 200);

    // Garbage, then errors, then down: periodic refreshes (every second) all fail...
    for mode in [JwksMode::Garbage, JwksMode::Fail] {
        idp.set_jwks(mode);
        let calls = idp.jwks_calls();
        let refreshed = portcullis_testkit::eventually(Duration::from_secs(5), || {
            (idp.jwks_calls() > calls).then_some(())
        })
        .await;
        assert!(refreshed.is_some(), "{mode:?}: no refresh attempted");
        // ... and the keys fetched before still verify (a fresh token: no cached result).
        let mut fresh = claims(&idp.issuer());
        fresh["jti"] = json!(format!("{mode:?}"));
        assert_eq!(
            get(&c, &gw, &idp.sign(&fresh)).await.status(),
            200,
            "{mode:?}"
        );
    }
    idp.set_down(true);
    tokio::time::sleep(Duration::from_millis(2200)).await;
    let mut fresh = claims(&idp.issuer());
    fresh["jti"] = json!("down");
    assert_eq!(get(&c, &gw, &idp.sign(&fresh)).await.status(), 200);
    assert!(
        gw.stderr_lines()
            .iter()
            .chain(gw.lines().iter())
            .any(|l| l.contains("keeping the last good set")),
        "failed refreshes are logged"
    );
    // Attack twin: a token signed by a stranger is still refused while the provider is down.
    let other = TestIdp::start().await;
    let forged = other.sign(&claims(&idp.issuer()));
    assert_401(get(&c, &gw, &forged).await).await;
    assert_eq!(up.requests().len(), 4);
    assert_not_logged(&gw, &[&good, &forged]);
}

/// Two introspection routes on the provider: `/orders/` (default: 503 when the provider
/// cannot answer) and `/strict/` (`on_unavailable: "401"`).
fn introspection_config(up: &RecordingUpstream, idp: &TestIdp, secret: &std::path::Path) -> String {
    let route = |id: &str, path: &str, extra: &str| {
        format!(
            "  - id: {id}\n    path: {path}\n    methods: [GET]\n    upstream: app\n    authorize: {{ any_authenticated: true }}\n    auth:\n      introspection:\n        url: {}\n        client_id: gateway\n        client_secret_file: {}\n        ca_file: {}\n        audiences: [orders-api]\n{extra}",
            idp.introspection_url(),
            secret.display(),
            idp.ca_file().display()
        )
    };
    config(&format!(
        "upstreams:\n  - id: app\n    targets: [\"{}\"]\nroutes:\n{}{}",
        up.url(),
        route("orders", "/orders/", ""),
        route("strict", "/strict/", "        on_unavailable: \"401\"\n"),
    ))
}

fn active(sub: &str) -> Value {
    json!({"active": true, "sub": sub, "scope": "orders:read orders:write",
           "aud": "orders-api", "exp": now() + 300, "client_id": "web"})
}

#[tokio::test]
async fn introspection_active_tokens_pass_inactive_are_refused_and_answers_are_cached() {
    let up = RecordingUpstream::start().await;
    let idp = TestIdp::start().await;
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("client-secret");
    std::fs::write(&secret, "gateway-secret\n").unwrap();
    let gw = start(&introspection_config(&up, &idp, &secret));
    let c = client(&gw);
    let good = "opaque-Good-token-4f1c2d9e8b7a6b5c";
    idp.set_token(good, active("alice"));

    // Benign: active → forwarded with the identity, without the token.
    let r = get(&c, &gw, good).await;
    assert_eq!(r.status(), 200);
    let seen = up.requests();
    assert_eq!(seen[0].headers["x-consumer-id"], "alice");
    assert_eq!(
        seen[0].headers["x-consumer-scopes"],
        "orders:read orders:write"
    );
    assert_eq!(seen[0].headers["x-authenticated-by"], "introspection");
    assert!(seen[0].headers.get("authorization").is_none());
    assert_eq!(idp.introspection_calls(), 1);
    // Cached: the provider is not asked again.
    for _ in 0..5 {
        assert_eq!(get(&c, &gw, good).await.status(), 200);
    }
    assert_eq!(idp.introspection_calls(), 1, "active answer not cached");

    // Attack: an inactive (revoked, unknown) token → the generic 401, nothing forwarded;
    // retries hit the negative cache.
    let revoked = "opaque-Revoked-token-9a8b7c6d5e4f3a2b";
    idp.set_token(revoked, json!({"active": false}));
    for _ in 0..5 {
        assert_401(get(&c, &gw, revoked).await).await;
    }
    assert_eq!(idp.introspection_calls(), 2, "inactive answer not cached");
    // Attack: active, but for another audience.
    let foreign = "opaque-Foreign-token-1a2b3c4d5e6f7a8b";
    let mut answer = active("mallory");
    answer["aud"] = json!("billing-api");
    idp.set_token(foreign, answer);
    assert_401(get(&c, &gw, foreign).await).await;
    assert_eq!(up.requests().len(), 6);
    let line = gw
        .wait_access(|v| v.to_string().contains("introspection_inactive"))
        .expect("log line");
    assert!(
        line.to_string().contains("\"guard\":\"introspection\""),
        "{line}"
    );
    assert_not_logged(&gw, &[good, revoked, foreign]);
}

#[tokio::test]
async fn introspection_provider_unavailable_is_503_or_401_as_configured() {
    let up = RecordingUpstream::start().await;
    let idp = TestIdp::start().await;
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("client-secret");
    std::fs::write(&secret, "gateway-secret\n").unwrap();
    let gw = start(&introspection_config(&up, &idp, &secret));
    let c = client(&gw);
    let token = "opaque-Down-token-0f9e8d7c6b5a4f3e";
    idp.set_token(token, active("alice"));
    let strict = |t: &str| {
        c.get(https_url(&gw, "/strict/1"))
            .bearer_auth(t.to_string())
            .send()
    };

    // Attack on availability: the provider is down → 503 (fail closed), nothing forwarded,
    // and not cached.
    idp.set_down(true);
    let r = get(&c, &gw, token).await;
    assert_problem(r, 503, "service-unavailable").await;
    assert_401(strict(token).await.unwrap()).await;
    up.assert_nothing_forwarded().await;
    // Benign twin: back up → the same token passes at once.
    idp.set_down(false);
    assert_eq!(get(&c, &gw, token).await.status(), 200);

    // The provider refuses the gateway's client credentials: a misconfiguration, not the
    // client's fault → 503 (or 401 where configured), and an error in the log.
    let other = "opaque-Other-token-7e6d5c4b3a2f1e0d";
    idp.set_token(other, active("bob"));
    idp.set_client("gateway", "rotated-secret");
    let calls = idp.introspection_calls();
    assert_problem(get(&c, &gw, other).await, 503, "service-unavailable").await;
    assert_401(strict(other).await.unwrap()).await;
    assert_eq!(idp.introspection_calls(), calls + 2);
    assert!(
        gw.stderr_lines()
            .iter()
            .chain(gw.lines().iter())
            .any(|l| l.contains("refused the gateway's client credentials")),
        "credential refusal is logged"
    );
    // Benign twin: credentials fixed at the provider → accepted.
    idp.set_client("gateway", "gateway-secret");
    assert_eq!(get(&c, &gw, other).await.status(), 200);
    assert_eq!(up.requests().len(), 2);
    assert_not_logged(&gw, &[token, other, "gateway-secret"]);
}

#[tokio::test]
async fn fetched_keys_survive_a_config_reload_while_the_provider_is_down() {
    let up = RecordingUpstream::start().await;
    let idp = TestIdp::start().await;
    let gw = start(&jwt_config(
        &up,
        &idp,
        &idp.issuer(),
        &format!("jwks_url: {}", idp.jwks_url()),
    ));
    let c = client(&gw);
    assert_eq!(
        get(&c, &gw, &idp.sign(&claims(&idp.issuer())))
            .await
            .status(),
        200
    );
    // The provider goes down, then the config changes: the new version starts with the
    // last good keys instead of an empty set.
    idp.set_down(true);
    let base = std::fs::read_to_string(gw.config_path()).unwrap();
    let changed = base.replace(
        "audiences: [orders-api]",
        "audiences: [orders-api, reports-api]",
    );
    assert_ne!(base, changed);
    std::fs::write(gw.config_path(), &changed).unwrap();
    gw.signal("HUP");
    let reloaded = portcullis_testkit::eventually(Duration::from_secs(10), || {
        gw.lines()
            .iter()
            .chain(gw.stderr_lines().iter())
            .any(|l| l.contains("config reloaded"))
            .then_some(())
    })
    .await;
    assert!(reloaded.is_some(), "no reload");
    let mut fresh = claims(&idp.issuer());
    fresh["aud"] = json!("reports-api"); // only the new version accepts this audience
    let token = idp.sign(&fresh);
    assert_eq!(get(&c, &gw, &token).await.status(), 200);
    // Attack twin: still only the provider's keys.
    let forged = TestIdp::start().await.sign(&fresh);
    assert_401(get(&c, &gw, &forged).await).await;
    assert_eq!(up.requests().len(), 2);
    assert_not_logged(&gw, &[&token, &forged]);
}
