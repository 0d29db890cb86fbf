//! Generic bodies for upstream server errors.

use portcullis_core::{
    Denial, GatewayResponse, Guard, GuardId, Phase, ProblemType, RequestCx, Step,
};

const ID: GuardId = GuardId("generic_errors");

/// Replaces the body of an upstream 5xx response with the gateway's generic problem (the
/// status code is kept), so stack traces, SQL errors and internal host names in error pages
/// never reach the client. The upstream's body is discarded unread.
#[derive(Debug, Default, Clone, Copy)]
pub struct GenericErrorsGuard;

impl Guard for GenericErrorsGuard {
    fn id(&self) -> GuardId {
        ID
    }

    fn phases(&self) -> &'static [Phase] {
        &[Phase::Response]
    }

    fn on_response(&self, _cx: &mut RequestCx, resp: &mut http::response::Parts) -> Step {
        if resp.status.is_server_error() && resp.extensions.get::<GatewayResponse>().is_none() {
            return Step::Deny(
                Denial::new(ProblemType::UpstreamError, "upstream_5xx_hidden", ID)
                    .with_status(resp.status),
            );
        }
        Step::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portcullis_core::RequestId;
    use std::time::Instant;

    fn run(status: u16, ours: bool) -> Option<Denial> {
        let mut cx = RequestCx::new(
            RequestId::generate(),
            "127.0.0.1:9".parse().unwrap(),
            Instant::now(),
        );
        let mut parts = http::Response::builder()
            .status(status)
            .body(())
            .unwrap()
            .into_parts()
            .0;
        if ours {
            parts.extensions.insert(GatewayResponse);
        }
        match GenericErrorsGuard.on_response(&mut cx, &mut parts) {
            Step::Deny(d) => Some(d),
            _ => None,
        }
    }

    #[test]
    fn upstream_5xx_is_replaced_keeping_the_status() {
        let d = run(503, false).unwrap();
        assert_eq!(d.status.as_u16(), 503);
        assert_eq!(d.problem, ProblemType::UpstreamError);
        assert!(run(500, false).is_some());
    }

    #[test]
    fn success_client_errors_and_our_own_problems_pass() {
        assert!(run(200, false).is_none());
        assert!(run(404, false).is_none());
        assert!(run(502, true).is_none());
    }
}
