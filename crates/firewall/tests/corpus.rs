//! Detection rate per attack category and false-positive rate on the benign corpus, with
//! floors just under the measured numbers (so regressions fail, improvements do not).

mod common;

use common::{CATEGORIES, firewall, inspect, rows};

/// Minimum share of each category's corpus blocked: just under the measured rates (100%
/// everywhere but nosql at 98.4%), above the 97% target.
const FLOOR: f64 = 0.98;

#[test]
fn every_category_is_detected_above_its_floor() {
    let fw = firewall();
    let mut failures = Vec::new();
    for cat in CATEGORIES {
        let rows = rows(&format!("attacks/{cat}.jsonl"));
        assert!(rows.len() >= 50, "{cat}: only {} payloads", rows.len());
        let mut blocked = 0usize;
        let mut missed = Vec::new();
        for r in &rows {
            if inspect(&fw, r).blocked {
                blocked += 1;
            } else {
                missed.push(format!("{} {:?}", r.placement, r.payload));
            }
        }
        let rate = blocked as f64 / rows.len() as f64;
        println!(
            "{cat:10} {blocked:3}/{:3} = {:5.1}%",
            rows.len(),
            rate * 100.0
        );
        for m in &missed {
            println!("    missed: {m}");
        }
        if rate < FLOOR {
            failures.push(format!(
                "{cat}: {:.1}% < {:.1}%",
                rate * 100.0,
                FLOOR * 100.0
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:?}");
}

#[test]
fn benign_false_positive_rate_is_at_most_one_percent() {
    let fw = firewall();
    let rows = rows("benign.jsonl");
    assert!(rows.len() >= 500);
    let mut refused = Vec::new();
    for r in &rows {
        let v = inspect(&fw, r);
        if v.blocked {
            refused.push(format!(
                "{} {:?} -> {:?}",
                r.placement,
                r.payload,
                v.rule_ids()
            ));
        }
    }
    let rate = refused.len() as f64 / rows.len() as f64;
    println!(
        "benign refused: {}/{} = {:.2}%",
        refused.len(),
        rows.len(),
        rate * 100.0
    );
    for r in &refused {
        println!("    FP: {r}");
    }
    // Measured 0.18% (1 of 567: a C-like code snippet libinjection fingerprints as SQL).
    assert!(rate <= 0.01, "false-positive rate {:.2}%", rate * 100.0);
}
