//! Timing of Basic authentication through the real guard (store read on the blocking pool,
//! Argon2id with OWASP parameters): an unknown username must cost the same as a wrong
//! password, or response times enumerate accounts. Also shows what the verified cache saves.
//!
//! `cargo bench -p portcullis-auth --bench basic -- --quick`
#![allow(missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use criterion::{Criterion, criterion_group, criterion_main};
use portcullis_auth::{AccountServices, BasicGuard, basic};
use portcullis_config::{BasicAuthSpec, HumanDuration, LockoutSpec};
use portcullis_core::{Guard, RequestCx, RequestId, Step};
use portcullis_store::{AccountRecord, NewConsumer, SqliteStore, Store};

const PASSWORD: &str = "violet-Staple-orbit-47";

fn request(user: &str, password: &str) -> http::request::Parts {
    let value = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    );
    http::Request::get("/x")
        .header("authorization", value)
        .body(())
        .unwrap()
        .into_parts()
        .0
}

/// Runs the guard to its verdict; returns whether it admitted the request.
async fn run(guard: &BasicGuard, user: &str, password: &str) -> bool {
    let mut cx = RequestCx::new(
        RequestId::generate(),
        "127.0.0.1:40000".parse().unwrap(),
        Instant::now(),
    );
    let mut parts = request(user, password);
    match guard.on_request(&mut cx, &mut parts) {
        Step::Wait(w) => {
            let resume = w.await;
            matches!(resume(&mut cx), Step::Continue)
        }
        other => panic!("{other:?}"),
    }
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("b.db")).unwrap());
    let consumer = store
        .create_consumer(
            &NewConsumer {
                name: "shop".into(),
                ..Default::default()
            },
            "bench",
            0,
        )
        .unwrap();
    store
        .create_account(
            &AccountRecord {
                username: "alice".into(),
                consumer_id: consumer.id,
                password_hash: basic::hash_password(PASSWORD).unwrap(),
                roles: vec![],
                scopes: vec![],
                status: "active".into(),
                totp_sealed: None,
                totp_last_step: None,
                locked_until: None,
                created_at: 0,
                updated_at: 0,
            },
            "bench",
            0,
        )
        .unwrap();
    let services = Arc::new(AccountServices::new(store, None).unwrap());
    // Lockout out of the way: this measures verification, not refusal.
    let lockout = LockoutSpec {
        max_failures: u32::MAX,
        max_failures_per_ip: u32::MAX,
        ..LockoutSpec::default()
    };
    let spec = |cache: u64| BasicAuthSpec {
        realm: "bench".into(),
        require_totp: false,
        verified_cache: HumanDuration::secs(cache),
        lockout: None,
    };
    let uncached = BasicGuard::new(&spec(0), &lockout, services.clone());
    let cached = BasicGuard::new(&spec(60), &lockout, services);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();

    let mut group = c.benchmark_group("basic_verify");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(6));
    // The two cases that must look alike are measured interleaved (each iteration runs both
    // and times one), so load from other processes on the machine affects both equally.
    let paired = |timed_unknown: bool| {
        let (uncached, rt) = (&uncached, &rt);
        move |iters: u64| {
            let mut timed = Duration::ZERO;
            for i in 0..iters {
                let time = |user: &str, password: &str| {
                    let start = Instant::now();
                    assert!(!rt.block_on(run(uncached, user, password)));
                    start.elapsed()
                };
                // Alternate which goes first, so neither profits from the other's warm caches.
                let (unknown, wrong) = if i % 2 == 0 {
                    let u = time("mallory", PASSWORD);
                    (u, time("alice", "violet-Staple-orbit-48"))
                } else {
                    let w = time("alice", "violet-Staple-orbit-48");
                    (time("mallory", PASSWORD), w)
                };
                timed += if timed_unknown { unknown } else { wrong };
            }
            timed
        }
    };
    group.bench_function("unknown_user", |b| b.iter_custom(paired(true)));
    group.bench_function("wrong_password", |b| b.iter_custom(paired(false)));
    group.bench_function("right_password_uncached", |b| {
        b.iter(|| assert!(rt.block_on(run(&uncached, "alice", PASSWORD))))
    });
    group.bench_function("right_password_cached", |b| {
        b.iter(|| assert!(rt.block_on(run(&cached, "alice", PASSWORD))))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
