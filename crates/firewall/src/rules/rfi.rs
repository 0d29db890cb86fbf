//! Remote file inclusion: a URL (or UNC path) given where a server-side include reads it.
//! Shapes that are rare in legitimate URLs carry the weight: an IP-literal host, a trailing
//! `?` or `#` that cuts off the suffix the application appends, a script file served as
//! text, an include call around a URL.

use super::{Category::Rfi, Detector, Hit, PatternDef, RuleInfo, Severity::*, Subject, p};
use crate::location::Part;
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

const RFI_INCLUDE_PARAM: RuleInfo = RuleInfo {
    id: "rfi-001",
    category: Rfi,
    severity: Warning,
};

/// Parameter names that server-side code classically passes to `include` / `require` /
/// a template loader (the last segment of a JSON pointer or bracket key counts).
const INCLUDE_NAMES: &[&str] = &[
    "page", "file", "filename", "include", "inc", "template", "tpl", "module", "mod", "load",
    "layout", "theme", "skin", "lang", "language", "conf", "config", "dir", "folder", "path",
    "content", "cont", "show", "site", "pg", "main", "body", "action",
];

/// The last name segment of a location (`a[b][page]` → `page`, `/cfg/page` → `page`).
fn last_segment(name: &str) -> &str {
    let name = name.trim_end_matches(']');
    let cut = name
        .rfind(['/', '[', '.'])
        .map_or(0, |i| i.saturating_add(1));
    name.get(cut..).unwrap_or(name)
}

/// Flags a remote URL (`http://`, `https://`, `ftp://`, `ftps://`) given as the whole value
/// of a parameter named like an include target (`page=`, `file=`, `lang=`, `template=`).
/// A warning: with any other RFI shape (a script or text file, a trailing `?`, an IP host)
/// it reaches the threshold; an import-from-URL API sending an image URL as `file=` passes.
#[derive(Debug, Default)]
pub struct IncludeParamDetector;

impl Detector for IncludeParamDetector {
    fn rules(&self) -> &'static [RuleInfo] {
        &[RFI_INCLUDE_PARAM]
    }

    fn detect(&self, subject: &Subject<'_>, hits: &mut Vec<Hit>) {
        let loc = subject.location;
        if !matches!(loc.part, Part::Query | Part::Form | Part::Body) {
            return;
        }
        let name = last_segment(&loc.name);
        if !INCLUDE_NAMES.iter().any(|n| name.eq_ignore_ascii_case(n)) {
            return;
        }
        let v = subject.norm.folded.trim();
        let remote = ["http://", "https://", "ftp://", "ftps://"]
            .iter()
            .any(|s| v.starts_with(s));
        if remote && !v.contains(' ') {
            hits.push(Hit {
                rule: RFI_INCLUDE_PARAM,
                variant: Folded,
                span: (0, subject.norm.folded.len()),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::last_segment;

    #[test]
    fn last_segment_of_keys_and_pointers() {
        assert_eq!(last_segment("a[b][page]"), "page");
        assert_eq!(last_segment("/cfg/page"), "page");
        assert_eq!(last_segment("file"), "file");
    }
}
