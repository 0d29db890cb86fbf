//! Reading a config file: YAML parse with locations and key paths, then semantic validation.

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use crate::diagnostic::{ConfigError, Diagnostic, Severity};
use crate::spec::ConfigSpec;
use crate::validate::validate;

/// A config that loaded: the model and the warnings `portcullis check` reports.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The validated model (relative file paths resolved against the config's directory).
    pub spec: ConfigSpec,
    /// Lint findings that do not prevent serving.
    pub warnings: Vec<Diagnostic>,
}

fn error(
    file: &Path,
    line: u64,
    column: u64,
    path: &str,
    message: impl Into<String>,
) -> Diagnostic {
    Diagnostic {
        severity: Severity::Error,
        file: file.to_path_buf(),
        line,
        column,
        path: path.to_string(),
        message: message.into(),
    }
}

/// Reads, parses and validates a config file.
pub fn load_file(path: &Path) -> Result<Loaded, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        diagnostics: vec![error(
            path,
            0,
            0,
            "",
            format!("cannot read the config file: {e}"),
        )],
    })?;
    let base = path.parent().filter(|d| !d.as_os_str().is_empty());
    load_inner(&text, path, base)
}

/// Parses and validates config text; `file` names it in messages. Relative paths are left
/// as written (the caller knows the base directory; [`load_file`] resolves them).
pub fn load_str(source: &str, file: &Path) -> Result<Loaded, ConfigError> {
    load_inner(source, file, None)
}

fn load_inner(source: &str, file: &Path, base: Option<&Path>) -> Result<Loaded, ConfigError> {
    if source.trim().is_empty() {
        return Err(ConfigError {
            diagnostics: vec![error(
                file,
                1,
                1,
                "",
                "the config is empty; it needs at least `listeners:` (see examples/quickstart.yaml)",
            )],
        });
    }
    let key_path = RefCell::new(String::new());
    let parsed = serde_saphyr::with_deserializer_from_str(source, |de| {
        serde_path_to_error::deserialize::<_, ConfigSpec>(de).map_err(|e| {
            *key_path.borrow_mut() = e.path().to_string();
            e.into_inner()
        })
    });
    let mut spec = match parsed {
        Ok(spec) => spec,
        Err(e) => {
            let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
            let path = key_path.into_inner();
            let path = if path == "." { String::new() } else { path };
            let message = e.without_snippet().to_string();
            // serde-saphyr appends " at line L, column C"; the location is already in front.
            let message = match message.rfind(" at line ") {
                Some(i) => message.get(..i).unwrap_or(&message).to_string(),
                None => message,
            };
            return Err(ConfigError {
                diagnostics: vec![error(file, line, column, &path, message)],
            });
        }
    };
    if let Some(base) = base {
        resolve_paths(&mut spec, base);
    }
    let diagnostics = validate(&spec, source, file);
    let (errors, warnings): (Vec<_>, Vec<_>) = diagnostics
        .into_iter()
        .partition(|d| d.severity == Severity::Error);
    if !errors.is_empty() {
        return Err(ConfigError {
            diagnostics: errors,
        });
    }
    Ok(Loaded { spec, warnings })
}

/// Resolves relative file paths in the config against `base` (the config file's directory),
/// so a config works from any working directory. `data_dir` stays relative to the working
/// directory: it is where the process keeps state.
pub fn resolve_paths(spec: &mut ConfigSpec, base: &Path) {
    let fix = |p: &mut PathBuf| {
        if p.is_relative() {
            *p = base.join(&*p);
        }
    };
    for l in &mut spec.listeners {
        if let Some(tls) = &mut l.tls {
            for c in &mut tls.certificates {
                fix(&mut c.cert_file);
                fix(&mut c.key_file);
            }
        }
    }
    for u in &mut spec.upstreams {
        for p in [
            &mut u.tls.ca_file,
            &mut u.tls.client_cert_file,
            &mut u.tls.client_key_file,
        ]
        .into_iter()
        .flatten()
        {
            fix(p);
        }
    }
}
