//! Remote file inclusion: a URL (or UNC path) given where a server-side include reads it.
//! Shapes that are rare in legitimate URLs carry the weight: an IP-literal host, a trailing
//! `?` or `#` that cuts off the suffix the application appends, a script file served as
//! text, an include call around a URL.

use super::{Category::Rfi, PatternDef, Severity::*, p};
use crate::normalize::Variant::Folded;

/// Pattern rules.
pub const PATTERNS: &[PatternDef] = &[
    // URL ending in `?`/`??`/`#`/`%00` (suffix truncation) right after a file name.
    p(
        "rfi-101",
        Rfi,
        Critical,
        Folded,
        r"^\s*(https?|ftps?|smb|sftp|webdav)://[^\s]{1,200}(\?+|#)\s*$",
    ),
    // Script or text files fetched from another host, as the whole value.
    p(
        "rfi-102",
        Rfi,
        Notice,
        Folded,
        r"^\s*(https?|ftps?)://[^\s?#]+\.(txt|inc|sh|pl|py|cgi|exe|dat)(\?[^\s]*)?\s*$",
    ),
    // URL with an IP-literal host (IPv4, bracketed or bare IPv6) to a script file as the
    // whole value.
    p(
        "rfi-103",
        Rfi,
        Critical,
        Folded,
        r"^\s*(https?|ftps?)://((\d{1,3}\.){3}\d{1,3}|\[[0-9a-f:.]{2,45}\]|[0-9a-f]{1,4}(:[0-9a-f]{0,4}){2,7})(:\d+)?/[^\s?#]*\.(php\d?|phtml|txt|inc|sh|pl|py|cgi|asp|aspx|jsp)\b",
    ),
    // Include functions and directives with a URL.
    p(
        "rfi-104",
        Rfi,
        Critical,
        Folded,
        r#"\b(include|require)(_once)?\s*\(?\s*['"]?\s*(https?|ftps?|php|data|expect|zip)://|<!--\s*#\s*include\s+(virtual|file)\s*="#,
    ),
    // UNC paths and FTP / SMB sources as the whole value.
    p(
        "rfi-105",
        Rfi,
        Critical,
        Folded,
        r"^\s*(\\\\|//)[\w.-]+(@\d+)?[\\/][\w$.-]+[\\/]|^\s*(smb|tftp)://[^\s]+\.\w{2,5}\s*$|^\s*ftps?://[^\s]+\.(php\d?|txt|sh|pl|py|cgi|asp|aspx|jsp|inc)\s*$",
    ),
    // A URL carrying a shell-ish payload file name.
    p(
        "rfi-106",
        Rfi,
        Critical,
        Folded,
        r"((https?|ftps?):)?//[^\s]{1,200}/(shell|c99|r57|cmd|webshell|backdoor|evil|hack|exploit|payload|inject|phpshell|b374k|wso|bypass)[\w-]*\.(php\d?|txt|sh|pl|py|asp|aspx|jsp|cgi|gif|jpg)\b",
    ),
    // A URL to a script with its query truncated by an encoded NUL or injected parameter.
    p(
        "rfi-107",
        Rfi,
        Error,
        Folded,
        r"(https?|ftps?)://[^\s]+\.(txt|php\d?|inc|sh)\?+(&|$|[\w.]+=$|[\w.]+=\S*\?)",
    ),
];
