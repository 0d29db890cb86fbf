//! Finds where a key path sits in the YAML source, for semantic errors found after parsing.
//!
//! A deliberately small reader of block-style YAML (the style of every example and of
//! `docs/configuration.md`): it follows `key:` lines and `- ` sequence items by indentation.
//! When the path leaves what it understands (flow style, anchors), it returns the deepest
//! location it did find, so a message always points near the problem.

/// A path segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg<'a> {
    /// A mapping key.
    Key(&'a str),
    /// A sequence index.
    Index(usize),
}

/// Parses `routes[1].upstream` into segments.
pub fn parse_path(path: &str) -> Vec<Seg<'_>> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (key, rest) = match part.find('[') {
            Some(i) => (part.get(..i).unwrap_or(""), part.get(i..).unwrap_or("")),
            None => (part, ""),
        };
        if !key.is_empty() {
            out.push(Seg::Key(key));
        }
        for idx in rest.split('[').filter(|s| !s.is_empty()) {
            if let Ok(n) = idx.trim_end_matches(']').parse() {
                out.push(Seg::Index(n));
            }
        }
    }
    out
}

struct Line<'a> {
    no: u64,
    indent: usize,
    text: &'a str,
}

fn lines(source: &str) -> Vec<Line<'_>> {
    source
        .lines()
        .enumerate()
        .filter_map(|(i, raw)| {
            let trimmed = raw.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                return None;
            }
            Some(Line {
                no: i as u64 + 1,
                indent: raw.len() - trimmed.len(),
                text: trimmed,
            })
        })
        .collect()
}

fn key_of(text: &str) -> Option<&str> {
    let t = text.strip_prefix("- ").unwrap_or(text).trim_start();
    let (k, _) = t.split_once(':')?;
    Some(k.trim().trim_matches('"').trim_matches('\''))
}

/// The (line, column) of a key path, or the closest enclosing location found.
pub fn locate(source: &str, path: &str) -> (u64, u64) {
    let lines = lines(source);
    let segs = parse_path(path);
    let mut best = (0u64, 0u64);
    // The window of lines that belong to the current node, and its child indentation.
    let mut start = 0usize;
    let mut end = lines.len();
    let mut min_indent = 0usize;
    for seg in segs {
        match seg {
            Seg::Key(k) => {
                let found = (start..end).find(|&i| {
                    lines.get(i).is_some_and(|l| {
                        let item_offset = if l.text.starts_with("- ") { 2 } else { 0 };
                        l.indent + item_offset >= min_indent && key_of(l.text) == Some(k)
                    })
                });
                let Some(i) = found else { return best };
                let Some(l) = lines.get(i) else { return best };
                let col = l.indent + if l.text.starts_with("- ") { 2 } else { 0 };
                best = (l.no, col as u64 + 1);
                // The node's children: the following lines indented deeper than the key, or
                // sequence items at the key's own indentation (`key:\n- a`).
                let child_end = (i + 1..end)
                    .find(|&j| {
                        lines.get(j).is_some_and(|m| {
                            m.indent < col || (m.indent == col && !m.text.starts_with("- "))
                        })
                    })
                    .unwrap_or(end);
                start = i + 1;
                end = child_end;
                min_indent = col;
            }
            Seg::Index(n) => {
                let items: Vec<usize> = (start..end)
                    .filter(|&j| {
                        lines
                            .get(j)
                            .is_some_and(|m| m.text.starts_with("- ") && m.indent >= min_indent)
                    })
                    .collect();
                let Some(item_indent) = items.first().and_then(|&j| lines.get(j)).map(|m| m.indent)
                else {
                    return best;
                };
                let items: Vec<usize> = items
                    .into_iter()
                    .filter(|&j| lines.get(j).is_some_and(|m| m.indent == item_indent))
                    .collect();
                let Some(&i) = items.get(n) else { return best };
                let Some(l) = lines.get(i) else { return best };
                best = (l.no, l.indent as u64 + 1);
                let item_end = items.get(n + 1).copied().unwrap_or(end);
                // The item's own keys start on its `- ` line, at indent + 2.
                start = i;
                end = item_end;
                min_indent = l.indent + 2;
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "listeners:\n  - id: a\n    address: 127.0.0.1:1\nroutes:\n  - id: one\n    path: /a\n    upstream: x\n  - id: two\n    path: /b\n    methods: [GET]\n    upstream: y\n    ip_policy:\n      allow: [1.2.3.4]\n";

    #[test]
    fn finds_nested_keys_in_sequences() {
        assert_eq!(locate(SRC, "routes"), (4, 1));
        assert_eq!(locate(SRC, "routes[0].upstream"), (7, 5));
        assert_eq!(locate(SRC, "routes[1].upstream"), (11, 5));
        assert_eq!(locate(SRC, "routes[1].id"), (8, 5));
        assert_eq!(locate(SRC, "routes[1].ip_policy.allow"), (13, 7));
        assert_eq!(locate(SRC, "listeners[0].address"), (3, 5));
    }

    #[test]
    fn unknown_paths_fall_back_to_the_closest_node() {
        assert_eq!(locate(SRC, "routes[1].hosts"), (8, 3));
        assert_eq!(locate(SRC, "upstreams[0].id"), (0, 0));
        assert_eq!(locate("", "a.b"), (0, 0));
    }
}
