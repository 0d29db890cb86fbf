//! The compiled firewall: built once per config version from a [`FirewallSpec`], shared by
//! all requests (`Arc<Firewall>`), and run on one request with [`Firewall::inspect`].
//!
//! Per value: normalise once, run the pattern rules of each normalised variant in one
//! `RegexSet` pass, run the structured detectors, then apply exclusions and add the scores.

use std::collections::HashSet;

use aho_corasick::AhoCorasick;
use http::request::Parts;
use regex::bytes::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};

use crate::base64text::{decoded_text, embedded_texts};
use crate::error::FirewallError;
use crate::extract::extract;
use crate::location::{Location, Part};
use crate::normalize::{Limits, Normalized, Variant, join_string_literals, strip_word_tags};
use crate::rules::{
    Category, Detector, Hit, RefererSite, RuleInfo, Severity, Subject, builtin_detectors,
    builtin_patterns, referer_site,
};
use crate::scoring::{Match, Verdict, excerpt};
use crate::spec::{ExclusionSpec, FirewallMode, FirewallSpec, MatcherSpec, RulePart};

/// Compiled size limit per regex set; the built-in sets need a few MiB.
const REGEX_SIZE_LIMIT: usize = 64 * 1024 * 1024;

/// The pattern rules of one variant: matched together in one pass.
#[derive(Debug)]
struct VariantSet {
    variant: Variant,
    set: RegexSet,
    /// The same expressions one by one, run only for a rule that matched, to locate it.
    each: Vec<Regex>,
    rules: Vec<RuleInfo>,
}

#[derive(Debug)]
enum CustomMatcher {
    Regex(Regex),
    Contains(AhoCorasick),
    InList(HashSet<String>, bool),
}

#[derive(Debug)]
struct CustomRule {
    id: String,
    parts: Vec<RulePart>,
    matcher: CustomMatcher,
    score: u32,
}

/// What one value's inspection carries through its views (as sent, tags removed,
/// base64-decoded): where the value is, the request's referer, the scratch list of rule hits
/// and the verdict being built.
struct Pass<'a> {
    location: &'a Location,
    referer: RefererSite,
    hits: &'a mut Vec<Hit>,
    verdict: &'a mut Verdict,
}

/// A compiled firewall. Immutable; cheap to share.
#[derive(Debug)]
pub struct Firewall {
    mode: FirewallMode,
    threshold: u32,
    sets: Vec<VariantSet>,
    detectors: Vec<Box<dyn Detector>>,
    custom: Vec<CustomRule>,
    disabled_rules: HashSet<String>,
    disabled_categories: HashSet<Category>,
    exclusions: Vec<ExclusionSpec>,
    skip_headers: Vec<String>,
    limits: crate::spec::LimitsSpec,
}

/// A parameter *name* that merely is a command word (`uname=`, `hostname=`, `id=`): the
/// command rules anchored at the start of a value do not apply to names, which are chosen
/// by the API, not typed into a shell. Separators in a name still count.
/// Likewise a value that is nothing but one of the command names that double as ordinary
/// identifiers (`sort=hostname`, `field=uname`).
fn key_named_like_command(location: &Location, norm: &Normalized, h: &Hit) -> bool {
    if h.rule.category != Category::Cmdi || h.span.0 != 0 {
        return false;
    }
    let text = norm.variant(h.variant);
    let starts_plain = text
        .as_bytes()
        .first()
        .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'/');
    if location.part.is_key() && starts_plain {
        return true;
    }
    const IDENTIFIER_LIKE: &[&str] = &[
        "uname", "hostname", "id", "env", "set", "dir", "ver", "who", "w", "ps", "uptime",
    ];
    IDENTIFIER_LIKE.contains(&text.trim_matches(' '))
}

impl Firewall {
    /// Compiles a spec. Errors are configuration errors (bad custom regex, bad limits).
    pub fn new(spec: &FirewallSpec) -> Result<Self, FirewallError> {
        if spec.threshold == 0 {
            return Err(FirewallError::BadSetting {
                field: "threshold",
                reason: "must be at least 1",
            });
        }
        let l = &spec.limits;
        if l.max_values == 0 || l.max_value_bytes == 0 || l.max_depth == 0 {
            return Err(FirewallError::BadSetting {
                field: "limits",
                reason: "limits must be at least 1",
            });
        }
        let disabled_rules: HashSet<String> = spec.disabled_rules.iter().cloned().collect();
        let disabled_categories: HashSet<Category> =
            spec.disabled_categories.iter().copied().collect();
        let enabled = |r: &RuleInfo| {
            !disabled_rules.contains(r.id) && !disabled_categories.contains(&r.category)
        };

        let mut sets = Vec::new();
        let patterns = builtin_patterns();
        for variant in Variant::ALL {
            let defs: Vec<_> = patterns
                .iter()
                .filter(|d| d.variant == variant)
                .filter(|d| {
                    enabled(&RuleInfo {
                        id: d.id,
                        category: d.category,
                        severity: d.severity,
                    })
                })
                .collect();
            if defs.is_empty() {
                continue;
            }
            let set = RegexSetBuilder::new(defs.iter().map(|d| d.pattern))
                .unicode(false)
                .size_limit(REGEX_SIZE_LIMIT)
                .dfa_size_limit(REGEX_SIZE_LIMIT)
                .build()
                .map_err(FirewallError::Builtin)?;
            let mut each = Vec::with_capacity(defs.len());
            for d in &defs {
                each.push(
                    RegexBuilder::new(d.pattern)
                        .unicode(false)
                        .size_limit(REGEX_SIZE_LIMIT)
                        .build()
                        .map_err(FirewallError::Builtin)?,
                );
            }
            sets.push(VariantSet {
                variant,
                set,
                each,
                rules: defs
                    .iter()
                    .map(|d| RuleInfo {
                        id: d.id,
                        category: d.category,
                        severity: d.severity,
                    })
                    .collect(),
            });
        }

        let mut custom = Vec::new();
        let mut seen = HashSet::new();
        for c in &spec.custom_rules {
            if c.id.is_empty() || !seen.insert(c.id.clone()) {
                return Err(FirewallError::BadRule {
                    id: c.id.clone(),
                    reason: "ids must be non-empty and unique",
                });
            }
            if Category::ALL.iter().any(|cat| {
                *cat != Category::Custom && c.id.starts_with(&format!("{}-", cat.as_str()))
            }) || c.id.starts_with("lfi-")
                || c.id.starts_with("log4j-")
            {
                return Err(FirewallError::BadRule {
                    id: c.id.clone(),
                    reason: "ids must not use a built-in prefix",
                });
            }
            if c.parts.is_empty() {
                return Err(FirewallError::BadRule {
                    id: c.id.clone(),
                    reason: "parts must not be empty",
                });
            }
            let matcher = match &c.matcher {
                MatcherSpec::Regex(re) => CustomMatcher::Regex(
                    RegexBuilder::new(re)
                        .case_insensitive(c.case_insensitive)
                        .size_limit(1024 * 1024)
                        .build()
                        .map_err(|source| FirewallError::BadRegex {
                            id: c.id.clone(),
                            source,
                        })?,
                ),
                MatcherSpec::Contains(needle) => {
                    if needle.is_empty() {
                        return Err(FirewallError::BadRule {
                            id: c.id.clone(),
                            reason: "contains must not be empty",
                        });
                    }
                    CustomMatcher::Contains(
                        AhoCorasick::builder()
                            .ascii_case_insensitive(c.case_insensitive)
                            .build([needle])
                            .map_err(|_| FirewallError::BadRule {
                                id: c.id.clone(),
                                reason: "contains pattern too large",
                            })?,
                    )
                }
                MatcherSpec::InList(items) => CustomMatcher::InList(
                    items
                        .iter()
                        .map(|s| {
                            if c.case_insensitive {
                                s.trim().to_lowercase()
                            } else {
                                s.trim().to_owned()
                            }
                        })
                        .collect(),
                    c.case_insensitive,
                ),
            };
            custom.push(CustomRule {
                id: c.id.clone(),
                parts: c.parts.clone(),
                matcher,
                score: c.score,
            });
        }

        Ok(Self {
            mode: spec.mode,
            threshold: spec.threshold,
            sets,
            detectors: builtin_detectors(),
            custom,
            disabled_rules,
            disabled_categories,
            exclusions: spec.exclusions.clone(),
            skip_headers: spec
                .skip_headers
                .iter()
                .map(|h| h.to_ascii_lowercase())
                .collect(),
            limits: spec.limits,
        })
    }

    /// The mode of this firewall.
    pub fn mode(&self) -> FirewallMode {
        self.mode
    }

    /// The anomaly threshold.
    pub fn threshold(&self) -> u32 {
        self.threshold
    }

    /// Inspects a request head and its buffered body.
    pub fn inspect(&self, parts: &Parts, body: &[u8]) -> Verdict {
        self.inspect_with(parts, body, &|_| false)
    }

    /// Inspects a request, skipping the locations for which `skip` says true: values a
    /// schema already constrains to an integer, enum, UUID or date cannot carry an
    /// injection, and skipping them saves time and false positives.
    pub fn inspect_with(
        &self,
        parts: &Parts,
        body: &[u8],
        skip: &dyn Fn(&Location) -> bool,
    ) -> Verdict {
        let ex = extract(parts, body, &self.limits, &self.skip_headers);
        let mut verdict = Verdict::default();
        verdict.skipped = ex.dropped;
        verdict.truncated = ex.body_truncated;
        let limits = Limits {
            max_value_bytes: self.limits.max_value_bytes,
        };
        let mut hits = Vec::new();
        let referer = referer_site(parts);
        for value in &ex.values {
            if value.bytes.is_empty() {
                continue;
            }
            if skip(&value.location) {
                verdict.skipped = verdict.skipped.saturating_add(1);
                continue;
            }
            verdict.inspected = verdict.inspected.saturating_add(1);
            let norm = Normalized::new(&value.bytes, limits);
            verdict.truncated |= norm.truncated;
            let mut pass = Pass {
                location: &value.location,
                referer,
                hits: &mut hits,
                verdict: &mut verdict,
            };
            self.inspect_views(&mut pass, &norm, "");
            if let Some(text) = decoded_text(&norm.decoded, self.limits.max_base64_bytes) {
                let inner = Normalized::new(text.as_bytes(), limits);
                self.inspect_views(&mut pass, &inner, "base64: ");
                // Encoded twice (`UEhOamNtbHdk…` is base64 of base64 of `<script>`): one
                // more level, no further.
                if let Some(twice) = decoded_text(&inner.decoded, self.limits.max_base64_bytes) {
                    let inner = Normalized::new(twice.as_bytes(), limits);
                    self.inspect_views(&mut pass, &inner, "base64 twice: ");
                }
            } else {
                for text in embedded_texts(&norm.decoded, self.limits.max_base64_bytes) {
                    let inner = Normalized::new(text.as_bytes(), limits);
                    self.inspect_views(&mut pass, &inner, "base64 inside: ");
                }
            }
        }
        verdict.over_threshold = verdict.score >= self.threshold;
        verdict.blocked = verdict.over_threshold && self.mode == FirewallMode::Block;
        verdict
    }

    /// Inspects `norm` as it is and, if it has tags glued inside its words or CDATA
    /// markers (`o<x>nfocus=`), once more without them: what a tag-stripping sanitiser
    /// leaves behind; if it has string literals glued by `+` or `||`, once more with
    /// them joined: what the script or SQL interpreter sees.
    fn inspect_views(&self, pass: &mut Pass<'_>, norm: &Normalized, origin: &str) {
        self.inspect_value(pass, norm, origin);
        let limits = Limits {
            max_value_bytes: self.limits.max_value_bytes,
        };
        if let Some(text) = strip_word_tags(&norm.decoded) {
            let inner = Normalized::new(text.as_bytes(), limits);
            let origin = format!("{origin}tags removed: ");
            self.inspect_value(pass, &inner, &origin);
        }
        if let Some(text) = join_string_literals(&norm.decoded) {
            let inner = Normalized::new(text.as_bytes(), limits);
            let origin = format!("{origin}strings joined: ");
            self.inspect_value(pass, &inner, &origin);
        }
    }

    /// Runs every rule on one normalised view of the value and adds its matches (one per
    /// rule and location) to the verdict. `origin` prefixes the excerpt when the text was
    /// decoded from the value (`base64: `), so the audit log says where the payload was
    /// hidden.
    fn inspect_value(&self, pass: &mut Pass<'_>, norm: &Normalized, origin: &str) {
        let location = pass.location;
        pass.hits.clear();
        self.run_rules(location, norm, pass.referer, pass.hits);
        let mut reported: Vec<&str> = Vec::new();
        for h in pass.hits.iter() {
            if reported.contains(&h.rule.id)
                || pass
                    .verdict
                    .matches
                    .iter()
                    .any(|m| m.rule_id == h.rule.id && m.location == *location)
                || !self.applies(h.rule.id, h.rule.category, location)
                || key_named_like_command(location, norm, h)
            {
                continue;
            }
            reported.push(h.rule.id);
            pass.verdict.add(Match {
                rule_id: h.rule.id.to_owned(),
                category: h.rule.category,
                severity: h.rule.severity,
                score: h.rule.severity.score(),
                location: location.clone(),
                excerpt: format!("{origin}{}", excerpt(norm.variant(h.variant), h.span)),
            });
        }
        self.run_custom(location, norm, pass.verdict);
    }

    fn run_rules(
        &self,
        location: &Location,
        norm: &Normalized,
        referer: RefererSite,
        hits: &mut Vec<Hit>,
    ) {
        for vs in &self.sets {
            let text = norm.variant(vs.variant).as_bytes();
            let matched = vs.set.matches(text);
            if !matched.matched_any() {
                continue;
            }
            for i in matched.iter() {
                let (Some(rule), Some(re)) = (vs.rules.get(i), vs.each.get(i)) else {
                    continue;
                };
                let span = re
                    .find(text)
                    .map_or((0, text.len()), |m| (m.start(), m.end()));
                hits.push(Hit {
                    rule: *rule,
                    variant: vs.variant,
                    span,
                });
            }
        }
        let subject = Subject {
            location,
            norm,
            referer,
        };
        for d in &self.detectors {
            d.detect(&subject, hits);
        }
    }

    /// Whether a rule is on for a location (not disabled, not excluded there).
    fn applies(&self, id: &str, category: Category, location: &Location) -> bool {
        if self.disabled_rules.contains(id) || self.disabled_categories.contains(&category) {
            return false;
        }
        !self.exclusions.iter().any(|ex| {
            let rule_hit =
                ex.rules.is_empty() || ex.rules.iter().any(|r| r == id || r == category.as_str());
            let loc_hit =
                ex.locations.is_empty() || ex.locations.iter().any(|p| location.matches_pattern(p));
            rule_hit && loc_hit
        })
    }

    fn run_custom(&self, location: &Location, norm: &Normalized, verdict: &mut Verdict) {
        if self.custom.is_empty() {
            return;
        }
        let part = match location.part {
            Part::Path => RulePart::Path,
            Part::Query | Part::QueryKey => RulePart::Query,
            Part::Header => RulePart::Headers,
            Part::Cookie => RulePart::Cookies,
            Part::Body | Part::BodyKey | Part::Form | Part::FormKey | Part::Xml | Part::Raw => {
                RulePart::Body
            }
        };
        let text = norm.decoded.as_str();
        for c in &self.custom {
            if !c.parts.contains(&part) || !self.applies(&c.id, Category::Custom, location) {
                continue;
            }
            let span = match &c.matcher {
                CustomMatcher::Regex(re) => re.find(text.as_bytes()).map(|m| (m.start(), m.end())),
                CustomMatcher::Contains(ac) => ac.find(text).map(|m| (m.start(), m.end())),
                CustomMatcher::InList(set, ci) => {
                    let t = text.trim();
                    let hit = if *ci {
                        set.contains(&t.to_lowercase())
                    } else {
                        set.contains(t)
                    };
                    hit.then_some((0, text.len()))
                }
            };
            if let Some(span) = span {
                verdict.add(Match {
                    rule_id: c.id.clone(),
                    category: Category::Custom,
                    severity: Severity::Critical,
                    score: c.score,
                    location: location.clone(),
                    excerpt: excerpt(text, span),
                });
            }
        }
    }

    /// Every built-in rule id with its category, for docs and config validation.
    pub fn builtin_rules() -> Vec<(&'static str, Category)> {
        let mut v: Vec<_> = builtin_patterns()
            .iter()
            .map(|p| (p.id, p.category))
            .collect();
        for d in builtin_detectors() {
            v.extend(d.rules().iter().map(|r| (r.id, r.category)));
        }
        v.sort();
        v
    }
}
