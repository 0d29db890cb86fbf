//! Round-5 rules (issue 5) for XSS, OS command injection and session fixation: for each,
//! attacks of the class asserted blocked *by that rule* in different placements, and benign
//! twins that share its words or characters asserted allowed.

mod common;

use common::{build, firewall};
use portcullis_firewall::Firewall;

fn fw() -> &'static Firewall {
    static FW: std::sync::OnceLock<Firewall> = std::sync::OnceLock::new();
    FW.get_or_init(firewall)
}

/// Asserts `payload` in `field` is blocked and that `rule` is among the matches.
fn attack(rule: &str, placement: &str, field: &str, payload: &str) {
    let (parts, body) = build(placement, payload, Some(field));
    let v = fw().inspect(&parts, &body);
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

fn benign(placement: &str, field: &str, payload: &str) {
    let (parts, body) = build(placement, payload, Some(field));
    let v = fw().inspect(&parts, &body);
    assert!(
        !v.blocked,
        "benign blocked: {payload:?} in {placement} ({:?})",
        v.rule_ids()
    );
}

// ---- cmdi-104: a word between `;` separators of an identifier list is a field name ----

#[test]
fn cmdi_104_identifier_lists_are_not_command_chains() {
    attack("cmdi-104", "query", "ip", "127.0.0.1;id");
    attack("cmdi-104", "form", "host", "example.com;id;");
    attack("cmdi-104", "json", "host", "x; id #");
    attack("cmdi-104", "cookie", "pref", "a|id|");
    attack("cmdi-104", "query", "ip", "1;id;ls");
    benign("query", "columns", "name;email;id;status");
    benign("form", "header", "id;name;set;dir;ver");
    benign("json", "fields", "uid|id|ps|created_at");
    benign("header", "columns", "first_name;last_name;id;w;phone");
}

// ---- session-001 / session-002: session cookie names as parameters, by Referer ----

/// A GET to `uri` on host `app.example.com` with an optional `Referer`.
fn get(uri: &str, referer: Option<&str>) -> portcullis_firewall::Verdict {
    let mut b = http::Request::builder()
        .uri(uri)
        .header("host", "app.example.com")
        .header(
            "user-agent",
            "Mozilla/5.0 (X11; Linux x86_64) Firefox/125.0",
        );
    if let Some(r) = referer {
        b = b.header("referer", r);
    }
    let parts = b.body(()).unwrap().into_parts().0;
    fw().inspect(&parts, b"")
}

/// A POST of `body` with `content_type` on host `app.example.com`.
fn post(content_type: &str, body: &str, referer: Option<&str>) -> portcullis_firewall::Verdict {
    let mut b = http::Request::builder()
        .method("POST")
        .uri("/login")
        .header("host", "app.example.com")
        .header("content-type", content_type);
    if let Some(r) = referer {
        b = b.header("referer", r);
    }
    let parts = b.body(()).unwrap().into_parts().0;
    fw().inspect(&parts, body.as_bytes())
}

fn refused_by(v: &portcullis_firewall::Verdict, rule: &str) {
    assert!(
        v.blocked && v.rule_ids().contains(&rule),
        "expected {rule}, got {:?}",
        v.rule_ids()
    );
}

fn allowed(v: &portcullis_firewall::Verdict) {
    assert!(!v.blocked, "refused: {:?}", v.rule_ids());
}

#[test]
fn session_001_framework_cookie_names_unless_same_site() {
    let evil = Some("https://attacker.example.net/landing");
    refused_by(&get("/login?JSESSIONID=74B0CB41", evil), "session-001");
    refused_by(&get("/login?laravel_session=eyJpdiI6", None), "session-001");
    refused_by(&get("/auth?connect.sid=s%3Aj8jK9", evil), "session-001");
    refused_by(
        &get("/api/signin?__Secure-next-auth.session-token=x", evil),
        "session-001",
    );
    refused_by(&get("/shop;jsessionid=74B0CB41/cart", evil), "session-001");
    refused_by(
        &post("application/json", r#"{"PHPSESSID":"abc"}"#, evil),
        "session-001",
    );
    refused_by(
        &post(
            "application/x-www-form-urlencoded",
            "cfid=1&cftoken=2",
            None,
        ),
        "session-001",
    );
    refused_by(&get("/login?_shop_session=BAh7", evil), "session-001");
    // The application's own pages (or a subdomain of it) may carry the id in links.
    let own = Some("https://app.example.com/catalog");
    allowed(&get("/login?jsessionid=74B0CB41", own));
    allowed(&get("/shop;jsessionid=74B0CB41/cart", own));
    allowed(&get(
        "/login?phpsessid=abc",
        Some("https://eu.app.example.com/"),
    ));
    // Values and cookies that only mention the names pass.
    allowed(&get("/docs?q=jsessionid%20cookie%20flags", evil));
    allowed(&get("/login?session=laravel_session", None));
}

#[test]
fn session_002_generic_names_only_with_an_off_site_referer() {
    let evil = Some("http://phishing.example.org/fake-login");
    refused_by(&get("/auth?sessionid=xyz789", evil), "session-002");
    refused_by(&get("/auth?session-id=xyz789", evil), "session-002");
    refused_by(
        &post(
            "application/x-www-form-urlencoded",
            "SESSIONID=abc&username=test",
            evil,
        ),
        "session-002",
    );
    refused_by(
        &get(
            "/login?sessionid=abc",
            Some("https://attacker.example.com/"),
        ),
        "session-002",
    );
    // Stripe Checkout returns to the success URL from checkout.stripe.com.
    allowed(&get(
        "/checkout/success?session_id=cs_test_a1b2c3",
        Some("https://checkout.stripe.com/"),
    ));
    // Adyen appends a camel-case sessionId to the return URL.
    allowed(&get(
        "/checkout/return?sessionId=CS12345&sessionResult=X3XtfGC",
        Some("https://checkoutshopper-test.adyen.com/"),
    ));
    // API clients send no Referer; the application's own pages are same-site.
    allowed(&get("/api/chat?sessionid=abc123", None));
    allowed(&get(
        "/login?sessionid=abc123",
        Some("https://app.example.com/previous"),
    ));
    allowed(&post(
        "application/json",
        r#"{"session_id":"s_1","sid":"x"}"#,
        evil,
    ));
}
