//! The OWASP CRS regression tests (go-ftw YAML, `shared/data/crs-regression`) as a list of
//! labelled raw HTTP/1.1 requests, for measuring the whole gateway over a socket.
//!
//! A test in `REQUEST-9xx-*/<rule>.yaml` whose stage expects its own rule id is an attack; one
//! listing its own rule id in `no_expect_ids` is benign-labelled (many of those are attacks
//! for a sibling rule, so the labels are CRS's, not ours). Each stage becomes the bytes go-ftw
//! would put on the wire: `encoded_request` as given, otherwise the request line from
//! `method`, `uri` and `version`, the headers in file order, `data` as the body, and — unless
//! the stage says `autocomplete_headers: false` — `Content-Length` for a body and
//! `Connection: close` added when missing.
//!
//! Files are split like the firewall's inspect-only measurement (`crates/firewall/tests/
//! crs.rs`): even position in the sorted listing of a rule directory is the dev half, odd
//! the check half.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::Value;

/// One stage of one CRS test, ready to send.
#[derive(Debug, Clone)]
pub struct CrsCase {
    /// The rule directory, e.g. `REQUEST-942-APPLICATION-ATTACK-SQLI`.
    pub group: String,
    /// The rule the file tests.
    pub rule: u64,
    /// The test's title, e.g. `942100-1`.
    pub title: String,
    /// 0 for the dev half, 1 for the check half.
    pub half: usize,
    /// Whether the stage expects its rule to fire (else it lists it in `no_expect_ids`).
    pub attack: bool,
    /// The request as it goes on the wire.
    pub raw: Vec<u8>,
}

/// The corpus directory: `FW_CRS_DIR` if set, else `shared/data/crs-regression` beside the
/// checkout (or beside its parent, for a worktree under `wt/<name>`), found from `manifest`.
pub fn corpus_dir(manifest: &Path) -> PathBuf {
    if let Ok(dir) = std::env::var("FW_CRS_DIR") {
        return PathBuf::from(dir);
    }
    let near = manifest.join("../../../shared/data/crs-regression");
    if near.is_dir() {
        near
    } else {
        manifest.join("../../../../shared/data/crs-regression")
    }
}

/// A YAML scalar (string, number or bool) as text.
pub fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A list of rule ids (`expect_ids`, `no_expect_ids`).
pub fn ids(v: Option<&Value>) -> Vec<u64> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default()
}

/// The wire bytes of one stage input; `None` if the stage carries no request.
pub fn raw_request(input: &Value) -> Option<Vec<u8>> {
    if let Some(enc) = input.get("encoded_request").and_then(Value::as_str) {
        return base64::engine::general_purpose::STANDARD
            .decode(enc.trim())
            .ok();
    }
    if input.get("raw_request").is_some() {
        return None;
    }
    let method = input.get("method").and_then(scalar).unwrap_or("GET".into());
    let uri = input.get("uri").and_then(scalar).unwrap_or("/".into());
    let version = input
        .get("version")
        .and_then(scalar)
        .unwrap_or("HTTP/1.1".into());
    let complete = input
        .get("autocomplete_headers")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let body = match input.get("data") {
        Some(Value::String(s)) => s.clone().into_bytes(),
        Some(Value::Array(lines)) => lines
            .iter()
            .filter_map(scalar)
            .collect::<Vec<_>>()
            .join("\r\n")
            .into_bytes(),
        _ => Vec::new(),
    };
    let mut out = format!("{method} {uri} {version}\r\n").into_bytes();
    let mut has_length = false;
    let mut has_connection = false;
    if let Some(h) = input.get("headers").and_then(Value::as_object) {
        for (k, v) in h {
            let Some(v) = scalar(v) else { continue };
            has_length |= k.eq_ignore_ascii_case("content-length")
                || k.eq_ignore_ascii_case("transfer-encoding");
            has_connection |= k.eq_ignore_ascii_case("connection");
            out.extend_from_slice(k.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(v.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
    }
    if complete {
        if !has_length && !body.is_empty() {
            out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
        }
        if !has_connection {
            out.extend_from_slice(b"Connection: close\r\n");
        }
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&body);
    Some(out)
}

/// Every labelled stage of the `REQUEST-9xx` groups under `dir`, in a stable order. Files that
/// do not parse are skipped (the count is returned beside the cases).
pub fn load(dir: &Path) -> (Vec<CrsCase>, usize) {
    let mut cases = Vec::new();
    let mut skipped = 0;
    let Ok(groups) = std::fs::read_dir(dir) else {
        return (cases, skipped);
    };
    let mut groups: Vec<_> = groups.flatten().collect();
    groups.sort_by_key(|e| e.file_name());
    for group in groups {
        let name = group.file_name().to_string_lossy().into_owned();
        if !name.starts_with("REQUEST-9") || !group.path().is_dir() {
            continue;
        }
        let Ok(files) = std::fs::read_dir(group.path()) else {
            continue;
        };
        let mut files: Vec<_> = files.flatten().collect();
        files.sort_by_key(|e| e.file_name());
        for (index, file) in files.into_iter().enumerate() {
            let text = std::fs::read_to_string(file.path()).unwrap_or_default();
            let Ok(doc) = serde_saphyr::from_str::<Value>(&text) else {
                skipped += 1;
                continue;
            };
            let rule = doc.get("rule_id").and_then(Value::as_u64).unwrap_or(0);
            for test in doc
                .get("tests")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let title = test
                    .get("test_title")
                    .and_then(scalar)
                    .or_else(|| test.get("test_id").and_then(scalar))
                    .unwrap_or_default();
                for stage in test
                    .get("stages")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let stage = stage.get("stage").unwrap_or(stage);
                    let (Some(input), Some(output)) = (stage.get("input"), stage.get("output"))
                    else {
                        continue;
                    };
                    let log = output.get("log").unwrap_or(output);
                    let attack = ids(log.get("expect_ids")).contains(&rule);
                    let benign = ids(log.get("no_expect_ids")).contains(&rule);
                    if !attack && !benign {
                        continue;
                    }
                    let Some(raw) = raw_request(input) else {
                        skipped += 1;
                        continue;
                    };
                    cases.push(CrsCase {
                        group: name.clone(),
                        rule,
                        title: title.clone(),
                        half: index % 2,
                        attack,
                        raw,
                    });
                }
            }
        }
    }
    (cases, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stage_becomes_wire_bytes_with_length_and_close() {
        let input = serde_json::json!({
            "method": "POST", "uri": "/a?b=1", "version": "HTTP/1.1",
            "headers": {"Host": "localhost", "Content-Type": "application/x-www-form-urlencoded"},
            "data": "x=1"
        });
        let raw = String::from_utf8(raw_request(&input).unwrap()).unwrap();
        assert_eq!(
            raw,
            "POST /a?b=1 HTTP/1.1\r\nHost: localhost\r\nContent-Type: \
             application/x-www-form-urlencoded\r\nContent-Length: 3\r\nConnection: close\r\n\r\nx=1"
        );
    }

    #[test]
    fn autocomplete_off_sends_the_headers_as_given() {
        let input = serde_json::json!({
            "method": "GET", "uri": "/", "autocomplete_headers": false,
            "headers": {"Host": "localhost"}
        });
        let raw = String::from_utf8(raw_request(&input).unwrap()).unwrap();
        assert_eq!(raw, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
    }

    #[test]
    fn an_encoded_request_is_sent_verbatim() {
        let input = serde_json::json!({"encoded_request": "R0VUIC8gSFRUUC8xLjENCg0K"});
        assert_eq!(raw_request(&input).unwrap(), b"GET / HTTP/1.1\r\n\r\n");
    }
}
