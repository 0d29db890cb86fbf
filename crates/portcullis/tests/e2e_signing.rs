//! End to end: HMAC request signing (docs/request-signing.md) with keys issued by
//! `portcullis keys create --kind hmac`, against the real binary, over real TLS, to a real
//! recording upstream. Each attack sits next to its benign twin and must not reach the
//! upstream.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::*;
use portcullis_auth::signing;
use portcullis_testkit::{GatewayProcess, RecordingUpstream};

struct Setup {
    gw: GatewayProcess,
    up: RecordingUpstream,
    _keys: tempfile::TempDir,
}

async fn setup() -> Setup {
    let up = RecordingUpstream::start().await;
    let keys = tempfile::tempdir().unwrap();
    let master = keys.path().join("master.key");
    std::fs::write(
        &master,
        portcullis_auth::sealed::MasterKey::generate_hex().unwrap(),
    )
    .unwrap();
    let routes = format!(
        "store:\n  master_key_file: {}\nupstreams:\n  - id: app\n    targets: [\"{}\"]\nroutes:\n  - id: orders\n    path: /orders/\n    methods: [GET, POST]\n    upstream: app\n    authorize: {{ any_authenticated: true }}\n    auth:\n      hmac: {{ max_skew: 300s }}\n",
        master.display(),
        up.url()
    );
    Setup {
        gw: start(&config(&routes)),
        up,
        _keys: keys,
    }
}

fn cli(gw: &GatewayProcess, args: &[&str]) -> std::process::Output {
    Command::new(bin())
        .args(args)
        .arg("--config")
        .arg(gw.config_path())
        .output()
        .unwrap()
}

/// Issues a signing key; returns its id and a file holding its secret.
fn issue(gw: &GatewayProcess, consumer: &str) -> (String, String, PathBuf) {
    let out = cli(
        gw,
        &[
            "keys",
            "create",
            "--consumer",
            consumer,
            "--kind",
            "hmac",
            "--output",
            "json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["kind"], "hmac");
    let id = v["id"].as_str().unwrap().to_string();
    let secret = v["secret"].as_str().unwrap().to_string();
    let file = gw.dir().join(format!("{id}.secret"));
    std::fs::write(&file, format!("{secret}\n")).unwrap();
    (id, secret, file)
}

fn now() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

/// The `Authorization` value for a POST of `signed_body` to `path` at `ts` with `nonce`.
fn authorization(
    gw: &GatewayProcess,
    id: &str,
    secret: &str,
    path: &str,
    signed_body: &[u8],
    ts: i64,
    nonce: &str,
) -> String {
    let uri: http::Uri = https_url(gw, path).parse().unwrap();
    let mut headers = http::HeaderMap::new();
    headers.insert("host", uri.authority().unwrap().as_str().parse().unwrap());
    headers.insert("content-type", "application/json".parse().unwrap());
    signing::sign(
        secret.as_bytes(),
        id,
        "POST",
        &uri,
        &headers,
        &["content-type".into(), "host".into()],
        signed_body,
        ts,
        nonce,
    )
    .unwrap()
    .to_header()
}

async fn post(
    gw: &GatewayProcess,
    path: &str,
    auth: Option<&str>,
    content_type: &str,
    body: &'static [u8],
) -> reqwest::Response {
    let mut req = client(gw)
        .post(https_url(gw, path))
        .header("content-type", content_type)
        .body(body);
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    req.send().await.unwrap()
}

const BODY: &[u8] = br#"{"qty":1}"#;

#[tokio::test]
async fn signed_requests_pass_and_every_attack_gets_the_same_401() {
    let Setup { gw, up, _keys } = setup().await;
    let (id, secret, _) = issue(&gw, "alice");
    let path = "/orders/42?b=2&a=1";

    // Benign: a signed request reaches the upstream as alice, without the signature.
    let auth = authorization(
        &gw,
        &id,
        &secret,
        path,
        BODY,
        now(),
        &signing::new_nonce().unwrap(),
    );
    let ok = post(&gw, path, Some(&auth), "application/json", BODY).await;
    assert_eq!(ok.status(), 200);
    let seen = up.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].headers["x-consumer-id"], "alice");
    assert!(seen[0].headers.get("authorization").is_none());
    assert_eq!(&seen[0].body[..], BODY);

    // Replay: the identical request again.
    let r = post(&gw, path, Some(&auth), "application/json", BODY).await;
    assert_eq!(r.headers()["www-authenticate"], "PCS1-HMAC-SHA256");
    assert_problem(r, 401, "unauthorized").await;

    // Timestamp: 200 s old passes (benign twin), 301 s old and 301 s ahead do not.
    let fresh = |ts| {
        authorization(
            &gw,
            &id,
            &secret,
            path,
            BODY,
            ts,
            &signing::new_nonce().unwrap(),
        )
    };
    let ok = post(
        &gw,
        path,
        Some(&fresh(now() - 200)),
        "application/json",
        BODY,
    )
    .await;
    assert_eq!(ok.status(), 200);
    for ts in [now() - 301, now() + 301] {
        let r = post(&gw, path, Some(&fresh(ts)), "application/json", BODY).await;
        assert_problem(r, 401, "unauthorized").await;
    }

    // Body: signed {"qty":1}, sent {"qty":9}.
    let r = post(
        &gw,
        path,
        Some(&fresh(now())),
        "application/json",
        br#"{"qty":9}"#,
    )
    .await;
    assert_problem(r, 401, "unauthorized").await;
    // Signed header changed: content-type.
    let r = post(&gw, path, Some(&fresh(now())), "application/xml", BODY).await;
    assert_problem(r, 401, "unauthorized").await;
    // Query changed (a parameter added); reordered is fine (benign twin).
    let r = post(
        &gw,
        "/orders/42?b=2&a=1&admin=1",
        Some(&fresh(now())),
        "application/json",
        BODY,
    )
    .await;
    assert_problem(r, 401, "unauthorized").await;
    let ok = post(
        &gw,
        "/orders/42?a=1&b=2",
        Some(&fresh(now())),
        "application/json",
        BODY,
    )
    .await;
    assert_eq!(ok.status(), 200);
    // Wrong secret, no signature at all.
    let forged = authorization(
        &gw,
        &id,
        "not-the-secret",
        path,
        BODY,
        now(),
        &signing::new_nonce().unwrap(),
    );
    for bad in [Some(forged.as_str()), None] {
        let r = post(&gw, path, bad, "application/json", BODY).await;
        assert_problem(r, 401, "unauthorized").await;
    }
    assert_eq!(up.requests().len(), 3, "no attack reached the upstream");

    // The secret is never logged.
    let lines = gw.lines().join("\n") + &gw.stderr_lines().join("\n");
    assert!(!lines.contains(&secret), "secret in the log");
    // Each attack was refused for its own reason (only in the log, never to the client).
    for reason in [
        "hmac_replayed",
        "hmac_timestamp_outside_window",
        "hmac_body_mismatch",
        "hmac_bad_signature",
        "hmac_missing",
    ] {
        assert!(
            gw.wait_line(reason, std::time::Duration::from_secs(5)),
            "{reason} not logged"
        );
    }
}

#[tokio::test]
async fn rotated_and_revoked_signing_keys_are_refused_on_the_next_request() {
    let Setup { gw, up, _keys } = setup().await;
    let (id, secret, _) = issue(&gw, "bob");
    let path = "/orders/1";
    let sign_now = |id: &str, secret: &str| {
        authorization(
            &gw,
            id,
            secret,
            path,
            BODY,
            now(),
            &signing::new_nonce().unwrap(),
        )
    };
    assert_eq!(
        post(
            &gw,
            path,
            Some(&sign_now(&id, &secret)),
            "application/json",
            BODY
        )
        .await
        .status(),
        200
    );

    // Rotate without grace: the successor is a signing key too; the old one is refused.
    let out = cli(
        &gw,
        &["keys", "rotate", &id, "--grace", "0s", "--output", "json"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let next: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(next["kind"], "hmac");
    let (id2, secret2) = (
        next["id"].as_str().unwrap().to_string(),
        next["secret"].as_str().unwrap().to_string(),
    );
    let r = post(
        &gw,
        path,
        Some(&sign_now(&id, &secret)),
        "application/json",
        BODY,
    )
    .await;
    assert_problem(r, 401, "unauthorized").await;
    assert_eq!(
        post(
            &gw,
            path,
            Some(&sign_now(&id2, &secret2)),
            "application/json",
            BODY
        )
        .await
        .status(),
        200
    );

    // Revoke: refused from the next request on, no restart.
    let out = cli(&gw, &["keys", "revoke", &id2]);
    assert!(out.status.success());
    let r = post(
        &gw,
        path,
        Some(&sign_now(&id2, &secret2)),
        "application/json",
        BODY,
    )
    .await;
    assert_problem(r, 401, "unauthorized").await;
    assert_eq!(up.requests().len(), 2);
    for reason in ["api_key_expired", "api_key_revoked"] {
        assert!(
            gw.wait_line(reason, std::time::Duration::from_secs(5)),
            "{reason} not logged"
        );
    }

    // Listed as signing keys, never with a secret.
    let listed = cli(&gw, &["keys", "list"]);
    let text = String::from_utf8(listed.stdout).unwrap();
    assert!(text.contains("KIND") && text.contains("hmac"), "{text}");
    assert!(!text.contains(&secret) && !text.contains(&secret2));
    // A signing key's id is no API key: as x-api-key, the `pcs_` form with it is refused.
    let fake = format!("pcs_{id2}_{secret2}AAAAAA");
    let r = client(&gw)
        .post(https_url(&gw, path))
        .header("x-api-key", fake)
        .body(BODY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn portcullis_sign_output_makes_a_request_that_passes_once() {
    let Setup { gw, up, _keys } = setup().await;
    let (id, _secret, file) = issue(&gw, "carol");
    let url = https_url(&gw, "/orders/7?z=1&a=2");
    let sign = |extra: &[&str]| {
        let out = Command::new(bin())
            .args(["sign", "--key-id", &id, "--secret-file"])
            .arg(&file)
            .args([
                "-H",
                "content-type: application/json",
                "--data",
                r#"{"qty":1}"#,
            ])
            .args(extra)
            .arg(&url)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let printed = sign(&[]);
    let auth = printed
        .trim()
        .strip_prefix("Authorization: ")
        .unwrap_or_else(|| panic!("{printed}"))
        .to_string();
    let ok = post(
        &gw,
        "/orders/7?z=1&a=2",
        Some(&auth),
        "application/json",
        BODY,
    )
    .await;
    assert_eq!(ok.status(), 200);
    assert_eq!(up.requests()[0].headers["x-consumer-id"], "carol");
    // Its replay is refused.
    let r = post(
        &gw,
        "/orders/7?z=1&a=2",
        Some(&auth),
        "application/json",
        BODY,
    )
    .await;
    assert_problem(r, 401, "unauthorized").await;
    // --curl prints a command carrying the same kind of header and the body.
    let curl = sign(&["--curl"]);
    assert!(curl.starts_with("curl -X POST -H 'content-type: application/json' -H 'Authorization: PCS1-HMAC-SHA256 KeyId="), "{curl}");
    assert!(curl.contains(r#"--data-binary '{"qty":1}'"#), "{curl}");
    assert_eq!(up.requests().len(), 1);
}

#[test]
fn portcullis_sign_reproduces_the_documented_worked_example() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secret");
    std::fs::write(&file, "ExampleSecretDoNotUse0123456789abcdefghijkl\n").unwrap();
    let out = Command::new(bin())
        .args(["sign", "--key-id", "a1B2c3D4e5F6", "--secret-file"])
        .arg(&file)
        .args([
            "-H",
            "Content-Type: application/json",
            "-d",
            r#"{"qty":1}"#,
            "--timestamp",
            "1767225600",
            "--nonce",
            "AAECAwQFBgcICQoLDA0ODw",
            "https://api.example.com/orders/42%7e?b=2&a=1&a=%2f",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        "Authorization: PCS1-HMAC-SHA256 KeyId=a1B2c3D4e5F6, SignedHeaders=content-type;host, Timestamp=1767225600, Nonce=AAECAwQFBgcICQoLDA0ODw, BodySha256=92438ddd4266b3271fcebff491a7db7f0995332bade824c704f83596b7f36f74, Signature=e30c8cc899254fb23d104dfea0ff5b6845e7d5d2353d3ca292c494d6640991cb"
    );
}

#[tokio::test]
async fn host_is_signed_over_http1_and_http2_alike() {
    let Setup { gw, up, _keys } = setup().await;
    let (id, secret, _) = issue(&gw, "dave");
    let path = "/orders/5";
    let cert = reqwest::Certificate::from_pem(&gw.dev_cert_pem()).unwrap();
    let h1 = reqwest::Client::builder()
        .tls_certs_only([cert])
        .no_proxy()
        .http1_only()
        .build()
        .unwrap();
    for (c, version) in [
        (h1, reqwest::Version::HTTP_11),
        (client(&gw), reqwest::Version::HTTP_2),
    ] {
        let auth = authorization(
            &gw,
            &id,
            &secret,
            path,
            BODY,
            now(),
            &signing::new_nonce().unwrap(),
        );
        let send = |host: Option<&str>| {
            let mut req = c
                .post(https_url(&gw, path))
                .header("content-type", "application/json")
                .header("authorization", &auth)
                .body(BODY);
            if let Some(h) = host {
                req = req.header("host", h);
            }
            req.send()
        };
        // Attack first (so the nonce is unused): another Host than the one signed.
        if version == reqwest::Version::HTTP_11 {
            let r = send(Some("evil.example")).await.unwrap();
            assert_problem(r, 401, "unauthorized").await;
        }
        let r = send(None).await.unwrap();
        assert_eq!(r.version(), version);
        assert_eq!(r.status(), 200, "{version:?}");
    }
    assert_eq!(up.requests().len(), 2);
}
