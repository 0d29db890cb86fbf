//! Attack tools that name themselves in `User-Agent` (CRS 913). Cheap and precise: the
//! names below do not occur in browser or SDK agents.

use aho_corasick::{AhoCorasick, MatchKind};

use super::{Category::Scanner, Detector, Hit, RuleInfo, Severity::*, Subject};
use crate::location::Part;
use crate::normalize::Variant::Lower;

const TOOLS: &[&str] = &[
    "sqlmap",
    "nikto",
    "nmap",
    "masscan",
    "zgrab",
    "acunetix",
    "netsparker",
    "nessus",
    "openvas",
    "w3af",
    "dirbuster",
    "gobuster",
    "dirb/",
    "wpscan",
    "joomscan",
    "havij",
    "arachni",
    "skipfish",
    "whatweb",
    "nuclei",
    "ffuf",
    "feroxbuster",
    "burpcollaborator",
    "commix",
    "jaeles",
    "xsstrike",
    "fimap",
    "paros",
    "webinspect",
    "appscan",
    "qualys",
    "morfeus",
    "zmeu",
    "jorgee",
    "brutus",
    "hydra",
    "metasploit",
    "nessus",
    "zap/",
    "owasp zap",
    "wfuzz",
    "dotdotpwn",
    "grabber",
    "sqlninja",
    "bsqlbf",
    "absinthe",
    "pangolin",
    "cgichk",
    "webshag",
    "blackwidow",
    "vega/",
    "zollard",
    "struts-pwn",
    "log4j-scan",
    "interactsh",
    "interact.sh",
    ".oast.",
    "burpcollaborator.net",
    "fuzz faster u fool",
    ".nasl",
];

const SCANNER_UA: RuleInfo = RuleInfo {
    id: "scanner-001",
    category: Scanner,
    severity: Critical,
};

/// Matches known attack-tool names in the `User-Agent` header.
#[derive(Debug)]
pub struct ScannerDetector {
    tools: Option<AhoCorasick>,
}

impl ScannerDetector {
    /// Builds the tool-name matcher.
    pub fn new() -> Self {
        let tools = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostFirst)
            .build(TOOLS)
            .ok();
        Self { tools }
    }
}

impl Default for ScannerDetector {
    fn default() -> Self {
        Self::new()
    }
}

impl Detector for ScannerDetector {
    fn rules(&self) -> &'static [RuleInfo] {
        &[SCANNER_UA]
    }

    fn detect(&self, subject: &Subject<'_>, hits: &mut Vec<Hit>) {
        if subject.location.part != Part::Header || subject.location.name != "user-agent" {
            return;
        }
        let Some(tools) = &self.tools else { return };
        if let Some(m) = tools.find(subject.norm.lower.as_str()) {
            hits.push(Hit {
                rule: SCANNER_UA,
                variant: Lower,
                span: (m.start(), m.end()),
            });
        }
    }
}
