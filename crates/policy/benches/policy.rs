//! Cost of one Cedar decision with the example policies (examples/authorization.yaml), and of
//! the scope/role check for comparison.
#![allow(missing_docs)]

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use portcullis_core::Identity;
use portcullis_policy::cedar::{PolicyEngine, PolicyInput};
use portcullis_policy::requirements::Requirements;

fn bench(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/authorization.yaml");
    let loaded = portcullis_config::load_file(&path).unwrap();
    let engine = PolicyEngine::load(&loaded.spec).unwrap().unwrap();
    let id = Identity {
        consumer_id: "alice".into(),
        method: "jwt",
        scopes: vec!["payments".into(), "reports:read".into()],
        roles: vec!["user".into()],
        claims: Some(Arc::new(
            serde_json::json!({"amr": ["pwd", "otp"], "tenant": "acme"}),
        )),
        ..Default::default()
    };
    let headers = http::HeaderMap::new();
    let params = vec![
        ("owner".to_string(), "alice".to_string()),
        ("name".to_string(), "cv".to_string()),
    ];
    let now: jiff::Timestamp = "2026-12-02T09:30:00Z".parse().unwrap();
    for (name, route, template, method) in [
        ("cedar_payments_post", "payments", "/payments/", "POST"),
        (
            "cedar_documents_put",
            "documents",
            "/documents/{owner}/{name}",
            "PUT",
        ),
    ] {
        c.bench_function(name, |b| {
            b.iter(|| {
                let d = engine.authorize(&PolicyInput {
                    route,
                    template,
                    identity: &id,
                    method,
                    path: "/x",
                    params: &params,
                    operation: None,
                    client_cert: None,
                    ip: "10.20.1.2".parse().unwrap(),
                    country: "DE",
                    headers: &headers,
                    now,
                });
                assert!(d.allowed);
                black_box(d)
            })
        });
    }
    let orders = &loaded.spec.routes[0];
    let req = Requirements::compile(orders.authorize.as_ref().unwrap());
    let scopes = vec!["orders:read".to_string(), "orders:write".to_string()];
    c.bench_function("scopes_roles_check", |b| {
        b.iter(|| black_box(req.check(&http::Method::POST, &scopes, &[])))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
