//! Request-size limits that can be decided from the head.

use http::header::CONTENT_LENGTH;
use portcullis_core::{Denial, Guard, GuardId, Phase, ProblemType, RequestCx, Step};

const ID: GuardId = GuardId("request_limits");

/// Refuses request targets longer than the URL limit (414) and bodies whose declared
/// `Content-Length` exceeds the route's limit (413) before a byte of the body is read. Bodies
/// without a length (chunked, HTTP/2) are capped while they are read by the gateway, with the
/// same limit and the same answer.
#[derive(Debug, Clone, Copy)]
pub struct RequestLimitsGuard {
    max_uri_bytes: usize,
    max_body_bytes: u64,
}

impl RequestLimitsGuard {
    /// Builds the guard from the effective limits of a route.
    pub fn new(max_uri_bytes: usize, max_body_bytes: u64) -> Self {
        Self {
            max_uri_bytes,
            max_body_bytes,
        }
    }

    /// The body limit, for the gateway's streaming cap.
    pub fn max_body_bytes(&self) -> u64 {
        self.max_body_bytes
    }
}

impl Guard for RequestLimitsGuard {
    fn id(&self) -> GuardId {
        ID
    }

    fn phases(&self) -> &'static [Phase] {
        &[Phase::Request]
    }

    fn on_request(&self, _cx: &mut RequestCx, req: &mut http::request::Parts) -> Step {
        let target_len = req.uri.path_and_query().map_or(0, |pq| pq.as_str().len());
        if target_len > self.max_uri_bytes {
            return Step::Deny(Denial::new(ProblemType::UriTooLong, "uri_too_long", ID));
        }
        if let Some(len) = req.headers.get(CONTENT_LENGTH) {
            // Framing was validated before the pipeline; an unparsable value cannot occur
            // here, but is refused rather than trusted if it does.
            match len.to_str().ok().and_then(|s| s.parse::<u64>().ok()) {
                Some(n) if n <= self.max_body_bytes => {}
                Some(_) => {
                    return Step::Deny(
                        Denial::new(ProblemType::PayloadTooLarge, "body_too_large", ID).closing(),
                    );
                }
                None => {
                    return Step::Deny(
                        Denial::new(ProblemType::BadRequest, "bad_content_length", ID).closing(),
                    );
                }
            }
        }
        Step::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portcullis_core::RequestId;
    use std::time::Instant;

    fn check(uri: &str, cl: Option<&str>) -> Option<http::StatusCode> {
        let g = RequestLimitsGuard::new(32, 100);
        let mut b = http::Request::builder().uri(uri);
        if let Some(cl) = cl {
            b = b.header(CONTENT_LENGTH, cl);
        }
        let mut parts = b.body(()).unwrap().into_parts().0;
        let mut cx = RequestCx::new(
            RequestId::generate(),
            "127.0.0.1:9".parse().unwrap(),
            Instant::now(),
        );
        match g.on_request(&mut cx, &mut parts) {
            Step::Deny(d) => Some(d.status),
            _ => None,
        }
    }

    #[test]
    fn long_targets_get_414_and_short_pass() {
        assert_eq!(check("/a?b=c", None), None);
        assert_eq!(check(&format!("/{}", "a".repeat(31)), None), None);
        assert_eq!(
            check(&format!("/{}", "a".repeat(32)), None),
            Some(http::StatusCode::URI_TOO_LONG)
        );
    }

    #[test]
    fn declared_bodies_over_the_limit_get_413() {
        assert_eq!(check("/", Some("100")), None);
        assert_eq!(
            check("/", Some("101")),
            Some(http::StatusCode::PAYLOAD_TOO_LARGE)
        );
        assert_eq!(check("/", Some("x")), Some(http::StatusCode::BAD_REQUEST));
    }
}
