//! End to end: TLS versions, access log hygiene, admin endpoints, hot reload, graceful
//! shutdown, connection caps, and `portcullis check`.

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;
use portcullis_testkit::{RecordingUpstream, eventually};

#[tokio::test]
async fn tls_12_and_13_are_accepted() {
    let gw = start(&config(ECHO));
    for versions in [
        &[&rustls::version::TLS12][..],
        &[&rustls::version::TLS13][..],
    ] {
        let cfg = portcullis_testkit::tls::client_config(
            &gw.dev_cert_pem(),
            &[b"http/1.1"],
            Some(versions),
        );
        let (raw, _) = portcullis_testkit::raw::send_tls(
            gw.addr("https"),
            cfg,
            b"GET /echo/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
            Duration::from_secs(3),
        )
        .await;
        assert_eq!(
            portcullis_testkit::raw::statuses(&raw),
            vec![200],
            "{versions:?}"
        );
    }
}

#[tokio::test]
async fn tls_11_only_client_is_refused() {
    let gw = start(&config(ECHO));
    let addr = gw.addr("https");
    // A hand-written TLS 1.1 ClientHello (legacy_version 0x0302, no supported_versions).
    let hello = tls11_client_hello();
    let (answer, _) = portcullis_testkit::raw::send(addr, &hello, Duration::from_secs(3)).await;
    // Either an alert record (content type 21) or a closed connection; never a ServerHello (22).
    assert_ne!(
        answer.first(),
        Some(&22u8),
        "server answered a TLS 1.1 hello with a handshake"
    );
    if let Some(first) = answer.first() {
        assert_eq!(*first, 21u8, "expected an alert");
    }
    // And with the openssl CLI when it is installed.
    if std::path::Path::new("/usr/bin/openssl").exists() {
        let out = Command::new("openssl")
            .args([
                "s_client",
                "-connect",
                &addr.to_string(),
                "-tls1_1",
                "-cipher",
                "DEFAULT@SECLEVEL=0",
            ])
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success(),
            "openssl connected with TLS 1.1: {text}"
        );
        // openssl echoes the version it offered; no cipher was agreed and an alert came back.
        assert!(text.contains("Cipher is (NONE)"), "{text}");
        assert!(text.contains("alert"), "{text}");
    }
}

/// TLS 1.1 ClientHello offering ECDHE-RSA-AES128-SHA and AES128-SHA only.
fn tls11_client_hello() -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&[0x03, 0x02]); // client_version TLS 1.1
    body.extend_from_slice(&[0x11; 32]); // random
    body.push(0); // session id
    body.extend_from_slice(&[0x00, 0x04, 0xc0, 0x13, 0x00, 0x2f]); // cipher suites
    body.extend_from_slice(&[0x01, 0x00]); // compression: null
    let ext: Vec<u8> = vec![
        0x00, 0x0a, 0x00, 0x04, 0x00, 0x02, 0x00, 0x17, // supported_groups: secp256r1
        0x00, 0x0b, 0x00, 0x02, 0x01, 0x00, // ec_point_formats
    ];
    body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    body.extend_from_slice(&ext);
    let mut hs = vec![0x01];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    let mut rec = vec![0x16, 0x03, 0x01];
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}

#[tokio::test]
async fn access_log_has_the_fields_and_never_the_credentials() {
    let gw = start(&config(ECHO));
    let resp = client(&gw)
        .get(https_url(&gw, "/echo/a?token=abc123secret&page=2"))
        .header("authorization", "Bearer sk_live_supersecretvalue")
        .header("cookie", "session=cookiesecretvalue")
        .header("x-api-key", "apikeysecretvalue")
        .header("user-agent", "e2e-test")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let rid = resp.headers()["x-request-id"].to_str().unwrap().to_string();
    let line = gw
        .wait_access(|v| v.to_string().contains(&rid))
        .unwrap_or_else(|| panic!("no access log line; stdout: {:?}", gw.lines()));
    let text = line.to_string();
    for field in [
        "request_id",
        "client_ip",
        "method",
        "route",
        "path",
        "status",
        "bytes_out",
        "duration_ms",
        "verdict",
    ] {
        assert!(
            text.contains(&format!("\"{field}\"")),
            "missing {field}: {text}"
        );
    }
    assert!(text.contains("\"route\":\"echo\""), "{text}");
    assert!(text.contains("token=[redacted]"), "{text}");
    for secret in [
        "sk_live_supersecretvalue",
        "cookiesecretvalue",
        "apikeysecretvalue",
        "abc123secret",
    ] {
        for l in gw.lines() {
            assert!(!l.contains(secret), "secret `{secret}` in log line: {l}");
        }
    }
}

#[tokio::test]
async fn denied_requests_are_logged_with_the_deciding_guard() {
    let gw = start(&config(
        &(ECHO.to_string()
            + "  - id: internal\n    path: /internal/\n    methods: [GET]\n    upstream: echo\n    public: true\n    ip_policy:\n      allow: [10.0.0.0/8]\n"),
    ));
    let resp = client(&gw)
        .get(https_url(&gw, "/internal/"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let line = gw
        .wait_access(|v| v.to_string().contains("\"status\":403"))
        .expect("log line");
    let text = line.to_string();
    assert!(text.contains("ip_policy"), "{text}");
    assert!(text.contains("\"deny\""), "{text}");
}

#[tokio::test]
async fn admin_health_readiness_and_metrics() {
    let gw = start(&config(ECHO));
    let c = plain_client();
    let admin = gw.addr("admin");
    client(&gw)
        .get(https_url(&gw, "/echo/m"))
        .send()
        .await
        .unwrap();
    client(&gw)
        .get(https_url(&gw, "/nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        c.get(format!("http://{admin}/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        c.get(format!("http://{admin}/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let metrics = c
        .get(format!("http://{admin}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("portcullis_requests_total"), "{metrics}");
    assert!(metrics.contains("route=\"echo\""), "{metrics}");
    assert!(
        metrics.contains("portcullis_request_duration_seconds"),
        "{metrics}"
    );
    assert!(metrics.contains("status=\"404\""), "{metrics}");
}

#[tokio::test]
async fn reload_applies_valid_configs_and_refuses_invalid_ones() {
    let gw = start(&config(ECHO));
    let c = client(&gw);
    assert_eq!(
        c.get(https_url(&gw, "/new/x"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    // Valid change through the file watcher: a new route appears.
    let base = std::fs::read_to_string(gw.config_path()).unwrap();
    let with_new = base.replace(
        "routes:\n",
        "routes:\n  - id: new\n    path: /new/\n    methods: [GET]\n    upstream: echo\n    public: true\n",
    );
    std::fs::write(gw.config_path(), &with_new).unwrap();
    let served = eventually(Duration::from_secs(10), || {
        gw.lines()
            .iter()
            .any(|l| l.contains("config reloaded"))
            .then_some(())
    })
    .await;
    assert!(served.is_some(), "no reload: {:?}", gw.lines());
    assert_eq!(
        c.get(https_url(&gw, "/new/x"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // Invalid change (unknown upstream) via SIGHUP: refused, the old config keeps serving.
    let broken = with_new.replace(
        "upstream: echo\n    public: true\n  - id: echo",
        "upstream: nowhere\n    public: true\n  - id: echo",
    );
    assert_ne!(broken, with_new);
    std::fs::write(gw.config_path(), &broken).unwrap();
    gw.signal("HUP");
    let refused = eventually(Duration::from_secs(10), || {
        gw.lines()
            .iter()
            .any(|l| l.contains("config reload refused"))
            .then_some(())
    })
    .await;
    assert!(refused.is_some(), "no refusal: {:?}", gw.lines());
    assert_eq!(
        c.get(https_url(&gw, "/new/x"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        c.get(https_url(&gw, "/echo/x"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn in_flight_requests_finish_on_the_config_they_started_with() {
    let slow = RecordingUpstream::with(|_| {
        std::thread::sleep(Duration::from_millis(1500));
        http::Response::new(http_body_util::Full::new(bytes::Bytes::from_static(
            b"old route",
        )))
    })
    .await;
    let cfg = config(&format!(
        "upstreams:\n  - id: slow\n    targets: [\"{}\"]\n  - id: echo\n    kind: echo\nroutes:\n  - id: slow\n    path: /slow/\n    methods: [GET]\n    upstream: slow\n    public: true\n",
        slow.url()
    ));
    let gw = start(&cfg);
    let c = client(&gw);
    let url = https_url(&gw, "/slow/x");
    let c2 = c.clone();
    let inflight = tokio::spawn(async move {
        let r = c2.get(url).send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Remove the route while the request is at the upstream.
    let base = std::fs::read_to_string(gw.config_path()).unwrap();
    let without = base.replace("  - id: slow\n    path: /slow/\n    methods: [GET]\n    upstream: slow\n    public: true\n", "  - id: other\n    path: /other/\n    methods: [GET]\n    upstream: echo\n    public: true\n");
    assert_ne!(base, without);
    std::fs::write(gw.config_path(), without).unwrap();
    gw.signal("HUP");
    let reloaded = eventually(Duration::from_secs(10), || {
        gw.lines()
            .iter()
            .any(|l| l.contains("config reloaded"))
            .then_some(())
    })
    .await;
    assert!(reloaded.is_some(), "{:?}", gw.lines());
    assert_eq!(
        c.get(https_url(&gw, "/slow/y"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let (status, body) = inflight.await.unwrap();
    assert_eq!((status, body.as_str()), (200, "old route"));
}

#[tokio::test]
async fn sigterm_drains_in_flight_requests() {
    let slow = RecordingUpstream::with(|_| {
        std::thread::sleep(Duration::from_millis(1500));
        http::Response::new(http_body_util::Full::new(bytes::Bytes::from_static(
            b"done",
        )))
    })
    .await;
    let cfg = config(&format!(
        "upstreams:\n  - id: slow\n    targets: [\"{}\"]\nroutes:\n  - id: slow\n    path: /slow/\n    methods: [GET]\n    upstream: slow\n    public: true\n",
        slow.url()
    ));
    let mut gw = start(&cfg);
    let c = client(&gw);
    let url = https_url(&gw, "/slow/x");
    let inflight =
        tokio::spawn(async move { c.get(url).send().await.map(|r| r.status().as_u16()) });
    let arrived = eventually(Duration::from_secs(5), || {
        (!slow.requests().is_empty()).then_some(())
    })
    .await;
    // The request is at the upstream (recorded after its response is built) or on its way.
    let _ = arrived;
    tokio::time::sleep(Duration::from_millis(200)).await;
    gw.signal("TERM");
    let status = inflight
        .await
        .unwrap()
        .expect("in-flight request completes");
    assert_eq!(status, 200);
    let code = tokio::task::spawn_blocking(move || gw.wait_exit(Duration::from_secs(10)))
        .await
        .unwrap();
    assert_eq!(code, Some(0));
}

#[tokio::test]
async fn connection_caps_per_ip() {
    let gw = start(&(config(ECHO) + "limits:\n  max_connections_per_ip: 2\n"));
    let addr = gw.addr("plain");
    let _a = tokio::net::TcpStream::connect(addr).await.unwrap();
    let _b = tokio::net::TcpStream::connect(addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (raw, closed) = portcullis_testkit::raw::send(
        addr,
        b"GET /echo/ HTTP/1.1\r\nHost: x\r\n\r\n",
        Duration::from_secs(2),
    )
    .await;
    assert!(
        raw.is_empty() && closed,
        "third connection must be refused: {}",
        String::from_utf8_lossy(&raw)
    );
    drop(_a);
    let ok = eventually(Duration::from_secs(5), || Some(())).await;
    assert!(ok.is_some());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (raw, _) = portcullis_testkit::raw::send(
        addr,
        b"GET /echo/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        Duration::from_secs(2),
    )
    .await;
    assert_eq!(portcullis_testkit::raw::statuses(&raw), vec![200]);
}

#[test]
fn check_accepts_valid_and_rejects_invalid_configs_with_locations() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.yaml");
    std::fs::write(&good, config(ECHO)).unwrap();
    let out = Command::new(bin())
        .args(["check", "--config"])
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        config(ECHO).replace(
            "methods: [GET, POST]",
            "methods: [GET, POST]\n    bodylimit: 5",
        ),
    )
    .unwrap();
    let out = Command::new(bin())
        .args(["check", "--config"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.yaml:"), "{err}");
    assert!(err.contains("bodylimit"), "{err}");

    let out = Command::new(bin()).arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains(env!("CARGO_PKG_VERSION")));
    for sub in [
        &["--help"][..],
        &["serve", "--help"][..],
        &["check", "--help"][..],
    ] {
        let out = Command::new(bin()).args(sub).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{sub:?}");
    }
}

#[test]
fn quickstart_example_is_valid() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/quickstart.yaml");
    let out = Command::new(bin())
        .args(["check", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A self-signed certificate for `name`, made with the openssl CLI: (cert.pem, key.pem).
fn openssl_cert(dir: &std::path::Path, name: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let cert = dir.join(format!("{name}.pem"));
    let key = dir.join(format!("{name}.key"));
    let status = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
        ])
        .arg("-subj")
        .arg(format!("/CN={name}"))
        .arg("-addext")
        .arg(format!("subjectAltName=DNS:{name},DNS:localhost"))
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    (cert, key)
}

/// The subject CN the server presents to a client that trusts `roots`.
async fn served_cn(addr: std::net::SocketAddr, roots: &[u8]) -> Option<String> {
    let cfg = portcullis_testkit::tls::client_config(roots, &[b"http/1.1"], None);
    let tcp = tokio::net::TcpStream::connect(addr).await.ok()?;
    let name = rustls::pki_types::ServerName::try_from("localhost").ok()?;
    let tls = tokio_rustls::TlsConnector::from(cfg)
        .connect(name, tcp)
        .await
        .ok()?;
    let der = tls.get_ref().1.peer_certificates()?.first()?.to_vec();
    // The CN is the only printable name in these small certificates; find it in the DER.
    ["first.test", "second.test"]
        .into_iter()
        .find(|cn| der.windows(cn.len()).any(|w| w == cn.as_bytes()))
        .map(str::to_string)
}

#[tokio::test]
async fn certificates_reload_without_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (c1, k1) = openssl_cert(dir.path(), "first.test");
    let (c2, k2) = openssl_cert(dir.path(), "second.test");
    let live_cert = dir.path().join("live.pem");
    let live_key = dir.path().join("live.key");
    std::fs::copy(&c1, &live_cert).unwrap();
    std::fs::copy(&k1, &live_key).unwrap();
    let cfg = format!(
        "listeners:\n  - id: https\n    address: 127.0.0.1:0\n    tls:\n      certificates:\n        - cert_file: {}\n          key_file: {}\nadmin:\n  enabled: false\n{ECHO}",
        live_cert.display(),
        live_key.display()
    );
    let gw = start(&cfg);
    let mut roots = std::fs::read(&c1).unwrap();
    roots.extend(std::fs::read(&c2).unwrap());
    assert_eq!(
        served_cn(gw.addr("https"), &roots).await.as_deref(),
        Some("first.test")
    );
    // Replace the files the way a certificate manager does (new files renamed over the old).
    std::fs::copy(&k2, dir.path().join("tmp.key")).unwrap();
    std::fs::copy(&c2, dir.path().join("tmp.pem")).unwrap();
    std::fs::rename(dir.path().join("tmp.key"), &live_key).unwrap();
    std::fs::rename(dir.path().join("tmp.pem"), &live_cert).unwrap();
    let mut switched = false;
    for _ in 0..100 {
        if served_cn(gw.addr("https"), &roots).await.as_deref() == Some("second.test") {
            switched = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        switched,
        "new certificate not served within 10 s: {:?}",
        gw.lines()
    );
}

#[tokio::test]
async fn request_ids_are_accepted_only_from_trusted_proxies() {
    let up = RecordingUpstream::start().await;
    let routes = format!(
        "upstreams:\n  - id: app\n    targets: [\"{}\"]\nroutes:\n  - id: app\n    path: /app/\n    methods: [GET]\n    upstream: app\n    public: true\n",
        up.url()
    );
    let trusted = start(&(config(&routes) + "client_ip:\n  trusted_proxies: [127.0.0.1]\n"));
    let r = client(&trusted)
        .get(https_url(&trusted, "/app/x"))
        .header("x-request-id", "lb-1234")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "lb-1234");
    // A value that is not a safe token is replaced even from a trusted proxy.
    let r = client(&trusted)
        .get(https_url(&trusted, "/app/x"))
        .header("x-request-id", "a b\"c")
        .send()
        .await
        .unwrap();
    assert_ne!(r.headers()["x-request-id"], "a b\"c");
    let seen = up.requests();
    assert_eq!(seen[0].headers["x-request-id"], "lb-1234");
}

#[tokio::test]
async fn upstream_health_is_exported_as_metrics() {
    let up = RecordingUpstream::start().await;
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let routes = format!(
        "upstreams:\n  - id: app\n    targets: [\"{}\", \"http://{dead}\"]\n    health_check: {{ path: /health, interval: 100ms, timeout: 100ms, unhealthy_threshold: 1 }}\nroutes:\n  - id: app\n    path: /app/\n    methods: [GET]\n    upstream: app\n    public: true\n",
        up.url()
    );
    let gw = start(&config(&routes));
    let admin = gw.addr("admin");
    let c = plain_client();
    let mut ok = false;
    let mut last = String::new();
    for _ in 0..50 {
        last = c
            .get(format!("http://{admin}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let healthy = format!(
            "portcullis_upstream_target_healthy{{upstream=\"app\",target=\"{}\"}} 1",
            up.url()
        );
        let unhealthy = format!(
            "portcullis_upstream_target_healthy{{upstream=\"app\",target=\"http://{dead}\"}} 0"
        );
        if last.contains(&healthy) && last.contains(&unhealthy) {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ok, "{last}");
}
