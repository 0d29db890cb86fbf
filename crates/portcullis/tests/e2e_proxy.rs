//! End to end: the real binary, real TLS, a real upstream. Routing, errors, headers,
//! forwarding, client address, limits, upstream failures.

mod common;

use common::*;
use portcullis_testkit::RecordingUpstream;

fn upstream_cfg(url: &str, routes: &str) -> String {
    config(&format!(
        r#"
upstreams:
  - id: echo
    kind: echo
  - id: app
    targets: ["{url}"]
routes:
  - id: echo
    path: /echo/
    methods: [GET, POST]
    upstream: echo
    public: true
  - id: internal
    path: /internal/
    methods: [GET]
    upstream: app
    public: true
    ip_policy:
      allow: [10.0.0.0/8]
{routes}
"#
    ))
}

#[tokio::test]
async fn echo_over_tls_with_security_headers_and_request_id() {
    let up = RecordingUpstream::start().await;
    let gw = start(&upstream_cfg(&up.url(), ""));
    let resp = client(&gw)
        .get(https_url(&gw, "/echo/hello?x=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let h = resp.headers().clone();
    assert_eq!(
        h["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(h.get("server").is_none());
    let rid = h["x-request-id"].to_str().unwrap().to_string();
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["method"], "GET");
    assert_eq!(body["path"], "/echo/hello");
    assert_eq!(body["headers"]["x-request-id"], rid.as_str());
    assert_eq!(body["headers"]["x-forwarded-for"], "127.0.0.1");
    assert_eq!(body["headers"]["x-forwarded-proto"], "https");
}

#[tokio::test]
async fn http2_is_negotiated_by_alpn() {
    let up = RecordingUpstream::start().await;
    let gw = start(&upstream_cfg(&up.url(), ""));
    let resp = client(&gw)
        .get(https_url(&gw, "/echo/h2"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.version(), reqwest::Version::HTTP_2);
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn ip_restricted_route_refuses_loopback_and_forwards_nothing() {
    let up = RecordingUpstream::start().await;
    let gw = start(&upstream_cfg(&up.url(), ""));
    let resp = client(&gw)
        .get(https_url(&gw, "/internal/x"))
        .send()
        .await
        .unwrap();
    assert_problem(resp, 403, "forbidden").await;
    up.assert_nothing_forwarded().await;
}

#[tokio::test]
async fn unknown_paths_404_and_unserved_methods_405_with_allow() {
    let up = RecordingUpstream::start().await;
    let gw = start(&upstream_cfg(&up.url(), ""));
    let c = client(&gw);
    assert_problem(
        c.get(https_url(&gw, "/nope")).send().await.unwrap(),
        404,
        "not-found",
    )
    .await;
    let resp = c.delete(https_url(&gw, "/echo/x")).send().await.unwrap();
    assert_eq!(resp.headers()["allow"], "GET, HEAD, POST");
    assert_problem(resp, 405, "method-not-allowed").await;
}

#[tokio::test]
async fn trace_track_connect_and_unknown_methods_never_reach_the_upstream() {
    let up = RecordingUpstream::start().await;
    let gw = start(&upstream_cfg(
        &up.url(),
        "  - id: app\n    path: /app/\n    methods: [GET, POST, PUT, DELETE, PATCH, OPTIONS, HEAD]\n    upstream: app\n    public: true\n",
    ));
    let c = client(&gw);
    for m in ["TRACE", "TRACK", "FOO"] {
        let resp = c
            .request(
                reqwest::Method::from_bytes(m.as_bytes()).unwrap(),
                https_url(&gw, "/app/x"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 405, "{m}");
    }
    let (raw, _) = portcullis_testkit::raw::send(
        gw.addr("plain"),
        b"CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n",
        std::time::Duration::from_secs(2),
    )
    .await;
    let statuses = portcullis_testkit::raw::statuses(&raw);
    assert!(
        statuses.first().is_some_and(|s| *s >= 400),
        "CONNECT answered {statuses:?}"
    );
    up.assert_nothing_forwarded().await;
    // Benign twin: GET is forwarded.
    assert_eq!(
        c.get(https_url(&gw, "/app/x"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(up.requests().len(), 1);
}

#[tokio::test]
async fn path_traversal_cannot_cross_routes() {
    let up = RecordingUpstream::start().await;
    let gw = start(&upstream_cfg(&up.url(), ""));
    for path in [
        "/echo/../internal/x",
        "/echo/%2e%2e/internal/x",
        "/echo/..%2finternal/x",
        "/echo//x",
    ] {
        let (raw, _) = portcullis_testkit::raw::send(
            gw.addr("plain"),
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").as_bytes(),
            std::time::Duration::from_millis(500),
        )
        .await;
        assert_eq!(portcullis_testkit::raw::statuses(&raw), vec![400], "{path}");
    }
    up.assert_nothing_forwarded().await;
}

#[tokio::test]
async fn upstream_fingerprints_are_removed_and_5xx_bodies_hidden() {
    let up = RecordingUpstream::with(|rec| {
        let status = if rec.uri.contains("boom") { 500 } else { 200 };
        http::Response::builder()
            .status(status)
            .header("server", "Apache/2.4.1 (Unix)")
            .header("x-powered-by", "PHP/5.6.40")
            .body(http_body_util::Full::new(bytes::Bytes::from_static(
                b"Traceback (most recent call last): File \"/srv/app/db.py\", line 12",
            )))
            .unwrap()
    })
    .await;
    let gw = start(&upstream_cfg(
        &up.url(),
        "  - id: app\n    path: /app/\n    methods: [GET]\n    upstream: app\n    public: true\n  - id: raw\n    path: /raw/\n    methods: [GET]\n    upstream: app\n    public: true\n    generic_errors: false\n",
    ));
    let c = client(&gw);
    let ok = c.get(https_url(&gw, "/app/fine")).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    assert!(ok.headers().get("server").is_none());
    assert!(ok.headers().get("x-powered-by").is_none());
    let resp = c.get(https_url(&gw, "/app/boom")).send().await.unwrap();
    let body = assert_problem(resp, 500, "upstream-error").await;
    assert!(!body.to_string().contains("Traceback"));
    // The opt-out route relays the upstream body (fingerprints still removed).
    let raw = c.get(https_url(&gw, "/raw/boom")).send().await.unwrap();
    assert_eq!(raw.status(), 500);
    assert!(raw.headers().get("server").is_none());
    assert!(raw.text().await.unwrap().contains("Traceback"));
}

#[tokio::test]
async fn client_supplied_forwarding_headers_are_replaced() {
    let up = RecordingUpstream::start().await;
    let gw = start(&upstream_cfg(
        &up.url(),
        "  - id: app\n    path: /app/\n    methods: [GET]\n    upstream: app\n    public: true\n",
    ));
    let resp = client(&gw)
        .get(https_url(&gw, "/app/x"))
        .header("x-forwarded-for", "10.1.1.1")
        .header("x-forwarded-proto", "http")
        .header("forwarded", "for=10.1.1.1")
        .header("x-real-ip", "10.1.1.1")
        .header("x-request-id", "spoofed-id")
        .header("x-consumer-id", "admin")
        .header("x-authenticated-by", "jwt")
        .header("x-portcullis-identity", "eyJhbGciOiJub25lIn0.e30.")
        .header("proxy", "http://attacker.example:8080")
        .header("x-proxy-note", "kept")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let seen = up.requests();
    let h = &seen[0].headers;
    // httpoxy: `Proxy` never reaches a CGI-style upstream as HTTP_PROXY; its twin passes.
    assert!(h.get("proxy").is_none());
    assert_eq!(h["x-proxy-note"], "kept");
    assert_eq!(h["x-forwarded-for"], "127.0.0.1");
    assert_eq!(h["x-forwarded-proto"], "https");
    assert!(h.get("forwarded").is_none());
    assert!(h.get("x-real-ip").is_none());
    assert_ne!(h["x-request-id"], "spoofed-id");
    // Identity headers are the gateway's alone, also on public routes that mint no token.
    for name in [
        "x-consumer-id",
        "x-authenticated-by",
        "x-portcullis-identity",
    ] {
        assert!(
            h.get(name).is_none(),
            "client-supplied {name} reached the upstream"
        );
    }
}

#[tokio::test]
async fn trusted_proxy_addresses_decide_ip_policy() {
    let up = RecordingUpstream::start().await;
    let cfg = upstream_cfg(
        &up.url(),
        "  - id: partners\n    path: /partners/\n    methods: [GET]\n    upstream: app\n    public: true\n    ip_policy:\n      allow: [203.0.113.0/24]\n",
    ) + "client_ip:\n  trusted_proxies: [127.0.0.1]\n";
    let gw = start(&cfg);
    let c = client(&gw);
    let ok = c
        .get(https_url(&gw, "/partners/a"))
        .header("x-forwarded-for", "203.0.113.7")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let denied = c
        .get(https_url(&gw, "/partners/a"))
        .header("x-forwarded-for", "198.51.100.7")
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), 403);
    let seen = up.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].headers["x-forwarded-for"], "203.0.113.7, 127.0.0.1");
}

#[tokio::test]
async fn upstream_failures_are_generic_problems() {
    // A port that was bound and released: connection refused.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let slow = RecordingUpstream::with(|_| {
        std::thread::sleep(std::time::Duration::from_millis(1500));
        http::Response::new(http_body_util::Full::new(bytes::Bytes::new()))
    })
    .await;
    let cfg = config(&format!(
        r#"
upstreams:
  - id: dead
    targets: ["http://{dead}"]
    retries: 0
  - id: slow
    targets: ["{}"]
    timeouts: {{ request: 300ms }}
routes:
  - id: dead
    path: /dead/
    methods: [GET]
    upstream: dead
    public: true
  - id: slow
    path: /slow/
    methods: [GET]
    upstream: slow
    public: true
"#,
        slow.url()
    ));
    let gw = start(&cfg);
    let c = client(&gw);
    assert_problem(
        c.get(https_url(&gw, "/dead/x")).send().await.unwrap(),
        502,
        "bad-gateway",
    )
    .await;
    assert_problem(
        c.get(https_url(&gw, "/slow/x")).send().await.unwrap(),
        504,
        "gateway-timeout",
    )
    .await;
}

#[tokio::test]
async fn versioned_apis_route_by_path_and_by_header() {
    let v1 = RecordingUpstream::start().await;
    let v2 = RecordingUpstream::start().await;
    let cfg = config(&format!(
        r#"
upstreams:
  - id: v1
    targets: ["{}"]
  - id: v2
    targets: ["{}"]
routes:
  - id: v1
    path: /v1/
    methods: [GET]
    upstream: v1
    strip_prefix: /v1
    public: true
  - id: v2
    path: /v2/
    methods: [GET]
    upstream: v2
    strip_prefix: /v2
    public: true
  - id: api-v2
    path: /api/
    methods: [GET]
    match_headers: {{ x-api-version: "2" }}
    upstream: v2
    public: true
  - id: api
    path: /api/
    methods: [GET]
    upstream: v1
    public: true
"#,
        v1.url(),
        v2.url()
    ));
    let gw = start(&cfg);
    let c = client(&gw);
    c.get(https_url(&gw, "/v1/users?page=2"))
        .send()
        .await
        .unwrap();
    c.get(https_url(&gw, "/v2/users")).send().await.unwrap();
    c.get(https_url(&gw, "/api/users"))
        .header("x-api-version", "2")
        .send()
        .await
        .unwrap();
    c.get(https_url(&gw, "/api/users")).send().await.unwrap();
    let a: Vec<String> = v1.requests().iter().map(|r| r.uri.clone()).collect();
    let b: Vec<String> = v2.requests().iter().map(|r| r.uri.clone()).collect();
    assert_eq!(a, vec!["/users?page=2", "/api/users"]);
    assert_eq!(b, vec!["/users", "/api/users"]);
}

#[tokio::test]
async fn plain_http_listener_redirects_or_refuses() {
    let cfg = r#"
listeners:
  - id: https
    address: 127.0.0.1:0
    tls: {}
  - id: redirect
    address: 127.0.0.1:0
    redirect_port: 8443
  - id: refuse
    address: 127.0.0.1:0
    plain_http: refuse
admin:
  enabled: false
upstreams:
  - id: echo
    kind: echo
routes:
  - id: echo
    path: /echo/
    methods: [GET]
    upstream: echo
    public: true
"#;
    let gw = start(cfg);
    let c = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = c
        .get(format!(
            "http://localhost:{}/echo/a?b=c",
            gw.addr("redirect").port()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 308);
    assert_eq!(r.headers()["location"], "https://localhost:8443/echo/a?b=c");
    assert!(
        r.headers().get("strict-transport-security").is_none(),
        "no HSTS over plain HTTP"
    );
    let r = c
        .get(format!("http://{}/echo/a", gw.addr("refuse")))
        .send()
        .await
        .unwrap();
    assert_problem(r, 403, "https-required").await;
}

#[tokio::test]
async fn oversized_requests_get_413_414_431_and_nothing_is_forwarded() {
    let up = RecordingUpstream::start().await;
    let cfg = upstream_cfg(
        &up.url(),
        "  - id: app\n    path: /app/\n    methods: [POST, GET]\n    upstream: app\n    public: true\n    max_body_bytes: 1000\n",
    ) + "limits:\n  max_uri_bytes: 200\n  max_header_bytes: 4096\n";
    let gw = start(&cfg);
    let c = client(&gw);
    let big = c
        .post(https_url(&gw, "/app/x"))
        .body(vec![b'a'; 1001])
        .send()
        .await
        .unwrap();
    assert_problem(big, 413, "payload-too-large").await;
    // Chunked (no Content-Length): capped while reading.
    let stream = futures_like_body(vec![b'b'; 5000]);
    let big = c
        .post(https_url(&gw, "/app/x"))
        .body(stream)
        .send()
        .await
        .unwrap();
    assert_eq!(big.status(), 413);
    let long = c
        .get(https_url(&gw, &format!("/app/{}", "a".repeat(300))))
        .send()
        .await
        .unwrap();
    assert_problem(long, 414, "uri-too-long").await;
    let (raw, _) = portcullis_testkit::raw::send(
        gw.addr("plain"),
        format!(
            "GET /app/x HTTP/1.1\r\nHost: a\r\nX-Big: {}\r\n\r\n",
            "h".repeat(5000)
        )
        .as_bytes(),
        std::time::Duration::from_secs(2),
    )
    .await;
    assert_eq!(portcullis_testkit::raw::statuses(&raw), vec![431]);
    up.assert_nothing_forwarded().await;
    // Benign twin at the limit.
    let ok = c
        .post(https_url(&gw, "/app/x"))
        .body(vec![b'a'; 1000])
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(up.requests()[0].body.len(), 1000);
}

/// A streaming body without Content-Length, so the client sends it chunked.
fn futures_like_body(data: Vec<u8>) -> reqwest::Body {
    let chunks: Vec<Result<bytes::Bytes, std::io::Error>> = data
        .chunks(1000)
        .map(|c| Ok(bytes::Bytes::copy_from_slice(c)))
        .collect();
    reqwest::Body::wrap_stream(futures_util::stream::iter(chunks))
}
