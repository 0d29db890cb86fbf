//! Cost of one rate-limit decision: the GCRA arithmetic alone, the keyed table (hit on an
//! existing key, and a fresh key per call), and the whole guard on a request head.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use portcullis_config::RateLimitSpec;
use portcullis_core::{ClientIp, Guard, Identity, RequestCx, RequestId};
use portcullis_limits::gcra::Gcra;
use portcullis_limits::{LimitState, RateLimitGuard};

fn bench(c: &mut Criterion) {
    let g = Gcra::new(1_000_000, Duration::from_secs(1), 1000);
    c.bench_function("gcra_check", |b| {
        let mut tat = None;
        let mut now = 1_000_000_000u64;
        b.iter(|| {
            now += 1000;
            let (v, t) = g.check(black_box(tat), now);
            tat = Some(t);
            black_box(v)
        })
    });
    let state = LimitState::new();
    c.bench_function("keyed_check_same_key", |b| {
        b.iter(|| black_box(state.rates.check(&g, black_box("route#limit0|c=alice"))))
    });
    let mut i = 0u64;
    c.bench_function("keyed_check_new_key", |b| {
        b.iter(|| {
            i += 1;
            black_box(state.rates.check(&g, &format!("route#limit0|i=10.0.{i}")))
        })
    });
    let spec: RateLimitSpec = serde_json::from_value(serde_json::json!({
        "rate": "1000000/s", "key": ["consumer", "ip"]
    }))
    .unwrap();
    let guard = RateLimitGuard::new("orders", &[spec], true, state.rates.clone()).unwrap();
    let (mut parts, _) = http::Request::get("/orders/1")
        .body(())
        .unwrap()
        .into_parts();
    c.bench_function("rate_limit_guard", |b| {
        b.iter(|| {
            let mut cx = RequestCx::new(
                RequestId::generate(),
                "10.1.1.1:9".parse().unwrap(),
                Instant::now(),
            );
            cx.client_ip = ClientIp("10.1.1.1".parse().unwrap());
            cx.identity = Some(Identity {
                consumer_id: "alice".into(),
                ..Default::default()
            });
            black_box(guard.on_request(&mut cx, &mut parts))
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
