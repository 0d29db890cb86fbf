//! Shared helpers of the end-to-end tests: start the real binary with a config, clients that
//! trust its dev certificate.
#![allow(dead_code, missing_docs)]

use std::path::Path;

use portcullis_testkit::GatewayProcess;

pub fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_portcullis"))
}

/// An echo upstream and a public `/echo/` route (GET, POST).
pub const ECHO: &str = r#"
upstreams:
  - id: echo
    kind: echo
routes:
  - id: echo
    path: /echo/
    methods: [GET, POST]
    upstream: echo
    public: true
"#;

/// Runs `portcullis <args> --config <gateway's config> --output json`, asserts it succeeded
/// (showing its stderr if not) and returns the JSON it printed: how the e2e tests issue,
/// rotate and inspect keys through the real CLI.
pub fn cli_json(gw: &GatewayProcess, args: &[&str]) -> serde_json::Value {
    let out = std::process::Command::new(bin())
        .args(args)
        .arg("--config")
        .arg(gw.config_path())
        .args(["--output", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "portcullis {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Starts the gateway; panics with its output if it does not come up.
pub fn start(config: &str) -> GatewayProcess {
    match GatewayProcess::start(bin(), config) {
        Ok(gw) => gw,
        Err(e) => panic!("{e:#}"),
    }
}

/// A config with an HTTPS listener (dev certificate), a plain `serve` listener, the admin
/// listener, all on port 0, and the given upstreams/routes YAML appended.
pub fn config(extra: &str) -> String {
    format!(
        r#"
listeners:
  - id: https
    address: 127.0.0.1:0
    tls: {{}}
  - id: plain
    address: 127.0.0.1:0
    plain_http: serve
admin:
  address: 127.0.0.1:0
logging:
  level: info
{extra}
"#
    )
}

/// An HTTPS client trusting the gateway's dev certificate.
pub fn client(gw: &GatewayProcess) -> reqwest::Client {
    let pem = gw.dev_cert_pem();
    let cert = reqwest::Certificate::from_pem(&pem).expect("dev cert pem");
    reqwest::Client::builder()
        .tls_certs_only([cert])
        .no_proxy()
        .build()
        .expect("client")
}

/// A plain HTTP client.
pub fn plain_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
}

pub fn https_url(gw: &GatewayProcess, path: &str) -> String {
    format!("https://localhost:{}{}", gw.addr("https").port(), path)
}

pub fn plain_url(gw: &GatewayProcess, path: &str) -> String {
    format!("http://{}{}", gw.addr("plain"), path)
}

/// Asserts a problem+json body with the given status and type slug, carrying a request id
/// and nothing else of note.
pub async fn assert_problem(resp: reqwest::Response, status: u16, slug: &str) -> serde_json::Value {
    assert_eq!(resp.status().as_u16(), status, "status");
    assert_eq!(
        resp.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
    let request_id = resp
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .expect("x-request-id header");
    let body: serde_json::Value = resp.json().await.expect("json body");
    assert_eq!(body["type"], format!("urn:portcullis:problem:{slug}"));
    assert_eq!(body["status"], status);
    assert_eq!(body["request_id"], request_id);
    // Only the documented extension members: the violations of a contract check and the
    // findings of the firewall (rule ids and locations, never values).
    let extra: Vec<&String> = body
        .as_object()
        .expect("object")
        .keys()
        .filter(|k| !["type", "title", "status", "request_id"].contains(&k.as_str()))
        .collect();
    assert!(
        extra.iter().all(|k| *k == "violations" || *k == "findings"),
        "no extra members: {body}"
    );
    if slug != "bad-request" && slug != "unsupported-media-type" && slug != "forbidden" {
        assert!(extra.is_empty(), "no extra members: {body}");
    }
    body
}
