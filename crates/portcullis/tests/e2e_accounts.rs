//! End to end: built-in accounts created with `portcullis accounts`, HTTP Basic checked by the
//! real gateway against the real SQLite store, the TOTP second factor enrolled with
//! `portcullis keys totp enroll`, and the brute-force lockout across a restart.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use base64::Engine;
use common::*;
use portcullis_testkit::{GatewayProcess, RecordingUpstream};

const ALICE_PW: &str = "violet-Staple-orbit-47";
const BOB_PW: &str = "quench-Marble-tundra-93";

/// Runs `portcullis <args> --config <config>` with `stdin` piped in.
fn cli(config: &Path, args: &[&str], stdin: &str) -> std::process::Output {
    let mut child = Command::new(bin())
        .args(args)
        .arg("--config")
        .arg(config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn cli_ok(config: &Path, args: &[&str], stdin: &str) -> String {
    let out = cli(config, args, stdin);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn create(config: &Path, user: &str, password: &str, extra: &[&str]) {
    let mut args = vec!["accounts", "create", user, "--password-stdin"];
    args.extend_from_slice(extra);
    cli_ok(config, &args, &format!("{password}\n"));
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

/// The `/app/` route with Basic; `basic` is added to the basic block's mapping, `extra` to the
/// file's top level.
fn routes(up: &RecordingUpstream, basic: &str, extra: &str) -> String {
    format!(
        r#"upstreams:
  - id: app
    targets: ["{}"]
routes:
  - id: app
    path: /app/
    methods: [GET]
    upstream: app
    authorize: {{ any_authenticated: true }}
    auth:
      basic: {{ realm: "shop"{basic} }}
{extra}
"#,
        up.url()
    )
}

async fn get(gw: &GatewayProcess, auth: Option<&str>, otp: Option<&str>) -> reqwest::Response {
    let mut req = client(gw).get(https_url(gw, "/app/x"));
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    if let Some(o) = otp {
        req = req.header("x-otp", o);
    }
    req.send().await.unwrap()
}

/// A 401 problem with the Basic challenge; returns the body without its request id, to
/// compare failures with each other.
async fn assert_401(r: reqwest::Response) -> serde_json::Value {
    assert_eq!(
        r.headers()["www-authenticate"],
        "Basic realm=\"shop\", charset=\"UTF-8\""
    );
    assert!(r.headers().get("retry-after").is_none());
    let mut body = assert_problem(r, 401, "unauthorized").await;
    body.as_object_mut().unwrap().remove("request_id");
    body
}

fn base32_decode(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => panic!("not base32: {text}"),
        };
        buffer = (buffer << 5) | u32::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    out
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test]
async fn right_password_passes_and_every_failure_is_the_same_generic_401() {
    let up = RecordingUpstream::start().await;
    let gw = start(&config(&routes(&up, "", "")));
    let cfg = gw.config_path();
    create(
        &cfg,
        "alice",
        ALICE_PW,
        &[
            "--consumer",
            "shop",
            "--roles",
            "admin",
            "--scopes",
            "orders:read",
        ],
    );

    // Benign: the right password reaches the upstream with the identity, not the credentials.
    let ok = get(&gw, Some(&basic("alice", ALICE_PW)), None).await;
    assert_eq!(ok.status(), 200);
    let seen = up.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].headers["x-consumer-id"], "shop");
    assert_eq!(seen[0].headers["x-consumer-roles"], "admin");
    assert_eq!(seen[0].headers["x-consumer-scopes"], "orders:read");
    assert!(seen[0].headers.get("authorization").is_none());
    // Again (served from the verified cache): still 200.
    assert_eq!(
        get(&gw, Some(&basic("alice", ALICE_PW)), None)
            .await
            .status(),
        200
    );

    // Attacks, each the same 401 body: wrong password, unknown user, missing header, another
    // scheme, malformed base64, no colon, forged identity headers.
    let wrong =
        assert_401(get(&gw, Some(&basic("alice", "violet-Staple-orbit-48")), None).await).await;
    let unknown = assert_401(get(&gw, Some(&basic("mallory", ALICE_PW)), None).await).await;
    assert_eq!(wrong, unknown, "unknown user and wrong password look alike");
    for bad in [
        None,
        Some("Bearer abc.def.ghi"),
        Some("Basic !!!not-base64"),
        Some("Basic YWxpY2U="),
    ] {
        assert_eq!(
            assert_401(get(&gw, bad, None).await).await,
            wrong,
            "{bad:?}"
        );
    }
    let forged = client(&gw)
        .get(https_url(&gw, "/app/x"))
        .header("x-consumer-id", "shop")
        .send()
        .await
        .unwrap();
    assert_eq!(assert_401(forged).await, wrong);
    assert_eq!(up.requests().len(), 2, "no attack reached the upstream");

    // A disabled account is refused even with the right password; enabled again, it works.
    cli_ok(&cfg, &["accounts", "disable", "alice"], "");
    assert_eq!(
        assert_401(get(&gw, Some(&basic("alice", ALICE_PW)), None).await).await,
        wrong
    );
    cli_ok(&cfg, &["accounts", "enable", "alice"], "");
    assert_eq!(
        get(&gw, Some(&basic("alice", ALICE_PW)), None)
            .await
            .status(),
        200
    );

    // A new password replaces the old one at once (the cache is bound to the stored hash).
    cli_ok(
        &cfg,
        &["accounts", "passwd", "alice", "--password-stdin"],
        &format!("{BOB_PW}\n"),
    );
    assert_eq!(
        assert_401(get(&gw, Some(&basic("alice", ALICE_PW)), None).await).await,
        wrong
    );
    assert_eq!(
        get(&gw, Some(&basic("alice", BOB_PW)), None).await.status(),
        200
    );

    // Failures are security events; no password is ever logged; `list` shows no hash.
    assert!(
        gw.wait_line("auth_failure", std::time::Duration::from_secs(5)),
        "security event logged"
    );
    let log = gw.lines().join("\n");
    assert!(log.contains("portcullis::security"), "security target");
    for secret in [ALICE_PW, BOB_PW, "violet-Staple-orbit-48"] {
        assert!(!log.contains(secret), "password in the log");
    }
    let listed = cli_ok(&cfg, &["accounts", "list", "--output", "json"], "");
    let rows: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(rows[0]["username"], "alice");
    assert_eq!(rows[0]["consumer"], "shop");
    assert!(!listed.contains("argon2"), "{listed}");
}

#[tokio::test]
async fn totp_codes_are_required_checked_and_usable_once() {
    let up = RecordingUpstream::start().await;
    let keys = tempfile::tempdir().unwrap();
    let key_file = keys.path().join("master.key");
    std::fs::write(&key_file, format!("{}\n", "ab".repeat(32))).unwrap();
    // Every failure below counts towards the lockout: raise the threshold for this test.
    let store = format!(
        "store:\n  master_key_file: {}\nauth_lockout:\n  max_failures: 20\n",
        key_file.display()
    );
    let gw = start(&config(&routes(&up, ", require_totp: true", &store)));
    let cfg = gw.config_path();
    create(&cfg, "carol", ALICE_PW, &["--consumer", "ops"]);

    // Not enrolled yet: no code can succeed.
    assert_401(get(&gw, Some(&basic("carol", ALICE_PW)), Some("123456")).await).await;

    let enrolled: serde_json::Value = serde_json::from_str(&cli_ok(
        &cfg,
        &["keys", "totp", "enroll", "carol", "--output", "json"],
        "",
    ))
    .unwrap();
    let uri = enrolled["uri"].as_str().unwrap();
    assert!(
        uri.starts_with("otpauth://totp/portcullis:carol?secret="),
        "{uri}"
    );
    let seed = base32_decode(enrolled["secret"].as_str().unwrap());
    assert_eq!(seed.len(), 20, "160-bit seed");
    // The text form draws a QR code.
    let text = cli_ok(&cfg, &["keys", "totp", "enroll", "carol"], "");
    assert!(text.contains('▀') || text.contains('▄'), "QR code drawn");
    assert!(text.contains("otpauth://totp/"));
    // Re-enrolled: the second seed is the one that counts.
    let seed = base32_decode(
        text.lines()
            .find(|l| l.starts_with("otpauth://"))
            .unwrap()
            .split("secret=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap(),
    );
    let step = unix_now() / 30;
    let code = portcullis_auth::totp::code_at(&seed, step);
    let wrong_code = portcullis_auth::totp::code_at(&seed, step - 5);

    // Missing and wrong codes: the same 401.
    let missing = assert_401(get(&gw, Some(&basic("carol", ALICE_PW)), None).await).await;
    let wrong =
        assert_401(get(&gw, Some(&basic("carol", ALICE_PW)), Some(&wrong_code)).await).await;
    assert_eq!(missing, wrong);
    // A right code with a wrong password is refused and does not use the code up.
    assert_401(get(&gw, Some(&basic("carol", BOB_PW)), Some(&code)).await).await;
    assert_eq!(up.requests().len(), 0);

    // Benign: password and fresh code.
    assert_eq!(
        get(&gw, Some(&basic("carol", ALICE_PW)), Some(&code))
            .await
            .status(),
        200
    );
    // Replay of the same code: refused.
    assert_eq!(
        assert_401(get(&gw, Some(&basic("carol", ALICE_PW)), Some(&code)).await).await,
        wrong
    );
    // The next step's code (within the ±1 step window) is fresh: accepted once.
    let next = portcullis_auth::totp::code_at(&seed, step + 1);
    assert_eq!(
        get(&gw, Some(&basic("carol", ALICE_PW)), Some(&next))
            .await
            .status(),
        200
    );
    assert_401(get(&gw, Some(&basic("carol", ALICE_PW)), Some(&next)).await).await;
    assert_eq!(up.requests().len(), 2);
    assert!(
        up.requests()[0].headers.get("x-otp").is_none(),
        "code not forwarded"
    );

    let log = gw.lines().join("\n");
    for secret in [
        code.as_str(),
        next.as_str(),
        ALICE_PW,
        enrolled["secret"].as_str().unwrap(),
    ] {
        assert!(!log.contains(&format!("\"{secret}\"")), "secret in the log");
    }
}

#[tokio::test]
async fn lockout_refuses_even_the_right_password_and_survives_a_restart() {
    let up = RecordingUpstream::start().await;
    let state = tempfile::tempdir().unwrap();
    // The route's own thresholds override the (default, laxer) top-level ones.
    let extra = format!(
        "store:\n  path: {}\nauth_lockout:\n  max_failures: 50\n",
        state.path().join("accounts.db").display()
    );
    let text = config(&routes(
        &up,
        ", lockout: { max_failures: 3, max_failures_per_ip: 100, base_lockout: 10m }",
        &extra,
    ));
    let gw = start(&text);
    let cfg = gw.config_path();
    create(&cfg, "dave", ALICE_PW, &["--consumer", "d"]);
    create(&cfg, "erin", BOB_PW, &["--consumer", "e"]);
    assert_eq!(
        get(&gw, Some(&basic("dave", ALICE_PW)), None)
            .await
            .status(),
        200
    );

    // Three wrong passwords: three generic 401s.
    for _ in 0..3 {
        assert_401(get(&gw, Some(&basic("dave", "not-the-password-1")), None).await).await;
    }
    // Locked: the right password is refused with 429 and Retry-After.
    let locked = get(&gw, Some(&basic("dave", ALICE_PW)), None).await;
    let retry: i64 = locked.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=600).contains(&retry), "{retry}");
    assert_problem(locked, 429, "too-many-requests").await;
    // An unknown username locks the same way (no enumeration by lockout).
    for _ in 0..3 {
        assert_401(get(&gw, Some(&basic("nobody", "not-the-password-1")), None).await).await;
    }
    let ghost = get(&gw, Some(&basic("nobody", "not-the-password-1")), None).await;
    assert!(ghost.headers().get("retry-after").is_some());
    assert_problem(ghost, 429, "too-many-requests").await;
    // The benign twin: another account from the same address is not affected.
    assert_eq!(
        get(&gw, Some(&basic("erin", BOB_PW)), None).await.status(),
        200
    );
    assert_eq!(up.requests().len(), 2, "nothing forwarded while locked");
    assert!(gw.wait_line("\"lockout\"", std::time::Duration::from_secs(5)));

    // Restart: the account lock was persisted to the store.
    drop(gw);
    let gw = start(&text);
    let again = get(&gw, Some(&basic("dave", ALICE_PW)), None).await;
    assert!(again.headers().get("retry-after").is_some());
    assert_problem(again, 429, "too-many-requests").await;
    assert_eq!(
        get(&gw, Some(&basic("erin", BOB_PW)), None).await.status(),
        200
    );
    // An operator lifts it.
    cli_ok(&gw.config_path(), &["accounts", "enable", "dave"], "");
    assert_eq!(
        get(&gw, Some(&basic("dave", ALICE_PW)), None)
            .await
            .status(),
        200
    );
    // Without a restart too: locked again, then lifted by the operator at once.
    for _ in 0..3 {
        assert_401(get(&gw, Some(&basic("dave", "not-the-password-1")), None).await).await;
    }
    assert_eq!(
        get(&gw, Some(&basic("dave", ALICE_PW)), None)
            .await
            .status(),
        429
    );
    // `updated_at` has one-second resolution: the unlock must come after the lock second.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    cli_ok(&gw.config_path(), &["accounts", "enable", "dave"], "");
    assert_eq!(
        get(&gw, Some(&basic("dave", ALICE_PW)), None)
            .await
            .status(),
        200
    );
    let listed = cli_ok(&gw.config_path(), &["accounts", "list"], "");
    assert!(
        listed.contains("dave") && listed.contains("erin"),
        "{listed}"
    );
}

#[test]
fn accounts_create_refuses_weak_passwords_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("portcullis.yaml");
    std::fs::write(
        &cfg,
        format!(
            "{}\ndata_dir: {}\n",
            config(ECHO),
            dir.path().join("data").display()
        ),
    )
    .unwrap();
    let args = [
        "accounts",
        "create",
        "frank",
        "--consumer",
        "f",
        "--password-stdin",
    ];
    for (password, message) in [
        (
            "short-Pw1",
            "password too short: 9 characters, at least 12 required",
        ),
        ("passwordpassword", "password too weak"),
        (
            "xx-FRANK-correct-horse-42",
            "password must not contain the username",
        ),
        ("", "no password on standard input"),
    ] {
        let out = cli(&cfg, &args, &format!("{password}\n"));
        assert_eq!(out.status.code(), Some(1), "{password:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(message), "{password:?}: {err}");
        assert!(
            password.is_empty() || !err.contains(password),
            "password echoed"
        );
    }
    // Nothing was created by the refused attempts.
    assert!(!cli_ok(&cfg, &["accounts", "list"], "").contains("frank"));
    // A bad username is refused before any password is read.
    let out = cli(
        &cfg,
        &["accounts", "create", "a:b", "--consumer", "f"],
        "x\n",
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("username must be"));
    // The benign twin: a strong password is accepted, and a duplicate is refused.
    cli_ok(&cfg, &args, "violet-Staple-orbit-47\n");
    let dup = cli(&cfg, &args, "violet-Staple-orbit-47\n");
    assert!(String::from_utf8_lossy(&dup.stderr).contains("already exists"));
    // No password on the command line: clap refuses a positional password.
    let argv = cli(
        &cfg,
        &[
            "accounts",
            "create",
            "gina",
            "--consumer",
            "g",
            "violet-Staple-orbit-47",
        ],
        "",
    );
    assert_eq!(argv.status.code(), Some(2));
}
