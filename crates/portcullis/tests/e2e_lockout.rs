//! End to end: brute force and credential stuffing against every authentication method.
//! Failures are counted per client address and per real credential (`auth_lockout`); a
//! locked address or credential gets 429 with `Retry-After`, even with a valid credential,
//! while other clients and credentials go on working. Clients on different loopback
//! addresses (127.0.0.x, Linux routes the whole /8) play different attackers.

mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use common::*;
use portcullis_testkit::{GatewayProcess, RecordingUpstream, TestIdp};
use serde_json::{Value, json};

/// Low thresholds and a long first lock, so nothing expires during a test.
const LOCKOUT: &str =
    "auth_lockout:\n  max_failures: 3\n  max_failures_per_ip: 5\n  base_lockout: 10m\n";

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A client connecting from `127.0.0.<last>`.
fn client_from(gw: &GatewayProcess, last: u8) -> reqwest::Client {
    let cert = reqwest::Certificate::from_pem(&gw.dev_cert_pem()).unwrap();
    reqwest::Client::builder()
        .tls_certs_only([cert])
        .no_proxy()
        .resolve("localhost", gw.addr("https"))
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)))
        .build()
        .unwrap()
}

fn create_key(gw: &GatewayProcess, consumer: &str) -> (String, String) {
    let v = cli_json(gw, &["keys", "create", "--consumer", consumer]);
    (
        v["id"].as_str().unwrap().to_string(),
        v["key"].as_str().unwrap().to_string(),
    )
}

/// `key`'s id with another (well-formed, correctly check-summed) secret: what a client
/// guessing the secret of a known key id sends.
fn wrong_secret(key: &str) -> String {
    use portcullis_auth::api_key::{CHECK_LEN, KEY_LEN};
    let other = portcullis_auth::api_key::generate().unwrap();
    let body = format!(
        "{}{}",
        &key[..17],
        &other.key.expose()[17..KEY_LEN - CHECK_LEN]
    );
    // CRC-32 (IEEE) of the body in 6 base62 digits, as `api_key` does.
    let mut crc = !0u32;
    for b in body.bytes() {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    let alphabet = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut v = u64::from(!crc);
    let mut check = [b'0'; CHECK_LEN];
    for d in check.iter_mut().rev() {
        *d = alphabet[(v % 62) as usize];
        v /= 62;
    }
    let spliced = format!("{body}{}", String::from_utf8_lossy(&check));
    assert_eq!(
        portcullis_auth::api_key::parse(&spliced),
        portcullis_auth::api_key::parse(key),
        "same id, valid format"
    );
    spliced
}

async fn api_key_setup() -> (GatewayProcess, RecordingUpstream) {
    let up = RecordingUpstream::start().await;
    let routes = format!(
        "{LOCKOUT}upstreams:\n  - id: app\n    targets: [\"{}\"]\nroutes:\n  - id: app\n    path: /app/\n    methods: [GET]\n    upstream: app\n    authorize: {{ any_authenticated: true }}\n    auth:\n      api_key: {{}}\n",
        up.url()
    );
    (start(&config(&routes)), up)
}

async fn with_key(c: &reqwest::Client, gw: &GatewayProcess, key: &str) -> reqwest::Response {
    c.get(https_url(gw, "/app/x"))
        .header("x-api-key", key)
        .send()
        .await
        .unwrap()
}

/// The problem body without its request id, and the challenge: what a client can compare.
async fn generic(r: reqwest::Response) -> (u16, Option<String>, Value) {
    let status = r.status().as_u16();
    let challenge = r
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string());
    let mut body: Value = r.json().await.unwrap();
    body.as_object_mut().unwrap().remove("request_id");
    (status, challenge, body)
}

async fn assert_locked(r: reqwest::Response) {
    let retry: i64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=600).contains(&retry), "Retry-After {retry}");
    assert_problem(r, 429, "too-many-requests").await;
}

#[tokio::test]
async fn api_key_guessing_locks_the_address_even_for_a_valid_key_and_others_still_work() {
    let (gw, up) = api_key_setup().await;
    let (_, key) = create_key(&gw, "alice");
    let attacker = client_from(&gw, 2);
    // Guesses: garbage and well-formed keys whose ids do not exist.
    for i in 0..5 {
        let guess = if i % 2 == 0 {
            format!("pcs_guess{i}")
        } else {
            portcullis_auth::api_key::generate()
                .unwrap()
                .key
                .expose()
                .clone()
        };
        assert_problem(with_key(&attacker, &gw, &guess).await, 401, "unauthorized").await;
    }
    // Locked: even the valid key is refused from this address, without being checked.
    assert_locked(with_key(&attacker, &gw, &key).await).await;
    up.assert_nothing_forwarded().await;
    // Benign twin: another address with the same key goes through.
    let other = client_from(&gw, 3);
    assert_eq!(with_key(&other, &gw, &key).await.status(), 200);
    assert_eq!(up.requests().len(), 1);
    // The lockout is a security event naming the address, never a key.
    assert!(gw.wait_line("\"lockout\"", Duration::from_secs(5)));
    let event: Value = gw
        .lines()
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["event"] == "lockout")
        .unwrap();
    assert_eq!(event["target"], "portcullis::security");
    assert_eq!(event["level"], "WARN");
    assert_eq!(event["scope"], "ip");
    assert_eq!(event["route"], "app");
    assert_eq!(event["client_ip"], "127.0.0.2");
    assert_eq!(event["method"], "api_key");
    let log = gw.lines().join("\n");
    assert!(!log.contains(&key[20..]), "key secret in the log");
}

#[tokio::test]
async fn a_stuffed_key_is_locked_from_every_address_and_invented_ids_lock_nothing() {
    let (gw, up) = api_key_setup().await;
    let (alice_id, alice) = create_key(&gw, "alice");
    let (_, bob) = create_key(&gw, "bob");
    // Alice's id with other secrets, one guess from each of three addresses (each below its
    // own address threshold).
    for last in 10..13 {
        let r = with_key(&client_from(&gw, last), &gw, &wrong_secret(&alice)).await;
        assert_problem(r, 401, "unauthorized").await;
    }
    // Alice's key is locked everywhere, right secret or not ...
    let fresh = client_from(&gw, 20);
    assert_locked(with_key(&fresh, &gw, &alice).await).await;
    up.assert_nothing_forwarded().await;
    // ... bob's is not, from the same address.
    assert_eq!(with_key(&fresh, &gw, &bob).await.status(), 200);
    assert!(
        gw.wait_line(&alice_id, Duration::from_secs(5)),
        "credential id logged"
    );
    // Invented ids are never tracked as credentials: many of them from many addresses lock
    // no key (and each address stays below its threshold).
    for last in 30..40 {
        let c = client_from(&gw, last);
        for _ in 0..2 {
            let guess = portcullis_auth::api_key::generate().unwrap();
            with_key(&c, &gw, guess.key.expose()).await;
        }
        assert_eq!(with_key(&c, &gw, &bob).await.status(), 200);
    }
}

#[tokio::test]
async fn unknown_key_and_wrong_secret_get_the_identical_generic_401() {
    let (gw, up) = api_key_setup().await;
    let (_, key) = create_key(&gw, "alice");
    let unknown = portcullis_auth::api_key::generate().unwrap();
    let wrong_secret = wrong_secret(&key);
    let a = generic(with_key(&client_from(&gw, 2), &gw, unknown.key.expose()).await).await;
    let b = generic(with_key(&client_from(&gw, 3), &gw, &wrong_secret).await).await;
    let c = generic(with_key(&client_from(&gw, 4), &gw, "garbage").await).await;
    assert_eq!(a.0, 401);
    assert_eq!(a, b, "unknown key id vs wrong secret");
    assert_eq!(a, c, "unknown key id vs malformed");
    up.assert_nothing_forwarded().await;
}

#[tokio::test]
async fn garbage_jwts_count_per_address() {
    let up = RecordingUpstream::start().await;
    let idp = TestIdp::start().await;
    let gw = start(&config(&format!(
        "{LOCKOUT}upstreams:\n  - id: app\n    targets: [\"{}\"]\nroutes:\n  - id: orders\n    path: /orders/\n    methods: [GET]\n    upstream: app\n    authorize: {{ any_authenticated: true }}\n    auth:\n      jwt:\n        issuer: {}\n        audiences: [orders-api]\n        jwks_url: {}\n        ca_file: {}\n",
        up.url(),
        idp.issuer(),
        idp.jwks_url(),
        idp.ca_file().display()
    )));
    let good = idp.sign(
        &json!({ "iss": idp.issuer(), "aud": "orders-api", "sub": "alice",
                                 "exp": now() + 300 }),
    );
    let get = |c: reqwest::Client, token: String| {
        let url = https_url(&gw, "/orders/1");
        async move { c.get(url).bearer_auth(token).send().await.unwrap() }
    };
    let attacker = client_from(&gw, 2);
    for i in 0..5 {
        let r = get(attacker.clone(), format!("garbage.token.{i}")).await;
        assert_problem(r, 401, "unauthorized").await;
    }
    assert_locked(get(attacker, good.clone()).await).await;
    up.assert_nothing_forwarded().await;
    // Benign twin: the same token from another address.
    assert_eq!(get(client_from(&gw, 3), good).await.status(), 200);
}

#[tokio::test]
async fn an_identity_provider_outage_does_not_count() {
    let up = RecordingUpstream::start().await;
    let idp = TestIdp::start().await;
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("client-secret");
    std::fs::write(&secret, "gateway-secret\n").unwrap();
    let route = |id: &str, path: &str, extra: &str| {
        format!(
            "  - id: {id}\n    path: {path}\n    methods: [GET]\n    upstream: app\n    authorize: {{ any_authenticated: true }}\n    auth:\n      introspection:\n        url: {}\n        client_id: gateway\n        client_secret_file: {}\n        ca_file: {}\n        audiences: [orders-api]\n{extra}",
            idp.introspection_url(),
            secret.display(),
            idp.ca_file().display()
        )
    };
    let gw = start(&config(&format!(
        "{LOCKOUT}upstreams:\n  - id: app\n    targets: [\"{}\"]\nroutes:\n{}{}",
        up.url(),
        route("orders", "/orders/", ""),
        route("strict", "/strict/", "        on_unavailable: \"401\"\n"),
    )));
    let token = "opaque-Outage-token-0f9e8d7c6b5a4f3e";
    idp.set_token(
        token,
        json!({"active": true, "sub": "alice", "aud": "orders-api", "exp": now() + 300}),
    );
    let c = client_from(&gw, 2);
    let get = |path: &'static str| {
        let req = c.get(https_url(&gw, path)).bearer_auth(token);
        async move { req.send().await.unwrap() }
    };
    // The provider is down: 503 (or 401 where configured), many times over the threshold.
    idp.set_down(true);
    for _ in 0..8 {
        assert_problem(get("/orders/1").await, 503, "service-unavailable").await;
        assert_problem(get("/strict/1").await, 401, "unauthorized").await;
    }
    up.assert_nothing_forwarded().await;
    // Back up: the same client is not locked.
    idp.set_down(false);
    assert_eq!(get("/orders/1").await.status(), 200);
    assert_eq!(get("/strict/1").await.status(), 200);
    // Twin: real failures from this address do count.
    for i in 0..5 {
        idp.set_token(
            &format!("opaque-Inactive-token-{i}-9a8b7c6d5e4f"),
            json!({"active": false}),
        );
        let r = c
            .get(https_url(&gw, "/orders/1"))
            .bearer_auth(format!("opaque-Inactive-token-{i}-9a8b7c6d5e4f"))
            .send()
            .await
            .unwrap();
        assert_problem(r, 401, "unauthorized").await;
    }
    assert_locked(get("/orders/1").await).await;
}
