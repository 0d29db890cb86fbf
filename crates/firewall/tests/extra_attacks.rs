//! A second, mixed attack set written after the rules (common payloads from public
//! cheat-sheet shapes, one per line, spread over placements): a check that detection is not
//! tied to the main corpus. Some values cannot be told from benign input on their own (a
//! lone `*` for LDAP) and are expected misses.

mod common;

use common::{firewall, inspect, rows};

#[test]
fn extra_attacks_are_mostly_blocked() {
    let fw = firewall();
    let rows = rows("attacks_extra.jsonl");
    let mut missed = 0usize;
    for r in &rows {
        let v = inspect(&fw, r);
        if !v.blocked {
            missed += 1;
            println!(
                "    missed: {} {} {:?} {:?}",
                r.category.as_deref().unwrap_or("?"),
                r.placement,
                r.payload,
                v.rule_ids()
            );
        }
    }
    let rate = 1.0 - missed as f64 / rows.len() as f64;
    println!(
        "extra attacks blocked: {}/{} = {:.1}%",
        rows.len() - missed,
        rows.len(),
        rate * 100.0
    );
    // Measured 97.2% (105 of 108).
    assert!(rate >= 0.95, "extra attacks blocked {:.1}%", rate * 100.0);
}
