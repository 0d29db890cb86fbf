//! The one writer of RFC 9457 `application/problem+json` responses.
//!
//! Every error the gateway itself produces goes through [`problem_response`]: the body holds
//! the stable `type`, the `title`, the `status` and the request id — never the denial's
//! reason, an internal error message or anything taken from the request.

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONNECTION, CONTENT_TYPE, HeaderValue};
use http::{Response, StatusCode};
use portcullis_core::{Denial, GatewayResponse, ProblemMembers, ProblemType, RequestId};

use crate::body::{Body, full};

/// Content type of problem bodies.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Serialises the problem body. Hand-written JSON: every value is either one of our static
/// strings or a request id restricted to `[A-Za-z0-9._:-]`, so no escaping is needed.
pub fn problem_body(problem: ProblemType, status: StatusCode, request_id: &RequestId) -> Bytes {
    Bytes::from(format!(
        "{{\"type\":\"{}\",\"title\":\"{}\",\"status\":{},\"request_id\":\"{}\"}}",
        problem.type_uri(),
        problem.title(),
        status.as_u16(),
        request_id.as_str()
    ))
}

/// The response for a denial.
pub fn problem_response(denial: &Denial, request_id: &RequestId) -> Response<Body> {
    problem_response_with(denial, request_id, None)
}

/// The response for a denial, with extension members a guard supplied (they never carry
/// request values; the standard members cannot be overridden).
pub fn problem_response_with(
    denial: &Denial,
    request_id: &RequestId,
    members: Option<&ProblemMembers>,
) -> Response<Body> {
    let body = problem_body(denial.problem, denial.status, request_id);
    let body = match members {
        Some(m) => {
            match serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&body) {
                Ok(mut base) => {
                    for (k, v) in m.0.iter() {
                        base.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                    serde_json::to_vec(&base).map(Bytes::from).unwrap_or(body)
                }
                Err(_) => body,
            }
        }
        None => body,
    };
    let mut resp = Response::new(full(body));
    *resp.status_mut() = denial.status;
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    for (name, value) in &denial.headers {
        h.append(name.clone(), value.clone());
    }
    if denial.close {
        h.insert(CONNECTION, HeaderValue::from_static("close"));
    }
    resp.extensions_mut().insert(GatewayResponse);
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use portcullis_core::GuardId;

    #[test]
    fn body_is_json_without_reason() {
        let id = RequestId::from_trusted("req-1").unwrap();
        let d = Denial::new(ProblemType::Forbidden, "secret_reason", GuardId("g"));
        let resp = problem_response(&d, &id);
        assert_eq!(resp.status(), 403);
        assert_eq!(resp.headers()[CONTENT_TYPE], PROBLEM_JSON);
        let body = problem_body(ProblemType::Forbidden, StatusCode::FORBIDDEN, &id);
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["type"], "urn:portcullis:problem:forbidden");
        assert_eq!(v["status"], 403);
        assert_eq!(v["request_id"], "req-1");
        assert!(!String::from_utf8_lossy(&body).contains("secret_reason"));
    }

    #[test]
    fn every_problem_type_yields_valid_json() {
        let id = RequestId::generate();
        for p in ProblemType::ALL {
            let body = problem_body(p, p.status(), &id);
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(v["title"], p.title());
        }
    }
}
