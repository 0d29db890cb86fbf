//! Code injection into interpreters: PHP (CRS 933), Java and expression languages (944),
//! and Node.js / Python / prototype pollution (934).

use aho_corasick::AhoCorasick;

use super::{
    Category::{Code, Java, Php},
    Detector, Hit, PatternDef, RuleInfo,
    Severity::*,
    Subject, p,
};
use crate::normalize::Variant::{Decoded, Folded, Lower, Sql};

/// Pattern rules.
pub const PATTERNS: &[PatternDef] = &[
    // PHP open tags.
    p(
        "php-101",
        Php,
        Critical,
        Folded,
        r"<\?(\s*php\b|=)|<\?xml\s*(:|\(\s*\))|<\?\s*(echo|print|system|exec|passthru|eval|include|require|\$\w)|\[[/\\]?php\]|\{[/\\]?php\}|<\?\s*$",
    ),
    // PHP functions that execute, evaluate or read, called with an argument. Ordinary
    // words ("system", "exec") need the call syntax *and* a PHP-looking argument.
    p(
        "php-102",
        Php,
        Critical,
        Sql,
        r#"\b(shell_exec|passthru|proc_open|popen|pcntl_exec|create_function|call_user_func(_array)?|preg_replace|assert|base64_decode|gzinflate|gzuncompress|str_rot13|file_get_contents|file_put_contents|fwrite|fopen|readfile|highlight_file|show_source|phpinfo|php_uname|posix_\w+|getenv|putenv|ini_set|move_uploaded_file|unserialize|array_map|usort|extract|parse_str)\s*\(\s*(\$|['"`]|\)|[a-z_]+\s*\(|chr\s*\(|\d)"#,
    ),
    // `system("id")`, `exec($_GET[..])`, `eval(...)` — call syntax with a string or variable.
    p(
        "php-103",
        Php,
        Critical,
        Sql,
        r#"\b(system|exec|eval|passthru|shell_exec)\s*\(\s*(['"`]\s*[a-z/]|\$_?\w|base64_decode|gzinflate|str_rot13|chr\s*\(|\$\{|request|\w+\s*\()"#,
    ),
    // Superglobals and variable variables.
    p(
        "php-104",
        Php,
        Critical,
        Folded,
        r"\$_(get|post|request|cookie|server|files|env|session)\b|\$globals\s*\[|\$\{\s*['\x22]?\w+['\x22]?\s*\}\s*\(|\$\w+\s*\(\s*\$_",
    ),
    // PHP serialized objects (deserialisation gadgets).
    p(
        "php-105",
        Php,
        Critical,
        Decoded,
        r#"\b[OoCc]:\d+:"[\w\\]+":\d+:\{|\ba:\d+:\{[si]:\d+[:;]"#,
    ),
    // Java runtime, reflection and process APIs.
    p(
        "java-101",
        Java,
        Critical,
        Folded,
        r"\bjava\s*\.\s*(lang\s*\.\s*(runtime|processbuilder|system|class|reflect)|io\s*\.\s*(file|objectinputstream)|net\s*\.\s*(url|socket)|beans\s*\.\s*xmldecoder|util\s*\.\s*scanner)|\bruntime\s*\.\s*getruntime\s*\(|\bnew\s+processbuilder\b|\bgetclass\s*\(\s*\)\s*\.\s*(forname|getclassloader|getmethod)|class\s*\.\s*forname\s*\(|\.getdeclaredmethod\s*\(|\bjavax\s*\.\s*(script|naming|management)\b|scriptenginemanager|\bclass\s*\.\s*module\s*\.\s*classloader|\borg\s*\.\s*apache\s*\.\s*(commons\s*\.\s*collections|xalan|struts2|catalina)|com\s*\.\s*sun\s*\.\s*(org\s*\.\s*apache|rowset|jndi)",
    ),
    // Class names of the process and reflection APIs without the full package.
    p(
        "java-104",
        Java,
        Critical,
        Folded,
        r"\bjava\s*\.\s*[\w.$]{0,60}\b(runtime|processbuilder|classloader|scriptengine\w*|urlclassloader|invoker\w*)\b|\bprocessbuilder\s*[.(]|\b(invokertransformer|chainedtransformer|constanttransformer|instantiatetransformer|clonetransformer|templatesimpl|jdbcrowsetimpl|annotationinvocationhandler)\b",
    ),
    // Fully qualified names of JDK and framework classes that deserialisation and
    // expression-language payloads instantiate. Stack traces name them too, but there a
    // frame (`java.lang.Thread.run(`) or a message (`java.io.IOException: x`) follows;
    // those shapes are left out.
    p(
        "java-105",
        Java,
        Critical,
        Folded,
        r"\b(java|javax|jdk|sun|com\s*\.\s*sun)\s*\.\s*(io|lang|net|nio|rmi|beans|util|script|naming|management|xml|reflect|misc|security)\s*\.\s*[a-z]\w+(\s*$|[^\w.(:])",
    ),
    p(
        "java-106",
        Java,
        Critical,
        Folded,
        r"\bcom\s*\.\s*opensymphony\s*\.\s*xwork2|\bcom\s*\.\s*sun\s*\.\s*org\s*\.\s*apache|\borg\s*\.\s*apache\s*\.\s*(commons\s*\.\s*collections\d?\s*\.\s*functors|xalan\s*\.\s*xsltc|bcel|tomcat\s*\.\s*dbcp|naming\s*\.\s*factory)|\bjava\s*\.\s*io\s*\.\s*(file(output|input)stream|objectinputstream|objectoutputstream|pipedoutputstream|randomaccessfile)\b|\bjava\s*\.\s*lang\s*\.\s*(reflect|invoke)\b",
    ),
    // Deserialisation gadget classes (commons-collections functors and closures) and the
    // `runtime.` / `processbuilder.` compounds naming them; these class names do not occur
    // in ordinary text.
    p(
        "java-107",
        Java,
        Critical,
        Folded,
        r"\b(runtime|processbuilder|java)\s*\.\s*[\w.]{0,40}(clonetransformer|forclosure|instantiatefactory|instantiatetransformer|invokertransformer|prototypeclonefactory|prototypeserializationfactory|whileclosure|getproperty|filewriter|xmldecoder)|\b(forclosure|whileclosure|instantiatefactory|prototypeclonefactory|prototypeserializationfactory)\b|\borg\s*\.\s*(omg\s*\.\s*corba|apache\s*\.\s*commons\b)",
    ),
    // OGNL / Struts.
    p(
        "java-102",
        Java,
        Critical,
        Folded,
        r"#_memberaccess|@ognl|ognlcontext|#context\s*\[|%\{\s*\(?\s*#|#(application|session|request|parameters|attr)\s*\[|xwork2?\s*\.|@java\s*\.\s*lang",
    ),
    // Java serialized streams (raw, or base64 at any of the three byte alignments of the
    // stream magic `ac ed 00 05`) and XML decoder payloads.
    p(
        "java-103",
        Java,
        Critical,
        Decoded,
        r"\xac\xed\x00\x05|\brO0AB[A-Za-z0-9+/]|\bH4sIAAAAAAAA[A-Za-z0-9+/]{20}|KztAAU|Cs7QAF|<java\b[^>]*class\s*=|<object\s+class\s*=\s*.java\.",
    ),
    // PHP calls that need no PHP-looking argument to be recognised: names of the
    // dangerous built-ins and of extension functions that are not words in any other
    // language (`fsockopen(`, `call_user_func(`, `ldap_get_entries(`), not after `.`
    // (a method of another language), and variable or string callees (`$_(3)`,
    // `$$b(2)`, `"sys"."tem"('id')`, `(system)('id')`). `mail` and `dl` are English: only
    // glued to their `(` (round 5; "send mail (to the team)" passes).
    p(
        "php-106",
        Php,
        Critical,
        Sql,
        r#"(^|[^.\w$>])(fsockopen|pfsockopen|call_user_func(_array)?|gzdecode|bzdecompress|gzinflate|gzuncompress|create_function|proc_open|shell_exec|pcntl_\w+|posix_\w+|symlink|chroot|lchown|gethostbyname|array_(map|filter|walk|diff|reduce|intersect_\w+|udiff\w*|uintersect\w*)|(ldap|odbc|sodium|tidy|zend|pg|mysqli|sqlite|ftp|imap|xmlrpc|openssl|apache|stream|socket|mb_ereg|iconv|date)_\w+|checkdate|phpinfo|php_uname|str_rot13|highlight_file|show_source|ini_(set|get|alter|restore)|set_include_path|register_shutdown_function|include_once|require_once|putenv|getenv|unserialize|file_get_contents|file_put_contents|move_uploaded_file|file_exists|is_(array|string|numeric|callable|object|resource|int|integer|bool|float|null|dir|file|readable|writable|executable|link|uploaded_file)|strrev|intval|strip_tags|base64_(en|de)code|get_defined_\w+|func_get_args?|var_dump|var_export|print_r|preg_\w+|str_(replace|ireplace|repeat|pad|split|shuffle|word_count)|htmlspecialchars\w*|addslashes|stripslashes|hex2bin|bin2hex|md5_file|fileperms|readfile|fpassthru|unpack)\s*\(|(^|[^.\w$>])(dl|mail)\(|\$\$+\w*\s*\(|\$[a-z_]\w*\s*(\[[^\]]{1,20}\]+\s*|\{[^}]{1,20}\}\s*)*\(|\$\s*\{[^}]{1,20}\}\s*\(|\$_+\w*\s*(\[[^\]]{0,20}\]\s*)?\(|@\$\w*\[|['"]\w{2,30}['"]\s*\.\s*['"]\w{1,30}['"]|['"]\w{2,30}['"]\s*\(\s*['"]|\(\s*(system|exec|passthru|shell_exec|assert|eval)\s*\)\s*\(|\(\s*['"]\w{2,30}\s*['"]\s*\)\s*\(|[\['"(]\s*(system|exec|passthru|shell_exec|assert|eval|popen|proc_open|pcntl_exec|phpinfo)\s*['"\]]\s*(\)\s*|\]\s*|\}\s*|\[\s*\d+\s*\]\s*|\{[^}]{0,30}\}\s*)*\(|(call_user_func|fsockopen|gzdecode|gzinflate|gzuncompress|shell_exec|zlib_decode|curl_init|curl_exec|proc_open|pcntl_exec|base64_decode|str_rot13)\s*=?\s*\("#,
    ),
    // Node.js: child processes, module loading, global process access.
    p(
        "code-101",
        Code,
        Critical,
        Folded,
        r#"\brequire\s*\(\s*['"`]\s*(child_process|fs|net|vm|os|http)\b|\bprocess\s*\.\s*(mainmodule|binding|dlopen)\b|\bchild_process\b|\.constructor\s*\(\s*['"`]return|\bglobal\s*\.\s*process\b|\bnew\s+function\s*\(\s*['"`]"#,
    ),
    // Node.js deserialisation and sandbox escapes, Ruby process calls, Perl interpolated
    // code, infinite loops for denial of service.
    p(
        "code-105",
        Code,
        Critical,
        Folded,
        r#"_\$\$nd_func\$\$_|\b__js_function\b|\bthis\s*\.\s*constructor\s*\.\s*constructor\b|\bprocess\s*\.\s*(spawn|exec|kill)\s*\(|\bio\s*\.\s*popen\s*\(|@\{\s*\[.{1,80}\]\s*\}|\bwhile\s*\(\s*\(*\s*(!\s*)*[-+]?(\d+|true|false|null|undefined|nan|infinity|this|string|number|object|array|new\s+\w+|\[\]|''|""|``|\{\})\s*\)*\s*\)\s*(;|\{\s*\}|$)|\bfor\s*\(\s*;\s*;\s*\)\s*(;|\{\s*\}|$)"#,
    ),
    // Node.js globals reached by computed member access or reassigned
    // (`process["env"]`, `require[x.y]`, `console["info"](1)`, `module.exports=`,
    // `require.main`).
    p(
        "code-107",
        Code,
        Critical,
        Folded,
        r#"\b(process|require|module|global|globalthis|console)\s*\[\s*(['"`]|[a-z_$][\w$]*\s*[.\]]|mainmodule)|\bmodule\s*\.\s*exports\s*=|\brequire\s*\.\s*main\b"#,
    ),
    // Prototype pollution keys and paths; round 5: the JSON spelling in one value
    // (`"constructor":{"prototype"`), assignments to `Object.prototype` members and the
    // legacy accessor definers (`__defineGetter__(`).
    p(
        "code-102",
        Code,
        Critical,
        Folded,
        r"(^|[.\[/'\x22])(__proto__|constructor\s*[.\]\[/'\x22]+\s*prototype)\b|constructor['\x22]\s*:\s*\{\s*['\x22]prototype['\x22]|\bobject\s*\.\s*prototype\s*(\.\s*[\w$]+|\[[^\]]{1,40}\])\s*=[^=]|\bobject\s*\.\s*(setprototypeof|defineproperty|assign)\s*\(\s*object\s*\.\s*prototype\b|\.__(definegetter|definesetter|lookupgetter|lookupsetter)__\s*\(",
    ),
    // Python: imports and os / subprocess calls.
    p(
        "code-103",
        Code,
        Critical,
        Folded,
        r"\b__import__\s*\(|\bos\s*\.\s*(system|popen|exec\w*|spawn\w*)\s*\(|\bsubprocess\s*\.\s*(call|run|popen|check_output)\s*\(|\bpickle\s*\.\s*loads\s*\(|\beval\s*\(\s*compile\s*\(",
    ),
    // Ruby.
    p(
        "code-104",
        Code,
        Error,
        Folded,
        r"\b(kernel\s*\.\s*(system|exec|spawn|open)|io\s*\.\s*popen|open3\s*\.\s*\w+|%x\s*[\(\{\[])|\bobject\s*\.\s*send\s*\(\s*:",
    ),
    // Round 4. PHP process functions called on a bare command word: `system(whoami)`,
    // `passthru(id)`, `exec (uname -a)` (the quoted form is `php-103`).
    p(
        "php-107",
        Php,
        Critical,
        Folded,
        r"(^|[^.\w$>])(system|exec|passthru|shell_exec|popen|proc_open|pcntl_exec)\s*\(\s*['`]?\s*(whoami|id|uname|ls|cat|pwd|ifconfig|ipconfig|wget|curl|nc|ncat|bash|sh|cmd|dir|type|net|ping|echo|touch|rm|hostname|tasklist|systeminfo)(\s+-{1,2}\w+)*\s*['`]?\s*\)",
    ),
    // PHP variable variables and brace-dereferenced calls: `${'ff'}`, `${$a}`,
    // `$ {'x'}`, `("sys"."tem")('id')`, `(sy.(st).em)('uname')`.
    p(
        "php-108",
        Php,
        Critical,
        Folded,
        r#"\$\s*\{\s*(['"][^'"]{0,40}['"]|\$\w+)\s*\}|\(\s*['"]?\w{1,10}['"]?\s*\.\s*\(?\s*['"]?\w{1,10}['"]?\s*\)?\s*(\.\s*['"]?\w{1,10}['"]?\s*)*\)\(\s*['"][\w\s./-]{1,40}['"]\s*\)"#,
    ),
    // Prototype pollution through serialised references (React Server Components,
    // `$1:constructor:constructor`, `$7:Module:prototype`): a `$` reference path walking
    // into `constructor` / `__proto__` / `prototype`.
    p(
        "code-108",
        Code,
        Critical,
        Folded,
        r"\$[\w@]{0,6}:(\w+:)*(constructor|__proto__|prototype)\b",
    ),
    // Round 5. A PHP function name cut from its `(` by what only an evasion puts there: a
    // comment (`exec/**/(`, `exec #x⏎(`, `exec //x⏎(`), a tab or line break, or a run of
    // spaces (`fopen  (x)`). PHP-only names take any of these; names that are English words
    // (`file`, `system`, `mail`) need a comment, tab or line break *and* an empty or
    // PHP-looking argument (`FILE⏎()`, `system⏎($x)`): "the file⏎(2 pages)" passes. Runs on
    // `lower`, where comments and whitespace are still as sent.
    p(
        "php-109",
        Php,
        Critical,
        Lower,
        r#"(^|[^\w.$>-])(exec|eval|assert|assert_options|passthru|shell_exec|popen|proc_open|pcntl_exec|fopen|fsockopen|pfsockopen|filegroup|fileowner|fileinode|fileperms|readfile|file_get_contents|file_put_contents|fwrite|fputs|unlink|chmod|chown|chgrp|symlink|base64_decode|gzinflate|gzuncompress|str_rot13|create_function|call_user_func|call_user_func_array|preg_replace|unserialize|phpinfo|include_once|require_once|highlight_file|show_source|move_uploaded_file|curl_exec|curl_init|unpack)(\x20{2,}|\x20*([\t\r\n\x0b\x0c]|#[^\n]*\n|//[^\n]*\n|/\*([^*]|\*+[^*/])*\*+/))(\s|#[^\n]*\n|//[^\n]*\n|/\*([^*]|\*+[^*/])*\*+/)*\(|(^|[^\w.$>-])(system|file|copy|link|mail|touch|include|require|print|echo|header)\x20*([\t\r\n\x0b\x0c]|#[^\n]*\n|//[^\n]*\n|/\*([^*]|\*+[^*/])*\*+/)(\s|#[^\n]*\n|//[^\n]*\n|/\*([^*]|\*+[^*/])*\*+/)*\(\s*(\)|\$|['"])"#,
    ),
    // Round 5. Calls of more PHP built-ins whose names exist in no other language or in
    // English (`assert_options(`, `escapeshellcmd(`, `wp_remote_get(`, `php_uname(`,
    // `getmypid(`, `filegroup(`, `mb_send_mail(`, `new ReflectionFunction(`), not after `.` /
    // `->` / a word; and the most distinctive of these names as the whole value without a
    // call (`phpinfo`, `base64_decode;`), which CRS flags as a name alone.
    p(
        "php-110",
        Php,
        Critical,
        Sql,
        r#"(^|[^.\w$>])(assert_options|convert_uu(de|en)code|escapeshell(arg|cmd)|call_user_method(_array)?|sys_get_temp_dir|wp_(safe_)?remote_\w+|zlib_(de|en)code|proc_(nice|terminate|close|get_status)|parse_ini_(file|string)|highlight_string|php_\w+|phpversion|zend_version|getmy(pid|uid|gid|inode)|getlastmod|get_cfg_var|get_current_user|get_include_path|get_loaded_extensions|debug_zval_refcount|filegroup|fileinode|fileowner|fileatime|filectime|filemtime|lchgrp|disk_(free|total)_space|diskfreespace|mb_\w+|spl_autoload\w*|set_(error|exception)_handler|ob_(start|get_\w+|end_\w+|implicit_flush)|fgetss|fputcsv|fgetcsv|curl_(init|exec|multi_\w+|setopt\w*|file_create)|exif_read_data|getimagesize|imagecreatefrom\w+|simplexml_load_\w+|libxml_\w+|get_meta_tags|passthru|pcntl_exec|scandir|reflection(function|method)|__halt_compiler)\s*\(|^\s*(phpinfo|php_uname|shell_exec|passthru|proc_open|pcntl_exec|base64_decode|gzinflate|gzuncompress|str_rot13|call_user_func(_array)?|create_function|fsockopen|pfsockopen|assert_options|escapeshell(cmd|arg)|file_get_contents|file_put_contents|move_uploaded_file|get_defined_(vars|functions|constants)|__halt_compiler)\s*;?\s*$"#,
    ),
    // Round 5. php.ini directives that turn on remote includes or lift the sandbox, set in a
    // value (`-d allow_url_include=1`, `auto_prepend_file=php://input` through CGI
    // argument injection or `.user.ini` / `ini_set`) or sent as a parameter name; and the
    // PHP variables of the request that are no word elsewhere (`$HTTP_RAW_POST_DATA`,
    // `$HTTP_GET_VARS`, `$GLOBALS`, `$php_errormsg`).
    p(
        "php-111",
        Php,
        Critical,
        Folded,
        r"\b(allow_url_(include|fopen)|auto_(prepend|append)_file|disable_(functions|classes)|open_basedir|safe_mode\w*|register_globals|enable_dl|cgi\.(force_redirect|redirect_status_env|fix_pathinfo)|suhosin\.\w+|sendmail_path|extension_dir|phar\.readonly|session\.(save_path|save_handler|serialize_handler|upload_progress\.\w+|use_trans_sid|auto_start)|user_ini\.(filename|cache_ttl)|mbstring\.func_overload|display_(startup_)?errors|error_reporting|error_log|log_errors|html_errors|expose_php|short_open_tag|asp_tags|file_uploads|upload_tmp_dir|include_path|doc_root|user_dir|sys_temp_dir|unserialize_callback_func|register_argc_argv|mail\.(add_x_header|force_extra_parameters|log)|zend\.(enable_gc|multibyte|script_encoding|assertions)|zend_extension|sql\.safe_mode|track_errors|opcache\.(enable\w*|file_cache\w*|validate\w*|restrict_api)|xdebug\.(remote\w*|client\w*|mode|start_with_request)|assert\.(active|callback|exception))\s*=|^\s*(-d\s*)?(allow_url_include|allow_url_fopen|auto_prepend_file|auto_append_file)\s*$|\$http_(get|post|cookie|server|env|session|post_files)_vars\b|\$?http_raw_post_data\b|\$http_response_header\b|\$php_errormsg\b|\$globals\b",
    ),
    // Round 5. Strings built character by character with PHP's `chr()` and the `.`
    // operator (`chr(115).chr(121).chr(115)`), how payloads spell a function name without
    // writing it; SQL spells it `char(..)` with `||` or `concat`, prose never.
    p(
        "php-112",
        Php,
        Critical,
        Sql,
        r"\bchr\s*\(\s*(\d+|0x[0-9a-f]+)\s*\)\s*\.\s*chr\s*\(",
    ),
    // Round 5. Ruby and Perl command execution in forms no prose takes: `Kernel.system`,
    // `IO.popen`, `Open3.capture2(`, a symbol-dispatched call of a process or eval method
    // (`send(:system, ..)`, `public_send(:eval`), `instance_eval("..")`, Perl `qx(..)` /
    // `qx{..}`; and Python's `pty.spawn(` (the shell upgrade of a reverse shell).
    // `code-104` keeps the looser `%x(` (a printf format) as an error.
    p(
        "code-112",
        Code,
        Critical,
        Folded,
        r#"\bkernel\s*\.\s*(system|exec|spawn|open|`|syscall|fork)\b|\bio\s*\.\s*popen\s*\(|\bopen3\s*\.\s*(popen\w*|capture\w*|pipeline\w*)\s*\(|\b(__send__|public_send|send)\s*\(\s*:\s*['"]?(system|exec|eval|spawn|syscall|open|instance_eval|class_eval|module_eval|popen|`)|\b(instance_eval|class_eval|module_eval)\s*\(\s*['"%]|\bqx\s*[({\[<|!]\s*\S|\bpty\s*\.\s*spawn\s*\("#,
    ),
    // Round 5. Node.js beyond `require('child_process')`: dynamic `import()` and `node:`
    // specifiers of system modules, the `Function` constructor reached through any
    // `constructor.constructor` or called on a `return` body, `vm` sandboxes, the `*Sync`
    // process calls, process control (`process.exit(`, `process.setuid(`) and
    // `eval(Buffer.from(..))` / `eval(atob(..))`. All are call syntax of Node APIs that
    // prose does not write.
    p(
        "code-109",
        Code,
        Critical,
        Folded,
        r#"\bimport\s*\(\s*['"`]\s*(node:)?(child_process|fs|fs/promises|net|vm|os|http|https|worker_threads|process|cluster|dgram|inspector|module|v8)\s*['"`]|\brequire\s*\(\s*['"`]\s*node:\w+|\bconstructor\s*(\.|\[\s*['"`])\s*constructor\b|(^|[^\w.])function\s*\(\s*['"`]\s*return\b|\bvm\s*\.\s*(runin\w+|compilefunction|script|sourcetextmodule)\s*\(|\bnew\s+vm\s*\.\s*script\b|\b(exec|execfile|spawn)sync\s*\(|\bprocess\s*\.\s*(exit|abort|chdir|setuid|setgid|seteuid|reallyexit|_linkedbinding|_getactivehandles|openstdin)\s*\(|\bmodule\s*\.\s*constructor\s*\.\s*_load\b|\bglobalthis\s*\.\s*(process|require|eval|function)\b|\beval\s*\(\s*(buffer\s*\.\s*from|atob|unescape|string\s*\.\s*fromcharcode)\s*\("#,
    ),
    // Round 5. A whole value that is one Node.js expression on the `process` or `console`
    // globals (`process.env`, `process.argv[1]`, `process.mainModule`,
    // `console.info(1)`, `console.log.call(this,1)`): the probe a server-side JavaScript
    // injection sends to see whether it runs. Words around it (prose, a stack trace) make
    // it pass; a bare identifier field does not hold these. A named variable
    // (`process.env.NODE_ENV`) is how configuration docs name a setting and passes.
    p(
        "code-113",
        Code,
        Critical,
        Folded,
        r"^\s*(process\s*\.\s*env|process\s*\.\s*(argv|execargv|mainmodule|pid|ppid|cwd|version|versions|platform|arch|exit|kill|umask|uptime|memoryusage|config|release|getuid|getgid)\b[\w.$\[\]'\x22()]*|console\s*\.\s*(log|info|warn|error|debug|trace|dir|table)\s*(\.\s*(call|apply|bind)\s*)?\([^)]*\))\s*;?\s*$",
    ),
    // Round 5. Deserialisation payloads of scripting languages: YAML type tags that
    // instantiate objects or call functions (`!!python/object/apply:os.system`,
    // `!ruby/object:Gem::Installer`, `!!js/function`), jsonpickle tags (`"py/reduce"`),
    // pickle opcodes importing a process function (`cos⏎system⏎`), and Ruby / Python
    // loaders called on input (`Marshal.load(`, `yaml.unsafe_load(`, `dill.loads(`).
    p(
        "code-110",
        Code,
        Critical,
        Lower,
        r#"!!python/(object|name|module)\b|!ruby/(object|hash|struct|marshalable|class|module|regexp|array|string):|!!js/(function|undefined|regexp)\b|(^|['"])py/(object|reduce|type|function|repr|newobj|initargs)(['"]|$)|(^|[^\w])c(os|posix|nt|subprocess|builtins|__builtin__|commands|pty|socket|platform|webbrowser)\n(system|popen\w*|exec\w*|spawn\w*|call|check_output|run|eval|getattr|__import__|apply|open|spawn)\n|\bmarshal\s*\.\s*(load|restore)\s*\(|\b(yaml\s*\.\s*unsafe_load|(c?pickle|_pickle|dill|jsonpickle|shelve)\s*\.\s*(loads?|decode|open))\s*\("#,
    ),
    // Round 7. PHP's complex variable syntax calling a function with errors suppressed
    // (`${@print(md5(1))}`, `${@system(id)}`): `${@` never starts a shell or template
    // placeholder.
    p(
        "code-114",
        Code,
        Critical,
        Folded,
        r"\$\{\s*@\s*[a-z_]\w*\s*\(",
    ),
    // Round 7. Classic ASP / VBScript droppers: a keyword split into quoted pieces joined
    // with `&` (`"Ex"&"e"&"cute(`), and the statements they open with
    // (`Server.ScriptTimeout=`, `On Error Resume Next` followed by `Execute` / `Eval`).
    p(
        "code-115",
        Code,
        Critical,
        Folded,
        r#""[a-z]{1,5}"\s*&\s*"[a-z]{1,5}"\s*&\s*"|\bserver\s*\.\s*scripttimeout\s*=|\bon\s+error\s+resume\s+next\b.{0,200}\b(execute|eval|executeglobal)\b"#,
    ),
];

const PROTO_PATH: RuleInfo = RuleInfo {
    id: "code-111",
    category: Code,
    severity: Critical,
};

/// Round 5. Prototype pollution through *nested* JSON keys: `{"constructor": {"prototype":
/// {..}}}` names no polluting key on its own (each key is an ordinary word); the member's
/// pointer (`/constructor/prototype`) does. Deep-merge helpers (`lodash.merge`,
/// `$.extend(true, ..)`) walk exactly this path. A key `constructor` or `prototype` alone
/// passes (class diagrams, API docs).
#[derive(Debug, Clone, Copy, Default)]
pub struct PrototypePathDetector;

impl Detector for PrototypePathDetector {
    fn rules(&self) -> &'static [RuleInfo] {
        &[PROTO_PATH]
    }

    fn detect(&self, subject: &Subject<'_>, hits: &mut Vec<Hit>) {
        let loc = subject.location;
        if loc.part != crate::location::Part::BodyKey {
            return;
        }
        let key = subject.norm.folded.trim();
        if key != "prototype" {
            return;
        }
        let name = loc.name.to_ascii_lowercase();
        let parent = name
            .trim_end_matches('/')
            .rsplit('/')
            .nth(1)
            .unwrap_or_default();
        if parent == "constructor" {
            hits.push(Hit {
                rule: PROTO_PATH,
                variant: Folded,
                span: (0, subject.norm.folded.len()),
            });
        }
    }
}

const BASE64_GADGET: RuleInfo = RuleInfo {
    id: "java-108",
    category: Java,
    severity: Critical,
};

/// Java runtime and deserialisation-gadget words as they appear once base64-decoded (the
/// first letter is dropped: an encoded word rarely starts on a 3-byte boundary).
const GADGET_WORDS: &[&str] = &[
    "untime",
    "rocessbuilder",
    "lonetransformer",
    "orclosure",
    "nstantiatefactory",
    "nstantiatetransformer",
    "nvokertransformer",
    "rototypeclonefactory",
    "rototypeserializationfactory",
    "hileclosure",
    "mldecoder",
];

/// Code execution markers found base64-decoded (reported as `code-106`).
const CODE_WORDS: &[&str] = &[
    "hild_process",
    "?php",
    "bin/sh ",
    "bin/bash",
    "md.exe /c",
    "owershell -",
    "hile(true)",
    "hile(1)",
    "hile(!0)",
    // node-serialize function markers (`_$$ND_FUNC$$_function(){..}`), also with the
    // letters `\u`-escaped inside the encoding.
    "_func$$_",
    "nd_func$$",
];

const BASE64_CODE: RuleInfo = RuleInfo {
    id: "code-106",
    category: Code,
    severity: Critical,
};

/// Base64 text that decodes to Java runtime / gadget class names (serialized objects and
/// Struts / Spring parameters smuggled encoded). Every run of base64 characters of 8 or
/// more is decoded at the four alignments (padded with zero digits, so a fragment cut out
/// of a longer encoding still decodes its first word whole) and searched for the words
/// above.
#[derive(Debug)]
pub struct Base64GadgetDetector {
    words: Option<AhoCorasick>,
    code: Option<AhoCorasick>,
}

impl Base64GadgetDetector {
    /// Builds the word matcher.
    pub fn new() -> Self {
        Self {
            words: AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(GADGET_WORDS)
                .ok(),
            code: AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(CODE_WORDS)
                .ok(),
        }
    }
}

impl Default for Base64GadgetDetector {
    fn default() -> Self {
        Self::new()
    }
}

fn b64_val(b: u8) -> Option<u32> {
    match b {
        b'A'..=b'Z' => Some(u32::from(b - b'A')),
        b'a'..=b'z' => Some(u32::from(b - b'a') + 26),
        b'0'..=b'9' => Some(u32::from(b - b'0') + 52),
        b'+' | b'-' => Some(62),
        b'/' | b'_' => Some(63),
        _ => None,
    }
}

/// Decodes base64 (standard or URL-safe alphabet, no padding) into `out`.
fn b64_decode(s: &[u8], out: &mut Vec<u8>) -> bool {
    out.clear();
    for group in s.chunks_exact(4) {
        let mut n = 0u32;
        for &c in group {
            let Some(v) = b64_val(c) else { return false };
            n = (n << 6) | v;
        }
        out.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
    }
    // A trailing partial group (unpadded base64) still yields one or two bytes.
    let rest = s.chunks_exact(4).remainder();
    if rest.len() >= 2 {
        let mut n = 0u32;
        for &c in rest {
            let Some(v) = b64_val(c) else { return false };
            n = (n << 6) | v;
        }
        n <<= 6 * (4 - rest.len() as u32);
        out.push((n >> 16) as u8);
        if rest.len() == 3 {
            out.push((n >> 8) as u8);
        }
    }
    true
}

fn is_b64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_')
}

impl Detector for Base64GadgetDetector {
    fn rules(&self) -> &'static [RuleInfo] {
        &[BASE64_GADGET, BASE64_CODE]
    }

    fn detect(&self, subject: &Subject<'_>, hits: &mut Vec<Hit>) {
        let (Some(words), Some(code)) = (&self.words, &self.code) else {
            return;
        };
        let v = subject.norm.decoded.as_bytes();
        let mut start = 0usize;
        let mut buf = Vec::new();
        let mut padded = Vec::new();
        while start < v.len() {
            let len = v
                .get(start..)
                .unwrap_or_default()
                .iter()
                .take_while(|&&b| is_b64(b))
                .count();
            let end = start.saturating_add(len);
            let run = v.get(start..end).unwrap_or_default();
            // Encoded text mixes cases; an ordinary word (`International`) does not, and
            // is not worth four decodings.
            let mixed = run.iter().filter(|b| b.is_ascii_uppercase()).count() >= 2
                && run.iter().filter(|b| b.is_ascii_lowercase()).count() >= 2;
            if len >= 8 && mixed {
                // The run may start anywhere in a 4-character group: pad it with zero
                // digits (`A`) so every alignment decodes the first word whole.
                for pad in 0..4usize {
                    padded.clear();
                    padded.extend(std::iter::repeat_n(b'A', pad));
                    padded.extend_from_slice(run);
                    let ok = b64_decode(&padded, &mut buf);
                    if !ok {
                        continue;
                    }
                    let rule = if words.is_match(&buf) {
                        BASE64_GADGET
                    } else if code.is_match(&buf) {
                        BASE64_CODE
                    } else {
                        continue;
                    };
                    hits.push(Hit {
                        rule,
                        variant: Decoded,
                        span: (start, end),
                    });
                    return;
                }
                start = end;
            } else {
                start = start.saturating_add(len).saturating_add(1);
            }
        }
    }
}
