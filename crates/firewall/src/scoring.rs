//! Anomaly scoring and what the engine reports: matches with redacted excerpts, and the
//! per-request verdict.

use serde::Serialize;

use crate::location::Location;
use crate::rules::{Category, Severity};

/// Longest excerpt kept, in characters.
pub const MAX_EXCERPT_CHARS: usize = 40;

/// One rule that matched one value.
#[derive(Clone, Debug, Serialize)]
pub struct Match {
    /// Stable rule id (`sqli-001`, or a custom rule's id).
    pub rule_id: String,
    /// Attack class.
    pub category: Category,
    /// Confidence of the rule.
    pub severity: Severity,
    /// Score added to the request.
    pub score: u32,
    /// Where the value was found.
    #[serde(serialize_with = "ser_location")]
    pub location: Location,
    /// A short window of the normalised value around the match: at most
    /// [`MAX_EXCERPT_CHARS`] characters and at most half the value, control characters
    /// replaced, the rest elided with `…`. For logs; never sent to the client.
    pub excerpt: String,
}

fn ser_location<S: serde::Serializer>(l: &Location, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(l)
}

/// The outcome of inspecting one request.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Verdict {
    /// Sum of the scores of all matches.
    pub score: u32,
    /// The score reached the threshold.
    pub over_threshold: bool,
    /// The request must be refused: over the threshold and the mode is `block`.
    pub blocked: bool,
    /// The matches, in request order (at most [`MAX_MATCHES`]).
    pub matches: Vec<Match>,
    /// Values inspected.
    pub inspected: usize,
    /// Values not inspected: over `max_values`, or skipped by a schema hint.
    pub skipped: usize,
    /// Part of the body or of a value was beyond the limits and not inspected.
    pub truncated: bool,
    /// Rule ids already scored.
    #[serde(skip)]
    scored: Vec<String>,
}

/// Matches kept per request; scoring continues past it.
pub const MAX_MATCHES: usize = 64;

impl Verdict {
    /// Adds a match to the list (within [`MAX_MATCHES`]) and its score to the request's,
    /// once per rule: the same value is often seen twice (the whole path and its segment,
    /// a URL in two fields), and a rule repeating itself is not more evidence.
    pub fn add(&mut self, m: Match) {
        if !self.scored.contains(&m.rule_id) {
            self.score = self.score.saturating_add(m.score);
            self.scored.push(m.rule_id.clone());
        }
        if self.matches.len() < MAX_MATCHES {
            self.matches.push(m);
        }
    }

    /// The distinct rule ids that matched, in order of first appearance.
    pub fn rule_ids(&self) -> Vec<&str> {
        let mut v: Vec<&str> = Vec::new();
        for m in &self.matches {
            if !v.contains(&m.rule_id.as_str()) {
                v.push(&m.rule_id);
            }
        }
        v
    }

    /// The distinct categories that matched.
    pub fn categories(&self) -> Vec<Category> {
        let mut v: Vec<Category> = self.matches.iter().map(|m| m.category).collect();
        v.sort();
        v.dedup();
        v
    }
}

/// A redacted excerpt of `text` around the byte span `span`: never the whole value, never
/// more than [`MAX_EXCERPT_CHARS`] characters.
pub fn excerpt(text: &str, span: (usize, usize)) -> String {
    let total = text.chars().count();
    let budget = (total / 2).min(MAX_EXCERPT_CHARS);
    if budget == 0 {
        return "…".to_owned();
    }
    let start_byte = span.0.min(text.len());
    let start_char = text
        .char_indices()
        .take_while(|(i, _)| *i < start_byte)
        .count();
    // A little context before the match, the rest from the match on.
    let from = start_char
        .saturating_sub(8)
        .min(total.saturating_sub(budget));
    let to = from.saturating_add(budget).min(total);
    let mut out = String::with_capacity(budget.saturating_add(6));
    if from > 0 {
        out.push('…');
    }
    for c in text.chars().skip(from).take(to.saturating_sub(from)) {
        out.push(if c.is_control() { '·' } else { c });
    }
    if to < total {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_bounded_and_never_whole() {
        let v = "name=' or 1=1 --";
        let e = excerpt(v, (5, 12));
        assert!(e.chars().filter(|&c| c != '…').count() <= v.chars().count() / 2);
        assert!(e.contains('…'));
        let long = format!(
            "{}<script>alert(1)</script>{}",
            "a".repeat(500),
            "b".repeat(500)
        );
        let e = excerpt(&long, (500, 508));
        assert!(e.chars().count() <= MAX_EXCERPT_CHARS + 2);
        assert!(e.contains("<script>"));
        assert_eq!(excerpt("x", (0, 1)), "…");
        assert_eq!(excerpt("ab\ncd", (0, 5)), "ab…");
        let _ = excerpt("ééé", (1, 2));
    }
}
