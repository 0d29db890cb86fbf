//! Round-5 rules for protocol-level attacks that reach the firewall as values (issue 5):
//! LDAP filters chained with a bare operator, Apache's Unix-socket proxy syntax, an HTTP
//! request line smuggled in a parameter. Each attack is asserted blocked by its rule, each
//! benign twin allowed.

mod common;

use common::{attack, benign};

#[test]
fn ldap_105_assertion_chained_with_a_bare_operator() {
    attack("ldap-105", "query", "param", "val)&(cn=admin");
    attack("ldap-105", "json", "user", "x)|(uid=*");
    attack("ldap-105", "form", "name", "bob) & (objectClass=*");
    benign("query", "q", "(see above)&(below)");
    benign("json", "note", "pick one: (red)|(blue) = colour");
    benign("form", "expr", "(a + b) & (c | d)");
}

#[test]
fn ssrf_104_mod_proxy_unix_socket_then_a_url() {
    let long = format!("unix:{}|http://example.com/", "A".repeat(5000));
    attack("ssrf-104", "query", "x", &long);
    attack(
        "ssrf-104",
        "json",
        "target",
        "unix:/run/app.sock|http://internal/admin",
    );
    attack(
        "ssrf-104",
        "header",
        "x-target",
        "unix:/x|https://169.254.169.254/",
    );
    benign("query", "q", "unix: pipes are | handy");
    benign("json", "socket", "unix:/run/app.sock");
    benign(
        "form",
        "note",
        "unix:/run/x.sock and http://example.com/ are both set",
    );
}

#[test]
fn crlf_106_request_line_as_a_value() {
    attack(
        "crlf-106",
        "query",
        "arg1",
        "GET http://www.foo.bar HTTP/1.2",
    );
    attack("crlf-106", "json", "x", "POST /admin HTTP/1.1");
    attack("crlf-106", "form", "x", "GET / HTTP/1.1\r\nHost: internal");
    benign(
        "json",
        "comment",
        "the client sends GET /users HTTP/1.1 and gets a 301",
    );
    benign("query", "q", "get the latest http/2 news");
    benign("form", "title", "POST requests over HTTP/2");
}
