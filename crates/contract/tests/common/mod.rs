//! Shared helpers for the integration tests.
#![allow(dead_code, missing_docs)]

use portcullis_contract::{Contract, OpenApiSpec, Rejection, Violation};

pub fn spec_path(rel: &str) -> String {
    format!("{}/tests/specs/{rel}", env!("CARGO_MANIFEST_DIR"))
}

pub fn load(rel: &str, strict: bool) -> Contract {
    let mut spec = OpenApiSpec::new(spec_path(rel));
    spec.strict = strict;
    Contract::load(&spec).unwrap_or_else(|e| panic!("load {rel}: {e}"))
}

pub fn parts(
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body_len: usize,
) -> http::request::Parts {
    let mut b = http::Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    if body_len > 0 {
        b = b.header("content-length", body_len.to_string());
    }
    b.body(()).unwrap().into_parts().0
}

pub fn check(
    c: &Contract,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Result<String, Rejection> {
    let p = parts(method, uri, headers, body.len());
    c.validate(&p, body.as_bytes()).map(|id| {
        c.operation(id)
            .unwrap()
            .operation_id()
            .unwrap_or_default()
            .to_owned()
    })
}

pub fn violations(r: &Result<String, Rejection>) -> Vec<Violation> {
    match r {
        Err(Rejection::Invalid(v)) | Err(Rejection::UnsupportedMediaType(v)) => v.0.clone(),
        other => panic!("expected violations, got {other:?}"),
    }
}

/// Asserts a violation with this pointer and rule exists, and that `secret` (the submitted
/// value) appears nowhere in the serialized violations.
pub fn assert_refused(r: &Result<String, Rejection>, pointer: &str, rule: &str, secret: &str) {
    let v = violations(r);
    assert!(
        v.iter().any(|x| x.pointer == pointer && x.rule == rule),
        "expected {pointer} {rule}, got {v:?}"
    );
    let json = serde_json::to_string(&v).unwrap();
    assert!(!secret.is_empty());
    assert!(
        !json.contains(secret),
        "violations echo the value {secret:?}: {json}"
    );
}
