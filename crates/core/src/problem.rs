//! The stable catalogue of errors the gateway itself produces, and the denial a guard returns.
//!
//! Each [`ProblemType`] maps to one RFC 9457 `type` URI, one title and one default status.
//! The catalogue is part of the public interface (clients match on `type`), so entries are
//! only ever added, never renamed. `docs/problems.md` lists them.

use http::{HeaderName, HeaderValue, StatusCode};

use crate::GuardId;

/// The kinds of problem the gateway can answer with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProblemType {
    /// The request is malformed: framing, header syntax, a path the gateway will not route.
    BadRequest,
    /// Credentials are missing or wrong. Always the same body, whatever failed.
    Unauthorized,
    /// The caller is known but not allowed (IP policy, scopes, policies).
    Forbidden,
    /// No route matches the host and path.
    NotFound,
    /// A route matches the path but does not serve the method.
    MethodNotAllowed,
    /// The client did not send the request (or its body) in time.
    RequestTimeout,
    /// The request body exceeds the route's limit.
    PayloadTooLarge,
    /// The request target exceeds the URL length limit.
    UriTooLong,
    /// The request's headers exceed the header limits.
    HeadersTooLarge,
    /// The media type of the body is not accepted by the route.
    UnsupportedMediaType,
    /// A rate limit or quota is exhausted.
    TooManyRequests,
    /// The gateway failed internally. Never carries detail.
    InternalError,
    /// The upstream failed, answered with an error the route hides, or could not be reached.
    BadGateway,
    /// No healthy upstream, or load shedding.
    ServiceUnavailable,
    /// The upstream did not answer in time.
    GatewayTimeout,
    /// A plain-HTTP request where only HTTPS is served.
    HttpsRequired,
    /// The upstream answered with a server error whose body the route hides.
    UpstreamError,
}

impl ProblemType {
    /// The machine-readable slug, the last part of the `type` URI.
    pub fn slug(self) -> &'static str {
        match self {
            Self::BadRequest => "bad-request",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not-found",
            Self::MethodNotAllowed => "method-not-allowed",
            Self::RequestTimeout => "request-timeout",
            Self::PayloadTooLarge => "payload-too-large",
            Self::UriTooLong => "uri-too-long",
            Self::HeadersTooLarge => "headers-too-large",
            Self::UnsupportedMediaType => "unsupported-media-type",
            Self::TooManyRequests => "too-many-requests",
            Self::InternalError => "internal-error",
            Self::BadGateway => "bad-gateway",
            Self::ServiceUnavailable => "service-unavailable",
            Self::GatewayTimeout => "gateway-timeout",
            Self::HttpsRequired => "https-required",
            Self::UpstreamError => "upstream-error",
        }
    }

    /// The RFC 9457 `type` URI: `urn:portcullis:problem:<slug>`. A URN rather than a URL so
    /// that no client is tempted to fetch it.
    pub fn type_uri(self) -> String {
        format!("urn:portcullis:problem:{}", self.slug())
    }

    /// The human-readable, input-independent title.
    pub fn title(self) -> &'static str {
        match self {
            Self::BadRequest => "Bad request",
            Self::Unauthorized => "Authentication required",
            Self::Forbidden => "Access denied",
            Self::NotFound => "Not found",
            Self::MethodNotAllowed => "Method not allowed",
            Self::RequestTimeout => "Request timeout",
            Self::PayloadTooLarge => "Payload too large",
            Self::UriTooLong => "URI too long",
            Self::HeadersTooLarge => "Request headers too large",
            Self::UnsupportedMediaType => "Unsupported media type",
            Self::TooManyRequests => "Too many requests",
            Self::InternalError => "Internal error",
            Self::BadGateway => "Bad gateway",
            Self::ServiceUnavailable => "Service unavailable",
            Self::GatewayTimeout => "Gateway timeout",
            Self::HttpsRequired => "HTTPS required",
            Self::UpstreamError => "Upstream error",
        }
    }

    /// The status this problem is answered with unless the denial overrides it.
    pub fn status(self) -> StatusCode {
        match self {
            Self::BadRequest => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden | Self::HttpsRequired => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UriTooLong => StatusCode::URI_TOO_LONG,
            Self::HeadersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Self::InternalError => StatusCode::INTERNAL_SERVER_ERROR,
            Self::BadGateway | Self::UpstreamError => StatusCode::BAD_GATEWAY,
            Self::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::GatewayTimeout => StatusCode::GATEWAY_TIMEOUT,
        }
    }

    /// Every problem type, for documentation and tests.
    pub const ALL: [ProblemType; 17] = [
        Self::BadRequest,
        Self::Unauthorized,
        Self::Forbidden,
        Self::NotFound,
        Self::MethodNotAllowed,
        Self::RequestTimeout,
        Self::PayloadTooLarge,
        Self::UriTooLong,
        Self::HeadersTooLarge,
        Self::UnsupportedMediaType,
        Self::TooManyRequests,
        Self::InternalError,
        Self::BadGateway,
        Self::ServiceUnavailable,
        Self::GatewayTimeout,
        Self::HttpsRequired,
        Self::UpstreamError,
    ];
}

/// Extra members of the problem body a guard wants the client to see (RFC 9457 extension
/// members), e.g. the JSON pointers and rules of an OpenAPI validation failure. Guards put it
/// in the request context's extensions just before denying; it must never hold a value
/// taken from the request.
#[derive(Clone, Debug)]
pub struct ProblemMembers(pub std::sync::Arc<serde_json::Map<String, serde_json::Value>>);

/// A guard's refusal. `reason` is for the access and audit logs and never reaches the client;
/// the client sees only the problem type, the status and the request id.
#[derive(Clone, Debug)]
pub struct Denial {
    /// The status to answer with (usually `problem.status()`).
    pub status: StatusCode,
    /// What kind of problem the client is told about.
    pub problem: ProblemType,
    /// Machine-readable reason for logs and metrics, e.g. `"ip_denied"`.
    pub reason: &'static str,
    /// The guard that decided.
    pub guard: GuardId,
    /// Extra response headers the client needs (`Allow`, `Retry-After`, `WWW-Authenticate`).
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Close the connection after answering (framing errors: the stream can't be trusted).
    pub close: bool,
}

impl Denial {
    /// A denial with the problem's default status.
    pub fn new(problem: ProblemType, reason: &'static str, guard: GuardId) -> Self {
        Self {
            status: problem.status(),
            problem,
            reason,
            guard,
            headers: Vec::new(),
            close: false,
        }
    }

    /// Overrides the status (for example an upstream 5xx hidden behind a generic body).
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// Adds a response header.
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// Asks for the connection to be closed after the answer.
    pub fn closing(mut self) -> Self {
        self.close = true;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn slugs_are_unique_and_statuses_are_errors() {
        let slugs: HashSet<_> = ProblemType::ALL.iter().map(|p| p.slug()).collect();
        assert_eq!(slugs.len(), ProblemType::ALL.len());
        for p in ProblemType::ALL {
            assert!(p.status().is_client_error() || p.status().is_server_error());
            assert!(p.type_uri().starts_with("urn:portcullis:problem:"));
        }
    }
}

/// Marks a response the gateway produced itself (a problem, a redirect), as opposed to one
/// relayed from an upstream. Set in the response's extensions; response guards that rewrite
/// upstream answers (generic 5xx bodies) skip marked responses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GatewayResponse;
