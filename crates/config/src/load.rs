//! Reading a config file: YAML parse with locations and key paths, normalisation, relative
//! path resolution, then semantic validation and lints.
//!
//! Parsing uses serde-saphyr with its resource budget on (billion-laughs aliases, deep
//! nesting and huge documents are refused) and duplicate mapping keys refused. A parse error
//! stops at the first problem (serde cannot continue past it); semantic errors are all
//! reported together.

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use crate::diagnostic::{ConfigError, Diagnostic, Severity, snippet};
use crate::spec::ConfigSpec;
use crate::validate::validate;

/// The largest config file accepted, in bytes.
pub const MAX_CONFIG_BYTES: usize = 4 * 1024 * 1024;

/// A config that loaded: the model and the warnings `portcullis check` reports.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The validated model: methods upper-cased, relative file paths resolved against the
    /// config file's directory.
    pub spec: ConfigSpec,
    /// Lint findings (severity [`Severity::Warning`]) that do not prevent serving.
    pub warnings: Vec<Diagnostic>,
}

/// serde-saphyr options for config files: the default budget (explicitly, so a change of
/// default cannot switch it off), at most 100 000 replayed alias events, and duplicate keys
/// as errors.
pub(crate) fn parse_options() -> serde_saphyr::Options {
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(serde_saphyr::Budget::default());
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::Error;
    // A config never needs many alias replays; refuse expansion bombs early.
    options.alias_limits.max_total_replayed_events = 100_000;
    options
}

fn file_error(file: &Path, message: String) -> ConfigError {
    ConfigError {
        diagnostics: vec![Diagnostic {
            severity: Severity::Error,
            file: file.to_path_buf(),
            line: 0,
            column: 0,
            path: String::new(),
            message,
            snippet: None,
        }],
    }
}

/// Reads, parses and validates a config file. Relative file paths in it (TLS certificates,
/// keys, CA bundles) are resolved against the file's directory, so the config works from any
/// working directory.
pub fn load_file(path: &Path) -> Result<Loaded, ConfigError> {
    let meta = std::fs::metadata(path)
        .map_err(|e| file_error(path, format!("cannot read the config file: {e}")))?;
    if !meta.is_file() {
        return Err(file_error(
            path,
            "cannot read the config file: not a regular file".into(),
        ));
    }
    if meta.len() > MAX_CONFIG_BYTES as u64 {
        return Err(file_error(
            path,
            format!(
                "the config file is {} bytes; at most {MAX_CONFIG_BYTES} are accepted",
                meta.len()
            ),
        ));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| file_error(path, format!("cannot read the config file: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        file_error(
            path,
            format!(
                "the config file is not UTF-8 (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })?;
    load_str(&text, path)
}

/// Parses and validates config text; `file` names it in messages. Relative file paths are
/// resolved against `file`'s directory when it has one (`conf/p.yaml` → `conf/`); a bare
/// name such as `p.yaml` or `<embedded>` leaves them relative to the working directory.
pub fn load_str(source: &str, file: &Path) -> Result<Loaded, ConfigError> {
    if source.len() > MAX_CONFIG_BYTES {
        return Err(file_error(
            file,
            format!("the config is larger than {MAX_CONFIG_BYTES} bytes"),
        ));
    }
    if source
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return Err(file_error(
            file,
            "the config file is empty; it needs at least `listeners:` (see examples/quickstart.yaml)"
                .into(),
        ));
    }
    let mut spec = parse(source, file)?;
    spec.normalize();
    if let Some(base) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        spec.resolve_paths(base);
    }
    let (errors, warnings): (Vec<_>, Vec<_>) = validate(&spec, source, file)
        .into_iter()
        .partition(|d| d.severity == Severity::Error);
    if errors.is_empty() {
        Ok(Loaded { spec, warnings })
    } else {
        Err(ConfigError {
            diagnostics: errors,
        })
    }
}

fn parse(source: &str, file: &Path) -> Result<ConfigSpec, ConfigError> {
    let key_path = RefCell::new(String::new());
    let parsed =
        serde_saphyr::with_deserializer_from_str_with_options(source, parse_options(), |de| {
            serde_path_to_error::deserialize::<_, ConfigSpec>(de).map_err(|e| {
                *key_path.borrow_mut() = e.path().to_string();
                e.into_inner()
            })
        });
    parsed.map_err(|e| {
        let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
        let path = key_path.into_inner();
        let path = if path == "." { String::new() } else { path };
        let message = e.without_snippet().to_string();
        // serde-saphyr appends " at line L, column C"; the location is already in front.
        let message = match message.rfind(" at line ") {
            Some(i) => message.get(..i).unwrap_or(&message).to_string(),
            None => message,
        };
        ConfigError {
            diagnostics: vec![Diagnostic {
                severity: Severity::Error,
                file: file.to_path_buf(),
                line,
                column,
                path,
                message,
                snippet: snippet(source, line, column),
            }],
        }
    })
}

// === impl ConfigSpec ===

impl ConfigSpec {
    /// Resolves relative file paths against `base` (the config file's directory): listener
    /// certificate and key files, upstream CA bundles and client certificates. `data_dir`
    /// stays relative to the working directory: it is where the process keeps state.
    /// [`load_str`] and [`load_file`] call this; call it yourself only for a spec you built.
    pub fn resolve_paths(&mut self, base: &Path) {
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        for tls in self
            .listeners
            .iter_mut()
            .filter_map(|l| l.tls.as_mut())
            .chain(self.admin.tls.as_mut())
        {
            {
                for c in &mut tls.certificates {
                    fix(&mut c.cert_file);
                    fix(&mut c.key_file);
                }
                if let Some(ca) = &mut tls.client_auth {
                    fix(&mut ca.ca_file);
                    for f in &mut ca.crl_files {
                        fix(f);
                    }
                }
            }
        }
        for p in [
            &mut self.store.path,
            &mut self.store.pepper_file,
            &mut self.store.master_key_file,
        ]
        .into_iter()
        .flatten()
        {
            fix(p);
        }
        for p in &mut self.store.previous_master_key_files {
            fix(p);
        }
        for t in std::iter::once(&mut self.upstream_identity_token)
            .chain(
                self.routes
                    .iter_mut()
                    .map(|r| &mut r.upstream_identity_token),
            )
            .flatten()
        {
            if let Some(f) = &mut t.key_file {
                fix(f);
            }
        }
        for r in &mut self.routes {
            if let Some(j) = r.auth.as_mut().and_then(|a| a.jwt.as_mut()) {
                for f in [&mut j.keys_file, &mut j.hmac_secret_file, &mut j.ca_file]
                    .into_iter()
                    .flatten()
                {
                    fix(f);
                }
            }
            if let Some(t) = r.auth.as_mut().and_then(|a| a.introspection.as_mut()) {
                fix(&mut t.client_secret_file);
                if let Some(f) = &mut t.ca_file {
                    fix(f);
                }
            }
            if let Some(o) = &mut r.openapi {
                fix(&mut o.file);
            }
        }
        if let Some(g) = &mut self.geoip {
            fix(&mut g.database);
        }
        for t in &mut self.tiers {
            for f in &mut t.ip_files {
                fix(f);
            }
        }
        if let Some(p) = &mut self.policies {
            for f in &mut p.files {
                fix(f);
            }
        }
        for u in &mut self.upstreams {
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

    /// Normalises what has one canonical spelling: route methods are trimmed and upper-cased
    /// (`get` → `GET`). [`load_str`] and [`load_file`] call this before validation.
    pub fn normalize(&mut self) {
        for r in &mut self.routes {
            for m in &mut r.methods {
                *m = m.trim().to_ascii_uppercase();
            }
        }
    }
}

/// Resolves relative file paths in the config against `base`; see
/// [`ConfigSpec::resolve_paths`].
pub fn resolve_paths(spec: &mut ConfigSpec, base: &Path) {
    spec.resolve_paths(base);
}
