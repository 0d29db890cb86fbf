//! The configuration of the API firewall's detectors, per route: `firewall: {...}` (used by
//! `portcullis-firewall`).
//!
//! Every field has a default, so `firewall: {}` turns on the full built-in rule set in
//! blocking mode with the default threshold.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The API firewall of a route: a negative model made of injection detectors whose matches
/// are added into an anomaly score per request.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct FirewallSpec {
    /// `block` refuses requests whose score reaches the threshold with 403; `detect_only`
    /// lets them through and only records the matches (for tuning a new route).
    pub mode: FirewallMode,
    /// Anomaly score at which a request is refused. Built-in rules score 5 (critical), 4
    /// (error), 3 (warning) or 2 (notice); the default of 5 blocks on one critical match or
    /// two weaker ones. Lower is stricter.
    pub threshold: u32,
    /// Rule categories switched off for this route (for example `ssrf` on a route whose
    /// purpose is to accept internal URLs).
    pub disabled_categories: Vec<Category>,
    /// Rule ids switched off everywhere on this route (`sqli-105`).
    pub disabled_rules: Vec<String>,
    /// Rules switched off for some locations only: a field that legitimately holds code or
    /// markup should not disable the rule for the whole route.
    pub exclusions: Vec<ExclusionSpec>,
    /// Rules of the operator's own, scored like built-in ones.
    pub custom_rules: Vec<CustomRuleSpec>,
    /// Header names (case-insensitive) not inspected, in addition to the built-in list of
    /// structural headers (Host, Content-Length, Accept*, Authorization ...).
    pub skip_headers: Vec<String>,
    /// Bounds on the work done per request.
    pub limits: LimitsSpec,
}

impl Default for FirewallSpec {
    fn default() -> Self {
        Self {
            mode: FirewallMode::Block,
            threshold: DEFAULT_THRESHOLD,
            disabled_categories: Vec::new(),
            disabled_rules: Vec::new(),
            exclusions: Vec::new(),
            custom_rules: Vec::new(),
            skip_headers: Vec::new(),
            limits: LimitsSpec::default(),
        }
    }
}

/// The default anomaly threshold: one critical match, or a warning plus a notice.
pub const DEFAULT_THRESHOLD: u32 = 5;

/// What the firewall does with a request whose score reaches the threshold.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FirewallMode {
    /// Refuse it with 403.
    #[default]
    Block,
    /// Let it through and record what would have been refused.
    DetectOnly,
    /// No inspection on this route.
    Off,
}

/// Switches rules off for some locations.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ExclusionSpec {
    /// Rule ids (`xss-001`) or category names (`xss`) excluded; empty means every rule.
    #[serde(default)]
    pub rules: Vec<String>,
    /// Locations where the rules are off, in the text form of matches: `query:q`,
    /// `body:/comment`, `header:x-template`; a trailing `*` makes a prefix
    /// (`body:/snippets/*`). Empty means everywhere.
    #[serde(default)]
    pub locations: Vec<String>,
}

/// A rule of the operator's own.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CustomRuleSpec {
    /// Unique id reported in matches, e.g. `custom-no-internal-ids`. Must not start with the
    /// prefix of a built-in category.
    pub id: String,
    /// Which parts of the request the rule looks at. Default: all of them.
    #[serde(default = "all_parts")]
    pub parts: Vec<RulePart>,
    /// How a value matches.
    #[serde(rename = "match")]
    pub matcher: MatcherSpec,
    /// Whether matching ignores ASCII case (default true).
    #[serde(default = "yes")]
    pub case_insensitive: bool,
    /// Score added when the rule matches (default 5: blocks on its own at the default
    /// threshold).
    #[serde(default = "default_custom_score")]
    pub score: u32,
}

fn all_parts() -> Vec<RulePart> {
    vec![
        RulePart::Path,
        RulePart::Query,
        RulePart::Headers,
        RulePart::Cookies,
        RulePart::Body,
    ]
}

fn yes() -> bool {
    true
}

fn default_custom_score() -> u32 {
    5
}

/// A part of the request a custom rule looks at.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RulePart {
    /// The path and its segments.
    Path,
    /// Query parameter names and values.
    Query,
    /// Header values.
    Headers,
    /// Cookie values.
    Cookies,
    /// Every value of the body: JSON, form, multipart, XML or raw text.
    Body,
}

/// How a custom rule matches a value (after normalisation: decoded, NUL removed).
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum MatcherSpec {
    /// A regular expression (Rust `regex` syntax: linear time, no look-around) found
    /// anywhere in the value.
    Regex(String),
    /// A substring found anywhere in the value.
    Contains(String),
    /// The whole value (trimmed) equals one of these.
    InList(Vec<String>),
}

/// Bounds on the work done per request. Values beyond them are not inspected (and the
/// verdict says so), they are never an error.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsSpec {
    /// Values inspected per request at most (default 1024).
    pub max_values: usize,
    /// Bytes of one value inspected at most (default 16 KiB).
    pub max_value_bytes: usize,
    /// Bytes of the body parsed at most (default 1 MiB).
    pub max_body_bytes: usize,
    /// JSON and XML nesting followed at most (default 32).
    pub max_depth: usize,
    /// A value made only of base64 characters and at most this long is also decoded, and
    /// the decoded text (never binary) inspected like any value (default 4096; 0 turns it
    /// off). Attack payloads are sent base64-encoded to slip past inspection that reads
    /// values as they come; longer values are file contents and images, not parameters.
    pub max_base64_bytes: usize,
}

impl Default for LimitsSpec {
    fn default() -> Self {
        Self {
            max_values: 1024,
            max_value_bytes: 16 * 1024,
            max_body_bytes: 1024 * 1024,
            max_depth: 32,
            max_base64_bytes: 4096,
        }
    }
}

/// The attack class of a rule.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// SQL injection.
    Sqli,
    /// Cross-site scripting.
    Xss,
    /// OS command injection.
    Cmdi,
    /// Path traversal and local file inclusion.
    Traversal,
    /// Remote file inclusion.
    Rfi,
    /// LDAP filter injection.
    Ldap,
    /// NoSQL (MongoDB-style) operator injection.
    Nosql,
    /// XML injection and external entities (XXE).
    Xml,
    /// Server-side template injection.
    Ssti,
    /// Server-side request forgery (internal, loopback and metadata addresses).
    Ssrf,
    /// CRLF / HTTP header injection.
    Crlf,
    /// Log4Shell-style JNDI lookups.
    Log4shell,
    /// PHP code injection.
    Php,
    /// Java code injection, deserialisation and expression languages.
    Java,
    /// Other code injection (Node.js, Python, prototype pollution).
    Code,
    /// Known attack tools announcing themselves.
    Scanner,
    /// Session fixation (a framework session id sent as a parameter, cookies set in a value).
    Session,
    /// GraphQL schema introspection (`__schema`, `__type(name:`): a map of the whole API for
    /// an attacker; disable the category on routes whose tooling needs it.
    Graphql,
    /// Operator-defined rules.
    Custom,
}

impl Category {
    /// The snake_case name, as in configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sqli => "sqli",
            Self::Xss => "xss",
            Self::Cmdi => "cmdi",
            Self::Traversal => "traversal",
            Self::Rfi => "rfi",
            Self::Ldap => "ldap",
            Self::Nosql => "nosql",
            Self::Xml => "xml",
            Self::Ssti => "ssti",
            Self::Ssrf => "ssrf",
            Self::Crlf => "crlf",
            Self::Log4shell => "log4shell",
            Self::Php => "php",
            Self::Java => "java",
            Self::Code => "code",
            Self::Scanner => "scanner",
            Self::Session => "session",
            Self::Graphql => "graphql",
            Self::Custom => "custom",
        }
    }

    /// Every category.
    pub const ALL: [Category; 19] = [
        Self::Sqli,
        Self::Xss,
        Self::Cmdi,
        Self::Traversal,
        Self::Rfi,
        Self::Ldap,
        Self::Nosql,
        Self::Xml,
        Self::Ssti,
        Self::Ssrf,
        Self::Crlf,
        Self::Log4shell,
        Self::Php,
        Self::Java,
        Self::Code,
        Self::Scanner,
        Self::Session,
        Self::Graphql,
        Self::Custom,
    ];
}
