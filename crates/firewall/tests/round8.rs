//! Round 8 rule tests: the classes the gotestwaf measurement still let through after round
//! 7 (base64 mangled by a form decoder, protocol injections without punctuation, `+` as a
//! shell separator, computed sink calls, `loadend` handlers, Edge Side
//! Includes, XML Schema composition, tags glued inside words), each with attacks it must
//! block and benign twins it must pass.

mod common;

use common::{attack, benign, blocked, shared};

/// Base64 of `s`, standard alphabet, padding removed as attack tools send it.
fn b64(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(s)
}

/// Inspects `raw_query` sent as is (no extra encoding): the `+` of base64 arrives and a
/// form decoder reads it as a space.
fn raw_query_blocked(raw_query: &str) -> portcullis_firewall::Verdict {
    let (parts, body) = common::build("query_raw", raw_query, None);
    shared().inspect(&parts, &body)
}

#[test]
fn base64_whose_plus_became_a_space_is_still_decoded() {
    for payload in [
        "<img src=x onerror=alert(document.domain)>/all",
        "><script>evil(111)</script>",
    ] {
        let enc = b64(payload);
        assert!(enc.contains('+'), "{enc} has no + to mangle");
        let v = raw_query_blocked(&format!("data={enc}"));
        assert!(
            v.blocked,
            "{payload:?} as {enc} allowed ({:?})",
            v.rule_ids()
        );
        assert!(
            v.matches.iter().any(|m| m.excerpt.starts_with("base64: ")),
            "{:?}",
            v.matches
        );
    }
    // Prose with spaces is not read as base64; a base64 blob of harmless text with a
    // `+` mangled the same way passes.
    benign("query", "q", "see you at the pub later tonight");
    let harmless = b64("~~~ >>> ~~~");
    assert!(harmless.contains('+'), "{harmless}");
    let v = raw_query_blocked(&format!("data={harmless}"));
    assert!(!v.blocked, "{harmless} refused ({:?})", v.rule_ids());
}

#[test]
fn base64_of_protocol_lines_and_nul_evasions_is_inspected() {
    // IMAP / SMTP command injection: line breaks, no punctuation.
    blocked(
        "query",
        "mailbox",
        &b64("\r\nV100 CAPABILITY\r\nV101 FETCH 4791"),
    );
    blocked("form", "to", &b64("\r\nQUIT\r\n"));
    // A NUL inside a tag name.
    blocked(
        "query",
        "q",
        &b64("<<scr\0ipt/src=http://xss.example/xss.js></script"),
    );
    // Base64 of two plain lines and of binary with many NULs pass.
    benign("json", "note", &b64("first line\r\nsecond line\r\n"));
    benign("json", "blob", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
}

#[test]
fn plus_joined_command_lines_are_read_as_words() {
    attack("cmdi-101", "query", "q", "|getent+hosts+x.example.&");
    blocked("json", "host", "|getent+hosts+somehost.example.net.&");
    blocked("form", "cmd", ";cat+/etc/passwd");
    // `+` in e-mail addresses, languages, phone numbers, base64 and arithmetic.
    for v in [
        "jane+billing@example.com",
        "c++",
        "+15551234567",
        "a+b=c",
        "notepad++",
        "id+name+email",
        "getting+started+guide",
        "ls+colors+theme",
    ] {
        benign("json", "value", v);
        benign("query", "q", v);
    }
}

#[test]
fn xss_120_global_object_called_through_a_built_name() {
    attack(
        "xss-120",
        "query",
        "q",
        "window[document.body.innerText.charAt(document.body.innerText.indexOf('a'))+'lert'](1)",
    );
    attack("xss-120", "json", "q", "top['al'+'ert'](document.domain)");
    attack("xss-120", "form", "q", "self[/alert/.source](1)");
    // Code that indexes a global with a plain name, and prose about windows.
    benign(
        "json",
        "snippet",
        "const handler = window[name]; handler(data);",
    );
    benign(
        "json",
        "note",
        "open the window [the left one] (by the door)",
    );
    benign("query", "q", "top 10 [2024] (ranked)");
}

#[test]
fn xss_114_loadend_is_an_event_handler() {
    attack(
        "xss-114",
        "query",
        "img",
        "image src\\r\\n=valid.jpg onloadend='new class extends (co\\u006efir\\u006d)/**/`` &lcub;&rcub;'>",
    );
    benign("json", "note", "the loadend event fires once");
    // Prose naming a handler with spaces around `=` passes; code after it does not.
    benign("json", "note", "the onload = handler fires once");
    attack("xss-114", "query", "q", "x onload = alert(1)");
    benign("json", "note", "onloadend handlers run after load");
}

#[test]
fn cmdi_133_edge_side_includes() {
    attack(
        "cmdi-133",
        "header",
        "ua",
        "Mozilla/5.0 Chrome/109.0<esi:include src=\"http://x.example/rpb.png\"/>",
    );
    attack(
        "cmdi-133",
        "json",
        "name",
        "<esi:vars>$(HTTP_COOKIE)</esi:vars>",
    );
    benign(
        "json",
        "note",
        "our CDN supports ESI: include fragments at the edge",
    );
    benign("query", "q", "esi include");
}

#[test]
fn xml_109_schema_composition_in_a_request_body() {
    let body = "<?xml version=\"1.0\"?><xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\"><xs:include namespace=\"http://x.example/\"/></xs:schema>";
    let (parts, b) = common::build("xml_raw", body, None);
    let v = shared().inspect(&parts, &b);
    assert!(v.blocked, "{:?}", v.rule_ids());
    assert!(v.rule_ids().contains(&"xml-109"), "{:?}", v.rule_ids());
    // An instance document with a schemaLocation hint (GPX from a device) passes.
    let gpx = "<?xml version=\"1.0\"?><gpx xmlns=\"http://www.topografix.com/GPX/1/1\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:schemaLocation=\"http://www.topografix.com/GPX/1/1 http://www.topografix.com/GPX/1/1/gpx.xsd\"><trk><name>Morning run</name></trk></gpx>";
    let (parts, b) = common::build("xml_raw", gpx, None);
    let v = shared().inspect(&parts, &b);
    assert!(!v.blocked, "{:?}", v.rule_ids());
}

#[test]
fn tags_glued_inside_words_are_stripped_and_inspected() {
    let v = {
        let (parts, body) = common::build(
            "query",
            "\\\"autof<x>ocus o<x>nfocus=alert<x>(1)//",
            Some("q"),
        );
        shared().inspect(&parts, &body)
    };
    assert!(v.blocked, "{:?}", v.rule_ids());
    assert!(
        v.matches
            .iter()
            .any(|m| m.excerpt.starts_with("tags removed: ")),
        "{:?}",
        v.matches
    );
    // Rich text and generics keep their tags.
    benign("json", "body", "a <b>bold</b> move, then <i>italics</i>");
    benign("json", "code", "List<String> names = new ArrayList<>();");
    benign("json", "code", "Vec<u8>(n) holds the bytes");
    benign("json", "body", "H<sub>2</sub>O and x<sup>2</sup>");
}

#[test]
fn cmdi_134_the_shell_by_its_variable() {
    attack("cmdi-134", "query", "code", "$SHELL -c \"echo hi\"");
    attack("cmdi-134", "json", "code", "${SHELL} -c 'id'");
    benign("json", "note", "the value of $SHELL is your login shell");
    benign("query", "q", "$SHELL -version");
}

#[test]
fn lfi_004_a_whole_value_naming_a_server_file() {
    for v in [
        "/etc/security/limits.conf",
        "/usr/local/apache2/conf/httpd.conf",
        "/opt/lampp/etc/httpd.conf",
        "C:\\xampp\\apache\\conf\\httpd.conf",
        "c:/Program Files/MySQL/my.ini",
        "/var/log/nginx/access.log",
        "/wamp/bin/mysql/mysql5.5/my.ini",
        "/MySQL/data/master.mdf",
    ] {
        attack("lfi-004", "query", "file", v);
        attack("lfi-004", "json", "path", v);
    }
    // Paths an API does carry: return paths, documents, uploads, a path in a sentence,
    // and the request path itself.
    for v in [
        "/account/settings",
        "/docs/getting-started.md",
        "/Users/jane/Documents/report.pdf",
        "/tmp/upload-123.png",
        "edit /etc/hosts to add the entry",
        "config/app.ini",
        "/static/app.js",
    ] {
        benign("query", "file", v);
        benign("json", "path", v);
    }
    let req = http::Request::builder()
        .uri("/api/logs/2024/app.log")
        .header("host", "api.example.com")
        .body(())
        .expect("request");
    let (parts, ()) = req.into_parts();
    let v = shared().inspect(&parts, &[]);
    assert!(!v.rule_ids().contains(&"lfi-004"), "{:?}", v.rule_ids());
}

#[test]
fn lfi_round8_dotfiles_and_escapes_without_percent() {
    attack("lfi-110", "query", "file", "..2f..2f..2fetc2fpasswd");
    attack("lfi-110", "json", "file", "..2fapache2flogs2faccess.log");
    for v in ["/.bashrc", ".passwd", "/.shosts"] {
        attack("lfi-112", "query", "file", v);
    }
    for v in [
        "/C:\\Program Files\\Apache Group\\Apache2\\conf\\httpd.conf",
        "/var/www/logs/access_log",
        "/var/run/mysqld/mysqld.pid",
        "/usr/lib/security/mkuser.default",
    ] {
        attack("lfi-004", "query", "file", v);
    }
    benign("json", "note", "the ..2f sequence is hex for a slash");
    benign("json", "note", "put it in your .bashrc and reload");
    benign("query", "theme", "profile");
}

#[test]
fn sqli_141_143_sqlmap_templates_and_account_statements() {
    for v in [
        "(SELECT COUNT(*) FROM GENERATE_SERIES(1,5000000))",
        "AND CASE WHEN 4940=4940 THEN 4940 ELSE JSON('xQzT') END",
        ";IF(4940=4940) SELECT 4940 ELSE DROP FUNCTION xQzT",
        ";CALL REGEXP_SUBSTRING(REPEAT(RIGHT(CHAR(4940),0),500000000),NULL)",
        "(SELECT COUNT(*) FROM SYSIBM.SYSTABLES AS T1,SYSIBM.SYSTABLES AS T2,SYSIBM.SYSTABLES AS T3)",
    ] {
        attack("sqli-141", "query", "id", v);
    }
    for v in [
        "' grant connect to name; grant resource to name; --",
        "'create user name identified by 'pass123' --",
        "' or '' '",
    ] {
        attack("sqli-142", "json", "user", v);
    }
    attack("sqli-143", "json", "user", "or true--");
    for v in [
        "(select one from the list)",
        "in case when you arrive, then call",
        "Please grant access to Maria",
        "we repeat (every day, 1000000 times)",
        "my pet's name or ''nickname''",
        "the answer is true or false",
    ] {
        benign("json", "note", v);
        benign("query", "q", v);
    }
}

#[test]
fn round8_xss_lists_sinks_as_values_octal_quotes_and_split_tags() {
    attack("xss-122", "query", "q", "[1].find(alert)");
    attack("xss-122", "json", "q", "a=alert,a(1)");
    attack("xss-122", "form", "q", "eval(a+b+c+d);");
    attack("xss-120", "query", "q", "top[8680439..toString(30)](1)");
    attack(
        "xss-123",
        "query",
        "q",
        "'<'/'><'s't'y'l'e'/'o'n'l'o'a'd'='a'l'e'r't('1')'>",
    );
    blocked("query", "q", "\\74svg o\\156load\\75alert\\501\\51\\76");
    blocked(
        "json",
        "q",
        "<</div>script</div>>alert()<</div>/script</div>>",
    );
    blocked(
        "json",
        "q",
        "<![CDATA[<]]>SCRIPT<![CDATA[>]]>alert('XSS');<![CDATA[<]]>/SCRIPT<![CDATA[>]]>",
    );
    blocked(
        "query",
        "q",
        "<BODY onload!#$%&()*~+-_.,:;?@[/|\\]^`=alert(\"XSS\")>",
    );
    blocked("query", "q", "top.open`javas\\cript:al\\ert(1)`");
    blocked(
        "json",
        "q",
        "<LAYER SRC=\"http://x.example/scriptlet.html\"></LAYER>",
    );
    // Twins: a level list, a callback named like a word, octal-looking paths, CDATA text.
    for v in [
        "severity=alert,warning",
        "items.map(render)",
        "(alert) sounds when the door opens",
        "C:\\temp\\101\\notes.txt",
        "chmod \\755 is not a thing",
        "<![CDATA[Tom & Jerry]]>",
        "it's 'on' 'load' tonight",
    ] {
        benign("json", "note", v);
        benign("query", "q", v);
    }
}

#[test]
fn ssrf_105_authorities_two_parsers_read_differently() {
    attack(
        "ssrf-105",
        "query",
        "url",
        "http://127.1.1.1:80:\\@@127.2.2.2:80/",
    );
    attack(
        "ssrf-105",
        "json",
        "url",
        "http://example.com:80:\\@127.0.0.1/",
    );
    attack("ssrf-105", "json", "url", "https://a.example@@10.0.0.1/");
    benign("json", "url", "https://user@example.com:8443/path?q=a@b");
    benign("query", "url", "mailto:team@@example.com is a typo");
}

#[test]
fn sqli_144_145_column_probes_and_postgres_recon() {
    for v in [" ORDER BY 3-- ", " ORDER BY 12# ", "') GROUP BY 2/*"] {
        attack("sqli-144", "query", "id", v);
    }
    for v in [
        "select current_setting('data_directory');",
        "select current_database();",
        "select * from pg_shadow;",
        "1;select pg_sleep(5)",
    ] {
        attack("sqli-145", "json", "q", v);
    }
    for v in [
        "Order by 12",
        "order by 3 -- thanks!",
        "sort by price, then order by 2 columns",
        "the current setting is fine",
        "pg_dump nightly backups",
    ] {
        benign("json", "note", v);
    }
}
