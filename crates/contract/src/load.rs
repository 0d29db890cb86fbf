//! Reading spec files and following `$ref`s between them.
//!
//! Invariants: only files inside the root spec's directory are ever opened (checked on the
//! canonical path, so symlinks and `..` cannot escape); URLs are refused, never fetched; the
//! number and size of files are capped; every `$ref` target is checked to exist when resolved.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use percent_encoding::percent_decode_str;
use serde_json::Value;

use crate::errors::LoadError;

/// Most files one spec may span.
const MAX_FILES: usize = 64;
/// Largest spec file.
const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;
/// Most `$ref` hops followed from one place before giving up (non-schema objects).
const MAX_REF_HOPS: usize = 32;

/// Index of a loaded file in [`Docs`].
pub(crate) type FileId = usize;

/// One parsed file.
struct Doc {
    /// Canonical path, for identity and relative resolution.
    canonical: PathBuf,
    /// The path as the user would recognise it (for errors).
    shown: PathBuf,
    value: Value,
}

/// The root spec and every file reached from it by `$ref`.
pub(crate) struct Docs {
    root_dir: PathBuf,
    files: Vec<Doc>,
}

impl Docs {
    /// Loads the root file. Its directory bounds every later file.
    pub(crate) fn load_root(path: &Path) -> Result<Self, LoadError> {
        let canonical = path.canonicalize().map_err(|e| LoadError::Read {
            file: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        let root_dir = canonical
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("/"));
        let value = read_value(&canonical, path)?;
        Ok(Self {
            root_dir,
            files: vec![Doc {
                canonical,
                shown: path.to_path_buf(),
                value,
            }],
        })
    }

    /// The root document.
    pub(crate) fn root(&self) -> &Value {
        self.files.first().map_or(&Value::Null, |d| &d.value)
    }

    /// The file as shown in errors.
    pub(crate) fn shown(&self, file: FileId) -> PathBuf {
        self.files
            .get(file)
            .map(|d| d.shown.clone())
            .unwrap_or_default()
    }

    /// The value at `pointer` in `file`.
    pub(crate) fn get(&self, file: FileId, pointer: &str) -> Option<&Value> {
        self.files.get(file)?.value.pointer(pointer)
    }

    /// Resolves `reference`, found at `at` in `file`, to a file and a pointer whose target
    /// exists. Loads the target file on first use.
    pub(crate) fn resolve_ref(
        &mut self,
        file: FileId,
        at: &str,
        reference: &str,
    ) -> Result<(FileId, String), LoadError> {
        let refuse = |docs: &Self, reason: &'static str| LoadError::Ref {
            file: docs.shown(file),
            pointer: at.to_owned(),
            reference: reference.to_owned(),
            reason,
        };
        if has_scheme(reference) || reference.starts_with("//") {
            return Err(refuse(
                self,
                "only references to local files are allowed (no URLs)",
            ));
        }
        let (path_part, fragment) = match reference.split_once('#') {
            Some((p, f)) => (p, f),
            None => (reference, ""),
        };
        let pointer = percent_decode_str(fragment)
            .decode_utf8()
            .map_err(|_| refuse(self, "fragment is not UTF-8"))?
            .into_owned();
        if !pointer.is_empty() && !pointer.starts_with('/') {
            return Err(refuse(
                self,
                "only JSON-pointer fragments are supported (no anchors)",
            ));
        }
        let target = if path_part.is_empty() {
            file
        } else {
            let rel = percent_decode_str(path_part)
                .decode_utf8()
                .map_err(|_| refuse(self, "path is not UTF-8"))?;
            let rel = Path::new(rel.as_ref());
            if rel.is_absolute() {
                return Err(refuse(self, "absolute paths are not allowed"));
            }
            let base = self
                .files
                .get(file)
                .and_then(|d| d.canonical.parent())
                .map(Path::to_path_buf)
                .unwrap_or_else(|| self.root_dir.clone());
            let joined = base.join(rel);
            // Lexical check first, so an escape is reported as such even when the target
            // does not exist; the canonical check below catches symlinks.
            if !lexical_normalize(&joined).starts_with(&self.root_dir) {
                return Err(refuse(
                    self,
                    "the referenced file is outside the spec's directory",
                ));
            }
            let canonical = joined
                .canonicalize()
                .map_err(|_| refuse(self, "the referenced file does not exist"))?;
            if !canonical.starts_with(&self.root_dir) {
                return Err(refuse(
                    self,
                    "the referenced file is outside the spec's directory",
                ));
            }
            match self.files.iter().position(|d| d.canonical == canonical) {
                Some(id) => id,
                None => {
                    if self.files.len() >= MAX_FILES {
                        return Err(refuse(self, "too many files referenced"));
                    }
                    let value = read_value(&canonical, &joined)?;
                    self.files.push(Doc {
                        canonical,
                        shown: joined,
                        value,
                    });
                    self.files.len() - 1
                }
            }
        };
        if self.get(target, &pointer).is_none() {
            return Err(refuse(self, "the target does not exist"));
        }
        Ok((target, pointer))
    }

    /// Follows `$ref`s from a non-schema object (parameter, request body, path item) to the
    /// object itself. Refuses cycles.
    pub(crate) fn deref(
        &mut self,
        mut file: FileId,
        mut pointer: String,
    ) -> Result<(FileId, String), LoadError> {
        let mut seen = HashSet::new();
        for _ in 0..MAX_REF_HOPS {
            let reference = match self.get(file, &pointer) {
                Some(Value::Object(m)) => m.get("$ref").and_then(Value::as_str).map(str::to_owned),
                Some(_) => None,
                None => {
                    return Err(LoadError::Invalid {
                        file: self.shown(file),
                        pointer,
                        reason: "missing".into(),
                    });
                }
            };
            let Some(reference) = reference else {
                return Ok((file, pointer));
            };
            if !seen.insert((file, pointer.clone())) {
                break;
            }
            let at = format!("{pointer}/$ref");
            (file, pointer) = self.resolve_ref(file, &at, &reference)?;
        }
        Err(LoadError::Ref {
            file: self.shown(file),
            pointer: pointer.clone(),
            reference: String::new(),
            reason: "reference cycle",
        })
    }
}

/// Resolves `.` and `..` without touching the file system.
fn lexical_normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// `scheme:` at the start of a reference (`http:`, `https:`, `file:`, `urn:` ...). A Windows
/// drive letter would also match, which is refused too: references are relative.
fn has_scheme(reference: &str) -> bool {
    let Some((scheme, _)) = reference.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && !scheme.contains('/')
}

fn read_value(canonical: &Path, shown: &Path) -> Result<Value, LoadError> {
    let read_err = |reason: String| LoadError::Read {
        file: shown.to_path_buf(),
        reason,
    };
    let meta = std::fs::metadata(canonical).map_err(|e| read_err(e.to_string()))?;
    if !meta.is_file() {
        return Err(read_err("not a regular file".into()));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(read_err(format!("larger than {MAX_FILE_BYTES} bytes")));
    }
    let text = std::fs::read_to_string(canonical).map_err(|e| read_err(e.to_string()))?;
    let is_json = canonical
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let parsed = if is_json {
        serde_json::from_str::<Value>(&text).map_err(|e| e.to_string())
    } else {
        serde_saphyr::from_str::<Value>(&text).map_err(|e| e.to_string())
    };
    parsed.map_err(|reason| LoadError::Parse {
        file: shown.to_path_buf(),
        reason,
    })
}

/// Appends one reference token to a JSON pointer, escaping `~` and `/`.
pub(crate) fn join_pointer(base: &str, token: &str) -> String {
    let mut out = String::with_capacity(base.len() + token.len() + 1);
    out.push_str(base);
    out.push('/');
    for c in token.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_are_detected() {
        assert!(has_scheme("http://x/y.yaml"));
        assert!(has_scheme("https://x"));
        assert!(has_scheme("file:///etc/passwd"));
        assert!(!has_scheme("#/components/schemas/A"));
        assert!(!has_scheme("common.yaml#/A"));
        assert!(!has_scheme("dir/a:b.yaml"));
    }

    #[test]
    fn pointers_escape() {
        assert_eq!(join_pointer("/paths", "/pets/{id}"), "/paths/~1pets~1{id}");
        assert_eq!(join_pointer("", "a~b"), "/a~0b");
    }
}
