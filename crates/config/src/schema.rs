//! The JSON Schema of the config (for editors) and `docs/configuration.md`, both generated
//! from the Rust types and their doc comments, so documentation cannot drift from code. A test
//! regenerates both and fails when the committed files differ
//! (`PORTCULLIS_UPDATE_DOCS=1 cargo test -p portcullis-config` rewrites them).

use serde_json::Value;

use crate::spec::ConfigSpec;

/// The JSON Schema (draft 2020-12) of a config file.
pub fn json_schema() -> Value {
    let schema = schemars::schema_for!(ConfigSpec);
    sorted(serde_json::to_value(&schema).unwrap_or(Value::Null))
}

/// Object keys in sorted order at every level. `serde_json::Map` keeps insertion order when
/// any crate in the build enables serde_json's `preserve_order` feature (features unify
/// across a workspace build), so without this the generated docs would depend on which
/// crates were compiled together.
fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// A complete example config, shown at the top of `docs/configuration.md` and checked by a
/// test to load.
pub const EXAMPLE: &str = r#"listeners:
  - id: https
    address: 0.0.0.0:8443
    tls:
      certificates:
        - cert_file: certs/api.example.com.pem
          key_file: certs/api.example.com.key
      min_version: "1.2"
  - id: http
    address: 0.0.0.0:8080
    plain_http: redirect          # 308 to https://…:443
admin:
  address: 127.0.0.1:9901
client_ip:
  trusted_proxies: [10.0.0.0/8]   # the load balancer's network
ip_policy:
  deny: [192.0.2.0/24]
limits:
  max_body_bytes: 1048576
  header_read_timeout: 10s
upstreams:
  - id: users
    targets: ["http://10.0.1.10:8080", "http://10.0.1.11:8080"]
    balance: least_connections
    health_check: { path: /healthz, interval: 5s }
    timeouts: { connect: 2s, request: 15s }
routes:
  - id: users-v1
    path: /v1/users/{id}
    methods: [GET, PUT]
    upstream: users
    strip_prefix: /v1
    public: true
  - id: admin
    path: /admin/
    methods: [GET, POST]
    upstream: users
    public: true
    ip_policy: { allow: [10.20.0.0/16] }
logging:
  level: info
  format: json
"#;

fn resolve<'a>(root: &'a Value, v: &'a Value) -> &'a Value {
    if let Some(r) = v.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or("");
        if let Some(def) = root.get("$defs").and_then(|d| d.get(name)) {
            return resolve(root, def);
        }
    }
    // `Option<T>` renders as anyOf [T, null]; describe T.
    if let Some(any) = v.get("anyOf").and_then(Value::as_array)
        && let Some(first) = any
            .iter()
            .find(|a| a.get("type").and_then(Value::as_str) != Some("null"))
    {
        return resolve(root, first);
    }
    v
}

fn type_name(root: &Value, v: &Value) -> String {
    let r = resolve(root, v);
    if let Some(values) = r.get("enum").and_then(Value::as_array) {
        let names: Vec<String> = values
            .iter()
            .map(|x| format!("`{}`", x.as_str().unwrap_or("?")))
            .collect();
        return names.join(" \\| ");
    }
    if let Some(one) = r.get("oneOf").and_then(Value::as_array) {
        let names: Vec<String> = one
            .iter()
            .filter_map(|x| {
                x.get("const")
                    .or_else(|| x.get("enum").and_then(|e| e.get(0)))
            })
            .map(|x| format!("`{}`", x.as_str().unwrap_or("?")))
            .collect();
        if !names.is_empty() {
            return names.join(" \\| ");
        }
    }
    match r.get("type") {
        Some(Value::String(t)) if t == "array" => {
            let item = r
                .get("items")
                .map(|i| type_name(root, i))
                .unwrap_or_default();
            format!("list of {item}")
        }
        Some(Value::String(t)) if t == "object" && r.get("properties").is_none() => "map".into(),
        Some(Value::String(t)) => match r.get("description").and_then(Value::as_str) {
            Some(d) if d.starts_with("A duration") => "duration".into(),
            Some(d) if d.starts_with("An IPv4/IPv6") => "CIDR".into(),
            _ => t.clone(),
        },
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .collect::<Vec<_>>()
            .join(" or "),
        _ => "object".into(),
    }
}

/// One row of the key table: dotted path, type, default, description.
type Row = (String, String, String, String);

fn default_text(node: &Value, key: &str, prop: &Value) -> String {
    let required = node
        .get("required")
        .and_then(Value::as_array)
        .is_some_and(|r| r.iter().any(|k| k.as_str() == Some(key)));
    if required {
        return "**required**".into();
    }
    match prop.get("default") {
        None | Some(Value::Null) => "none".into(),
        Some(Value::Object(_)) => "see below".into(),
        Some(Value::String(s)) => format!("`{s}`"),
        Some(v) => {
            let text = v.to_string();
            if text.len() > 40 {
                "see description".into()
            } else {
                format!("`{text}`")
            }
        }
    }
}

fn walk(root: &Value, node: &Value, prefix: &str, rows: &mut Vec<Row>) {
    let node = resolve(root, node);
    let Some(props) = node.get("properties").and_then(Value::as_object) else {
        return;
    };
    for (key, prop) in props {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        let desc = prop
            .get("description")
            .or_else(|| resolve(root, prop).get("description"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .replace('\n', " ");
        rows.push((
            path.clone(),
            type_name(root, prop),
            default_text(node, key, prop),
            desc,
        ));
        let inner = resolve(root, prop);
        if inner.get("type").and_then(Value::as_str) == Some("array") {
            if let Some(items) = inner.get("items") {
                walk(root, items, &format!("{path}[]"), rows);
            }
        } else {
            walk(root, inner, &path, rows);
        }
    }
}

/// `docs/configuration.md`.
pub fn configuration_markdown() -> String {
    let root = json_schema();
    let mut rows = Vec::new();
    walk(&root, &root, "", &mut rows);
    let mut out = String::new();
    out.push_str("# Configuration reference\n\n");
    out.push_str("<!-- Generated from crates/config/src/spec.rs by `PORTCULLIS_UPDATE_DOCS=1 cargo test -p portcullis-config`. Do not edit. -->\n\n");
    out.push_str("portcullis reads one YAML file (`portcullis serve --config FILE`). Unknown keys are errors;\n");
    out.push_str("`portcullis check --config FILE` validates a file and lints it for risky settings, printing\n");
    out.push_str(
        "`file:line:column: key.path: message`. Durations are written like `500ms`, `30s`, `5m`;\n",
    );
    out.push_str("relative file paths are resolved against the config file's directory. Editors can complete\n");
    out.push_str("and check files with the JSON Schema in [`portcullis.schema.json`](portcullis.schema.json).\n\n");
    out.push_str("## Example\n\n```yaml\n");
    out.push_str(EXAMPLE);
    out.push_str("```\n\n## Keys\n\n`a[]` is a list of `a` items; `a[].b` is key `b` of each item.\n\n| key | type | default | description |\n|---|---|---|---|\n");
    for (path, ty, default, desc) in rows {
        out.push_str(&format!(
            "| `{path}` | {ty} | {} | {} |\n",
            default.replace('|', "\\|"),
            desc.replace('|', "\\|")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn docs_dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs")
    }

    #[test]
    fn generated_docs_are_current() {
        let schema = serde_json::to_string_pretty(&json_schema()).unwrap() + "\n";
        let md = configuration_markdown();
        let schema_path = docs_dir().join("portcullis.schema.json");
        let md_path = docs_dir().join("configuration.md");
        if std::env::var_os("PORTCULLIS_UPDATE_DOCS").is_some() {
            std::fs::write(&schema_path, &schema).unwrap();
            std::fs::write(&md_path, &md).unwrap();
        }
        let current_schema = std::fs::read_to_string(&schema_path).unwrap_or_default();
        let current_md = std::fs::read_to_string(&md_path).unwrap_or_default();
        assert!(
            current_schema == schema && current_md == md,
            "docs/portcullis.schema.json or docs/configuration.md is stale: run `PORTCULLIS_UPDATE_DOCS=1 cargo test -p portcullis-config`"
        );
    }

    #[test]
    fn every_key_is_documented() {
        let md = configuration_markdown();
        for key in [
            "listeners[].tls.certificates[].cert_file",
            "limits.max_body_bytes",
            "routes[].methods",
            "upstreams[].health_check.interval",
            "security_headers.hsts.max_age",
        ] {
            assert!(md.contains(&format!("`{key}`")), "{key} missing");
        }
        for line in md.lines().filter(|l| l.starts_with("| `")) {
            assert!(!line.ends_with("|  |"), "undocumented key: {line}");
        }
    }

    #[test]
    fn example_parses() {
        // Certificate files do not exist here, so only those errors are acceptable.
        match crate::load_str(EXAMPLE, std::path::Path::new("example.yaml")) {
            Ok(_) => {}
            Err(e) => {
                for d in &e.diagnostics {
                    assert!(d.message.contains("does not exist"), "{d}");
                }
            }
        }
    }
}
