//! A second benign set of deliberately hard values: technical prose and code snippets that
//! name files, commands, DOM objects and SQL (`/etc/hosts`, `` `whoami` ``,
//! `document.cookie`, `sleep(5)`), written to find false positives rather than to look
//! typical. Measured and printed; held by a looser floor than the realistic corpus.

mod common;

use common::{firewall, inspect, rows};

#[test]
fn hard_benign_refusals_stay_rare() {
    let fw = firewall();
    let rows = rows("benign_hard.jsonl");
    let mut refused = 0usize;
    for r in &rows {
        let v = inspect(&fw, r);
        if v.blocked {
            refused += 1;
            println!("    refused: {:?} -> {:?}", r.payload, v.rule_ids());
        }
    }
    let rate = refused as f64 / rows.len() as f64;
    println!(
        "hard benign refused: {refused}/{} = {:.1}%",
        rows.len(),
        rate * 100.0
    );
    // Measured 5.7% (7 of 123).
    assert!(rate <= 0.07, "hard benign refused {:.1}%", rate * 100.0);
}
