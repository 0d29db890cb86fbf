//! Code injection into interpreters: PHP (CRS 933), Java and expression languages (944),
//! and Node.js / Python / prototype pollution (934).

use aho_corasick::AhoCorasick;

use super::{
    Category::{Code, Java, Php},
    Detector, Hit, PatternDef, RuleInfo,
    Severity::*,
    Subject, p,
};
use crate::normalize::Variant::{Decoded, Folded, Sql};

/// Pattern rules.
pub const PATTERNS: &[PatternDef] = &[
    // PHP open tags.
    p(
        "php-101",
        Php,
        Critical,
        Folded,
        r"<\?(php\b|=)|<\?\s*(echo|print|system|exec|passthru|eval|include|require|\$\w)|\[/?php\]|\{/?php\}",
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
        r"\bjava\s*\.\s*(lang\s*\.\s*(runtime|processbuilder|system|class|reflect|thread)|io\s*\.\s*(file|objectinputstream)|net\s*\.\s*(url|socket)|beans\s*\.\s*xmldecoder|util\s*\.\s*scanner)|\bruntime\s*\.\s*getruntime\s*\(|\bnew\s+processbuilder\b|\bgetclass\s*\(\s*\)\s*\.\s*(forname|getclassloader|getmethod)|class\s*\.\s*forname\s*\(|\.getdeclaredmethod\s*\(|\bjavax\s*\.\s*(script|naming|management)\b|scriptenginemanager|\bclass\s*\.\s*module\s*\.\s*classloader|\borg\s*\.\s*apache\s*\.\s*(commons\s*\.\s*collections|xalan|struts2|catalina)|com\s*\.\s*sun\s*\.\s*(org\s*\.\s*apache|rowset|jndi)",
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
    // expression-language payloads instantiate. Type names also occur in stack traces and
    // API docs, so the generic form is a warning; gadget packages are critical.
    p(
        "java-105",
        Java,
        Critical,
        Folded,
        r"\b(java|javax|jdk|sun|com\s*\.\s*sun)\s*\.\s*(io|lang|net|nio|rmi|beans|util|script|naming|management|xml|reflect|misc|security)\s*\.\s*[a-z]\w+",
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
    // Java serialized streams (raw or base64) and XML decoder payloads.
    p(
        "java-103",
        Java,
        Critical,
        Decoded,
        r"\xac\xed\x00\x05|\brO0AB[A-Za-z0-9+/]|\bH4sIAAAAAAAA[A-Za-z0-9+/]{20}|<java\b[^>]*class\s*=|<object\s+class\s*=\s*.java\.",
    ),
    // Node.js: child processes, module loading, global process access.
    p(
        "code-101",
        Code,
        Critical,
        Folded,
        r#"\brequire\s*\(\s*['"`]\s*(child_process|fs|net|vm|os|http)\b|\bprocess\s*\.\s*(mainmodule|binding|dlopen)\b|\bchild_process\b|\.constructor\s*\(\s*['"`]return|\bglobal\s*\.\s*process\b|\bnew\s+function\s*\(\s*['"`]"#,
    ),
    // Prototype pollution keys and paths.
    p(
        "code-102",
        Code,
        Critical,
        Folded,
        r"(^|[.\[/'\x22])(__proto__|constructor\s*[.\]\[/'\x22]+\s*prototype)\b",
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
];

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

/// Base64 text that decodes to Java runtime / gadget class names (serialized objects and
/// Struts / Spring parameters smuggled encoded). Every run of base64 characters of 8 or
/// more is decoded at the four alignments and searched for the words above.
#[derive(Debug)]
pub struct Base64GadgetDetector {
    words: Option<AhoCorasick>,
}

impl Base64GadgetDetector {
    /// Builds the word matcher.
    pub fn new() -> Self {
        Self {
            words: AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(GADGET_WORDS)
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

/// Decodes whole 4-character groups (standard or URL-safe alphabet) into `out`.
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
    true
}

fn is_b64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_')
}

impl Detector for Base64GadgetDetector {
    fn rules(&self) -> &'static [RuleInfo] {
        &[BASE64_GADGET]
    }

    fn detect(&self, subject: &Subject<'_>, hits: &mut Vec<Hit>) {
        let Some(words) = &self.words else { return };
        let v = subject.norm.decoded.as_bytes();
        let mut start = 0usize;
        let mut buf = Vec::new();
        while start < v.len() {
            let len = v
                .get(start..)
                .unwrap_or_default()
                .iter()
                .take_while(|&&b| is_b64(b))
                .count();
            if len >= 8 {
                let end = start.saturating_add(len);
                let run = v.get(start..end).unwrap_or_default();
                for shift in 0..4usize {
                    let Some(tail) = run.get(shift..) else { break };
                    let whole = tail.len() / 4 * 4;
                    let chunk = tail.get(..whole).unwrap_or_default();
                    let ok = b64_decode(chunk, &mut buf);
                    if ok && words.is_match(&buf) {
                        hits.push(Hit {
                            rule: BASE64_GADGET,
                            variant: Decoded,
                            span: (start, end),
                        });
                        return;
                    }
                }
                start = end;
            } else {
                start = start.saturating_add(len).saturating_add(1);
            }
        }
    }
}
