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
    // Round 5. A URL whose host is an IP literal (IPv4 or bracketed IPv6) as the whole
    // value: a warning, since a DNS-over-HTTPS or webhook setting may name one
    // (`https://8.8.8.8/dns-query`); with an include-named parameter (`rfi-001`) or another
    // RFI shape it blocks (`page=http://203.0.113.9/`).
    p(
        "rfi-108",
        Rfi,
        Warning,
        Folded,
        r"^\s*(https?|ftps?|file)://([^\s/@]*@)?((\d{1,3}\.){3}\d{1,3}|\[[0-9a-f:.]{2,45}\])(:\d+)?([/?#]\S*)?\s*$",
    ),
    // Round 6. A Java `jar:` URL wrapping a remote or local archive
    // (`jar:http://host/x.jar!/`): the JVM fetches and opens the archive.
    p(
        "rfi-111",
        Rfi,
        Critical,
        Folded,
        r"(^|[\s'\x22=(])jar:(https?|ftps?|file):",
    ),
    // Round 5. An FTP or `file:` URL to an IP-literal host at the start of a value
    // (`ftp://198.51.100.7/x`, `file://203.0.113.9/share`): web APIs take HTTP(S) links;
    // an FTP source on a bare address is how an include is pointed at an attacker box.
    p(
        "rfi-110",
        Rfi,
        Critical,
        Folded,
        r"^\s*(ftps?|file)://([^\s/@]*@)?((\d{1,3}\.){3}\d{1,3}|\[[0-9a-f:.]{2,45}\])([:/?#]|\s*$)",
    ),
    // Round 5. The suffix-truncation shape of `rfi-101` with nothing or no authority after
    // the scheme: a whole value that is a scheme name, optionally with more after a colon,
    // ending in `?` (`http?`, `file:?`, `ftp:x??`). No API value or search is a bare
    // scheme with a question mark.
    p(
        "rfi-109",
        Rfi,
        Critical,
        Folded,
        r"^\s*(https?|ftps?|file)(:[^\s]*)?\?+\s*$",
    ),
];

const RFI_INCLUDE_PARAM: RuleInfo = RuleInfo {
    id: "rfi-001",
    category: Rfi,
    severity: Warning,
};
const RFI_BASEDIR_PARAM: RuleInfo = RuleInfo {
    id: "rfi-002",
    category: Rfi,
    severity: Critical,
};

/// Parameter names of an installation or include *directory* (`mosConfig_absolute_path`,
/// `GALLERY_BASEDIR`, `path[docroot]`, `appserv_root`, `config[root_dir]`, `_CONF[path]`):
/// legacy scripts prefix their includes with them, and no application takes a directory as
/// a remote URL. Matched as substrings of the lower-cased parameter name.
const BASEDIR_NAMES: &[&str] = &[
    "absolute_path",
    "abspath",
    "basedir",
    "base_dir",
    "rootdir",
    "root_dir",
    "docroot",
    "doc_root",
    "document_root",
    "root_path",
    "rootpath",
    "appserv_root",
    "server_root",
    "include_path",
    "includedir",
    "include_dir",
    "includes_dir",
    "inc_dir",
    "libdir",
    "lib_dir",
    "lib_path",
    "class_path",
    "classpath",
    "install_dir",
    "installdir",
    "conf[path]",
];

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
/// Round 5 (`rfi-002`, critical): a remote URL in a parameter (query, form, JSON, cookie)
/// whose name holds an installation or include *directory* (`mosConfig_absolute_path`,
/// `GALLERY_BASEDIR`, `path[docroot]`, `config[root_dir]`).
#[derive(Debug, Default)]
pub struct IncludeParamDetector;

impl Detector for IncludeParamDetector {
    fn rules(&self) -> &'static [RuleInfo] {
        &[RFI_INCLUDE_PARAM, RFI_BASEDIR_PARAM]
    }

    fn detect(&self, subject: &Subject<'_>, hits: &mut Vec<Hit>) {
        let loc = subject.location;
        if !matches!(
            loc.part,
            Part::Query | Part::Form | Part::Body | Part::Cookie
        ) {
            return;
        }
        let v = subject.norm.folded.trim();
        let remote = ["http://", "https://", "ftp://", "ftps://"]
            .iter()
            .any(|s| v.starts_with(s))
            && !v.contains(' ');
        if !remote {
            return;
        }
        let full = loc.name.to_ascii_lowercase();
        let rule = if BASEDIR_NAMES.iter().any(|n| full.contains(n)) {
            RFI_BASEDIR_PARAM
        } else if loc.part != Part::Cookie
            && INCLUDE_NAMES
                .iter()
                .any(|n| last_segment(&loc.name).eq_ignore_ascii_case(n))
        {
            RFI_INCLUDE_PARAM
        } else {
            return;
        };
        hits.push(Hit {
            rule,
            variant: Folded,
            span: (0, subject.norm.folded.len()),
        });
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
