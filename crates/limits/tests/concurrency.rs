//! Concurrency caps: at most N requests of one key in flight; places come back when the
//! request context is dropped.

use std::time::Instant;

use portcullis_config::ConcurrencySpec;
use portcullis_core::{Guard, Identity, RequestCx, RequestId, Step};
use portcullis_limits::{ConcurrencyGuard, InFlight};

fn cx(consumer: &str) -> RequestCx {
    let mut cx = RequestCx::new(
        RequestId::generate(),
        "10.0.0.1:1000".parse().unwrap(),
        Instant::now(),
    );
    cx.identity = Some(Identity {
        consumer_id: consumer.into(),
        ..Default::default()
    });
    cx
}

#[test]
fn caps_in_flight_per_consumer_and_releases_on_drop() {
    let table = InFlight::new();
    let spec = ConcurrencySpec {
        key: vec![],
        max_in_flight: 2,
    };
    let guard = ConcurrencyGuard::new("r", &spec, true, table.clone()).unwrap();
    let (mut parts, _) = http::Request::get("/").body(()).unwrap().into_parts();
    let mut a1 = cx("alice");
    let mut a2 = cx("alice");
    let mut a3 = cx("alice");
    let mut b1 = cx("bob");
    assert!(matches!(
        guard.on_request(&mut a1, &mut parts),
        Step::Continue
    ));
    assert!(matches!(
        guard.on_request(&mut a2, &mut parts),
        Step::Continue
    ));
    match guard.on_request(&mut a3, &mut parts) {
        Step::Deny(d) => {
            assert_eq!(d.status, 429);
            assert_eq!(d.reason, "concurrency_limited");
            assert!(d.headers.iter().any(|(n, _)| n == "retry-after"));
        }
        other => panic!("{other:?}"),
    }
    // Another consumer is not affected.
    assert!(matches!(
        guard.on_request(&mut b1, &mut parts),
        Step::Continue
    ));
    assert_eq!(table.count("r|c=alice"), 2);
    // A finished request gives its place back.
    drop(a1);
    assert_eq!(table.count("r|c=alice"), 1);
    let mut a4 = cx("alice");
    assert!(matches!(
        guard.on_request(&mut a4, &mut parts),
        Step::Continue
    ));
    drop((a2, a4, b1));
    assert_eq!(table.count("r|c=alice"), 0);
    assert_eq!(table.count("r|c=bob"), 0);
}
