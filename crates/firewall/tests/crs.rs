//! Measurement on the OWASP CRS regression tests (development corpus, go-ftw YAML).
//!
//! A test whose file is `REQUEST-9xx-*/<rule>.yaml` and which expects its own rule id is an
//! attack; one listing its own rule id in `no_expect_ids` is benign-ish. Each stage input
//! (`stages[].input` or `stages[].stage.input`) becomes the request go-ftw sends: method,
//! `uri` as given (only bytes `http::Uri` refuses are percent-encoded, which the normaliser
//! undoes), every header (Cookie, User-Agent, Referer, custom ones; raw bytes kept), `data`
//! as the body with its declared Content-Type, or `encoded_request` parsed as a raw HTTP
//! request.
//!
//! The corpus is split deterministically into a **dev** half (even position of the file in
//! the sorted listing of its rule directory) and a **check** half (odd position). Misses are
//! studied only on the dev half (`FW_CRS_DEBUG` prints dev-half misses and refusals unless
//! `FW_CRS_HALF=check`); both halves are reported, and the check half is how we see whether
//! a rule generalises.
//!
//! Groups are reported in two sets: application attacks (913 scanners, 930-934, 941-944),
//! which the firewall targets, and protocol checks (911 method, 920 protocol enforcement,
//! 921 protocol attacks, 922 multipart framing), which the HTTP layer and the gateway's
//! request validation handle before the firewall and which are reported separately.
//! "Benign" refusals are reported for every benign-labelled test and for the subset whose
//! description says it is a false-positive / negative test (most other benign-labelled tests
//! are attacks for a different rule). Floors sit just under the measured shares; the real
//! acceptance test is the held-out corpus.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine as _;
use portcullis_firewall::{Firewall, FirewallSpec};
use portcullis_testkit::crs::{corpus_dir, ids, scalar};
use serde_json::Value;

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
                http::HeaderValue::from_bytes(v.as_bytes()),
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
    let (head, body) = text
        .split_once("\r\n\r\n")
        .or_else(|| text.split_once("\n\n"))
        .unwrap_or((&text, ""));
    let mut lines = head.lines();
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
                http::HeaderValue::from_bytes(v.trim().as_bytes()),
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
    /// Benign-labelled tests described as false-positive / negative tests.
    negatives: usize,
    negatives_refused: usize,
    skipped: usize,
}

/// Whether a CRS group is an application-attack group (the firewall's target) rather than
/// a protocol check handled before it.
fn is_application(group: &str) -> bool {
    [
        "913", "930", "931", "932", "933", "934", "941", "942", "943", "944",
    ]
    .iter()
    .any(|g| group.starts_with(&format!("REQUEST-{g}")))
}

/// Whether a test's description marks it as an explicit negative (false-positive) test.
fn is_explicit_negative(desc: &str) -> bool {
    let d = desc.to_ascii_lowercase();
    [
        "false positive",
        "fp ",
        "fp:",
        "negative",
        "should not",
        "should pass",
        "don't match",
        "dont match",
        "do not match",
        "not match",
        "allowed",
        "benign",
        "legit",
    ]
    .iter()
    .any(|k| d.contains(k))
}

fn pct(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 * 100.0 / b as f64
    }
}

/// Prints one table; returns the application-attack totals (blocked, attacks, refused,
/// benign, FP tests refused, FP tests).
fn report(
    label: &str,
    tallies: &BTreeMap<String, Tally>,
) -> (usize, usize, usize, usize, usize, usize) {
    println!("==== {label} ====");
    println!(
        "{:45} {:>16} {:>16} {:>16} {:>7}",
        "CRS group", "attacks blocked", "benign refused", "FP-tests refused", "skipped"
    );
    for application in [true, false] {
        println!(
            "{}",
            if application {
                "-- application attacks --"
            } else {
                "-- protocol checks (handled before the firewall; reported only) --"
            }
        );
        let (mut ta, mut tb, mut tn, mut tr, mut tx, mut txr) = (0, 0, 0, 0, 0, 0);
        for (name, t) in tallies
            .iter()
            .filter(|(n, _)| is_application(n) == application)
        {
            if t.attacks + t.benign == 0 {
                continue;
            }
            println!(
                "{name:45} {:4}/{:4} {:5.1}% {:4}/{:4} {:5.1}% {:4}/{:4} {:5.1}% {:7}",
                t.blocked,
                t.attacks,
                pct(t.blocked, t.attacks),
                t.refused,
                t.benign,
                pct(t.refused, t.benign),
                t.negatives_refused,
                t.negatives,
                pct(t.negatives_refused, t.negatives),
                t.skipped
            );
            ta += t.attacks;
            tb += t.blocked;
            tn += t.benign;
            tr += t.refused;
            tx += t.negatives;
            txr += t.negatives_refused;
        }
        println!(
            "{:45} {tb:4}/{ta:4} {:5.1}% {tr:4}/{tn:4} {:5.1}% {txr:4}/{tx:4} {:5.1}%",
            "TOTAL",
            pct(tb, ta),
            pct(tr, tn),
            pct(txr, tx)
        );
    }
    let app: Vec<&Tally> = tallies
        .iter()
        .filter(|(n, _)| is_application(n))
        .map(|(_, t)| t)
        .collect();
    let (tb, ta): (usize, usize) = (
        app.iter().map(|t| t.blocked).sum(),
        app.iter().map(|t| t.attacks).sum(),
    );
    let (tr, tn): (usize, usize) = (
        app.iter().map(|t| t.refused).sum(),
        app.iter().map(|t| t.benign).sum(),
    );
    let (txr, tx): (usize, usize) = (
        app.iter().map(|t| t.negatives_refused).sum(),
        app.iter().map(|t| t.negatives).sum(),
    );
    println!(
        "{label}: application attacks blocked {tb}/{ta} = {:.1}%, benign-labelled refused {tr}/{tn} = {:.1}%, FP tests refused {txr}/{tx} = {:.1}%",
        pct(tb, ta),
        pct(tr, tn),
        pct(txr, tx)
    );
    (tb, ta, tr, tn, txr, tx)
}

#[test]
fn crs_regression_corpus_measurement() {
    let dir = corpus_dir(Path::new(env!("CARGO_MANIFEST_DIR")));
    if !dir.is_dir() {
        println!("note: {} not found, CRS measurement skipped", dir.display());
        return;
    }
    let fw = Firewall::new(&FirewallSpec::default()).unwrap();
    let mut halves: [BTreeMap<String, Tally>; 2] = [BTreeMap::new(), BTreeMap::new()];
    let debug_half = usize::from(std::env::var("FW_CRS_HALF").is_ok_and(|h| h == "check"));
    let mut per_file: BTreeMap<u64, (usize, usize, usize, usize)> = BTreeMap::new();
    let mut groups: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().collect();
    groups.sort_by_key(|e| e.file_name());
    for group in groups {
        let name = group.file_name().to_string_lossy().into_owned();
        if !name.starts_with("REQUEST-9") || !group.path().is_dir() {
            continue;
        }
        let mut files: Vec<_> = std::fs::read_dir(group.path()).unwrap().flatten().collect();
        files.sort_by_key(|e| e.file_name());
        for (index, file) in files.into_iter().enumerate() {
            let half = index % 2;
            let tally = halves[half].entry(name.clone()).or_default();
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
                let desc = test.get("desc").and_then(Value::as_str).unwrap_or("");
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
                        && half == debug_half
                        && attack != blocked
                    {
                        let extra: Vec<String> = parts
                            .headers
                            .iter()
                            .filter(|(k, _)| {
                                !matches!(
                                    k.as_str(),
                                    "host" | "accept" | "accept-encoding" | "accept-language"
                                )
                            })
                            .map(|(k, v)| format!("{k}: {}", String::from_utf8_lossy(v.as_bytes())))
                            .collect();
                        println!(
                            "  {} {rule} {:?} {} {:?} {:?}",
                            if attack { "MISS" } else { "FP" },
                            verdict.rule_ids(),
                            parts.uri,
                            extra,
                            String::from_utf8_lossy(&body)
                                .chars()
                                .take(160)
                                .collect::<String>()
                        );
                    }
                    if std::env::var("FW_CRS_FILES").is_ok() && half == debug_half {
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
                        if is_explicit_negative(desc) {
                            tally.negatives += 1;
                            tally.negatives_refused += usize::from(blocked);
                        }
                    }
                }
            }
        }
    }
    for (rule, (a, b, n, r)) in &per_file {
        println!(
            "  file {rule}: attacks {b}/{a} missed {}, benign refused {r}/{n}",
            a - b
        );
    }
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    for half in &halves {
        for (name, t) in half {
            let all = tallies.entry(name.clone()).or_default();
            all.attacks += t.attacks;
            all.blocked += t.blocked;
            all.benign += t.benign;
            all.refused += t.refused;
            all.negatives += t.negatives;
            all.negatives_refused += t.negatives_refused;
            all.skipped += t.skipped;
        }
    }
    let (db, da, ..) = report("dev half (even files)", &halves[0]);
    let (cb, ca, ..) = report("check half (odd files)", &halves[1]);
    let (tb, ta, tr, tn, txr, tx) = report("whole corpus", &tallies);
    // Floors on the application-attack groups, just under the measured shares.
    let floor = |prefix: &str, min: f64| {
        for (name, t) in &tallies {
            if name.starts_with(prefix) && t.attacks > 0 {
                let rate = pct(t.blocked, t.attacks);
                assert!(rate >= min, "{name}: {rate:.1}% < {min}%");
            }
        }
    };
    // Measured (round 4): 930 90.9%, 931 36.1%, 932 73.8%, 933 83.0%, 934 83.6%, 941 73.9%,
    // 942 60.7%, 943 28.6%, 944 99.4%; application total 79.6% (dev half 84.5%, check half
    // 71.6%); benign-labelled refused 15.2%, FP tests refused 8.7%.
    // Round 5 (XSS / RCE / session fixation): 932 77.1%, 941 78.3%, 943 100% (42/42, the
    // Referer-aware session rules); application total 81.3% (dev 85.6%, check 74.2%).
    floor("REQUEST-930", 92.0);
    floor("REQUEST-931", 60.5);
    floor("REQUEST-932", 76.5);
    floor("REQUEST-933", 91.0);
    floor("REQUEST-934", 88.0);
    floor("REQUEST-941", 77.5);
    floor("REQUEST-942", 78.0);
    floor("REQUEST-943", 97.5);
    floor("REQUEST-944", 97.0);
    assert!(
        pct(db, da) >= 91.5 && pct(cb, ca) >= 81.0,
        "dev half {:.1}%, check half {:.1}%",
        pct(db, da),
        pct(cb, ca)
    );
    assert!(
        pct(tb, ta) >= 87.5,
        "application attacks blocked {:.1}%",
        pct(tb, ta)
    );
    // Benign-labelled tests include attacks for other rules and payloads in places CRS does
    // not inspect (XML names), e.g. `;top something` is a 932236 attack and a 932230 "benign"
    // test; the explicit false-positive tests are the tighter measure.
    assert!(
        pct(tr, tn) <= 16.0,
        "CRS benign refused {:.1}%",
        pct(tr, tn)
    );
    assert!(
        pct(txr, tx) <= 9.5,
        "CRS FP tests refused {:.1}%",
        pct(txr, tx)
    );
}
