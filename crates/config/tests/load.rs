//! Loading configs: locations and key paths in errors, semantic checks, lints.
#![allow(missing_docs)]

use std::path::Path;

use portcullis_config::{ConfigError, Severity, load_file, load_str};

/// The quickstart (examples/quickstart.yaml) as the issue specifies it.
const QUICKSTART: &str = "listeners:
  - id: https
    address: 127.0.0.1:8443
    tls: {}            # no certificates: dev mode, self-signed certificate generated
admin:
  address: 127.0.0.1:9901
upstreams:
  - id: echo
    kind: echo
routes:
  - id: echo
    path: /echo/
    methods: [GET, POST]
    upstream: echo
    public: true
  - id: internal
    path: /internal/
    methods: [GET]
    upstream: echo
    public: true
    ip_policy:
      allow: [10.0.0.0/8]
";

/// Line numbers in the tests below refer to this text: routes[0] starts on line 9.
const BASE: &str = "listeners:
  - id: https
    address: 127.0.0.1:8443
    tls: {}
upstreams:
  - id: echo
    kind: echo
routes:
  - id: echo
    path: /echo/
    methods: [GET, POST]
    upstream: echo
    public: true
";

fn err(src: &str) -> ConfigError {
    match load_str(src, Path::new("t.yaml")) {
        Ok(l) => panic!("expected an error, loaded with warnings {:?}", l.warnings),
        Err(e) => e,
    }
}

fn lines(src: &str) -> Vec<String> {
    err(src).diagnostics.iter().map(|d| d.to_string()).collect()
}

/// Asserts that one error line starts with `prefix` (`file:line:col: path: message…`).
fn has(lines: &[String], prefix: &str) {
    assert!(
        lines.iter().any(|l| l.starts_with(prefix)),
        "no error starting with\n  {prefix}\nin\n  {}",
        lines.join("\n  ")
    );
}

#[test]
fn quickstart_loads_without_errors() {
    let loaded = load_str(QUICKSTART, Path::new("quickstart.yaml")).unwrap();
    assert_eq!(loaded.spec.routes.len(), 2);
    // Only the informational notes about the two public routes.
    assert!(
        loaded.warnings.iter().all(|w| w.path.ends_with(".public")),
        "{:?}",
        loaded.warnings
    );
}

#[test]
fn a_full_config_loads() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("certs")).unwrap();
    for f in ["api.pem", "api.key", "ca.pem"] {
        std::fs::write(dir.path().join("certs").join(f), "x").unwrap();
    }
    let src = "listeners:
  - id: https
    address: 0.0.0.0:8443
    tls:
      certificates:
        - cert_file: certs/api.pem
          key_file: certs/api.key
          server_names: [api.example.com]
      min_version: \"1.3\"
      watch: false
  - id: http
    address: 0.0.0.0:8080
    plain_http: redirect
    redirect_port: 8443
admin: { enabled: true, address: 127.0.0.1:9901 }
client_ip: { trusted_proxies: [10.0.0.0/8, \"::1\"] }
ip_policy: { deny: [192.0.2.0/24] }
limits:
  max_header_bytes: 32768
  max_body_bytes: 2097152
  header_read_timeout: 5s
  h2_max_concurrent_streams: 50
security_headers: { hsts: { max_age: 30d, preload: true }, strip: [server] }
request_id: { header: x-correlation-id }
logging: { level: debug, format: text, redact_headers: [x-secret] }
shutdown: { drain_timeout: 10s }
data_dir: /var/lib/portcullis
upstreams:
  - id: users
    targets: [\"http://10.0.1.10:8080\", \"https://users.internal/base\"]
    balance: least_connections
    http2: true
    tls: { ca_file: certs/ca.pem, server_name: users.internal }
    timeouts: { connect: 2s, request: 15s, idle: 1m }
    retries: 2
    health_check: { path: /healthz, interval: 5s, timeout: 1s }
    passive_health: { consecutive_failures: 3, eject_for: 10s }
    max_in_flight: 100
routes:
  - id: users-v1
    hosts: [api.example.com]
    path: /v1/users/{id}
    methods: [get, Put]
    upstream: users
    strip_prefix: /v1
    public: true
    match_headers: { X-Api-Version: \"2\" }
    max_body_bytes: 65536
    generic_errors: false
  - id: files
    path: /files/{*rest}
    methods: [GET]
    upstream: users
    public: true
";
    let path = dir.path().join("portcullis.yaml");
    std::fs::write(&path, src).unwrap();
    let loaded = load_file(&path).unwrap();
    let spec = &loaded.spec;
    assert_eq!(
        spec.routes[0].methods,
        ["GET", "PUT"],
        "methods upper-cased"
    );
    assert_eq!(
        spec.upstreams[0].tls.ca_file.as_deref(),
        Some(dir.path().join("certs/ca.pem").as_path())
    );
    assert_eq!(spec.limits.max_body_bytes, 2_097_152);
    assert!(
        loaded
            .warnings
            .iter()
            .all(|w| w.severity == Severity::Warning && w.path.ends_with(".public")),
        "{:?}",
        loaded.warnings
    );
}

#[test]
fn unknown_key_names_line_column_and_path() {
    let e = lines(&BASE.replace("    public: true\n", "    public: true\n    bodylimit: 5\n"));
    assert_eq!(e.len(), 1, "{e:?}");
    has(
        &e,
        "t.yaml:14:5: routes[0].bodylimit: unknown field `bodylimit`",
    );
    let e = err(&BASE.replace("    public: true\n", "    public: true\n    bodylimit: 5\n"));
    let snippet = e.diagnostics[0].snippet.as_deref().unwrap();
    assert_eq!(snippet, "    bodylimit: 5\n    ^");
    assert!(e.render_with_snippets().contains("    bodylimit: 5\n"));
}

#[test]
fn wrong_types_are_located() {
    let e = lines(&format!("{BASE}limits:\n  max_body_bytes: lots\n"));
    has(&e, "t.yaml:15:19: limits.max_body_bytes: ");
    let e = lines(&format!("{BASE}limits:\n  header_read_timeout: soon\n"));
    has(
        &e,
        "t.yaml:15:24: limits.header_read_timeout: invalid duration `soon`",
    );
    let e = lines(&BASE.replace("address: 127.0.0.1:8443", "address: localhost"));
    has(&e, "t.yaml:3:14: listeners[0].address: ");
    let e = lines(&BASE.replace("methods: [GET, POST]", "methods: GET"));
    has(&e, "t.yaml:11:14: routes[0].methods: ");
}

#[test]
fn file_problems_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.yaml");
    let e = load_file(&missing).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!(
            "{}: cannot read the config file",
            missing.display()
        )),
        "{e}"
    );
    let e = load_file(dir.path()).unwrap_err().to_string();
    assert!(e.contains("not a regular file"), "{e}");
    let empty = dir.path().join("empty.yaml");
    std::fs::write(&empty, "# nothing here\n\n").unwrap();
    let e = load_file(&empty).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!("{}: the config file is empty", empty.display())),
        "{e}"
    );
    let binary = dir.path().join("bin.yaml");
    std::fs::write(&binary, b"listeners: \xff\n").unwrap();
    let e = load_file(&binary).unwrap_err().to_string();
    assert!(e.contains("not UTF-8"), "{e}");
    assert!(lines("").iter().any(|l| l.contains("empty")));
    has(&lines("- a\n- b\n"), "t.yaml:1:1: ");
}

#[test]
fn duplicate_keys_are_refused() {
    let e = lines(&BASE.replace("    public: true\n", "    public: true\n    public: true\n"));
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].starts_with("t.yaml:14:"), "{e:?}");
    assert!(e[0].contains("duplicate mapping key"), "{e:?}");
}

#[test]
fn billion_laughs_is_refused_quickly() {
    // Under a real key, so the loader gets past the top-level keys; the model never accepts
    // nested lists, and the parser's budget (tested in `locate`) bounds the rest.
    let mut lol = format!("{BASE}data_dir: [&a [lol,lol,lol,lol,lol,lol,lol,lol,lol]");
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for w in names.windows(2) {
        let (prev, name) = (w[0], w[1]);
        let refs = vec![format!("*{prev}"); 9].join(",");
        lol.push_str(&format!(", &{name} [{refs}]"));
    }
    lol.push_str("]\n");
    let started = std::time::Instant::now();
    let e = lines(&lol);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "took too long"
    );
    has(&e, "t.yaml:14:11: data_dir: ");
    // Deep nesting is refused by the depth budget, without a stack overflow.
    let deep = format!("listeners: {}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert_eq!(err(&deep).diagnostics.len(), 1);
}

#[test]
fn each_semantic_error_has_line_column_and_path() {
    // (edit to BASE, expected `file:line:col: path: message` prefix)
    let cases: Vec<(String, &str)> = vec![
        (BASE.replace("    tls: {}\n", "    tls: {}\n  - id: https\n    address: 127.0.0.1:8443\n"),
         "t.yaml:5:9: listeners[1].id: duplicate listener id `https`"),
        (BASE.replace("    tls: {}\n", "    tls: {}\n  - id: b\n    address: 0.0.0.0:8443\n"),
         "t.yaml:6:14: listeners[1].address: 0.0.0.0:8443 collides with listeners[0]"),
        (format!("{BASE}admin:\n  address: 127.0.0.1:8443\n"),
         "t.yaml:3:14: listeners[0].address: 127.0.0.1:8443 collides with the admin listener"),
        (BASE.replace("upstream: echo", "upstream: api2"),
         "t.yaml:12:15: routes[0].upstream: unknown upstream `api2` (known: echo)"),
        (BASE.replace("methods: [GET, POST]", "methods: []"),
         "t.yaml:11:14: routes[0].methods: list at least one method"),
        (BASE.replace("methods: [GET, POST]", "methods: [GET, TRACE]"),
         "t.yaml:11:20: routes[0].methods[1]: TRACE is never forwarded"),
        (BASE.replace("methods: [GET, POST]", "methods: [GET, track]"),
         "t.yaml:11:20: routes[0].methods[1]: TRACK is never forwarded"),
        (BASE.replace("methods: [GET, POST]", "methods: [CONNECT]"),
         "t.yaml:11:15: routes[0].methods[0]: CONNECT is never forwarded"),
        (BASE.replace("methods: [GET, POST]", "methods: [GET, \"PO ST\"]"),
         "t.yaml:11:20: routes[0].methods[1]: `PO ST` is not an HTTP method token"),
        (BASE.replace("path: /echo/", "path: echo/"),
         "t.yaml:10:11: routes[0].path: `echo/` must start with `/`"),
        (BASE.replace("path: /echo/", "path: /a/../b"),
         "t.yaml:10:11: routes[0].path: `/a/../b` must not contain `.` or `..` segments"),
        (BASE.replace("path: /echo/", "path: /files/{*rest}/x"),
         "t.yaml:10:11: routes[0].path: `/files/{*rest}/x` segment `{*rest}`: a catch-all must be the last segment"),
        (BASE.replace("path: /echo/", "path: /u/{id"),
         "t.yaml:10:11: routes[0].path: `/u/{id` segment `{id`"),
        (BASE.replace("    public: true\n", "    public: true\n    strip_prefix: /v1\n"),
         "t.yaml:14:19: routes[0].strip_prefix: `/v1` is not a literal prefix of the path `/echo/`"),
        (BASE.replace("    public: true\n", "    public: true\n    strip_prefix: /ec\n"),
         "t.yaml:14:19: routes[0].strip_prefix: `/ec` ends inside a path segment"),
        (BASE.replace("    public: true\n", "    public: true\n    match_headers:\n      \"X Bad\": v\n"),
         "t.yaml:15:7: routes[0].match_headers.X Bad: `X Bad` is not a valid header name"),
        (BASE.replace("kind: echo", "kind: echo\n    targets: [\"http://a\"]"),
         "t.yaml:8:14: upstreams[0].targets: an `echo` upstream has no targets"),
        (BASE.replace("kind: echo", "kind: http"),
         "t.yaml:6:5: upstreams[0].targets: at least one target URL is required"),
        (BASE.replace("kind: echo", "targets: [\"ftp://x\"]"),
         "t.yaml:7:15: upstreams[0].targets[0]: `ftp://x` must start with http:// or https://"),
        (BASE.replace("kind: echo", "targets:\n      - http://a\n      - http://u:p@b"),
         "t.yaml:9:9: upstreams[0].targets[1]: `http://u:p@b`: credentials in URLs are not allowed"),
        (BASE.replace("kind: echo", "targets: [\"http://a/x?y=1\"]"),
         "t.yaml:7:15: upstreams[0].targets[0]: `http://a/x?y=1`: a target URL cannot have a query"),
        (BASE.replace("kind: echo", "targets: [\"http://a/#f\"]"),
         "t.yaml:7:15: upstreams[0].targets[0]: `http://a/#f`: a target URL cannot have a fragment"),
        (BASE.replace("kind: echo", "targets: [\"/relative\"]"),
         "t.yaml:7:15: upstreams[0].targets[0]: `/relative` must start with http:// or https://"),
        (BASE.replace("kind: echo", "targets: [\"http://a\"]\n    health_check: { path: healthz }"),
         "t.yaml:8:27: upstreams[0].health_check.path: `healthz` must start with `/`"),
        (BASE.replace("tls: {}", "tls:\n      certificates:\n        - cert_file: /nonexistent/c.pem\n          key_file: /nonexistent/k.pem"),
         "t.yaml:6:22: listeners[0].tls.certificates[0].cert_file: file `/nonexistent/c.pem` does not exist"),
        (BASE.replace("tls: {}", "tls:\n      certificates:\n        - cert_file: /nonexistent/c.pem\n          key_file: /nonexistent/k.pem"),
         "t.yaml:7:21: listeners[0].tls.certificates[0].key_file: file `/nonexistent/k.pem` does not exist"),
        (BASE.replace("    public: true\n", ""),
         "t.yaml:9:5: routes[0].public: deny by default: this route has no authentication; add an `auth` block or set `public: true`"),
        (BASE.replace("public: true", "public: false"),
         "t.yaml:13:13: routes[0].public: deny by default"),
        (format!("{BASE}limits:\n  max_body_bytes: 2147483648\n"),
         "t.yaml:15:19: limits.max_body_bytes: 2147483648 is more than 1 GiB"),
        (format!("{BASE}limits:\n  max_connections: 0\n"),
         "t.yaml:15:20: limits.max_connections: must be greater than 0"),
        (format!("{BASE}limits:\n  idle_timeout: 0s\n"),
         "t.yaml:15:17: limits.idle_timeout: must be positive"),
        (BASE.replace("    public: true\n", "    public: true\n    max_body_bytes: 2147483648\n"),
         "t.yaml:14:21: routes[0].max_body_bytes: 2147483648 is more than 1 GiB"),
        (format!("{BASE}logging:\n  level: loud\n"),
         "t.yaml:15:10: logging.level: `loud` is not one of error, warn, info, debug, trace, off"),
        (format!("{BASE}logging:\n  redact_headers: [ok, \"bad header\"]\n"),
         "t.yaml:15:24: logging.redact_headers[1]: `bad header` is not a valid header name"),
        (format!("{BASE}request_id:\n  header: \"x:id\"\n"),
         "t.yaml:15:11: request_id.header: `x:id` is not a valid header name"),
        ("listeners: []\n".to_string(),
         "t.yaml:1:12: listeners: at least one listener is required"),
    ];
    for (src, want) in &cases {
        has(&lines(src), want);
    }
}

#[test]
fn overlapping_routes_are_refused() {
    let second = "  - id: echo2\n    path: /echo/\n    methods: [post, PUT]\n    upstream: echo\n    public: true\n";
    let e = lines(&format!("{BASE}{second}"));
    has(
        &e,
        "t.yaml:16:14: routes[1].methods: route `echo` (routes[0]) already serves POST",
    );
    // Same path shape with another parameter name overlaps too.
    let a = BASE.replace("path: /echo/", "path: /u/{id}");
    let e = lines(&format!("{a}{}", second.replace("/echo/", "/u/{uid}")));
    has(&e, "t.yaml:16:14: routes[1].methods: ");
    // Twins that do not overlap: other methods, another host, another header condition.
    for ok in [
        second.replace("[post, PUT]", "[PUT]"),
        second.replace("    path:", "    hosts: [a.example]\n    path:"),
        second.replace(
            "    public: true\n",
            "    public: true\n    match_headers: {X-V: \"2\"}\n",
        ),
    ] {
        load_str(&format!("{BASE}{ok}"), Path::new("t.yaml")).unwrap();
    }
}

#[test]
fn duplicate_ids_are_refused() {
    let src = BASE.replace(
        "    kind: echo\n",
        "    kind: echo\n  - id: echo\n    kind: echo\n",
    );
    has(
        &lines(&src),
        "t.yaml:8:9: upstreams[1].id: duplicate upstream id `echo`",
    );
    let src = format!(
        "{BASE}  - id: echo\n    path: /other/\n    methods: [GET]\n    upstream: echo\n    public: true\n"
    );
    has(
        &lines(&src),
        "t.yaml:14:9: routes[1].id: duplicate route id `echo`",
    );
}

#[test]
fn all_errors_are_reported_together() {
    let src = BASE
        .replace(
            "upstream: echo\n    public: true",
            "upstream: nowhere\n    public: false",
        )
        .replace("methods: [GET, POST]", "methods: [GET, TRACE]")
        .replace("path: /echo/", "path: /a/../b");
    let e = err(&src);
    assert_eq!(e.diagnostics.len(), 4, "{e}");
    assert!(e.diagnostics.iter().all(|d| d.severity == Severity::Error));
    let text = e.to_string();
    assert_eq!(text.lines().count(), 4, "{text}");
    for path in [
        "routes[0].path",
        "routes[0].methods[1]",
        "routes[0].upstream",
        "routes[0].public",
    ] {
        assert!(
            text.contains(&format!(": {path}: ")),
            "{path} missing in\n{text}"
        );
    }
}

#[test]
fn flow_style_errors_are_located_too() {
    let src = "listeners: [{id: a, address: \"127.0.0.1:1\", tls: {}}]\nupstreams: [{id: e, kind: echo}]\nroutes: [{id: r, path: /x, methods: [GET], upstream: nope, public: true}]\n";
    has(
        &lines(src),
        "t.yaml:3:54: routes[0].upstream: unknown upstream `nope`",
    );
}

#[test]
fn lints_are_warnings_not_errors() {
    let src = BASE.replace(
        "address: 127.0.0.1:8443\n    tls: {}",
        "address: 0.0.0.0:8080\n    plain_http: serve",
    ) + "admin:\n  address: 0.0.0.0:9901\nsecurity_headers:\n  hsts:\n    enabled: false\n";
    let src = src.replace(
        "    public: true\n",
        "    public: true\n    log_query_values: true\n",
    );
    let src = src.replace(
        "    kind: echo\n",
        "    kind: echo\n  - id: ip\n    targets: [\"https://10.0.0.5:8443\", \"https://[::1]:8443\", \"https://named.internal\"]\n",
    );
    let loaded = load_str(&src, Path::new("t.yaml")).unwrap();
    let text: Vec<String> = loaded.warnings.iter().map(|w| w.to_string()).collect();
    assert!(
        loaded
            .warnings
            .iter()
            .all(|w| w.severity == Severity::Warning)
    );
    for want in [
        "t.yaml:4:17: warning: listeners[0].plain_http: serves plain HTTP",
        "t.yaml:18:12: warning: admin.address: ",
        "t.yaml:21:14: warning: security_headers.hsts.enabled: HSTS is disabled",
        "t.yaml:16:23: warning: routes[0].log_query_values: ",
        "t.yaml:9:15: warning: upstreams[1].targets[0]: https target given by IP address",
        "t.yaml:9:40: warning: upstreams[1].targets[1]: https target given by IP address",
        "t.yaml:15:13: warning: routes[0].public: note: route `echo` is public",
    ] {
        has(&text, want);
    }
    assert_eq!(text.len(), 7, "{text:?}");
    // Twins: loopback plain HTTP, loopback admin, HSTS on, TLS 1.2, named https target.
    let quiet = BASE.replace("tls: {}", "tls: { min_version: \"1.2\" }").replace(
        "    kind: echo\n",
        "    kind: echo\n  - id: ip\n    targets: [\"https://10.0.0.5:8443\"]\n    tls: { server_name: a.internal }\n",
    );
    let loaded = load_str(&quiet, Path::new("t.yaml")).unwrap();
    assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
}

#[test]
fn relative_certificate_paths_resolve_against_the_config_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("certs")).unwrap();
    std::fs::write(dir.path().join("certs/c.pem"), "x").unwrap();
    std::fs::write(dir.path().join("certs/k.pem"), "x").unwrap();
    let src = BASE.replace(
        "tls: {}",
        "tls:\n      certificates:\n        - cert_file: certs/c.pem\n          key_file: certs/k.pem",
    );
    let path = dir.path().join("p.yaml");
    std::fs::write(&path, &src).unwrap();
    let loaded = load_file(&path).unwrap();
    let cert = &loaded.spec.listeners[0].tls.as_ref().unwrap().certificates[0];
    assert_eq!(cert.cert_file, dir.path().join("certs/c.pem"));
    assert_eq!(cert.key_file, dir.path().join("certs/k.pem"));
    // The same text under a bare name is resolved against the working directory: missing.
    let e = lines(&src);
    has(
        &e,
        "t.yaml:6:22: listeners[0].tls.certificates[0].cert_file: file `certs/c.pem` does not exist",
    );
    // Absolute paths are left alone.
    let mut spec = loaded.spec.clone();
    spec.resolve_paths(Path::new("/elsewhere"));
    assert_eq!(
        spec.listeners[0].tls.as_ref().unwrap().certificates[0].cert_file,
        dir.path().join("certs/c.pem")
    );
}

#[test]
fn auth_blocks_replace_public_and_are_checked() {
    let base = "listeners:\n  - id: a\n    address: 127.0.0.1:8443\n    tls: {}\nupstreams:\n  - id: echo\n    kind: echo\nroutes:\n  - id: r\n    path: /r/\n    methods: [GET]\n    upstream: echo\n    authorize: { any_authenticated: true }\n";
    // An auth block satisfies deny-by-default.
    let ok = format!("{base}    auth:\n      api_key: {{}}\n");
    assert!(portcullis_config::load_str(&ok, std::path::Path::new("t.yaml")).is_ok());
    // Both auth and public is a contradiction.
    let both = format!("{base}    public: true\n    auth:\n      api_key: {{}}\n");
    let e = portcullis_config::load_str(&both, std::path::Path::new("t.yaml"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("routes[0].public") && e.contains("cannot be public"),
        "{e}"
    );
    // An empty auth block names no method.
    let empty = format!("{base}    auth: {{}}\n");
    let e = portcullis_config::load_str(&empty, std::path::Path::new("t.yaml"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("routes[0].auth"), "{e}");
    // Keys in the query string are allowed only when named, and warned about.
    let query = format!("{base}    auth:\n      api_key: {{ query: api_key }}\n");
    let loaded = portcullis_config::load_str(&query, std::path::Path::new("t.yaml")).unwrap();
    assert!(
        loaded
            .warnings
            .iter()
            .any(|w| w.to_string().contains("auth.api_key.query"))
    );
}

#[test]
fn combined_auth_methods_must_say_how_they_combine() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("k.pem");
    std::fs::write(&keys, "x").unwrap();
    let route = |auth: &str| {
        format!(
            "listeners:\n  - id: a\n    address: 127.0.0.1:8443\n    tls: {{}}\nupstreams:\n  - id: echo\n    kind: echo\nroutes:\n  - id: r\n    path: /r/\n    methods: [GET]\n    upstream: echo\n    authorize: {{ any_authenticated: true }}\n    auth:\n      api_key: {{}}\n      jwt: {{ issuer: https://idp, audiences: [api], keys_file: {} }}\n{auth}",
            keys.display()
        )
    };
    let load = |auth: &str| portcullis_config::load_str(&route(auth), Path::new("t.yaml"));
    assert!(load("      any_of: [jwt, api_key]\n").is_ok());
    assert!(load("      all_of: [api_key, jwt]\n").is_ok());
    for (auth, needle) in [
        ("", "say how they combine"),
        (
            "      any_of: [jwt]\n",
            "`api_key` block is configured but not listed",
        ),
        (
            "      any_of: [jwt, api_key, mtls]\n",
            "routes[0].auth.any_of[2]: `mtls` has no block",
        ),
        (
            "      all_of: [jwt, jwt, api_key]\n",
            "routes[0].auth.all_of[1]: `jwt` is listed twice",
        ),
        (
            "      any_of: [jwt, api_key]\n      all_of: [jwt, api_key]\n",
            "not both",
        ),
    ] {
        let e = load(auth).unwrap_err().to_string();
        assert!(e.contains(needle), "{auth}: {e}");
    }
}

#[test]
fn jwt_blocks_refuse_none_hmac_and_long_leeway() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("k.pem");
    std::fs::write(&keys, "x").unwrap();
    let route = |jwt: &str| {
        format!(
            "listeners:\n  - id: a\n    address: 127.0.0.1:8443\n    tls: {{}}\nupstreams:\n  - id: echo\n    kind: echo\nroutes:\n  - id: r\n    path: /r/\n    methods: [GET]\n    upstream: echo\n    authorize: {{ any_authenticated: true }}\n    auth:\n      jwt:\n        issuer: https://idp\n        audiences: [api]\n        keys_file: {}\n{jwt}",
            keys.display()
        )
    };
    assert!(portcullis_config::load_str(&route(""), std::path::Path::new("t.yaml")).is_ok());
    for (extra, path) in [
        (
            "        algorithms: [none]\n",
            "routes[0].auth.jwt.algorithms",
        ),
        (
            "        algorithms: [HS256]\n",
            "routes[0].auth.jwt.algorithms",
        ),
        ("        leeway: 5m\n", "routes[0].auth.jwt.leeway"),
    ] {
        let e = portcullis_config::load_str(&route(extra), std::path::Path::new("t.yaml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains(path), "{extra}: {e}");
    }
}

#[test]
fn hmac_blocks_cap_the_skew_and_refuse_signing_authorization() {
    let route = |hmac: &str| {
        format!(
            "listeners:\n  - id: a\n    address: 127.0.0.1:8443\n    tls: {{}}\nupstreams:\n  - id: echo\n    kind: echo\nroutes:\n  - id: r\n    path: /r/\n    methods: [GET]\n    upstream: echo\n    authorize: {{ any_authenticated: true }}\n    auth:\n      hmac: {hmac}\n"
        )
    };
    let ok = portcullis_config::load_str(&route("{}"), std::path::Path::new("t.yaml")).unwrap();
    let h = ok.spec.routes[0]
        .auth
        .as_ref()
        .unwrap()
        .hmac
        .as_ref()
        .unwrap();
    assert_eq!(h.max_skew.get().as_secs(), 300);
    assert_eq!(h.required_headers, ["host", "content-type"]);
    portcullis_config::load_str(&route("{ max_skew: 60s }"), std::path::Path::new("t.yaml"))
        .unwrap();
    for (hmac, path) in [
        ("{ max_skew: 301s }", "routes[0].auth.hmac.max_skew"),
        ("{ max_skew: 0s }", "routes[0].auth.hmac.max_skew"),
        (
            "{ required_headers: [authorization] }",
            "routes[0].auth.hmac.required_headers",
        ),
        (
            "{ required_headers: [Content-Type] }",
            "routes[0].auth.hmac.required_headers",
        ),
        ("{ unknown: 1 }", "unknown"),
    ] {
        let e = portcullis_config::load_str(&route(hmac), std::path::Path::new("t.yaml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains(path), "{hmac}: {e}");
    }
}

#[test]
fn identity_tokens_are_short_lived_and_name_an_audience() {
    let base = "listeners:\n  - id: a\n    address: 127.0.0.1:8443\n    tls: {}\nupstreams:\n  - id: echo\n    kind: echo\nroutes:\n  - id: r\n    path: /r/\n    methods: [GET]\n    upstream: echo\n    public: true\n";
    let load = |extra: &str| {
        portcullis_config::load_str(
            &format!("{base}{extra}"),
            std::path::Path::new("/etc/p/t.yaml"),
        )
    };
    let ok = load("    upstream_identity_token: { audience: api, key_file: k.pem }\nupstream_identity_token: { audience: api }\n").unwrap();
    let t = ok.spec.upstream_identity_token.as_ref().unwrap();
    assert_eq!((t.algorithm.as_str(), t.ttl.get().as_secs()), ("ES256", 30));
    assert_eq!(t.header, "x-portcullis-identity");
    assert_eq!(
        ok.spec.routes[0]
            .upstream_identity_token
            .as_ref()
            .unwrap()
            .key_file
            .as_deref(),
        Some(std::path::Path::new("/etc/p/k.pem"))
    );
    for (extra, path) in [
        (
            "upstream_identity_token: { audience: api, ttl: 61s }\n",
            "upstream_identity_token.ttl",
        ),
        (
            "upstream_identity_token: { audience: api, algorithm: HS256 }\n",
            "upstream_identity_token.algorithm",
        ),
        (
            "upstream_identity_token: { audience: '' }\n",
            "upstream_identity_token.audience",
        ),
        (
            "    upstream_identity_token: { audience: api, algorithm: none }\n",
            "routes[0].upstream_identity_token.algorithm",
        ),
    ] {
        let e = load(extra).unwrap_err().to_string();
        assert!(e.contains(path), "{extra}: {e}");
    }
}

#[test]
fn least_privilege_and_limits_are_checked() {
    let base = "listeners:\n  - id: a\n    address: 127.0.0.1:8443\n    tls: {}\nupstreams:\n  - id: echo\n    kind: echo\nroutes:\n  - id: r\n    path: /r/{id}\n    methods: [GET, POST]\n    upstream: echo\n    auth:\n      api_key: {}\n";
    let load = |extra: &str| {
        portcullis_config::load_str(&format!("{base}{extra}"), std::path::Path::new("t.yaml"))
    };
    // No authorize block on an authenticated route: refused, naming the fix.
    let e = load("").unwrap_err().to_string();
    assert!(
        e.contains("least privilege") && e.contains("any_authenticated"),
        "{e}"
    );
    // An authorize block that names nothing is refused too.
    let e = load("    authorize: {}\n").unwrap_err().to_string();
    assert!(e.contains("routes[0].authorize"), "{e}");
    // Scopes, per-method scopes, an owner rule on a real path parameter: accepted.
    let ok = "    authorize:\n      scopes: { all_of: [orders:read] }\n      methods:\n        POST: { scopes: { all_of: [orders:write] } }\n      owner: { value: 'path:id' }\n    rate_limits:\n      - { rate: 10/s, burst: 20, key: [consumer, ip], plans: { gold: { rate: 100/s } }, throttle: { max_wait: 1s } }\n    quotas:\n      - { per: day, limit: 1000, time_zone: Europe/Berlin }\n    concurrency: { max_in_flight: 4 }\n";
    load(ok).unwrap();
    for (extra, needle) in [
        (
            "    authorize:\n      any_authenticated: true\n      methods: { DELETE: { roles: { any_of: [admin] } } }\n",
            "authorize.methods.DELETE",
        ),
        (
            "    authorize:\n      owner: { value: 'path:user' }\n",
            "authorize.owner.value",
        ),
        (
            "    authorize:\n      owner: { value: 'path:id', owner: tenant }\n",
            "authorize.owner.owner",
        ),
        (
            "    authorize: { any_authenticated: true }\n    rate_limits: [ { rate: ten/s } ]\n",
            "rate_limits[0].rate",
        ),
        (
            "    authorize: { any_authenticated: true }\n    rate_limits: [ { rate: 1/s, burst: 0 } ]\n",
            "rate_limits[0].burst",
        ),
        (
            "    authorize: { any_authenticated: true }\n    rate_limits: [ { rate: 1/s, key: [user] } ]\n",
            "rate_limits[0].key[0]",
        ),
        (
            "    authorize: { any_authenticated: true }\n    quotas: [ { per: day, limit: 5, time_zone: Mars/Olympus } ]\n",
            "quotas[0].time_zone",
        ),
        (
            "    authorize: { any_authenticated: true }\n    quotas: [ { per: week, limit: 5 } ]\n",
            "per",
        ),
    ] {
        let e = load(extra).unwrap_err().to_string();
        assert!(e.contains(needle), "{extra}: {e}");
        assert!(e.contains("t.yaml:"), "{e}");
    }
}

#[test]
fn jwt_hmac_needs_an_explicit_long_secret_and_excludes_public_keys() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("s");
    let keys = dir.path().join("k.pem");
    std::fs::write(&keys, "x").unwrap();
    let route = |jwt: &str| {
        format!(
            "listeners:\n  - id: a\n    address: 127.0.0.1:8443\n    tls: {{}}\nupstreams:\n  - id: echo\n    kind: echo\nroutes:\n  - id: r\n    path: /r/\n    methods: [GET]\n    upstream: echo\n    authorize: {{ any_authenticated: true }}\n    auth:\n      jwt:\n        issuer: https://idp\n        audiences: [api]\n{jwt}"
        )
    };
    let load = |jwt: &str| portcullis_config::load_str(&route(jwt), std::path::Path::new("t.yaml"));
    std::fs::write(&secret, "a".repeat(40)).unwrap();
    load(&format!(
        "        hmac_secret_file: {}\n        algorithms: [HS256]\n",
        secret.display()
    ))
    .unwrap();
    for (jwt, needle) in [
        (
            format!("        hmac_secret_file: {}\n", secret.display()),
            "algorithms",
        ),
        (
            format!(
                "        hmac_secret_file: {}\n        keys_file: {}\n        algorithms: [HS256]\n",
                secret.display(),
                keys.display()
            ),
            "exactly one",
        ),
        ("        algorithms: [ES256]\n".to_string(), "exactly one"),
        (
            format!(
                "        keys_file: {}\n        algorithms: [HS256]\n",
                keys.display()
            ),
            "algorithms",
        ),
    ] {
        let e = load(&jwt).unwrap_err().to_string();
        assert!(e.contains(needle), "{jwt}: {e}");
    }
    std::fs::write(&secret, "short").unwrap();
    let e = load(&format!(
        "        hmac_secret_file: {}\n        algorithms: [HS256]\n",
        secret.display()
    ))
    .unwrap_err()
    .to_string();
    assert!(e.contains("at least 32 bytes"), "{e}");
}

#[test]
fn basic_blocks_and_lockout_settings_are_checked() {
    let base = "listeners:\n  - id: a\n    address: 127.0.0.1:8443\n    tls: {}\nupstreams:\n  - id: echo\n    kind: echo\nroutes:\n  - id: r\n    path: /r/\n    methods: [GET]\n    upstream: echo\n    authorize: { any_authenticated: true }\n    auth:\n";
    let load = |text: &str| load_str(text, Path::new("t.yaml"));
    // The benign twin: a Basic route with TOTP and the default lockout.
    let ok = load(&format!(
        "{base}      basic: {{ realm: \"shop\", require_totp: true }}\n"
    ))
    .unwrap();
    let basic = ok.spec.routes[0]
        .auth
        .as_ref()
        .unwrap()
        .basic
        .as_ref()
        .unwrap();
    assert!(basic.require_totp);
    assert_eq!(basic.verified_cache.get().as_secs(), 60);
    assert_eq!(ok.spec.auth_lockout.max_failures, 5);
    assert_eq!(ok.spec.auth_lockout.max_lockout.get().as_secs(), 3600);
    let own = load(&format!(
        "{base}      basic: {{ lockout: {{ max_failures: 10, window: 1h }} }}\n"
    ))
    .unwrap();
    let own = own.spec.routes[0]
        .auth
        .as_ref()
        .unwrap()
        .basic
        .as_ref()
        .unwrap();
    let own = own.lockout.as_ref().unwrap();
    assert_eq!((own.max_failures, own.max_failures_per_ip), (10, 20));
    assert_eq!(own.window.get().as_secs(), 3600);
    for (text, path, message) in [
        (
            format!("{base}      basic: {{}}\n      api_key: {{}}\n"),
            "routes[0].auth",
            "say how they combine",
        ),
        (
            format!("{base}      basic: {{ realm: 'a\"b' }}\n"),
            "routes[0].auth.basic.realm",
            "without quotes",
        ),
        (
            format!("{base}      basic: {{ verified_cache: 1h }}\n"),
            "routes[0].auth.basic.verified_cache",
            "at most 15m",
        ),
        (
            format!("{base}      basic: {{}}\nauth_lockout: {{ max_failures: 0 }}\n"),
            "auth_lockout.max_failures",
            "at least 1",
        ),
        (
            format!("{base}      basic: {{}}\nauth_lockout: {{ base_lockout: 2h }}\n"),
            "auth_lockout.base_lockout",
            "must not exceed",
        ),
        (
            format!("{base}      basic: {{}}\nauth_lockout: {{ window: 0s }}\n"),
            "auth_lockout.window",
            "at least 1s",
        ),
        (
            format!("{base}      basic: {{ lockout: {{ max_failures_per_ip: 0 }} }}\n"),
            "routes[0].auth.basic.lockout.max_failures_per_ip",
            "at least 1",
        ),
    ] {
        let e = load(&text).unwrap_err().to_string();
        assert!(e.contains(path) && e.contains(message), "{text}\n{e}");
    }
}
