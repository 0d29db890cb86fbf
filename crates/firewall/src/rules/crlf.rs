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
