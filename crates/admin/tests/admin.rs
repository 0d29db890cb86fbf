//! The admin endpoints over a real socket.
#![allow(missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use portcullis_admin::{AdminState, OPENMETRICS, serve};
use portcullis_telemetry::Metrics;

#[tokio::test]
async fn endpoints_answer_and_readiness_flips() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let metrics = Metrics::new("9.9.9");
    metrics.observe_request("r", 200, "allow", std::time::Duration::from_millis(1));
    let ready = Arc::new(AtomicBool::new(false));
    let scrapes = Arc::new(AtomicUsize::new(0));
    let s2 = scrapes.clone();
    let state = AdminState::new(metrics, ready.clone()).with_before_scrape(Arc::new(move || {
        s2.fetch_add(1, Ordering::SeqCst);
    }));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, state, async move {
        let _ = rx.await;
    }));
    let c = reqwest::Client::builder().no_proxy().build().unwrap();
    let base = format!("http://{addr}");

    let r = c.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "{\"status\":\"ok\"}");
    assert_eq!(
        c.get(format!("{base}/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        503
    );
    ready.store(true, Ordering::SeqCst);
    assert_eq!(
        c.get(format!("{base}/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let r = c.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], OPENMETRICS);
    let text = r.text().await.unwrap();
    assert!(text.contains("portcullis_requests_total"), "{text}");
    assert!(text.contains("version=\"9.9.9\""), "{text}");
    assert_eq!(scrapes.load(Ordering::SeqCst), 1);

    let r = c.get(format!("{base}/nope")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("urn:portcullis:problem:not-found")
    );
    let r = c.post(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "GET");

    tx.send(()).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(5), server)
        .await
        .unwrap()
        .unwrap();
}
