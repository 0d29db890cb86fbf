//! Per-request cost of the foundational guards (allow path), alone and as a chain.
#![allow(missing_docs)]

use std::sync::Arc;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use portcullis_config::{IpPolicySpec, SecurityHeadersSpec};
use portcullis_core::{Chain, ChainEntry, ClientIp, Guard, RequestCx, RequestId};
use portcullis_guards::{IpPolicyGuard, RequestLimitsGuard, SecurityHeadersGuard};

fn bench(c: &mut Criterion) {
    let route = IpPolicySpec {
        allow: vec![
            "10.0.0.0/8".parse().unwrap(),
            "192.168.0.0/16".parse().unwrap(),
        ],
        deny: vec!["10.66.0.0/16".parse().unwrap()],
    };
    let ip = IpPolicyGuard::compile(&IpPolicySpec::default(), &route).unwrap();
    let limits = RequestLimitsGuard::new(8192, 1 << 20);
    let headers = SecurityHeadersGuard::compile(&SecurityHeadersSpec::default());
    let mut cx = RequestCx::new(
        RequestId::generate(),
        "10.1.1.1:9".parse().unwrap(),
        Instant::now(),
    );
    cx.client_ip = ClientIp("10.1.1.1".parse().unwrap());
    let mut req = http::Request::get("/users/42?x=1")
        .header("content-length", "12")
        .body(())
        .unwrap()
        .into_parts()
        .0;

    c.bench_function("ip_policy allow", |b| {
        b.iter(|| ip.on_request(&mut cx, &mut req))
    });
    c.bench_function("request_limits allow", |b| {
        b.iter(|| limits.on_request(&mut cx, &mut req))
    });
    c.bench_function("security_headers response", |b| {
        b.iter(|| {
            let mut resp = http::Response::builder()
                .header("server", "x")
                .body(())
                .unwrap()
                .into_parts()
                .0;
            headers.on_response(&mut cx, &mut resp)
        })
    });
    let chain = Chain::new(vec![
        ChainEntry::enforce(Arc::new(ip)),
        ChainEntry::enforce(Arc::new(limits)),
    ]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    c.bench_function("chain on_request (2 guards)", |b| {
        b.iter(|| rt.block_on(chain.on_request(&mut cx, &mut req)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
