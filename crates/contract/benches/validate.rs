//! Validation cost of a ~10 KB JSON body: the full contract check (match, parameters, parse,
//! schema) and the body-hygiene scan alone.
#![allow(missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use portcullis_contract::{BodyLimits, BodyLimitsSpec, Contract, OpenApiSpec};

fn body() -> Vec<u8> {
    let items: Vec<String> = (0..100)
        .map(|i| {
            format!(
                r#"{{"sku":"ABC-{i:04}","qty":{q},"price":{p}.5,"note":"item number {i} for the order","tags":["red","blue"]}}"#,
                q = i % 50 + 1,
                p = i * 3
            )
        })
        .collect();
    format!(
        r#"{{"id":"5f0c6a5e-8a4e-4d8f-9a43-0b7b3c1d2e3f","customer":{{"email":"buyer@example.com","name":"Buyer","vip":true}},"items":[{}]}}"#,
        items.join(",")
    )
    .into_bytes()
}

fn bench(c: &mut Criterion) {
    let spec = OpenApiSpec::new(format!(
        "{}/tests/specs/bench.yaml",
        env!("CARGO_MANIFEST_DIR")
    ));
    let contract = Contract::load(&spec).unwrap();
    let body = body();
    let parts = http::Request::builder()
        .method("POST")
        .uri("/orders")
        .header("content-type", "application/json")
        .header("content-length", body.len().to_string())
        .body(())
        .unwrap()
        .into_parts()
        .0;
    assert!(contract.validate(&parts, &body).is_ok());
    let limits = BodyLimits::compile(&BodyLimitsSpec::default());
    assert!(limits.check(Some("application/json"), &body).is_ok());

    let mut g = c.benchmark_group("validate");
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.bench_function(format!("contract_json_{}B", body.len()), |b| {
        b.iter(|| contract.validate(&parts, std::hint::black_box(&body)))
    });
    g.bench_function(format!("hygiene_json_{}B", body.len()), |b| {
        b.iter(|| limits.check(Some("application/json"), std::hint::black_box(&body)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
