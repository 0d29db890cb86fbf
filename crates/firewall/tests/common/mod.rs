//! Builds requests from corpus rows (`{"placement": ..., "payload": ..., "field": ...}`).
#![allow(dead_code)]

use http::request::Parts;
use portcullis_firewall::{Firewall, FirewallSpec, Verdict};

/// Percent-encodes every byte outside the unreserved set.
pub fn pct_all(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Percent-encodes only the bytes a request target cannot carry (as a client library
/// would), leaving everything else as the attacker wrote it.
pub fn pct_min(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_graphic()
            && !matches!(
                b,
                b'"' | b'<' | b'>' | b'`' | b'{' | b'}' | b'|' | b'\\' | b'^' | b'#'
            )
        {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Header values cannot hold control characters: those are sent percent-encoded.
pub fn header_safe(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_control() {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A request carrying `payload` in `placement`.
pub fn build(placement: &str, payload: &str, field: Option<&str>) -> (Parts, Vec<u8>) {
    let field = field.unwrap_or("value");
    let mut uri = "/api/v1/things".to_owned();
    let mut headers: Vec<(String, String)> = vec![
        ("host".into(), "api.example.com".into()),
        (
            "user-agent".into(),
            "Mozilla/5.0 (X11; Linux x86_64) Firefox/125.0".into(),
        ),
        ("accept".into(), "application/json".into()),
    ];
    let mut body = Vec::new();
    match placement {
        "query" => uri = format!("/api/v1/search?page=1&{field}={}", pct_all(payload)),
        "query_pre" => uri = format!("/api/v1/search?{field}={}", pct_min(payload)),
        "query_raw" => uri = format!("/api/v1/search?{}", pct_min(payload)),
        "path" => uri = format!("/api/v1/items/{}/details", pct_all(payload)),
        "path_pre" => uri = format!("/api/v1/items/{}", pct_min(payload)),
        "header" | "header_pre" => headers.push(("x-custom-data".into(), header_safe(payload))),
        "cookie" | "cookie_pre" => {
            let v = header_safe(payload).replace(';', "%3B");
            headers.push(("cookie".into(), format!("sid=abc123; {field}={v}")));
        }
        "json" => {
            headers.push(("content-type".into(), "application/json".into()));
            body = serde_json::json!({"data": {field: payload}, "id": 7})
                .to_string()
                .into_bytes();
        }
        "json_raw" => {
            headers.push(("content-type".into(), "application/json".into()));
            body = payload.as_bytes().to_vec();
        }
        "form" | "form_pre" => {
            headers.push((
                "content-type".into(),
                "application/x-www-form-urlencoded".into(),
            ));
            let v = if placement == "form" {
                pct_all(payload)
            } else {
                payload.to_owned()
            };
            body = format!("a=1&{field}={v}").into_bytes();
        }
        "form_raw" => {
            headers.push((
                "content-type".into(),
                "application/x-www-form-urlencoded".into(),
            ));
            body = payload.as_bytes().to_vec();
        }
        "xml" => {
            headers.push(("content-type".into(), "application/xml".into()));
            body = format!(
                "<?xml version=\"1.0\"?><request><{field}>{}</{field}></request>",
                xml_escape(payload)
            )
            .into_bytes();
        }
        "xml_raw" => {
            headers.push(("content-type".into(), "application/xml".into()));
            body = payload.as_bytes().to_vec();
        }
        "multipart" => {
            headers.push((
                "content-type".into(),
                "multipart/form-data; boundary=----b0undary42".into(),
            ));
            body = format!(
                "------b0undary42\r\nContent-Disposition: form-data; name=\"{field}\"\r\n\r\n{payload}\r\n------b0undary42--\r\n"
            )
            .into_bytes();
        }
        other => panic!("unknown placement {other}"),
    }
    let mut b = http::Request::builder().method("POST").uri(uri.as_str());
    for (k, v) in &headers {
        b = b.header(k.as_str(), v.as_str());
    }
    let parts = b
        .body(())
        .unwrap_or_else(|e| panic!("building {placement} {payload:?}: {e}"))
        .into_parts()
        .0;
    (parts, body)
}

/// One corpus row.
#[derive(serde::Deserialize, Debug)]
pub struct Row {
    pub placement: String,
    pub payload: String,
    #[serde(default)]
    pub field: Option<String>,
    #[serde(default)]
    pub encoding: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
}

/// Reads a JSONL corpus file under `corpus/`.
pub fn rows(rel: &str) -> Vec<Row> {
    let path = format!("{}/corpus/{rel}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{path}: {e}: {l}")))
        .collect()
}

/// The default firewall.
pub fn firewall() -> Firewall {
    Firewall::new(&FirewallSpec::default()).unwrap()
}

/// The default firewall, compiled once per test binary.
pub fn shared() -> &'static Firewall {
    static FW: std::sync::OnceLock<Firewall> = std::sync::OnceLock::new();
    FW.get_or_init(firewall)
}

/// Asserts that `payload` in `field` at `placement` is blocked by the default firewall and
/// that `rule` is among the matches (the rule tests of each detection round).
pub fn attack(rule: &str, placement: &str, field: &str, payload: &str) {
    let (parts, body) = build(placement, payload, Some(field));
    let v = shared().inspect(&parts, &body);
    assert!(
        v.blocked,
        "attack allowed: {payload:?} in {placement} ({:?})",
        v.rule_ids()
    );
    assert!(
        v.rule_ids().contains(&rule),
        "{payload:?} in {placement} blocked by {:?}, not {rule}",
        v.rule_ids()
    );
}

/// Asserts that `payload` in `field` at `placement` is blocked, by whatever rule (common
/// payloads of a class).
pub fn blocked(placement: &str, field: &str, payload: &str) {
    let (parts, body) = build(placement, payload, Some(field));
    let v = shared().inspect(&parts, &body);
    assert!(
        v.blocked,
        "attack allowed: {payload:?} in {placement} ({:?})",
        v.rule_ids()
    );
}

/// Asserts that `payload` in `field` at `placement` passes the default firewall (a benign
/// twin).
pub fn benign(placement: &str, field: &str, payload: &str) {
    let (parts, body) = build(placement, payload, Some(field));
    let v = shared().inspect(&parts, &body);
    assert!(
        !v.blocked,
        "benign blocked: {payload:?} in {placement} ({:?})",
        v.rule_ids()
    );
}

/// Inspects one row.
pub fn inspect(fw: &Firewall, row: &Row) -> Verdict {
    let (parts, body) = build(&row.placement, &row.payload, row.field.as_deref());
    fw.inspect(&parts, &body)
}

/// The attack categories with a corpus file.
pub const CATEGORIES: &[&str] = &[
    "sqli",
    "xss",
    "cmdi",
    "traversal",
    "ldap",
    "nosql",
    "xml",
    "ssti",
    "ssrf",
    "crlf",
    "log4shell",
    "rfi",
];
