//! The two guards: [`ContractGuard`] (the spec) and [`BodyHygieneGuard`] (the limits).
//!
//! Both leave the refused request's [`Violations`] in `RequestCx::extensions`, so the problem
//! writer can list them; the denial's `reason` stays a fixed, loggable code.

use std::sync::Arc;

use bytes::Bytes;
use http::HeaderValue;
use http::header::{ALLOW, CONTENT_LENGTH, CONTENT_TYPE};
use portcullis_core::{Denial, Guard, GuardId, Phase, ProblemType, RequestCx, Step};

use crate::contract::{Contract, Lookup};
use crate::errors::LoadError;
use crate::hygiene::{BodyLimits, RULE_MAX_BODY_SIZE};
use crate::operation::OperationId;
use crate::spec::{BodyLimitsSpec, OpenApiSpec};
use crate::violation::{Violation, Violations};

const CONTRACT_ID: GuardId = GuardId("contract");
const HYGIENE_ID: GuardId = GuardId("body_hygiene");

/// The operation a request matched, left in `RequestCx::extensions` by [`ContractGuard`]
/// after the head passed. The firewall uses it with [`Contract::constrained_locations`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MatchedOperation(pub OperationId);

/// Validates requests against an OpenAPI contract.
///
/// Request phase: path and method (404 outside the contract in strict mode, 405 with
/// `Allow`), parameters (400), and the media type when a body is announced (415). Body phase:
/// the buffered body against the operation's schema (400 / 415).
#[derive(Debug, Clone)]
pub struct ContractGuard {
    contract: Arc<Contract>,
}

impl ContractGuard {
    /// Wraps an already loaded contract (share one `Arc` between routes using the same file).
    pub fn new(contract: Arc<Contract>) -> Self {
        Self { contract }
    }

    /// Loads the spec named by the config and builds the guard.
    pub fn compile(spec: &OpenApiSpec) -> Result<Self, LoadError> {
        Ok(Self::new(Arc::new(Contract::load(spec)?)))
    }

    /// The contract.
    pub fn contract(&self) -> &Arc<Contract> {
        &self.contract
    }

    fn deny(cx: &mut RequestCx, violations: Vec<Violation>) -> Step {
        let (problem, reason) = if violations.iter().any(|v| v.rule == "contentType") {
            (ProblemType::UnsupportedMediaType, "contract_content_type")
        } else {
            (ProblemType::BadRequest, "contract_violation")
        };
        let violations = Violations(violations);
        if let serde_json::Value::Object(m) = violations.problem_members() {
            cx.extensions
                .insert(portcullis_core::ProblemMembers(std::sync::Arc::new(m)));
        }
        cx.extensions.insert(violations);
        Step::Deny(Denial::new(problem, reason, CONTRACT_ID))
    }
}

impl Guard for ContractGuard {
    fn id(&self) -> GuardId {
        CONTRACT_ID
    }

    fn phases(&self) -> &'static [Phase] {
        &[Phase::Request, Phase::Body]
    }

    fn on_request(&self, cx: &mut RequestCx, req: &mut http::request::Parts) -> Step {
        match self.contract.find(&req.method, req.uri.path()) {
            Lookup::NotInContract if self.contract.strict() => Step::Deny(Denial::new(
                ProblemType::NotFound,
                "not_in_contract",
                CONTRACT_ID,
            )),
            Lookup::NotInContract => Step::Continue,
            Lookup::MethodNotAllowed { allow } if self.contract.strict() => {
                let mut d = Denial::new(
                    ProblemType::MethodNotAllowed,
                    "method_not_in_contract",
                    CONTRACT_ID,
                );
                if let Ok(v) = HeaderValue::from_str(&allow) {
                    d = d.with_header(ALLOW, v);
                }
                Step::Deny(d)
            }
            Lookup::MethodNotAllowed { .. } => Step::Continue,
            Lookup::Found(m) => {
                let violations = self.contract.validate_head(&m, req);
                if violations.is_empty() {
                    cx.extensions.insert(MatchedOperation(m.id));
                    Step::Continue
                } else {
                    Self::deny(cx, violations)
                }
            }
        }
    }

    fn on_body(&self, cx: &mut RequestCx, req: &http::request::Parts, body: &Bytes) -> Step {
        let id = match cx.extensions.get::<MatchedOperation>() {
            Some(m) => m.0,
            // Not matched in the request phase (outside the contract, non-strict): nothing
            // to check the body against.
            None => return Step::Continue,
        };
        let Some(op) = self.contract.operation(id) else {
            return Step::Continue;
        };
        let violations = self.contract.validate_body(op, req, body);
        if violations.is_empty() {
            Step::Continue
        } else {
            Self::deny(cx, violations)
        }
    }
}

/// Applies [`BodyLimits`] to every request body of a route, with or without a spec:
/// declared size in the request phase (413), structure of the buffered body in the body
/// phase (400, or 413 for size).
#[derive(Debug, Clone, Copy)]
pub struct BodyHygieneGuard {
    limits: BodyLimits,
}

impl BodyHygieneGuard {
    /// Builds the guard from compiled limits.
    pub fn new(limits: BodyLimits) -> Self {
        Self { limits }
    }

    /// Builds the guard from the config.
    pub fn compile(spec: &BodyLimitsSpec) -> Self {
        Self::new(BodyLimits::compile(spec))
    }

    /// The limits.
    pub fn limits(&self) -> &BodyLimits {
        &self.limits
    }
}

impl Guard for BodyHygieneGuard {
    fn id(&self) -> GuardId {
        HYGIENE_ID
    }

    fn phases(&self) -> &'static [Phase] {
        &[Phase::Request, Phase::Body]
    }

    fn on_request(&self, cx: &mut RequestCx, req: &mut http::request::Parts) -> Step {
        let declared = req
            .headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if declared.is_some_and(|n| n > self.limits.max_body_bytes()) {
            return Step::Deny(Denial::new(
                ProblemType::PayloadTooLarge,
                "body_too_large",
                HYGIENE_ID,
            ));
        }
        match self.limits.check_head(req) {
            Ok(()) => Step::Continue,
            Err(v) => hygiene_denial(cx, v),
        }
    }

    fn on_body(&self, cx: &mut RequestCx, req: &http::request::Parts, body: &Bytes) -> Step {
        let ct = req.headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
        match self.limits.check(ct, body) {
            Ok(()) => Step::Continue,
            Err(v) => hygiene_denial(cx, v),
        }
    }
}

/// The 400 (or 413) for a hygiene violation, its pointer and rule in the problem body.
fn hygiene_denial(cx: &mut RequestCx, v: Violation) -> Step {
    let (problem, reason) = if v.rule == RULE_MAX_BODY_SIZE {
        (ProblemType::PayloadTooLarge, "body_too_large")
    } else {
        (ProblemType::BadRequest, hygiene_reason(&v.rule))
    };
    let violations = Violations(vec![v]);
    if let serde_json::Value::Object(m) = violations.problem_members() {
        cx.extensions
            .insert(portcullis_core::ProblemMembers(std::sync::Arc::new(m)));
    }
    cx.extensions.insert(violations);
    Step::Deny(Denial::new(problem, reason, HYGIENE_ID))
}

/// A fixed log reason per hygiene rule.
fn hygiene_reason(rule: &str) -> &'static str {
    match rule {
        "utf8" => "body_invalid_utf8",
        "syntax" => "body_malformed",
        "maxDepth" => "body_too_deep",
        "maxKeys" | "maxElements" | "maxFields" | "maxParts" => "body_too_many_items",
        "maxStringLength" | "maxFieldLength" | "maxPartBytes" | "maxHeaderBytes" => {
            "body_item_too_long"
        }
        "duplicateKey" => "body_duplicate_key",
        "doctype" | "entity" => "xml_dtd_refused",
        "boundary" => "multipart_bad_boundary",
        "contentType" => "content_type_malformed",
        "charset" => "charset_refused",
        "methodOverride" => "method_override_refused",
        "nul" => "nul_byte",
        "range" => "range_refused",
        "headerInjection" => "header_injection",
        "partHeader" => "multipart_bad_part_header",
        _ => "body_hygiene",
    }
}
