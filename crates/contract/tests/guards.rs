//! The guards in the pipeline's terms: denial status, problem type, `Allow`, violations left
//! in the context.

mod common;

use std::time::Instant;

use bytes::Bytes;
use common::{parts, spec_path};
use portcullis_contract::{
    BodyHygieneGuard, BodyLimits, BodyLimitsSpec, ContractGuard, MatchedOperation, OpenApiSpec,
    Violations,
};
use portcullis_core::{Guard, ProblemType, RequestCx, RequestId, Step};

fn cx() -> RequestCx {
    RequestCx::new(
        RequestId::generate(),
        "127.0.0.1:9".parse().unwrap(),
        Instant::now(),
    )
}

fn guard() -> ContractGuard {
    ContractGuard::compile(&OpenApiSpec::new(spec_path("petstore/openapi.yaml"))).unwrap()
}

fn run(
    g: &dyn Guard,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (Step, RequestCx) {
    let mut cx = cx();
    let mut p = parts(method, uri, headers, body.len());
    let step = g.on_request(&mut cx, &mut p);
    if !matches!(step, Step::Continue) {
        return (step, cx);
    }
    let step = g.on_body(&mut cx, &p, &Bytes::copy_from_slice(body.as_bytes()));
    (step, cx)
}

fn denial(step: Step) -> portcullis_core::Denial {
    match step {
        Step::Deny(d) => d,
        other => panic!("expected deny, got {other:?}"),
    }
}

#[test]
fn valid_request_continues_and_records_the_operation() {
    let g = guard();
    let (step, cx) = run(
        &g,
        "POST",
        "/v1/pets",
        &[("content-type", "application/json")],
        r#"{"name":"Rex"}"#,
    );
    assert!(matches!(step, Step::Continue));
    let id = cx.extensions.get::<MatchedOperation>().unwrap().0;
    assert_eq!(
        g.contract().operation(id).unwrap().operation_id(),
        Some("createPet")
    );
}

#[test]
fn invalid_parameter_is_denied_in_the_request_phase() {
    let g = guard();
    let mut cx = cx();
    let mut p = parts("GET", "/v1/pets?limit=5000", &[], 0);
    let d = denial(g.on_request(&mut cx, &mut p));
    assert_eq!(d.status, http::StatusCode::BAD_REQUEST);
    assert_eq!(d.problem, ProblemType::BadRequest);
    assert_eq!(d.reason, "contract_violation");
    let v = cx.extensions.get::<Violations>().unwrap();
    assert_eq!(v.0[0].pointer, "/query/limit");
    let members = v.problem_members().to_string();
    assert!(members.contains("\"violations\""));
    assert!(!members.contains("5000"));
}

#[test]
fn invalid_body_is_denied_in_the_body_phase() {
    let g = guard();
    let (step, cx) = run(
        &g,
        "POST",
        "/v1/pets",
        &[("content-type", "application/json")],
        r#"{"name":"Rex","isAdmin":true}"#,
    );
    let d = denial(step);
    assert_eq!(d.status, http::StatusCode::BAD_REQUEST);
    assert_eq!(
        cx.extensions.get::<Violations>().unwrap().0[0].rule,
        "additionalProperties"
    );
}

#[test]
fn content_type_is_415_and_method_is_405_with_allow() {
    let g = guard();
    let (step, _) = run(
        &g,
        "POST",
        "/v1/pets",
        &[("content-type", "text/xml")],
        "<a/>",
    );
    let d = denial(step);
    assert_eq!(d.status, http::StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(d.problem, ProblemType::UnsupportedMediaType);

    let (step, _) = run(&g, "PATCH", "/v1/pets/1", &[], "");
    let d = denial(step);
    assert_eq!(d.status, http::StatusCode::METHOD_NOT_ALLOWED);
    let allow = d
        .headers
        .iter()
        .find(|(k, _)| k == http::header::ALLOW)
        .unwrap();
    assert_eq!(allow.1, "GET, HEAD, DELETE");

    let (step, _) = run(&g, "GET", "/v1/unknown", &[], "");
    assert_eq!(denial(step).status, http::StatusCode::NOT_FOUND);
}

#[test]
fn non_strict_lets_unknown_paths_through() {
    let mut spec = OpenApiSpec::new(spec_path("petstore/openapi.yaml"));
    spec.strict = false;
    let g = ContractGuard::compile(&spec).unwrap();
    let (step, _) = run(&g, "GET", "/v1/unknown", &[], "");
    assert!(matches!(step, Step::Continue));
}

#[test]
fn hygiene_guard_denies_with_400_or_413() {
    let g = BodyHygieneGuard::new(
        BodyLimits::compile(&BodyLimitsSpec::default()).with_max_body_bytes(64),
    );
    let json = &[("content-type", "application/json")];
    let (step, cx) = run(&g, "POST", "/x", json, r#"{"a":1,"a":2}"#);
    let d = denial(step);
    assert_eq!(d.status, http::StatusCode::BAD_REQUEST);
    assert_eq!(d.reason, "body_duplicate_key");
    assert_eq!(
        cx.extensions.get::<Violations>().unwrap().0[0].rule,
        "duplicateKey"
    );

    let big = format!("[{}1]", "1,".repeat(40));
    let (step, _) = run(&g, "POST", "/x", json, &big);
    assert_eq!(denial(step).status, http::StatusCode::PAYLOAD_TOO_LARGE);

    let (step, _) = run(&g, "POST", "/x", json, r#"{"a":1,"b":2}"#);
    assert!(matches!(step, Step::Continue));
}
