//! End to end: API keys issued with `portcullis keys`, checked by the gateway against the
//! SQLite store; revocation and rotation take effect without a restart.

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;
use portcullis_testkit::{GatewayProcess, RecordingUpstream};

fn keys(gw: &GatewayProcess, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["keys"];
    all.extend_from_slice(args);
    cli_json(gw, &all)
}

fn run_keys(gw: &GatewayProcess, args: &[&str]) -> String {
    let out = Command::new(bin())
        .arg("keys")
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
    String::from_utf8_lossy(&out.stdout).to_string()
}

async fn setup() -> (GatewayProcess, RecordingUpstream) {
    let up = RecordingUpstream::start().await;
    let routes = format!(
        "upstreams:\n  - id: app\n    targets: [\"{}\"]\nroutes:\n  - id: app\n    path: /app/\n    methods: [GET]\n    upstream: app\n    authorize: {{ any_authenticated: true }}\n    auth:\n      api_key: {{}}\n  - id: other\n    path: /other/\n    methods: [GET]\n    upstream: app\n    authorize: {{ any_authenticated: true }}\n    auth:\n      api_key: {{}}\n",
        up.url()
    );
    (start(&config(&routes)), up)
}

async fn call(gw: &GatewayProcess, path: &str, key: Option<&str>) -> reqwest::Response {
    let mut req = client(gw).get(https_url(gw, path));
    if let Some(k) = key {
        req = req.header("x-api-key", k);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn keys_authenticate_and_attacks_get_the_same_401() {
    let (gw, up) = setup().await;
    let issued = keys(
        &gw,
        &["create", "--consumer", "alice", "--scopes", "orders:read"],
    );
    let key = issued["key"].as_str().unwrap().to_string();
    let id = issued["id"].as_str().unwrap().to_string();
    assert!(key.starts_with("pcs_"));

    // Benign: the key works; the upstream sees the identity, not the key.
    let ok = call(&gw, "/app/x", Some(&key)).await;
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.headers()["cache-control"], "no-store");
    let seen = up.requests();
    assert_eq!(seen[0].headers["x-consumer-id"], "alice");
    assert_eq!(seen[0].headers["x-consumer-scopes"], "orders:read");
    assert!(seen[0].headers.get("x-api-key").is_none());

    // Attacks: missing, malformed, a typo (checksum), a spliced key (alice's id with another
    // secret), forged identity headers without a key. Same body shape, same status.
    let mut typo = key.clone().into_bytes();
    let i = 4 + 12 + 3;
    typo[i] = if typo[i] == b'a' { b'b' } else { b'a' };
    let typo = String::from_utf8(typo).unwrap();
    let other = keys(&gw, &["create", "--consumer", "mallory"])["key"]
        .as_str()
        .unwrap()
        .to_string();
    let spliced = format!("{}{}", &key[..17], &other[17..]); // alice's id, mallory's secret+check
    for bad in [
        None,
        Some("nonsense"),
        Some(typo.as_str()),
        Some(spliced.as_str()),
    ] {
        let r = call(&gw, "/app/x", bad).await;
        assert_eq!(r.headers()["www-authenticate"], "ApiKey");
        assert_problem(r, 401, "unauthorized").await;
    }
    let forged = client(&gw)
        .get(https_url(&gw, "/app/x"))
        .header("x-consumer-id", "admin")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    assert_eq!(up.requests().len(), 1, "no attack reached the upstream");

    // The key never appears in the log.
    let lines = gw.lines().join("\n");
    assert!(!lines.contains(&key[20..]), "key secret in the log");
    // `keys list` and `keys show` never print secrets, and show last use.
    let listed = run_keys(&gw, &["list"]);
    assert!(listed.contains(&id) && !listed.contains(&key));
    let shown = keys(&gw, &["show", &id]);
    assert!(shown["last_used_at"].as_i64().is_some(), "{shown}");
    assert!(!shown.to_string().contains(&key));
}

#[tokio::test]
async fn revocation_and_rotation_apply_on_the_next_request() {
    let (gw, _up) = setup().await;
    let a = keys(&gw, &["create", "--consumer", "bob"]);
    let key_a = a["key"].as_str().unwrap().to_string();
    assert_eq!(call(&gw, "/app/x", Some(&key_a)).await.status(), 200);

    // Rotate with a 2 s grace: both work, then only the new one.
    let b = keys(&gw, &["rotate", a["id"].as_str().unwrap(), "--grace", "2s"]);
    let key_b = b["key"].as_str().unwrap().to_string();
    assert_eq!(call(&gw, "/app/x", Some(&key_a)).await.status(), 200);
    assert_eq!(call(&gw, "/app/x", Some(&key_b)).await.status(), 200);
    tokio::time::sleep(Duration::from_millis(3100)).await;
    assert_eq!(call(&gw, "/app/x", Some(&key_a)).await.status(), 401);
    assert_eq!(call(&gw, "/app/x", Some(&key_b)).await.status(), 200);

    // Revoke: refused from the next request on, no restart.
    run_keys(&gw, &["revoke", b["id"].as_str().unwrap()]);
    assert_eq!(call(&gw, "/app/x", Some(&key_b)).await.status(), 401);
}

#[tokio::test]
async fn restrictions_by_route_and_ip() {
    let (gw, _up) = setup().await;
    let scoped = keys(&gw, &["create", "--consumer", "carol", "--routes", "app"])["key"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(call(&gw, "/app/x", Some(&scoped)).await.status(), 200);
    assert_eq!(call(&gw, "/other/x", Some(&scoped)).await.status(), 403);
    let far = keys(
        &gw,
        &["create", "--consumer", "dave", "--allow-ip", "10.0.0.0/8"],
    )["key"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(call(&gw, "/app/x", Some(&far)).await.status(), 403);
    let near = keys(
        &gw,
        &["create", "--consumer", "erin", "--allow-ip", "127.0.0.0/8"],
    )["key"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(call(&gw, "/app/x", Some(&near)).await.status(), 200);
    let expired = keys(&gw, &["create", "--consumer", "frank", "--expires", "1s"])["key"]
        .as_str()
        .unwrap()
        .to_string();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(call(&gw, "/app/x", Some(&expired)).await.status(), 401);
}

#[tokio::test]
async fn keys_in_the_query_only_where_allowed_and_never_forwarded_or_logged() {
    let up = RecordingUpstream::start().await;
    let routes = format!(
        "upstreams:\n  - id: app\n    targets: [\"{}\"]\nroutes:\n  - id: header-only\n    path: /h/\n    methods: [GET]\n    upstream: app\n    authorize: {{ any_authenticated: true }}\n    auth:\n      api_key: {{}}\n  - id: query-ok\n    path: /q/\n    methods: [GET]\n    upstream: app\n    authorize: {{ any_authenticated: true }}\n    auth:\n      api_key: {{ query: api_key }}\n",
        up.url()
    );
    let gw = start(&config(&routes));
    let key = keys(&gw, &["create", "--consumer", "gina"])["key"]
        .as_str()
        .unwrap()
        .to_string();
    let c = client(&gw);
    // Refused in the query where the route does not allow it.
    let r = c
        .get(https_url(&gw, &format!("/h/x?api_key={key}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // Accepted where allowed; removed from what the upstream sees; redacted in the log.
    let r = c
        .get(https_url(&gw, &format!("/q/x?page=2&api_key={key}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let seen = up.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].uri, "/q/x?page=2");
    let line = gw
        .wait_access(|v| v.to_string().contains("query-ok"))
        .expect("access log");
    assert!(line.to_string().contains("api_key=[redacted]"), "{line}");
    for l in gw.lines() {
        assert!(!l.contains(&key[17..]), "key in log: {l}");
    }
}

#[tokio::test]
async fn quota_usage_of_a_consumer_is_shown_by_keys_show() {
    let up = RecordingUpstream::start().await;
    let routes = format!(
        "upstreams:\n  - id: app\n    targets: [\"{}\"]\nroutes:\n  - id: app\n    path: /app/\n    methods: [GET]\n    upstream: app\n    authorize: {{ any_authenticated: true }}\n    auth:\n      api_key: {{}}\n    quotas:\n      - {{ name: daily, per: day, limit: 2, plans: {{ gold: 100 }} }}\n",
        up.url()
    );
    let gw = start(&config(&routes));
    let created = keys(&gw, &["create", "--consumer", "carol"]);
    let key = created["key"].as_str().unwrap().to_string();
    let id = created["id"].as_str().unwrap().to_string();
    for _ in 0..2 {
        assert_eq!(call(&gw, "/app/x", Some(&key)).await.status(), 200);
    }
    let r = call(&gw, "/app/x", Some(&key)).await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    // Counts reach the store within about a second.
    let mut used = None;
    for _ in 0..30 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let shown = keys(&gw, &["show", &id]);
        if let Some(u) = shown["quota_usage"][0]["used"].as_u64() {
            assert_eq!(shown["quota_usage"][0]["quota"], "daily");
            used = Some(u);
            if u == 2 {
                break;
            }
        }
    }
    assert_eq!(used, Some(2), "refused requests are not counted");
}

#[tokio::test]
async fn admin_api_issues_revokes_and_reports_behind_its_own_token() {
    let up = RecordingUpstream::start().await;
    // The token and its SHA-256, as `portcullis admin-token` prints them.
    let out = Command::new(bin()).arg("admin-token").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap()
            .trim()
            .to_string()
    };
    let token = field("token:");
    let hash = field("token_sha256:");
    let routes = format!(
        "admin:\n  address: 127.0.0.1:0\n  token_sha256: {hash}\nupstreams:\n  - id: app\n    targets: [\"{}\"]\nroutes:\n  - id: app\n    path: /app/\n    methods: [GET]\n    upstream: app\n    authorize: {{ any_authenticated: true }}\n    auth:\n      api_key: {{}}\n    quotas:\n      - {{ name: daily, per: day, limit: 100 }}\n",
        up.url()
    );
    // `config()` adds its own admin block: replace it with ours.
    let cfg = config(&routes).replace("admin:\n  address: 127.0.0.1:0\nlogging:", "logging:");
    let gw = start(&cfg);
    let admin = format!("http://{}", gw.addr("admin"));
    let c = plain_client();
    // Without the token, or with a wrong one: 401; health stays open.
    let r = c
        .get(format!("{admin}/admin/v1/history"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = c
        .get(format!("{admin}/admin/v1/history"))
        .bearer_auth("pca_wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        c.get(format!("{admin}/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // Issue a key through the API; it works at once.
    let r = c
        .post(format!("{admin}/admin/v1/consumers/dora/keys"))
        .bearer_auth(&token)
        .body(r#"{"scopes": ["app:read"], "expires_in": "30d"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let created: serde_json::Value = r.json().await.unwrap();
    let key = created["key"].as_str().unwrap().to_string();
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(call(&gw, "/app/x", Some(&key)).await.status(), 200);
    // The consumer view: keys without secrets, quota usage.
    let mut seen = serde_json::Value::Null;
    for _ in 0..30 {
        let r = c
            .get(format!("{admin}/admin/v1/consumers/dora"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        seen = r.json().await.unwrap();
        if seen["quota_usage"][0]["used"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(seen["keys"][0]["id"], id.as_str());
    assert_eq!(seen["quota_usage"][0]["used"], 1, "{seen}");
    assert!(
        !seen.to_string().contains(&key),
        "no secret in the consumer view"
    );
    // Revoke through the API: refused on the next request.
    let r = c
        .post(format!("{admin}/admin/v1/keys/{id}/revoke"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(call(&gw, "/app/x", Some(&key)).await.status(), 401);
    // Every change is in the history, by the admin API.
    let r = c
        .get(format!("{admin}/admin/v1/history?limit=10"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let history: serde_json::Value = r.json().await.unwrap();
    let actions: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor"] == "admin-api")
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(actions.contains(&"api_key.revoke"), "{history}");
    assert!(actions.contains(&"api_key.create"), "{history}");
    // Bad input: a clear 400, nothing changed.
    let r = c
        .post(format!("{admin}/admin/v1/tokens/revoke"))
        .bearer_auth(&token)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // The token never appears in the logs.
    for l in gw.lines() {
        assert!(!l.contains(&token), "admin token in a log line");
        assert!(!l.contains(&key), "API key in a log line");
    }
}
