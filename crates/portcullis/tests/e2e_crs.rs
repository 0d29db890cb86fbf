//! End to end: the OWASP CRS regression corpus (development corpus, `shared/data/
//! crs-regression`) sent as raw bytes through the real binary, with the default firewall on
//! one public route in front of the echo upstream.
//!
//! `crates/firewall/tests/crs.rs` measures the detection engine alone; this measures what a
//! client of the gateway sees: HTTP/1 framing (the sentinel and hyper), the strict path
//! policy, method enforcement (the route allows GET, HEAD, POST and OPTIONS, CRS's default
//! `allowed_methods`), request validation, body hygiene and the firewall together. That
//! matters most for the protocol groups (911 methods, 920 protocol enforcement, 921 protocol
//! attacks such as smuggling and response splitting, 922 multipart framing), which the
//! inspect-only measurement cannot see.
//!
//! A request counts as refused when the gateway answers 4xx/5xx or closes without an answer;
//! it passed when the echo upstream's 2xx/3xx came back. Labels are CRS's (a "benign" test is
//! often an attack for a sibling rule), so refusals of benign-labelled tests are reported,
//! not held to zero; floors sit under the measured shares. Skipped when the corpus is absent.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use common::*;
use futures_util::StreamExt as _;
use portcullis_testkit::crs::{CrsCase, corpus_dir, load};
use portcullis_testkit::raw::first_status;

const ROUTES: &str = r#"
upstreams:
  - id: echo
    kind: echo
routes:
  - id: app
    path: /
    methods: [GET, HEAD, POST, OPTIONS]
    upstream: echo
    public: true
"#;

#[derive(Default, Clone, Copy)]
struct Tally {
    attacks: usize,
    refused_attacks: usize,
    benign: usize,
    refused_benign: usize,
    no_answer: usize,
}

fn pct(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        100.0 * a as f64 / b as f64
    }
}

fn is_protocol(group: &str) -> bool {
    ["911", "920", "921", "922", "949"]
        .iter()
        .any(|g| group.starts_with(&format!("REQUEST-{g}")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crs_corpus_through_the_gateway() {
    let dir = corpus_dir(Path::new(env!("CARGO_MANIFEST_DIR")));
    let (cases, skipped) = load(&dir);
    if cases.is_empty() {
        println!("note: no CRS corpus at {}, skipped", dir.display());
        return;
    }
    let gw = start(&config(ROUTES));
    let addr = gw.addr("plain");

    // The benign twin of the whole setup: a plain request goes through to the echo upstream.
    let plain = b"GET /orders?page=2 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    assert_eq!(
        first_status(addr, plain, Duration::from_secs(5)).await,
        Some(200)
    );

    let debug = std::env::var("FW_CRS_DEBUG").ok();
    let results: Vec<(CrsCase, Option<u16>)> = futures_util::stream::iter(cases)
        .map(|case| async move {
            let status = first_status(addr, &case.raw, Duration::from_secs(3)).await;
            (case, status)
        })
        .buffer_unordered(8)
        .collect()
        .await;

    let mut groups: BTreeMap<String, Tally> = BTreeMap::new();
    for (case, status) in &results {
        let refused = status.is_none_or(|s| s >= 400);
        let t = groups.entry(case.group.clone()).or_default();
        t.no_answer += usize::from(status.is_none());
        if case.attack {
            t.attacks += 1;
            t.refused_attacks += usize::from(refused);
        } else {
            t.benign += 1;
            t.refused_benign += usize::from(refused);
        }
        if let Some(d) = &debug
            && case.group.contains(d.as_str())
            && case.attack != refused
        {
            println!(
                "  {} {} {:?} {:?}",
                if case.attack { "MISS" } else { "FP" },
                case.title,
                status,
                String::from_utf8_lossy(&case.raw)
                    .chars()
                    .take(200)
                    .collect::<String>()
            );
        }
    }

    println!("CRS corpus through the gateway ({skipped} stages skipped)");
    println!(
        "{:<48} {:>16} {:>16} {:>9}",
        "group", "attacks refused", "benign refused", "no answer"
    );
    let mut totals = [Tally::default(), Tally::default()];
    for (name, t) in &groups {
        let total = &mut totals[usize::from(is_protocol(name))];
        total.attacks += t.attacks;
        total.refused_attacks += t.refused_attacks;
        total.benign += t.benign;
        total.refused_benign += t.refused_benign;
        total.no_answer += t.no_answer;
        println!(
            "{name:<48} {:>5}/{:<5} {:>5.1}% {:>5}/{:<5} {:>5.1}% {:>9}",
            t.refused_attacks,
            t.attacks,
            pct(t.refused_attacks, t.attacks),
            t.refused_benign,
            t.benign,
            pct(t.refused_benign, t.benign),
            t.no_answer
        );
    }
    for (label, t) in ["application", "protocol"].iter().zip(totals) {
        println!(
            "{label} total: attacks refused {}/{} = {:.1}%, benign-labelled refused {}/{} = {:.1}%",
            t.refused_attacks,
            t.attacks,
            pct(t.refused_attacks, t.attacks),
            t.refused_benign,
            t.benign,
            pct(t.refused_benign, t.benign)
        );
    }

    // The gateway must still serve after thousands of hostile requests.
    assert_eq!(
        first_status(addr, plain, Duration::from_secs(5)).await,
        Some(200),
        "gateway stopped serving after the corpus"
    );
    let share = |prefix: &str| {
        groups
            .iter()
            .find(|(n, _)| n.starts_with(prefix))
            .map(|(_, t)| pct(t.refused_attacks, t.attacks))
            .unwrap_or(0.0)
    };
    let [app, protocol] = totals;
    let app_share = pct(app.refused_attacks, app.attacks);
    let protocol_share = pct(protocol.refused_attacks, protocol.attacks);
    // Floors just under the measured shares (see docs/firewall.md, "Through the gateway").
    assert!(app_share >= 85.0, "application {app_share:.1}% < 85%");
    assert!(
        protocol_share >= 44.0,
        "protocol {protocol_share:.1}% < 44%"
    );
    assert!(
        share("REQUEST-911") >= 100.0,
        "an unlisted method got through"
    );
    assert!(
        share("REQUEST-922") >= 95.0,
        "multipart evasions got through"
    );
    let protocol_benign = pct(protocol.refused_benign, protocol.benign);
    assert!(
        protocol_benign <= 9.0,
        "protocol benign-labelled refusals {protocol_benign:.1}% > 9%"
    );
}
