//! Measurement on payload lists of the public SecLists collection (danielmiessler/SecLists,
//! MIT): the `Fuzzing/` lists testers feed to Burp Intruder or ffuf, one payload per line.
//! A third corpus, next to CRS's regression tests and gotestwaf, written by neither.
//!
//! The lists are not committed: put their `Fuzzing/` tree under `/tmp/seclists` (or point
//! `FW_SECLISTS_DIR` at the directory holding `Fuzzing/`); the test prints "skipped"
//! without it. Every non-empty line of every `.txt` file is one payload, sent twice: as a
//! query parameter (percent-encoded as a client library does) and as a JSON string field.
//! The lists mix real attacks with probes that attack nothing on their own (a lone `'`, a
//! bare `../`, a file name, a harmless `<b>` tag); the per-file table shows both kinds, and
//! the floor is on the whole set. `FW_SL_DEBUG=<path substring>` prints the payloads let
//! through for matching files.
//!
//! Lines starting with `# ` are the lists' own comments and are skipped. The
//! `sqlmap-risk-classified` lists are sqlmap's templates: their placeholders
//! (`[RANDNUM]`, `[SLEEPTIME]`, `[RANDSTR]`, `[DELIMITER_START]` ...) are filled in with
//! values of the kind sqlmap sends before a line is used; fuzzdb's `{cmd}` and `XXpathXX`
//! likewise (see [`fill_list_placeholders`]). The same harness measures any other folder
//! of payload lists (PayloadsAllTheThings, payloadbox, fuzzdb) through `FW_SECLISTS_DIR`.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn txt_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            txt_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "txt") {
            out.push(p);
        }
    }
}

#[test]
fn seclists_fuzzing_payloads() {
    let dir = PathBuf::from(
        std::env::var("FW_SECLISTS_DIR").unwrap_or_else(|_| "/tmp/seclists".to_owned()),
    );
    let mut files = Vec::new();
    txt_files(&dir, &mut files);
    if files.is_empty() {
        println!("seclists: skipped ({} has no .txt lists)", dir.display());
        return;
    }
    let debug = std::env::var("FW_SL_DEBUG").ok();
    let fw = common::shared();
    // file -> (query blocked, json blocked, payloads)
    let mut per_file: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    for file in &files {
        let name = file
            .strip_prefix(&dir)
            .unwrap_or(file)
            .to_string_lossy()
            .into_owned();
        let bytes = std::fs::read(file).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        let entry = per_file.entry(name.clone()).or_default();
        for line in text.lines() {
            let payload = line.trim_end_matches('\r');
            if payload.trim().is_empty() || payload.starts_with("# ") {
                continue;
            }
            let filled = fill_list_placeholders(&fill_sqlmap_placeholders(payload));
            let payload = filled.as_str();
            let mut blocked = [false; 2];
            for (i, placement) in ["query", "json"].into_iter().enumerate() {
                let (parts, body) = common::build(placement, payload, Some("q"));
                let v = fw.inspect(&parts, &body);
                blocked[i] = v.blocked;
            }
            entry.0 += usize::from(blocked[0]);
            entry.1 += usize::from(blocked[1]);
            entry.2 += 1;
            if debug.as_deref().is_some_and(|d| name.contains(d)) && !(blocked[0] && blocked[1]) {
                println!(
                    "  MISS {name} query={} json={} {payload:?}",
                    blocked[0], blocked[1]
                );
            }
        }
    }
    println!("==== seclists: payloads blocked per list ====");
    println!("{:<72} {:>16} {:>16}", "list", "query", "json");
    let (mut tq, mut tj, mut tn) = (0usize, 0usize, 0usize);
    let pct = |a: usize, n: usize| {
        if n == 0 {
            0.0
        } else {
            a as f64 * 100.0 / n as f64
        }
    };
    for (name, (q, j, n)) in &per_file {
        if *n == 0 {
            continue;
        }
        println!(
            "{name:<72} {:>9}/{:<5} {:>5.1}% {:>5}/{:<5} {:>5.1}%",
            q,
            n,
            pct(*q, *n),
            j,
            n,
            pct(*j, *n)
        );
        tq += q;
        tj += j;
        tn += n;
    }
    println!(
        "{:<72} {:>9}/{:<5} {:>5.1}% {:>5}/{:<5} {:>5.1}%",
        "TOTAL",
        tq,
        tn,
        pct(tq, tn),
        tj,
        tn,
        pct(tj, tn)
    );
    assert!(tn > 0, "no payloads read from {}", dir.display());
    // The floor: the share measured when the test was written, rounded down (the lists
    // hold probes that attack nothing alone, so it is not the 97% of real attacks).
    assert!(
        tq * 100 >= tn * FLOOR_PCT && tj * 100 >= tn * FLOOR_PCT,
        "seclists blocked query {tq}/{tn}, json {tj}/{tn}: under the {FLOOR_PCT}% floor"
    );
}

/// Fills the placeholders of fuzzdb's templates: `{cmd}` (command-injection templates)
/// becomes `id`, `{FILE}` (its traversal templates) `etc/passwd`, `XXpathXX` (its RFI list of vulnerable scripts) an attacker's URL.
fn fill_list_placeholders(line: &str) -> String {
    line.replace("{cmd}", "id")
        .replace("{FILE}", "etc/passwd")
        .replace("XXpathXX", "http://evil.example/shell.txt")
}

/// Replaces sqlmap's template placeholders by values of the kind it sends: numbers for
/// `[RANDNUM…]`, a 5-second delay, 4-letter strings, its `qxxxq` delimiters; any other
/// `[NAME]` becomes `1`.
fn fill_sqlmap_placeholders(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(start) = rest.find('[') {
        let (before, from) = rest.split_at(start);
        out.push_str(before);
        let close = from.find(']');
        let name = close.and_then(|c| from.get(1..c)).unwrap_or("");
        let placeholder = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
            && name.bytes().next().is_some_and(|b| b.is_ascii_uppercase());
        if !placeholder {
            out.push('[');
            rest = from.get(1..).unwrap_or("");
            continue;
        }
        let value = match name.trim_end_matches(|c: char| c.is_ascii_digit()) {
            "RANDNUM" => format!("{}", 4821 + 17 * name.len()),
            "SLEEPTIME" => "5".to_owned(),
            "RANDSTR" => "xQzT".to_owned(),
            "ORIGVALUE" => "1".to_owned(),
            "DELIMITER_START" => "qvkjq".to_owned(),
            "DELIMITER_STOP" => "qbxzq".to_owned(),
            "INFERENCE" => "5911=5911".to_owned(),
            "GENERIC_SQL_COMMENT" => "-- -".to_owned(),
            _ => "1".to_owned(),
        };
        out.push_str(&value);
        rest = close
            .and_then(|c| from.get(c.saturating_add(1)..))
            .unwrap_or("");
    }
    out.push_str(rest);
    out
}

/// See the assertion in [`seclists_fuzzing_payloads`].
const FLOOR_PCT: usize = 90;
