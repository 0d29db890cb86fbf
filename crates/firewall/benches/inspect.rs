//! Inspection throughput on a benign ~10 KB JSON body (an order list with names, notes,
//! addresses and URLs), the common case the firewall must make cheap.
#![allow(missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use portcullis_firewall::{Firewall, FirewallSpec};

fn body() -> Vec<u8> {
    let notes = [
        "Please leave the parcel with the neighbour at no. 12 if we're not home.",
        "Gift wrap, please! It's for my mum's 60th birthday.",
        "Select the faster shipping option and update the invoice address.",
        "配送前に電話してください。",
        "Ring twice — the bell's a bit broken :)",
    ];
    let mut items = Vec::new();
    let mut i = 0usize;
    while serde_json::to_vec(&items).map_or(0, |v| v.len()) < 10_000 {
        let name = ["Anna O'Brien", "José Álvarez", "李小龙"][i % 3];
        let note = notes[i % notes.len()];
        items.push(serde_json::json!({
            "id": format!("ORD-{:06}", 100_000 + i),
            "customer": {"name": name, "email": format!("user{i}@example.com")},
            "address": {"street": format!("{} Main St.", i + 1), "city": "Dublin", "zip": "D02 X285"},
            "items": [{"sku": format!("SKU-{}", i * 7), "qty": i % 4 + 1, "price": 19.99}],
            "note": note,
            "tracking": format!("https://track.example.com/p/{i}?lang=en"),
        }));
        i += 1;
    }
    serde_json::to_vec(&serde_json::json!({ "orders": items })).unwrap_or_default()
}

fn bench(c: &mut Criterion) {
    let fw = Firewall::new(&FirewallSpec::default()).unwrap();
    let body = body();
    let parts = http::Request::builder()
        .method("POST")
        .uri("/api/v1/orders/import?dry_run=false&source=web")
        .header("content-type", "application/json")
        .header(
            "user-agent",
            "Mozilla/5.0 (X11; Linux x86_64) Firefox/125.0",
        )
        .header("cookie", "sid=abc123; theme=dark")
        .body(())
        .unwrap()
        .into_parts()
        .0;
    assert!(!fw.inspect(&parts, &body).blocked);
    let mut g = c.benchmark_group("inspect");
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.bench_function("benign_json_10k", |b| b.iter(|| fw.inspect(&parts, &body)));
    g.finish();
    let mut g = c.benchmark_group("compile");
    g.sample_size(10);
    g.bench_function("default_spec", |b| {
        b.iter(|| Firewall::new(&FirewallSpec::default()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
