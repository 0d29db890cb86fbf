//! The built-in rules: pattern rules (regular expressions over one normalised variant, all
//! of a variant matched in one pass by a `RegexSet`) and structured detectors (libinjection,
//! the SSRF address classifier, the NoSQL operator-key check ...), each behind [`Detector`].
//!
//! Rule ids are stable (`sqli-101`): exclusions and dashboards refer to them. A new rule gets
//! a new id; a removed id is never reused.

mod cmdi;
mod code;
mod crlf;
mod graphql;
mod ldap;
mod log4shell;
mod nosql;
mod rfi;
mod scanner;
mod session;
mod sqli;
mod ssrf;
mod ssti;
mod traversal;
mod xml;
mod xss;

use serde::Serialize;

use crate::location::Location;
use crate::normalize::{Normalized, Variant};

pub use cmdi::AgentCommandDetector;
pub use code::{Base64GadgetDetector, PrototypePathDetector};
pub use nosql::NosqlKeyDetector;
pub use rfi::IncludeParamDetector;
pub use scanner::ScannerDetector;
pub use session::{RefererSite, SessionKeyDetector, referer_site};
pub use sqli::LibinjectionSqli;
pub use ssrf::SsrfDetector;
pub use traversal::PathProbeDetector;
pub use xss::LibinjectionXss;

pub use portcullis_config::firewall::Category;

/// How sure a rule is, CRS-style; the score follows from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The shape is an attack on its own (score 5).
    Critical,
    /// Very likely an attack (score 4).
    Error,
    /// Suspicious; blocks together with another match (score 3).
    Warning,
    /// Weak signal (score 2).
    Notice,
}

impl Severity {
    /// The anomaly score of a match.
    pub fn score(self) -> u32 {
        match self {
            Self::Critical => 5,
            Self::Error => 4,
            Self::Warning => 3,
            Self::Notice => 2,
        }
    }
}

/// A built-in pattern rule.
#[derive(Clone, Copy, Debug)]
pub struct PatternDef {
    /// Stable id.
    pub id: &'static str,
    /// Attack class.
    pub category: Category,
    /// Confidence.
    pub severity: Severity,
    /// The normalised form it runs on.
    pub variant: Variant,
    /// The expression (bytes, ASCII classes; the input is already lower-cased for every
    /// variant but `Decoded`).
    pub pattern: &'static str,
}

const fn p(
    id: &'static str,
    category: Category,
    severity: Severity,
    variant: Variant,
    pattern: &'static str,
) -> PatternDef {
    PatternDef {
        id,
        category,
        severity,
        variant,
        pattern,
    }
}

/// Every built-in pattern rule.
pub fn builtin_patterns() -> Vec<PatternDef> {
    let mut v = Vec::new();
    for set in [
        sqli::PATTERNS,
        xss::PATTERNS,
        cmdi::PATTERNS,
        traversal::PATTERNS,
        rfi::PATTERNS,
        ldap::PATTERNS,
        nosql::PATTERNS,
        xml::PATTERNS,
        ssti::PATTERNS,
        crlf::PATTERNS,
        log4shell::PATTERNS,
        code::PATTERNS,
        ssrf::PATTERNS,
        session::PATTERNS,
        graphql::PATTERNS,
    ] {
        v.extend_from_slice(set);
    }
    v
}

/// A rule identity as reported in a match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleInfo {
    /// Stable id.
    pub id: &'static str,
    /// Attack class.
    pub category: Category,
    /// Confidence.
    pub severity: Severity,
}

/// One detector finding on one value: which rule and where in which variant (for the
/// redacted excerpt).
#[derive(Clone, Copy, Debug)]
pub struct Hit {
    /// The rule.
    pub rule: RuleInfo,
    /// The variant the span refers to.
    pub variant: Variant,
    /// Byte range in that variant.
    pub span: (usize, usize),
}

/// What a detector sees: the value's location and its normalised forms.
#[derive(Debug)]
pub struct Subject<'a> {
    /// Where the value was found.
    pub location: &'a Location,
    /// The normalised variants.
    pub norm: &'a Normalized,
    /// Where the request came from (`Referer` against the request's host), judged once
    /// per request; the session-fixation detector needs it.
    pub referer: RefererSite,
}

/// A structured detector: code rather than a pattern, for checks a regular expression cannot
/// express (SQL tokenisation, address arithmetic, key positions).
pub trait Detector: Send + Sync + std::fmt::Debug {
    /// The rules this detector can report (for docs, exclusions and validation).
    fn rules(&self) -> &'static [RuleInfo];
    /// Appends findings on one value.
    fn detect(&self, subject: &Subject<'_>, hits: &mut Vec<Hit>);
}

/// The structured detectors, in a fixed order.
pub fn builtin_detectors() -> Vec<Box<dyn Detector>> {
    vec![
        Box::new(LibinjectionSqli),
        Box::new(LibinjectionXss),
        Box::new(SsrfDetector),
        Box::new(NosqlKeyDetector::new()),
        Box::new(ScannerDetector::new()),
        Box::new(PathProbeDetector),
        Box::new(Base64GadgetDetector::new()),
        Box::new(SessionKeyDetector),
        Box::new(IncludeParamDetector),
        Box::new(PrototypePathDetector),
        Box::new(AgentCommandDetector),
    ]
}
