//! Path traversal and local file inclusion, on the `path` variant (decoded in every
//! encoding the normaliser knows, backslashes as slashes, `//` and `/./` collapsed).

use super::{Category::Traversal, PatternDef, Severity::*, p};
use crate::normalize::Variant::Path;

/// Pattern rules.
pub const PATTERNS: &[PatternDef] = &[
    // Two or more parent steps.
    p(
        "lfi-101",
        Traversal,
        Critical,
        Path,
        r"(^|[/=:\s'])\.{2,}/+\.{2,}(/|$)|(^|/)\.\.;/",
    ),
    // One parent step: relative links use it too, so it takes a second signal to block.
    p(
        "lfi-102",
        Traversal,
        Warning,
        Path,
        r"(^|[/=\s'])\.{2,}(/|$)",
    ),
    // Files an attacker reads first (credentials, keys, process environment; round 5: PHP
    // session files, included to run code stored in a session; `etc/passwd` without its
    // leading slash at the start of a value or word), anywhere in the value.
    p(
        "lfi-103",
        Traversal,
        Critical,
        Path,
        r"/etc/(passwd|shadow|gshadow|sudoers|master\.passwd|pwd\.db|security/opasswd|ssl/private)|/proc/(self|\d+|thread-self)/(environ|cmdline|fd|maps|status|exe|cwd|root|mem|mounts)|\.ssh/(id_[rd]sa|id_ecdsa|id_ed25519|authorized_keys)|/\.(bash_history|zsh_history|htpasswd|git/(config|head|index)|svn/entries|aws/credentials|docker/config\.json|kube/config|npmrc|pgpass|netrc|my\.cnf)|/var/lib/php\d*/(sessions?/)?sess_\w|/tmp/sess_[a-z0-9]{8}|(^|[\s=:'\x22(])etc/(passwd|shadow|gshadow|sudoers|master\.passwd)\b",
    ),
    // System files and logs also named in ordinary technical prose ("add it to
    // /etc/hosts"): blocks together with another signal (a traversal, an absolute value).
    p(
        "lfi-108",
        Traversal,
        Error,
        Path,
        r"/etc/(group|hosts|issue|motd|crontab|hostname|resolv\.conf|fstab|profile|environment|mysql/my\.cnf|httpd/|apache2?/|nginx/|ssh/|network/|inittab)|/var/(log|mail|spool|lib/mysql)/|/root/|/home/[\w.-]+/\.|/\.htaccess",
    ),
    // Windows system files and directories.
    p(
        "lfi-104",
        Traversal,
        Critical,
        Path,
        r"(^|[^\w])[a-z]:/+(windows|winnt|boot\.ini|inetpub|users/[^/]+/ntuser)|/(windows|winnt)/(system32|win\.ini|system\.ini|repair|debug|panther)|(^|/)(boot|win|system)\.ini\b|/system32/(config|drivers|inetsrv)|\bweb\.config\b|\bwp-config\.php\b",
    ),
    // Stream wrappers that read local files. Round 9: the names of PHP's conversion
    // filters on their own (`convert.iconv.UTF8.CSISO2022KR`, `convert.base64-decode`),
    // the links of a `php://filter` chain that turns an include into code execution.
    p(
        "lfi-105",
        Traversal,
        Critical,
        Path,
        r"\b(file|php|zip|phar|glob|jar|netdoc|compress\.zlib|compress\.bzip2|rar|ogg|ssh2\.\w+|expect|bzip2|zlib)\s*:/+\w|\bphp:/+(filter|input|fd|memory|temp|stdin|stdout|stderr|output)\b|\bphp:/*filter/|\bdata:/*(text/plain|application/x-httpd-php)|\bconvert\.(iconv\.[\w-]+\.[\w-]+|base64-(en|de)code|quoted-printable-(en|de)code)\b",
    ),
    // The whole value is an absolute path into a system directory.
    p(
        "lfi-106",
        Traversal,
        Error,
        Path,
        r"^\s*/(etc|proc|sys|dev|boot|root|var|usr/local/etc|bin|sbin|tmp)/[\w.-]+(/[\w.-]*)*\s*$",
    ),
    // Kernel pseudo-files and container / cloud secrets: no API value names these.
    p(
        "lfi-109",
        Traversal,
        Critical,
        Path,
        r"(^|[\s=:'\x22(/])/?proc/(self|\d+|thread-self|net|sys|cpuinfo|meminfo|version|interrupts|mounts|cmdline|environ|modules|kallsyms|partitions|sched_debug)\b|(^|[\s=:'\x22(])/sys/(class|kernel|devices|block|bus|firmware|power|module|fs)\b|\.docker/(secrets|config\.json)|/run/secrets/|/var/run/secrets/|\.kube/config\b|\.aws/credentials\b|(^|[\s=:'\x22(])/dev/(fd/\d+|mem|kmem|port)\b",
    ),
    // Traversal after a path prefix check (`/var/www/../../`) or with NUL truncation.
    p(
        "lfi-107",
        Traversal,
        Critical,
        Path,
        r"\.\./.{0,200}\.(php\d?|inc|conf|config|cfg|ini|log|xml|yml|yaml|json|properties|env|sh|db|sqlite|key|pem)\b|\.\./+(etc|windows|winnt|proc|var|usr|root|home|boot|sys|tmp|web-inf|meta-inf|app|config|bin)\b",
    ),
    // Round 4. Dots and separators written as `0x` hex literals, as some decoders in front
    // of a file API undo them: `0x2e0x2e0x2f`, `0x5c0x2e./`. A single literal (`0x2e is
    // the dot`) is prose about bytes. Round 8: the same with the `%` lost to an earlier
    // decoding (`..2f..2fetc2fpasswd`).
    p(
        "lfi-110",
        Traversal,
        Critical,
        Path,
        r"(0x(2e|2f|5c)){2,}|0x(2e|5c)\.+/|\.\.0x(2f|5c)|(\.\.(2f|5c)){2,}|(^|/)\.\.(2f|5c)(etc|var|usr|windows|winnt|proc|boot|apache\w*|home|root)(2f|5c)",
    ),
    // Round 5. A parent step straight into a hidden file or directory (`../.env`,
    // `..\.git\config`, `../.bash_history`): dotfiles hold secrets, and a relative link in
    // a page or API names a visible file after `../`.
    p(
        "lfi-111",
        Traversal,
        Critical,
        Path,
        r"(^|[/=:\s'\x22])\.\./+\.[a-z_][\w.-]*",
    ),
    // Round 5. The whole value is a path to a secret dotfile or a Java deployment
    // descriptor, relative or absolute (`.env`, `/app/.env`, `.git/config`, `.htpasswd`,
    // `WEB-INF/web.xml`): what a file parameter is probed with. In running text these
    // names come with other words around them and pass.
    p(
        "lfi-112",
        Traversal,
        Critical,
        Path,
        r"^\s*(\.{0,2}/)?([\w.-]+/)*(\.(env(\.\w+)?|htaccess|htpasswd|git/(config|head|index)|svn/entries|aws/credentials|ssh/(id_\w+|authorized_keys)|bash_history|zsh_history|npmrc|pgpass|netrc|docker/config\.json|kube/config|user\.ini|bashrc|bash_profile|bash_logout|cshrc|tcshrc|zshrc|profile|shosts|rhosts|passwd|mysql_history|psql_history|viminfo|lesshst|forward)|web-inf/(web\.xml|classes/|lib/|[\w.-]+\.(xml|properties)))\s*$",
    ),
    // Round 7. A UNC path to an administrative share (`\\host\c$\…`, `\\::1\admin$`; the
    // path form turns `\` into `/`) and the per-user registry hive, which no upload or
    // document path names.
    p(
        "lfi-113",
        Traversal,
        Critical,
        Path,
        r"(^|[\s='\x22])//?[^/\s]{1,64}/([a-z]|admin|ipc|print)\$(/|$)|\bntuser\.dat\b",
    ),
];

use std::sync::LazyLock;

use regex::Regex;

use super::{Detector, Hit, RuleInfo, Subject};
use crate::location::Part;

const HIDDEN_PATH: RuleInfo = RuleInfo {
    id: "lfi-001",
    category: Traversal,
    severity: Critical,
};
const FILENAME_TRAVERSAL: RuleInfo = RuleInfo {
    id: "lfi-002",
    category: Traversal,
    severity: Critical,
};
const UPLOAD_SCRIPT: RuleInfo = RuleInfo {
    id: "lfi-003",
    category: Traversal,
    severity: Critical,
};
const SERVER_FILE_VALUE: RuleInfo = RuleInfo {
    id: "lfi-004",
    category: Traversal,
    severity: Critical,
};

/// A whole value that is an absolute path to a server's own files: system configuration
/// and logs (`/etc/…`, `/var/log/…`, `/proc/…`), the install trees of web stacks
/// (`/usr/local/apache2/…`, `/opt/lampp/…`, `C:\xampp\…`, `Program Files\Apache…`) or
/// any Unix absolute path ending in a configuration, log, database or key file
/// (`…/my.cnf`, `…/httpd.conf`, `…/master.mdf`). Windows paths elsewhere under
/// `Program Files` pass: software inventories send them. These are what a file parameter is probed with (the
/// LFI lists testers feed to a fuzzer); an API's own values are relative names, URLs or
/// paths under a user's home. In running text such paths come with words around them and
/// pass; the request path itself is left to the router.
static SERVER_FILE_RE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^\s*/?(",
        // Windows, with or without the drive: web stacks (also under `Program Files`) and
        // the system directories. Other `Program Files` paths are software inventories.
        r"([a-z]:)?/+((program files( \(x86\))?/+)?(xampp|wamp\w*|apache[\w ]*|mysql[\w ]*|php\d*|inetpub|filezilla[\w ]*)|windows|winnt|sysprep|boot\.ini)(/[^\n]*)?",
        // Unix system configuration, logs and web-stack install trees.
        r"|/+(etc|proc|sys|root|boot|private/etc|private/var/log|var/(log|logs|adm|spool|mail|db|run|lp|saf|cpanel|apache\w*|www/logs?|lib/(mysql|pgsql|postgresql|php\w*|mlocate))|usr/(local|lib|sbin|ports|pkg|internet|home)|opt/(lampp|xampp|apache\w*|httpd|nginx|tomcat\w*|jboss|bitnami)|library/webserver|home/(postgres|mysql|oracle|apache|www|ftp))/[^\s]*",
        // Any Unix absolute path to a configuration, log, database or key file.
        r"|/+[^\s/]+(/[^\n/]+)*/[^\s/]*(\.(conf|cnf|ini|log|mdf|ldf|pem|key|kdbx|htaccess|htpasswd|cfg|properties|sqlite3?|myd|frm|ibd|pid|inc|config|default|pdb|pdn)|(access|error)[_.-]?log)",
        r")\s*$"
    ))
    .ok()
});

/// A whole value that is a Windows path with a drive to a configuration, log or system file
/// (`C:/logs/access.log`, `C:\nginx\conf\nginx.conf`, `C:/unattend.xml`,
/// `C:/$recycle.bin/…`, `C:/system volume information/…`): the Windows half of the LFI lists.
/// Paths under a user's own profile or an application's data folder are what desktop
/// clients report (crash logs, settings files) and pass, see [`windows_user_path`];
/// the administrator's profile does not.
static WINDOWS_FILE_RE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^\s*[a-z]:/+(",
        r"(\$recycle\.bin|system volume information|minint)(/[^\n]*)?",
        r"|([^\n/]+/+)*[^\n/]*(\.(conf|cnf|ini|inf|log|cfg|config|dat|mdf|ldf|pem|key|htaccess|htpasswd)|(access|error)[_.-]?log|unattend(ed)?\.(xml|txt)|sysprep\.\w+)",
        r")\s*$"
    ))
    .ok()
});

/// Whether a drive path (already lower-case, `/`-separated) lies in a user's own profile
/// or an application data folder rather than the system or a server install.
fn windows_user_path(path: &str) -> bool {
    let rest = path
        .trim_start()
        .get(2..)
        .unwrap_or("")
        .trim_start_matches('/');
    let mut dirs = rest.split('/').filter(|d| !d.is_empty());
    let first = dirs.next().unwrap_or("");
    let second = dirs.next().unwrap_or("");
    match first {
        "users" | "documents and settings" => !matches!(
            second,
            "administrator" | "default" | "all users" | "public" | "default user"
        ),
        "programdata" => true,
        _ => {
            first.starts_with("program files")
                && !SERVER_FILE_RE.as_ref().is_some_and(|re| re.is_match(path))
        }
    }
}

/// Extensions a web server executes or reads as configuration: an upload named like this
/// is a web-shell or config-overwrite attempt.
const SERVER_EXTENSIONS: &[&str] = &[
    ".php",
    ".php3",
    ".php4",
    ".php5",
    ".php7",
    ".phtml",
    ".phar",
    ".pht",
    ".phps",
    ".jsp",
    ".jspx",
    ".jsf",
    ".asp",
    ".aspx",
    ".ashx",
    ".asmx",
    ".asa",
    ".cer",
    ".cgi",
    ".shtml",
    ".htaccess",
    ".htpasswd",
    ".user.ini",
    "web.config",
    ".php8",
    ".phtm",
    ".shtm",
    ".jspf",
    ".cfm",
];

/// Whether a location carries an uploaded file's name: a multipart file name or a header
/// such as `X-Filename`, `X-File-Name`, `X_Filename`.
fn is_upload_name(loc: &crate::location::Location) -> bool {
    match loc.part {
        Part::FormKey => true,
        Part::Header => {
            let n = loc.name.to_ascii_lowercase().replace(['-', '_', '.'], "");
            n.contains("filename")
        }
        _ => false,
    }
}

/// Location-aware traversal checks that a pattern cannot make without false positives
/// elsewhere: a request *path* naming a hidden file or directory (`/.env`, `/.git/config`,
/// `/.aws/credentials`; only `/.well-known/` is public by convention) or a backup / dump
/// file, and an uploaded *file name* with a parent step (`../../x.php`, `..\x`).
#[derive(Debug, Clone, Copy)]
pub struct PathProbeDetector;

impl Detector for PathProbeDetector {
    fn rules(&self) -> &'static [RuleInfo] {
        &[
            HIDDEN_PATH,
            FILENAME_TRAVERSAL,
            UPLOAD_SCRIPT,
            SERVER_FILE_VALUE,
        ]
    }

    fn detect(&self, subject: &Subject<'_>, hits: &mut Vec<Hit>) {
        let loc = subject.location;
        let path = subject.norm.path.as_str();
        if loc.part == Part::Path && loc.name.is_empty() {
            let mut offset = 0usize;
            for seg in path.split('/') {
                let hidden = seg.len() > 1
                    && seg.starts_with('.')
                    && seg != ".."
                    && seg != ".well-known"
                    && !seg.starts_with("..");
                let dump = [
                    ".sql", ".bak", ".old", ".orig", ".swp", ".save", ".sqlite", ".sqlite3",
                    ".mdb", ".log",
                ]
                .iter()
                .any(|ext| seg.ends_with(ext) || seg.contains(&format!("{ext}.")));
                if hidden || dump {
                    hits.push(Hit {
                        rule: HIDDEN_PATH,
                        variant: Path,
                        span: (offset, offset.saturating_add(seg.len())),
                    });
                    return;
                }
                offset = offset.saturating_add(seg.len()).saturating_add(1);
            }
        }
        let request_path = loc.part == Part::Path && loc.name.is_empty();
        let server_file = SERVER_FILE_RE.as_ref().is_some_and(|re| re.is_match(path))
            || (WINDOWS_FILE_RE.as_ref().is_some_and(|re| re.is_match(path))
                && !windows_user_path(path));
        if !request_path && server_file {
            hits.push(Hit {
                rule: SERVER_FILE_VALUE,
                variant: Path,
                span: (0, path.len()),
            });
        }
        if is_upload_name(loc) {
            // `a.php`, `a.php.`, `a.php .`, `shell.php.jpg` (Apache multi-extension).
            let name = path.rsplit('/').next().unwrap_or(path);
            // Whitespace around the dots (`test. php.jpg`, `x.phar .png`) is dropped the way
            // a lenient server or a later rename would.
            let squeezed: String = name.chars().filter(|c| !c.is_whitespace()).collect();
            let name = squeezed.trim_end_matches(['.', ' ']);
            // PHP session files (`sess_<id>`): an upload named like one overwrites a
            // session.
            let session_file = name.starts_with("sess_") && name.len() >= 15;
            let bad = session_file
                || SERVER_EXTENSIONS.iter().any(|ext| {
                    name.ends_with(ext)
                        || name.find(ext).is_some_and(|i| {
                            name.get(i.saturating_add(ext.len())..)
                                .is_some_and(|r| r.starts_with('.'))
                        })
                });
            if bad {
                hits.push(Hit {
                    rule: UPLOAD_SCRIPT,
                    variant: Path,
                    span: (0, path.len()),
                });
            }
        }
        if loc.part == Part::FormKey && (path.contains("../") || path.starts_with("..")) {
            hits.push(Hit {
                rule: FILENAME_TRAVERSAL,
                variant: Path,
                span: (0, path.len()),
            });
        }
    }
}
