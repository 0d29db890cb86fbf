//! Server-side request forgery: URLs and host values that point at the gateway's own
//! network — loopback, private and link-local ranges, cloud metadata endpoints — in every
//! spelling a URL parser accepts (`2130706433`, `0x7f000001`, `0177.0.0.1`, `127.1`,
//! `[::ffff:127.0.0.1]`, `user@127.0.0.1`, wildcard DNS like `127.0.0.1.nip.io`).
//!
//! Address arithmetic is code, not a regular expression: the host is parsed the way
//! `inet_aton` and URL parsers do, then classified with `ipnet` ranges.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{Ipv4Net, Ipv6Net};

use super::{Category::Ssrf, Detector, Hit, PatternDef, RuleInfo, Severity, Subject, p};
use crate::location::Part;
use crate::normalize::Variant::Lower;

/// Pattern rules: host spellings no ordinary URL uses, whatever address they resolve to.
pub const PATTERNS: &[PatternDef] = &[
    // An IP literal written as one integer, in hex or in octal (`http://2852039166/`,
    // `http:0xA9FEA9FE`, `http:0251.0376.0251.0376`), or an IPv6 literal with a zone id.
    p(
        "ssrf-101",
        Ssrf,
        Severity::Critical,
        Lower,
        r"\b(https?|ftps?|gopher|dict|ldaps?|smb|tftp|sftp|acap|imap|pop3|irc|wss?):/{0,2}([^/@\s]{0,60}@)?(\d{8,}|0x[0-9a-f]{6,}|0[0-7]{1,3}(\.0?[0-7]{1,3}){3}|\d{1,3}(\.\d{1,3}){0,2}\.0x[0-9a-f]{1,2}|\[[0-9a-f:.]*%[^\]]*\])([/:?#\]]|$)",
    ),
    // A host spelled with enclosed alphanumerics or ideographic dots (`①②⑦.⓪.⓪.①`,
    // `169。254。169。254`), or with backslash-escaped letters (`\\l\\o\\c...`).
    p(
        "ssrf-102",
        Ssrf,
        Severity::Critical,
        Lower,
        r"[a-z][a-z0-9+.-]{1,10}://[^/\s?#]{0,60}(\xe2[\x91-\x93][\x80-\xbf]|\xe3\x80\x82|\xef\xbd\xa1)|[a-z][a-z0-9+.-]{1,10}://(\\+[a-z0-9.]){3,}",
    ),
    // An authority with a space, `&` or `#` before the `@` (URL parser confusion:
    // `http://google.com:80 &@127.88.23.245:22/`). The part before the `@` is one token: a
    // URL followed by words and an e-mail address ("see https://bugzilla.example.org or
    // the list dev@example.org") is prose.
    p(
        "ssrf-103",
        Ssrf,
        Severity::Critical,
        Lower,
        r"\b(https?|ftps?|gopher|dict):/{0,2}[^/@\s]{1,60}\s*[\s&#]\s*[^/@\s]{0,60}@[\w.\[\]:-]+",
    ),
    // Apache mod_proxy's Unix-socket syntax, `unix:/path|http://host/`, in a request: a
    // long socket part made the proxy drop it and connect to the URL after the `|`
    // (CVE-2021-40438). No value has a reason to pair `unix:` with a scheme after `|`.
    p(
        "ssrf-104",
        Ssrf,
        Severity::Critical,
        Lower,
        r"\bunix:[^|]*\|\s*[a-z][a-z0-9+.-]*:",
    ),
    // Round 8. An authority that two URL parsers read differently: two ports
    // (`127.1.1.1:80:\@@127.2.2.2:80`), a backslash before the `@`, or `@@`. One parser
    // connects to the part before, another to the part after; no real URL has these.
    // Round 9: a loopback or metadata address as the user name (`http://localhost%00@x`,
    // `http://127.0.0.1#@x`): a parser that stops at the NUL or `#` connects to it.
    p(
        "ssrf-105",
        Ssrf,
        Severity::Critical,
        Lower,
        r"\b[a-z][a-z0-9+.-]{0,10}://([^/\s?#]{0,80}(:\d+:[^/\s]*@|\\@|@@)|(localhost|127\.[\d.]+|0\.0\.0\.0|\[[\d:.f]*\]|169\.254\.169\.254|metadata(\.google\.internal)?)(:\d*)?@)",
    ),
];

const SSRF_INTERNAL: RuleInfo = RuleInfo {
    id: "ssrf-001",
    category: Ssrf,
    severity: Severity::Critical,
};
/// A URL whose host is an IPv4 address in a form only `inet_aton` reads (hex or octal
/// parts, fewer than four parts, one big number: `http://0x42.0x66.0x7.0x93/`,
/// `http://1113982867/`). Whatever address it names, the form exists to slip past a
/// filter that compares host names; no link a person writes has it.
const SSRF_OBFUSCATED: RuleInfo = RuleInfo {
    id: "ssrf-005",
    category: Ssrf,
    severity: Severity::Critical,
};
const SSRF_METADATA: RuleInfo = RuleInfo {
    id: "ssrf-002",
    category: Ssrf,
    severity: Severity::Critical,
};
const SSRF_SCHEME: RuleInfo = RuleInfo {
    id: "ssrf-003",
    category: Ssrf,
    severity: Severity::Critical,
};
const SSRF_BARE_PRIVATE: RuleInfo = RuleInfo {
    id: "ssrf-004",
    category: Ssrf,
    severity: Severity::Warning,
};

/// Headers that carry addresses by design (proxies, browsers); never an SSRF vector.
const ADDRESS_HEADERS: &[&str] = &[
    "referer",
    "origin",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-forwarded-port",
    "forwarded",
    "x-real-ip",
    "via",
    "true-client-ip",
    "x-client-ip",
    "cf-connecting-ip",
    "x-original-forwarded-for",
];

/// Parameter names that say "this is a URL or a host": a bare private address there is
/// worth a full score.
const URLISH_NAMES: &[&str] = &[
    "url", "uri", "link", "href", "src", "host", "target", "dest", "redirect", "callback",
    "webhook", "endpoint", "server", "domain", "proxy", "next", "return", "feed", "image",
    "avatar", "fetch", "site", "ip", "addr", "remote", "upstream", "backend",
];

/// Hosts that resolve to internal or metadata addresses by name.
const INTERNAL_NAMES: &[&str] = &[
    "localhost",
    "localhost.localdomain",
    "localhost4",
    "localhost4.localdomain4",
    "localhost6",
    "localhost6.localdomain6",
    "ipv6-localhost",
    "ipv6-loopback",
    "host.docker.internal",
    "gateway.docker.internal",
    "kubernetes.docker.internal",
    "host.containers.internal",
    "host.lima.internal",
    "host.rancher-desktop.internal",
    "ip6-localhost",
    "ip6-loopback",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
    "0",
];
const METADATA_NAMES: &[&str] = &[
    "metadata.google.internal",
    "metadata",
    "metadata.goog",
    "instance-data",
    "instance-data.ec2.internal",
    "metadata.azure.com",
    "metadata.packet.net",
];
/// Public wildcard-DNS services that resolve names to the address they embed, and names
/// that always resolve to loopback.
const REBIND_SUFFIXES: &[&str] = &[
    ".nip.io",
    ".xip.io",
    ".sslip.io",
    ".traefik.me",
    "localtest.me",
    "lvh.me",
    "vcap.me",
    "lacolhost.com",
    ".localhost",
    "burpcollaborator.net",
    "oast.fun",
    "oast.me",
    "interact.sh",
    // Round 6: DNS-rebinding services (`7f000001.1time.rebind.network`, `rbndr.us`, `1u.ms`).
    ".rebind.network",
    ".rbndr.us",
    ".1u.ms",
];

/// Schemes that talk raw protocols through an HTTP-fetching back end.
const SMUGGLING_SCHEMES: &[&str] = &[
    "gopher", "dict", "ldap", "ldaps", "tftp", "jar", "netdoc", "sftp",
];

/// The SSRF detector.
#[derive(Debug, Clone, Copy)]
pub struct SsrfDetector;

impl Detector for SsrfDetector {
    fn rules(&self) -> &'static [RuleInfo] {
        &[
            SSRF_INTERNAL,
            SSRF_METADATA,
            SSRF_SCHEME,
            SSRF_BARE_PRIVATE,
            SSRF_OBFUSCATED,
        ]
    }

    fn detect(&self, subject: &Subject<'_>, hits: &mut Vec<Hit>) {
        let loc = subject.location;
        if loc.part == Part::Header && ADDRESS_HEADERS.contains(&loc.name.as_str()) {
            return;
        }
        if loc.part.is_key() {
            return;
        }
        let s = subject.norm.lower.as_str();
        let mut found_url = false;
        let mut from = 0usize;
        for _ in 0..8 {
            let Some(rel) = s.get(from..).and_then(|t| t.find("://")) else {
                break;
            };
            let at = from.saturating_add(rel);
            found_url = true;
            let scheme_start = s.get(..at).map_or(at, |pre| {
                pre.rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
                    .map_or(0, |i| i.saturating_add(1))
            });
            let scheme = s.get(scheme_start..at).unwrap_or("");
            let auth_start = at.saturating_add(3);
            if SMUGGLING_SCHEMES.contains(&scheme) {
                hits.push(hit(SSRF_SCHEME, scheme_start, auth_start));
            }
            let rest = s.get(auth_start..).unwrap_or("");
            let auth_len = rest
                .find([
                    '/', '?', '#', '\\', ' ', '\t', '\r', '\n', '"', '\'', '<', '>',
                ])
                .unwrap_or(rest.len());
            let authority = rest.get(..auth_len).unwrap_or("");
            if let Some(rule) = classify_authority(authority, true) {
                hits.push(hit(rule, auth_start, auth_start.saturating_add(auth_len)));
            }
            from = auth_start;
        }
        if found_url {
            return;
        }
        // A bare host value: `127.0.0.1`, `localhost:8080/admin`, `[::1]`.
        let t = s.trim();
        if t.is_empty() || t.len() > 255 || t.contains(char::is_whitespace) {
            return;
        }
        let t = t.strip_prefix("//").unwrap_or(t);
        let host_len = t.find(['/', '?', '#', '\\']).unwrap_or(t.len());
        let authority = t.get(..host_len).unwrap_or("");
        let Some(rule) = classify_authority(authority, false) else {
            return;
        };
        let name = loc.name.to_ascii_lowercase();
        let urlish = URLISH_NAMES.iter().any(|n| name.contains(n));
        let rule = if rule.id == SSRF_BARE_PRIVATE.id && urlish {
            SSRF_INTERNAL
        } else {
            rule
        };
        let start = s.len().saturating_sub(s.trim_start().len());
        hits.push(hit(rule, start, start.saturating_add(host_len)));
    }
}

fn hit(rule: RuleInfo, start: usize, end: usize) -> Hit {
    Hit {
        rule,
        variant: Lower,
        span: (start, end),
    }
}

/// Classifies `[userinfo@]host[:port]`. `in_url`: the authority came from a URL, so loose
/// numeric forms count; as a bare value only dotted quads, brackets and names do (so that a
/// plain number is not read as an address).
fn classify_authority(authority: &str, in_url: bool) -> Option<RuleInfo> {
    let hostport = authority.rsplit('@').next().unwrap_or(authority);
    let host = if let Some(rest) = hostport.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else {
        match hostport.rfind(':') {
            Some(i)
                if hostport
                    .get(i.saturating_add(1)..)
                    .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit())) =>
            {
                hostport.get(..i).unwrap_or(hostport)
            }
            _ => hostport,
        }
    };
    let host = host.trim_end_matches('.');
    if host.is_empty() {
        return None;
    }
    if METADATA_NAMES.contains(&host) {
        return (in_url || host.contains('.')).then_some(SSRF_METADATA);
    }
    if INTERNAL_NAMES.contains(&host) {
        if host == "0" && !in_url {
            return None;
        }
        return Some(SSRF_INTERNAL);
    }
    if REBIND_SUFFIXES.iter().any(|s| host.ends_with(s)) {
        return Some(SSRF_INTERNAL);
    }
    let ip = if let Ok(v6) = host.trim_start_matches('[').parse::<Ipv6Addr>() {
        IpAddr::V6(v6)
    } else if let Ok(v4) = host.parse::<Ipv4Addr>() {
        IpAddr::V4(v4)
    } else if in_url {
        let ip = parse_ipv4_loose(host)?;
        return classify_ip(IpAddr::V4(ip), in_url).or(Some(SSRF_OBFUSCATED));
    } else {
        return None;
    };
    classify_ip(ip, in_url)
}

/// `inet_aton` semantics: 1 to 4 parts, each decimal, `0x` hex or `0` octal; the last part
/// fills the remaining bytes (`127.1`, `2130706433`, `0x7f.0.0.1`, `0177.0.0.01`).
pub fn parse_ipv4_loose(host: &str) -> Option<Ipv4Addr> {
    let parts: Vec<&str> = host.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut nums = Vec::with_capacity(4);
    for p in &parts {
        nums.push(parse_num(p)?);
    }
    let (last, init) = nums.split_last()?;
    let mut v: u64 = 0;
    for &n in init {
        if n > 255 {
            return None;
        }
        v = (v << 8) | n;
    }
    let rem_bits = 8u32.saturating_mul(u32::try_from(4usize.saturating_sub(init.len())).ok()?);
    if rem_bits < 64 && *last >= (1u64 << rem_bits) {
        return None;
    }
    v = (v << rem_bits) | last;
    Some(Ipv4Addr::from(u32::try_from(v).ok()?))
}

fn parse_num(p: &str) -> Option<u64> {
    if p.is_empty() || p.len() > 12 {
        return None;
    }
    if let Some(h) = p.strip_prefix("0x") {
        if h.is_empty() {
            return Some(0);
        }
        return u64::from_str_radix(h, 16).ok();
    }
    if p.len() > 1 && p.starts_with('0') {
        return u64::from_str_radix(p.get(1..)?, 8).ok();
    }
    p.parse().ok()
}

fn v4net(s: &str) -> Option<Ipv4Net> {
    s.parse().ok()
}

fn v6net(s: &str) -> Option<Ipv6Net> {
    s.parse().ok()
}

fn classify_ip(ip: IpAddr, in_url: bool) -> Option<RuleInfo> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4, in_url),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return classify_v4(v4, true);
            }
            let seg = v6.segments();
            // IPv4-compatible (`::127.0.0.1`) and NAT64 (`64:ff9b::/96`) forms.
            if seg.iter().take(6).all(|&s| s == 0) && !v6.is_loopback() && !v6.is_unspecified() {
                return classify_v4(Ipv4Addr::from(v6.to_bits() as u32), true);
            }
            if v6net("64:ff9b::/96").is_some_and(|n| n.contains(&v6)) {
                return classify_v4(Ipv4Addr::from(v6.to_bits() as u32), true);
            }
            if v6net("fd00:ec2::/32").is_some_and(|n| n.contains(&v6)) {
                return Some(SSRF_METADATA);
            }
            if v6.is_loopback()
                || v6.is_unspecified()
                || v6net("fe80::/10").is_some_and(|n| n.contains(&v6))
                || v6net("fc00::/7").is_some_and(|n| n.contains(&v6))
            {
                return Some(SSRF_INTERNAL);
            }
            None
        }
    }
}

fn classify_v4(ip: Ipv4Addr, in_url: bool) -> Option<RuleInfo> {
    const METADATA: [Ipv4Addr; 4] = [
        Ipv4Addr::new(169, 254, 169, 254),
        Ipv4Addr::new(169, 254, 170, 2),
        Ipv4Addr::new(100, 100, 100, 200),
        Ipv4Addr::new(192, 0, 0, 192),
    ];
    if METADATA.contains(&ip) {
        return Some(SSRF_METADATA);
    }
    if ip.is_loopback() || ip.is_unspecified() || ip.octets().first() == Some(&0) {
        return Some(SSRF_INTERNAL);
    }
    if ip.is_link_local() {
        return Some(SSRF_INTERNAL);
    }
    let private = ip.is_private()
        || ["100.64.0.0/10", "192.0.0.0/24", "198.18.0.0/15"]
            .iter()
            .any(|n| v4net(n).is_some_and(|n| n.contains(&ip)));
    if private {
        return Some(if in_url {
            SSRF_INTERNAL
        } else {
            SSRF_BARE_PRIVATE
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loose_ipv4_forms() {
        let lo = Some(Ipv4Addr::new(127, 0, 0, 1));
        assert_eq!(parse_ipv4_loose("2130706433"), lo);
        assert_eq!(parse_ipv4_loose("0x7f000001"), lo);
        assert_eq!(parse_ipv4_loose("0177.0.0.1"), lo);
        assert_eq!(parse_ipv4_loose("127.1"), lo);
        assert_eq!(parse_ipv4_loose("0x7f.0.0.1"), lo);
        assert_eq!(parse_ipv4_loose("example"), None);
        assert_eq!(parse_ipv4_loose("1.2.3.4.5"), None);
    }

    #[test]
    fn authorities() {
        assert!(classify_authority("[::ffff:127.0.0.1]:80", true).is_some());
        assert!(classify_authority("[::1]", true).is_some());
        assert!(classify_authority("user@169.254.169.254", true).is_some());
        assert!(classify_authority("metadata.google.internal", true).is_some());
        assert!(classify_authority("api.example.com", true).is_none());
        assert!(classify_authority("8.8.8.8", true).is_none());
        assert!(classify_authority("12345", false).is_none());
    }
}
