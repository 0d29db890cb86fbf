//! Loading configs: locations and key paths in errors, semantic checks, lints.
#![allow(missing_docs)]

use std::path::Path;

use portcullis_config::{Severity, load_file, load_str};

const QUICKSTART: &str = include_str!("../../../examples/quickstart.yaml");

fn errors(src: &str) -> Vec<String> {
    match load_str(src, Path::new("t.yaml")) {
        Ok(_) => Vec::new(),
        Err(e) => e.diagnostics.iter().map(|d| d.to_string()).collect(),
    }
}

const BASE: &str = "listeners:\n  - id: https\n    address: 127.0.0.1:8443\n    tls: {}\nupstreams:\n  - id: echo\n    kind: echo\nroutes:\n  - id: echo\n    path: /echo/\n    methods: [GET, POST]\n    upstream: echo\n    public: true\n";

#[test]
fn quickstart_loads_without_errors_or_warnings() {
    let loaded = load_str(QUICKSTART, Path::new("quickstart.yaml")).unwrap();
    assert_eq!(loaded.spec.routes.len(), 2);
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn unknown_key_names_line_column_and_path() {
    let e = errors(&BASE.replace("    public: true\n", "    public: true\n    bodylimit: 5\n"));
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].starts_with("t.yaml:14:5: error: routes[0].bodylimit: unknown field `bodylimit`"),
        "{}",
        e[0]
    );
}

#[test]
fn wrong_types_and_bad_values_are_located() {
    let e = errors(&format!("{BASE}limits:\n  max_body_bytes: lots\n"));
    assert!(
        e[0].starts_with("t.yaml:15:19: error: limits.max_body_bytes:"),
        "{e:?}"
    );
    let e = errors(&format!("{BASE}limits:\n  header_read_timeout: soon\n"));
    assert!(e[0].contains("invalid duration `soon`"), "{e:?}");
    let e = errors(&BASE.replace("address: 127.0.0.1:8443", "address: localhost"));
    assert!(e[0].contains("listeners[0].address"), "{e:?}");
}

#[test]
fn semantic_errors_are_all_reported_with_locations() {
    let src = BASE
        .replace(
            "upstream: echo\n    public: true",
            "upstream: nowhere\n    public: false",
        )
        .replace("methods: [GET, POST]", "methods: [GET, TRACE, FOO]");
    let e = errors(&src);
    assert!(
        e.iter().any(|l| l.starts_with(
            "t.yaml:12:5: error: routes[0].upstream: unknown upstream `nowhere` (known: echo)"
        )),
        "{e:?}"
    );
    assert!(
        e.iter()
            .any(|l| l.contains("routes[0].methods: TRACE is never forwarded")),
        "{e:?}"
    );
    assert!(
        e.iter()
            .any(|l| l.contains("`FOO` is not a routable method")),
        "{e:?}"
    );
    assert!(
        e.iter()
            .any(|l| l.contains("routes[0].public: deny by default")),
        "{e:?}"
    );
}

#[test]
fn duplicates_and_bad_paths_are_refused() {
    let dup = BASE.to_string()
        + "  - id: echo\n    path: /echo/\n    methods: [GET]\n    upstream: echo\n    public: true\n";
    let e = errors(&dup);
    assert!(e.iter().any(|l| l.contains("duplicate route id")), "{e:?}");
    assert!(e.iter().any(|l| l.contains("already serves GET")), "{e:?}");
    let e = errors(&BASE.replace("path: /echo/", "path: /a/../b"));
    assert!(e.iter().any(|l| l.contains("routes[0].path")), "{e:?}");
    let e = errors(&BASE.replace("path: /echo/", "path: /files/{*rest}/x"));
    assert!(e.iter().any(|l| l.contains("catch-all")), "{e:?}");
    let e = errors(&BASE.replace("kind: echo", "targets: [\"ftp://x\"]"));
    assert!(
        e.iter().any(|l| l.contains("upstreams[0].targets[0]")),
        "{e:?}"
    );
}

#[test]
fn duplicate_keys_and_billion_laughs_are_refused() {
    let e = errors(&BASE.replace("    public: true\n", "    public: true\n    public: true\n"));
    assert!(e[0].contains("duplicate mapping key"), "{e:?}");
    let mut lol = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for (i, name) in ["b", "c", "d", "e", "f", "g", "h", "i"].iter().enumerate() {
        let prev = ["a", "b", "c", "d", "e", "f", "g", "h"][i];
        lol.push_str(&format!("{name}: &{name} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"));
    }
    let started = std::time::Instant::now();
    assert!(!errors(&lol).is_empty());
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert!(!errors("").is_empty());
}

#[test]
fn lints_are_warnings_not_errors() {
    let src = BASE.replace(
        "address: 127.0.0.1:8443\n    tls: {}",
        "address: 0.0.0.0:8080\n    plain_http: serve",
    ) + "admin:\n  address: 0.0.0.0:9901\n";
    let loaded = load_str(&src, Path::new("t.yaml")).unwrap();
    assert!(
        loaded
            .warnings
            .iter()
            .all(|w| w.severity == Severity::Warning)
    );
    let text: Vec<String> = loaded.warnings.iter().map(|w| w.to_string()).collect();
    assert!(
        text.iter().any(|w| w.contains("listeners[0].plain_http")),
        "{text:?}"
    );
    assert!(text.iter().any(|w| w.contains("admin.address")), "{text:?}");
}

#[test]
fn relative_certificate_paths_resolve_against_the_config_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("certs")).unwrap();
    std::fs::write(dir.path().join("certs/c.pem"), "x").unwrap();
    std::fs::write(dir.path().join("certs/k.pem"), "x").unwrap();
    let src = BASE.replace("tls: {}", "tls:\n      certificates:\n        - cert_file: certs/c.pem\n          key_file: certs/k.pem");
    let path = dir.path().join("p.yaml");
    std::fs::write(&path, &src).unwrap();
    let loaded = load_file(&path).unwrap();
    let cert = &loaded.spec.listeners[0].tls.as_ref().unwrap().certificates[0];
    assert_eq!(cert.cert_file, dir.path().join("certs/c.pem"));
    // From another working directory the same file would fail without resolution.
    let missing = load_file(&dir.path().join("nope.yaml"))
        .unwrap_err()
        .to_string();
    assert!(
        missing.contains("nope.yaml") && missing.contains("cannot read"),
        "{missing}"
    );
}
