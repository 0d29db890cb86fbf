//! Diagnostics: errors and warnings that name file, line, column and the key path.
//!
//! One diagnostic renders on one line: `file:line:column: path: message` for errors and
//! `file:line:column: warning: path: message` for warnings; the location and the path are left
//! out when unknown. [`ConfigError`] prints every error, one per line. Which exit code a
//! failure maps to is the binary's business, not this crate's.

use std::fmt;
use std::path::PathBuf;

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// The config is refused.
    Error,
    /// The config works but is risky or worth a second look (reported by `portcullis check`
    /// and logged at start). Informational notes such as "this route is public" are warnings
    /// too: there are only two severities.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Error => "error",
            Self::Warning => "warning",
        })
    }
}

/// One finding about a config file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The file, as given to the loader.
    pub file: PathBuf,
    /// 1-based line (0 when unknown).
    pub line: u64,
    /// 1-based column, in characters (0 when unknown).
    pub column: u64,
    /// Key path, e.g. `routes[1].upstream` or `routes[0].methods[2]` (empty for the whole
    /// file).
    pub path: String,
    /// What is wrong and, where possible, how to fix it.
    pub message: String,
    /// The offending source line and a caret under the column, when the location is known
    /// (two lines). Not part of `Display`; see [`ConfigError::render_with_snippets`].
    pub snippet: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        f.write_str(": ")?;
        if self.severity == Severity::Warning {
            f.write_str("warning: ")?;
        }
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)
    }
}

/// A config that cannot be used: every error found, one per line in `Display`.
///
/// Returned by [`crate::load_file`] and [`crate::load_str`] when the file cannot be read, is
/// not valid YAML for the model, or fails a semantic check.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", Lines(.diagnostics))]
pub struct ConfigError {
    /// The errors (never empty).
    pub diagnostics: Vec<Diagnostic>,
}

impl ConfigError {
    /// Every error on its own line, each followed by its source snippet (indented) when
    /// known: the long form for a terminal.
    pub fn render_with_snippets(&self) -> String {
        let mut out = String::new();
        for d in &self.diagnostics {
            out.push_str(&d.to_string());
            out.push('\n');
            if let Some(s) = &d.snippet {
                for line in s.lines() {
                    out.push_str("    ");
                    out.push_str(line);
                    out.push('\n');
                }
            }
        }
        out
    }
}

struct Lines<'a>(&'a [Diagnostic]);

impl fmt::Display for Lines<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

/// The source line `line` (1-based) and a caret under `column` (1-based, characters), or
/// `None` when out of range. Long lines are cut around the column.
pub(crate) fn snippet(source: &str, line: u64, column: u64) -> Option<String> {
    const WIDTH: usize = 100;
    let index = usize::try_from(line.checked_sub(1)?).ok()?;
    let text = source.lines().nth(index)?;
    let col = usize::try_from(column.saturating_sub(1)).ok()?;
    let start = col.saturating_sub(WIDTH / 2);
    let shown: String = text.chars().skip(start).take(WIDTH).collect();
    let prefix = if start > 0 { "…" } else { "" };
    let caret_at = col
        .saturating_sub(start)
        .saturating_add(prefix.chars().count());
    Some(format!(
        "{prefix}{}\n{}^",
        shown.trim_end(),
        " ".repeat(caret_at)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diag(severity: Severity, line: u64, path: &str) -> Diagnostic {
        Diagnostic {
            severity,
            file: "p.yaml".into(),
            line,
            column: 7,
            path: path.into(),
            message: "bad".into(),
            snippet: None,
        }
    }

    #[test]
    fn renders_file_line_column_path_message() {
        assert_eq!(
            diag(Severity::Error, 12, "routes[1].upstream").to_string(),
            "p.yaml:12:7: routes[1].upstream: bad"
        );
        assert_eq!(
            diag(Severity::Warning, 3, "admin.address").to_string(),
            "p.yaml:3:7: warning: admin.address: bad"
        );
        assert_eq!(diag(Severity::Error, 0, "").to_string(), "p.yaml: bad");
        let e = ConfigError {
            diagnostics: vec![diag(Severity::Error, 1, "a"), diag(Severity::Error, 2, "b")],
        };
        assert_eq!(e.to_string(), "p.yaml:1:7: a: bad\np.yaml:2:7: b: bad");
    }

    #[test]
    fn snippets_point_at_the_column() {
        let src = "a: 1\nroutes:\n  - id: x\n";
        assert_eq!(snippet(src, 3, 5).unwrap(), "  - id: x\n    ^");
        assert_eq!(snippet(src, 9, 1), None);
        assert_eq!(snippet(src, 0, 0), None);
        let long = format!("k: {}X", "a".repeat(300));
        let s = snippet(&long, 1, 304).unwrap();
        let (text, caret) = s.split_once('\n').unwrap();
        assert_eq!(text.chars().nth(caret.len() - 1), Some('X'), "{s}");
    }
}
