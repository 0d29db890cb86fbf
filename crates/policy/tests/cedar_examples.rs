//! Each policy example of docs/authorization.md (examples/policies/*.cedar, loaded through
//! examples/authorization.yaml) allows and denies as documented.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use portcullis_core::Identity;
use portcullis_policy::cedar::{PolicyEngine, PolicyInput};
use serde_json::json;

fn engine() -> PolicyEngine {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/authorization.yaml");
    let loaded = portcullis_config::load_file(&path).expect("example config loads");
    PolicyEngine::load(&loaded.spec)
        .expect("example policies validate")
        .expect("policies configured")
}

struct Call<'a> {
    route: &'a str,
    template: &'a str,
    method: &'a str,
    params: Vec<(String, String)>,
    ip: &'a str,
    country: &'a str,
    headers: http::HeaderMap,
    /// RFC 3339 instant.
    at: &'a str,
}

impl<'a> Call<'a> {
    fn new(route: &'a str, template: &'a str, method: &'a str) -> Self {
        Self {
            route,
            template,
            method,
            params: vec![],
            ip: "10.20.1.2",
            country: "DE",
            headers: http::HeaderMap::new(),
            // A Wednesday, 10:30 in Berlin.
            at: "2026-12-02T09:30:00Z",
        }
    }

    fn run(&self, e: &PolicyEngine, id: &Identity) -> (bool, Vec<String>) {
        let d = e.authorize(&PolicyInput {
            route: self.route,
            template: self.template,
            identity: id,
            method: self.method,
            path: "/",
            params: &self.params,
            operation: None,
            client_cert: None,
            ip: self.ip.parse::<IpAddr>().unwrap(),
            country: self.country,
            headers: &self.headers,
            now: self.at.parse().unwrap(),
        });
        assert!(d.errors.is_empty(), "{:?}", d.errors);
        (d.allowed, d.deciding)
    }
}

fn who(id: &str, scopes: &[&str], roles: &[&str], claims: serde_json::Value) -> Identity {
    Identity {
        consumer_id: id.into(),
        method: "jwt",
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        roles: roles.iter().map(|s| s.to_string()).collect(),
        claims: Some(Arc::new(claims)),
        ..Default::default()
    }
}

#[test]
fn business_hours_only() {
    let e = engine();
    let reader = who("r", &["reports:read"], &[], json!({}));
    let mut call = Call::new("reports", "/reports/", "GET");
    let (ok, by) = call.run(&e, &reader);
    assert!(ok);
    assert_eq!(by, vec!["reports-business-hours"]);
    // 19:30 Berlin on the same Wednesday: closed.
    call.at = "2026-12-02T18:30:00Z";
    assert!(!call.run(&e, &reader).0);
    // 07:59 Berlin: not yet.
    call.at = "2026-12-02T06:59:00Z";
    assert!(!call.run(&e, &reader).0);
    // Saturday 10:30: closed.
    call.at = "2026-12-05T09:30:00Z";
    assert!(!call.run(&e, &reader).0);
    // Without the scope: never.
    call.at = "2026-12-02T09:30:00Z";
    assert!(!call.run(&e, &who("x", &[], &[], json!({}))).0);
}

#[test]
fn network_and_country_restrictions() {
    let e = engine();
    let admin = who("a", &[], &["admin"], json!({}));
    let mut call = Call::new("admin", "/admin/", "POST");
    assert!(call.run(&e, &admin).0);
    call.ip = "192.0.2.7";
    assert!(!call.run(&e, &admin).0, "outside the office network");
    call.ip = "10.20.1.2";
    call.country = "KP";
    let (ok, by) = call.run(&e, &admin);
    assert!(!ok, "embargoed country");
    assert_eq!(
        by,
        vec!["no-embargoed-countries"],
        "the deciding forbid is named"
    );
    call.country = "";
    assert!(call.run(&e, &admin).0, "unknown country is not embargoed");
    assert!(!call.run(&e, &who("u", &[], &["user"], json!({}))).0);
}

#[test]
fn mfa_for_writes() {
    let e = engine();
    let plain = who("p", &["payments"], &[], json!({"amr": ["pwd"]}));
    let strong = who("s", &["payments"], &[], json!({"amr": ["pwd", "otp"]}));
    let read = Call::new("payments", "/payments/", "GET");
    let write = Call::new("payments", "/payments/", "POST");
    assert!(read.run(&e, &plain).0, "reads need no second factor");
    let (ok, by) = write.run(&e, &plain);
    assert!(!ok);
    assert_eq!(by, vec!["payments-writes-need-mfa"]);
    assert!(write.run(&e, &strong).0);
}

#[test]
fn owner_only_with_tenant_support() {
    let e = engine();
    let alice = who("alice", &[], &[], json!({}));
    let mut call = Call::new("documents", "/documents/{owner}/{name}", "PUT");
    call.params = vec![
        ("owner".into(), "alice".into()),
        ("name".into(), "cv".into()),
    ];
    assert!(call.run(&e, &alice).0);
    call.params[0].1 = "bob".into();
    assert!(
        !call.run(&e, &alice).0,
        "alice may not write bob's documents"
    );
    // Percent-encoded owner is compared decoded.
    call.params[0].1 = "al%69ce".into();
    assert!(call.run(&e, &alice).0);
    // Support of the same tenant may read, not write.
    let support = who("sam", &[], &["support"], json!({"tenant": "acme"}));
    call.params[0].1 = "bob".into();
    call.headers.insert("x-tenant", "acme".parse().unwrap());
    assert!(!call.run(&e, &support).0, "support may not write");
    let mut get = Call::new("documents", "/documents/{owner}/{name}", "GET");
    get.params = call.params.clone();
    get.headers = call.headers.clone();
    assert!(get.run(&e, &support).0);
    get.headers.insert("x-tenant", "other".parse().unwrap());
    assert!(!get.run(&e, &support).0, "another tenant's documents");
    // A tenant claim of the wrong type is treated as absent: denied, not an error.
    let odd = who("sam", &[], &["support"], json!({"tenant": 7}));
    get.headers.insert("x-tenant", "7".parse().unwrap());
    assert!(!get.run(&e, &odd).0);
}

#[test]
fn policy_errors_name_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("k.pem"), "x").unwrap();
    std::fs::write(
        dir.path().join("p.cedar"),
        "permit(principal, action, resource)\nwhen { principal.plann == \"gold\" };\n",
    )
    .unwrap();
    let yaml = "listeners:\n  - id: a\n    address: 127.0.0.1:8443\n    tls: {}\nupstreams:\n  - id: echo\n    kind: echo\npolicies:\n  files: [p.cedar]\nroutes:\n  - id: r\n    path: /r/\n    methods: [GET]\n    upstream: echo\n    auth: { jwt: { issuer: https://i, audiences: [a], keys_file: k.pem } }\n    authorize: { policy: true }\n";
    let cfg = dir.path().join("c.yaml");
    std::fs::write(&cfg, yaml).unwrap();
    let loaded = portcullis_config::load_file(&cfg).unwrap();
    let err = PolicyEngine::load(&loaded.spec).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("p.cedar:2:8:"), "{text}");
    assert!(text.contains("plann") && text.contains("plan"), "{text}");
}
