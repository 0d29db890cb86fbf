//! Measurement on the OWASP CRS regression tests (development corpus, go-ftw YAML).
//!
//! A test whose file is `REQUEST-9xx-*/<rule>.yaml` and which expects its own rule id is an
//! attack; one listing its own rule id in `no_expect_ids` is benign-ish. Prints the share
//! blocked per CRS file group and the share of benign ones refused, held by loose floors:
//! the labels are CRS's, not ours (many "attacks" are protocol checks a negative model on
//! values does not attempt), and the real acceptance test is the held-out corpus.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use portcullis_firewall::{Firewall, FirewallSpec};
use serde_json::Value;

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/crs-regression")
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn ids(v: Option<&Value>) -> Vec<u64> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default()
}

/// Percent-encodes what `http::Uri` refuses, as a lenient client or proxy would.
fn uri_safe(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_graphic()
            && !matches!(
                b,
                b'"' | b'<' | b'>' | b'`' | b'{' | b'}' | b'|' | b'\\' | b'^'
            )
        {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if out.starts_with('/') || out.starts_with("http") {
        out
    } else {
        format!("/{out}")
    }
}

/// Builds the request of one stage input; `None` if it cannot be represented.
fn request(input: &Value) -> Option<(http::request::Parts, Vec<u8>)> {
    if let Some(enc) = input.get("encoded_request").and_then(Value::as_str) {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(enc.trim())
            .ok()?;
        return parse_raw(&raw);
    }
    let method = input.get("method").and_then(Value::as_str).unwrap_or("GET");
    let uri = input
        .get("uri")
        .and_then(scalar)
        .unwrap_or_else(|| "/".into());
    let mut b = http::Request::builder()
        .method(http::Method::from_bytes(method.as_bytes()).ok()?)
        .uri(uri_safe(&uri));
    if let Some(h) = input.get("headers").and_then(Value::as_object) {
        for (k, v) in h {
            let Some(v) = scalar(v) else { continue };
            let (Ok(name), Ok(value)) = (
                http::HeaderName::from_bytes(k.as_bytes()),
                http::HeaderValue::from_str(&v),
            ) else {
                continue;
            };
            b = b.header(name, value);
        }
    }
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
    let parts = b.body(()).ok()?.into_parts().0;
    Some((parts, body))
}

fn parse_raw(raw: &[u8]) -> Option<(http::request::Parts, Vec<u8>)> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?;
    let target = first.next()?;
    let mut b = http::Request::builder()
        .method(http::Method::from_bytes(method.as_bytes()).ok()?)
        .uri(uri_safe(target));
    for l in lines {
        if let Some((k, v)) = l.split_once(':')
            && let (Ok(n), Ok(v)) = (
                http::HeaderName::from_bytes(k.trim().as_bytes()),
                http::HeaderValue::from_str(v.trim()),
            )
        {
            b = b.header(n, v);
        }
    }
    Some((b.body(()).ok()?.into_parts().0, body.as_bytes().to_vec()))
}

#[derive(Default)]
struct Tally {
    attacks: usize,
    blocked: usize,
    benign: usize,
    refused: usize,
    skipped: usize,
}

#[test]
fn crs_regression_corpus_measurement() {
    let dir = corpus_dir();
    if !dir.is_dir() {
        println!("note: {} not found, CRS measurement skipped", dir.display());
        return;
    }
    let fw = Firewall::new(&FirewallSpec::default()).unwrap();
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    let mut per_file: BTreeMap<u64, (usize, usize, usize, usize)> = BTreeMap::new();
    let mut groups: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().collect();
    groups.sort_by_key(|e| e.file_name());
    for group in groups {
        let name = group.file_name().to_string_lossy().into_owned();
        if !name.starts_with("REQUEST-9") || !group.path().is_dir() {
            continue;
        }
        let tally = tallies.entry(name.clone()).or_default();
        let mut files: Vec<_> = std::fs::read_dir(group.path()).unwrap().flatten().collect();
        files.sort_by_key(|e| e.file_name());
        for file in files {
            let text = std::fs::read_to_string(file.path()).unwrap_or_default();
            let Ok(doc) = serde_saphyr::from_str::<Value>(&text) else {
                tally.skipped += 1;
                continue;
            };
            let rule = doc.get("rule_id").and_then(Value::as_u64).unwrap_or(0);
            for test in doc
                .get("tests")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
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
                    let Some((parts, body)) = request(input) else {
                        tally.skipped += 1;
                        continue;
                    };
                    let verdict = fw.inspect(&parts, &body);
                    let blocked = verdict.blocked;
                    if let Ok(dbg) = std::env::var("FW_CRS_DEBUG")
                        && name.contains(&dbg)
                        && attack != blocked
                    {
                        println!(
                            "  {} {rule} {:?} {} {:?} {:?}",
                            if attack { "MISS" } else { "FP" },
                            verdict.rule_ids(),
                            parts.uri,
                            parts.headers.get("content-type"),
                            String::from_utf8_lossy(&body)
                                .chars()
                                .take(160)
                                .collect::<String>()
                        );
                    }
                    if std::env::var("FW_CRS_FILES").is_ok() {
                        let e = per_file.entry(rule).or_insert((0, 0, 0, 0));
                        if attack {
                            e.0 += 1;
                            e.1 += usize::from(blocked);
                        } else {
                            e.2 += 1;
                            e.3 += usize::from(blocked);
                        }
                    }
                    if attack {
                        tally.attacks += 1;
                        tally.blocked += usize::from(blocked);
                    } else {
                        tally.benign += 1;
                        tally.refused += usize::from(blocked);
                    }
                }
            }
        }
    }
    for (rule, (a, b, n, r)) in &per_file {
        println!("  file {rule}: attacks {b}/{a} missed {}, benign refused {r}/{n}", a - b);
    }
    let pct = |a: usize, b: usize| {
        if b == 0 {
            0.0
        } else {
            a as f64 * 100.0 / b as f64
        }
    };
    let (mut ta, mut tb, mut tn, mut tr) = (0, 0, 0, 0);
    println!(
        "{:45} {:>16} {:>16} {:>7}",
        "CRS group", "attacks blocked", "benign refused", "skipped"
    );
    for (name, t) in &tallies {
        println!(
            "{name:45} {:4}/{:4} {:5.1}% {:4}/{:4} {:5.1}% {:7}",
            t.blocked,
            t.attacks,
            pct(t.blocked, t.attacks),
            t.refused,
            t.benign,
            pct(t.refused, t.benign),
            t.skipped
        );
        ta += t.attacks;
        tb += t.blocked;
        tn += t.benign;
        tr += t.refused;
    }
    println!(
        "{:45} {tb:4}/{ta:4} {:5.1}% {tr:4}/{tn:4} {:5.1}%",
        "TOTAL",
        pct(tb, ta),
        pct(tr, tn)
    );
    // Loose floors on the application-attack groups this engine targets.
    let floor = |prefix: &str, min: f64| {
        for (name, t) in &tallies {
            if name.starts_with(prefix) && t.attacks > 0 {
                let rate = pct(t.blocked, t.attacks);
                assert!(rate >= min, "{name}: {rate:.1}% < {min}%");
            }
        }
    };
    // Measured: 930 77%, 931 36%, 932 30%, 933 29%, 941 67%, 942 31%, 944 35%; "benign"
    // refused 7.2% in total. Floors sit about ten points under.
    floor("REQUEST-930", 65.0);
    floor("REQUEST-931", 25.0);
    floor("REQUEST-932", 20.0);
    floor("REQUEST-933", 20.0);
    floor("REQUEST-941", 55.0);
    floor("REQUEST-942", 22.0);
    floor("REQUEST-944", 25.0);
    assert!(
        pct(tr, tn) <= 12.0,
        "CRS benign refused {:.1}%",
        pct(tr, tn)
    );
}
