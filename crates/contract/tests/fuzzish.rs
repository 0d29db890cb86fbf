//! Property tests: contract validation never panics on arbitrary request input, and never
//! echoes it.

mod common;

use common::{load, parts};
use portcullis_contract::{Contract, Rejection};
use proptest::prelude::*;
use std::sync::OnceLock;

fn contract() -> &'static Contract {
    static C: OnceLock<Contract> = OnceLock::new();
    C.get_or_init(|| load("petstore/openapi.yaml", true))
}

fn echoed(r: &Result<portcullis_contract::OperationId, Rejection>) -> String {
    match r {
        Err(Rejection::Invalid(v)) | Err(Rejection::UnsupportedMediaType(v)) => {
            serde_json::to_string(&v.0).unwrap()
        }
        _ => String::new(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn bodies_never_panic(body in proptest::collection::vec(any::<u8>(), 0..256)) {
        let p = parts("POST", "/v1/pets", &[("content-type", "application/json")], body.len());
        let _ = contract().validate(&p, &body);
        let p = parts("POST", "/v1/login", &[("content-type", "application/x-www-form-urlencoded")], body.len());
        let _ = contract().validate(&p, &body);
    }

    #[test]
    fn queries_never_panic_or_echo(q in "[a-z]{1,6}=[A-Za-z0-9%,]{0,12}(&[a-z]{1,6}=[A-Za-z0-9%,]{0,12}){0,4}") {
        let uri = format!("/v1/pets?{q}");
        let Ok(uri) = uri.parse::<http::Uri>() else { return Ok(()); };
        let p = parts("GET", &uri.to_string(), &[("cookie", "theme=QQsecretQQ")], 0);
        let r = contract().validate(&p, b"");
        prop_assert!(!echoed(&r).contains("QQsecretQQ"));
    }

    #[test]
    fn string_values_are_not_echoed(v in "[A-Za-z]{12,20}") {
        let body = format!(r#"{{"name":"{v}{v}","email":"{v}","kind":"{v}","owner":{{"id":"{v}"}}}}"#);
        let p = parts("POST", "/v1/pets", &[("content-type", "application/json")], body.len());
        let r = contract().validate(&p, body.as_bytes());
        prop_assert!(r.is_err());
        prop_assert!(!echoed(&r).contains(&v));
    }
}
