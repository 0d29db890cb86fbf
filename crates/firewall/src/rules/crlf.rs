//! CRLF / header injection and response splitting: a line break (sent encoded, since the
//! HTTP parser refuses raw ones in the head) followed by a header line or a new message.
//! Runs on the `lower` variant, which keeps line breaks.

use super::{Category::Crlf, PatternDef, Severity::*, p};
use crate::normalize::Variant::Lower;

/// Pattern rules.
pub const PATTERNS: &[PatternDef] = &[
    // Header names that are also common YAML / config keys (`host:`, `link:`, `via:`)
    // count only at the start of a line: an indented `  host: 0.0.0.0` is a config
    // snippet pasted into a text field (and an indented line is a folded continuation,
    // not a new header).
    p(
        "crlf-101",
        Crlf,
        Critical,
        Lower,
        r"[\r\n][\t ]*(set-cookie|set-cookie2|location|content-(type|length|disposition|security-policy|encoding|language)|refresh|x-xss-protection|x-frame-options|x-forwarded-[\w-]+|x-real-ip|x-original-url|x-rewrite-url|access-control-[\w-]+|transfer-encoding|cache-control|authorization|www-authenticate|last-modified|strict-transport-security|referrer-policy|x-[\w-]*(user|auth|token|admin|role|id|ip)[\w-]*)\s*:|[\r\n](link|host|cookie|connection|upgrade|via)\s*:",
    ),
    // A new status line or request line after a break (response splitting / smuggling).
    p(
        "crlf-102",
        Crlf,
        Critical,
        Lower,
        r"[\r\n]\s*(http/\d(\.\d)?\s+\d{3}|(get|post|put|delete|head|options|patch|trace|connect)\s+\S+\s+http/\d)",
    ),
    // A value that is itself an HTTP request line (`GET http://host/ HTTP/1.1`): request
    // smuggling through a parameter that a backend writes onto its own connection. Only as
    // the whole value (or followed by a line break): prose quoting a request line mid-sentence
    // passes.
    p(
        "crlf-106",
        Crlf,
        Critical,
        Lower,
        r"^\s*(get|post|put|delete|head|options|patch|trace|connect)\s+\S+\s+http/\d(\.\d)?\s*($|[\r\n])",
    ),
    // An empty line followed by markup: body injection through a header.
    p("crlf-103", Crlf, Error, Lower, r"(\r?\n){2}\s*<\s*[a-z!]"),
    // Unicode code points that some stacks truncate to CR / LF (`U+560A U+560D`, read as `\n\r` by some stacks).
    p(
        "crlf-104",
        Crlf,
        Critical,
        Lower,
        r"(\xe5\x98[\x8a\x8d])+\s*[a-z][\w-]{1,30}\s*:",
    ),
    // Round 6. A header line after a break whose name is not in crlf-101 but is clearly a
    // response header (`\r\nX-Injected: 1`, `\r\nVary: *`, `\r\nExpires: 0`): an `x-`
    // name with a value, or a standard name. Needs CR LF / a leading break then the name
    // without prose around it (`\nX-ray: done` in a multi-line note would also match, so
    // only hyphenated `x-` names count).
    p(
        "crlf-107",
        Crlf,
        Critical,
        Lower,
        r"(^|[\r\n])[\r\n][\t ]*(x-[a-z0-9]+(-[a-z0-9]+)*|vary|expires|etag|pragma|retry-after|alt-svc|keep-alive|content-[a-z]+|accept-ranges|server|age|p3p|timing-allow-origin|clear-site-data|x-accel-redirect|x-sendfile)[\t ]*:[\t ]*\S",
    ),
    // Round 6. Line breaks sent as text escapes (`\r\nSet-Cookie:` with literal backslashes,
    // which a templating layer or logger turns back into a break) and Unicode code points
    // that Node.js / some proxies truncate to CR / LF or treat as a line end (`U+010D U+010A`
    // `čĊ`, `U+2028`, `U+2029`, `U+0085`) immediately before a response header name.
    p(
        "crlf-108",
        Crlf,
        Critical,
        Lower,
        r"(\\r\\n|\\n|\\r|(\xe2\x80[\xa8\xa9]|\xc2\x85|\xc4[\x8a-\x8d]|\xe5\x98[\x8a\x8d])+)(set-cookie|location|content-(type|length)|refresh|x-xss-protection|access-control-allow-[a-z-]+|transfer-encoding|cache-control|strict-transport-security|x-[a-z0-9-]+)\s*:",
    ),
    // Round 4. POP3 / IMAP commands with their argument shapes after an injected CRLF
    // (case-insensitive, `cmdi-118` keeps IMAP upper case): `\r\nRETR 1`, `\r\nTOP 1 2`,
    // `\r\nAPOP user <md5>`, `\r\nAUTH PLAIN`, `\r\na001 authenticate`.
    p(
        "crlf-105",
        Crlf,
        Critical,
        Lower,
        r"\r\n\s*((retr\s+\d+|top\s+\d+\s+\d+|uidl(\s+\d+)?|apop\s+\S+\s+[0-9a-f]{32}|auth\s+(plain|login|cram-md5|xoauth2|[a-z0-9-]+\s+[a-z0-9+/]{12,}={0,2}))(\s|$)|[a-z]\d{2,4}\s+(authenticate|login|uid|select|fetch|store|examine)\s)",
    ),
];
