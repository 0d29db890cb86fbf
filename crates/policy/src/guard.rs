//! The authorization guard: runs after authentication; checks scopes and roles, then the
//! owner rule (on the head for path and query values, on the body for body fields).

use std::sync::Arc;

use bytes::Bytes;
use portcullis_config::AuthorizeSpec;
use portcullis_core::{Denial, Guard, GuardId, Observations, Phase, ProblemType, RequestCx, Step};

use crate::cedar::{PolicyEngine, PolicyInput};
use crate::owner::{OwnerRule, Source, body_value, query_value};
use crate::requirements::{Missing, Requirements};

const ID: GuardId = GuardId("authorize");

/// Enforces a route's `authorize` block.
#[derive(Debug)]
pub struct AuthorizeGuard {
    requirements: Requirements,
    owner: Option<OwnerRule>,
    policy: Option<RoutePolicy>,
    phases: &'static [Phase],
}

/// The policy engine as one route uses it.
#[derive(Debug)]
struct RoutePolicy {
    engine: Arc<PolicyEngine>,
    route: String,
    template: String,
    /// The route's OpenAPI contract: a matched operation with an `operationId` is the action.
    contract: Option<Arc<portcullis_contract::Contract>>,
}

fn forbidden(reason: &'static str) -> Step {
    Step::Deny(Denial::new(ProblemType::Forbidden, reason, ID))
}

impl AuthorizeGuard {
    /// Compiles an authorize block without policies.
    pub fn new(spec: &AuthorizeSpec) -> Self {
        Self::with_policies(spec, None, "", "")
    }

    /// Compiles an authorize block; `engine` evaluates the Cedar policies when the block
    /// says `policy: true` (route `route`, path template `template`).
    pub fn with_policies(
        spec: &AuthorizeSpec,
        engine: Option<Arc<PolicyEngine>>,
        route: &str,
        template: &str,
    ) -> Self {
        Self::with_contract(spec, engine, route, template, None)
    }

    /// Like [`AuthorizeGuard::with_policies`], and requests matching an operation of the
    /// route's OpenAPI `contract` that has an `operationId` are authorized as that action.
    pub fn with_contract(
        spec: &AuthorizeSpec,
        engine: Option<Arc<PolicyEngine>>,
        route: &str,
        template: &str,
        contract: Option<Arc<portcullis_contract::Contract>>,
    ) -> Self {
        let policy = engine.filter(|_| spec.policy).map(|engine| RoutePolicy {
            engine,
            route: route.to_string(),
            template: template.to_string(),
            contract,
        });
        let owner = spec.owner.as_ref().and_then(OwnerRule::compile);
        let phases: &'static [Phase] = match owner.as_ref().map(|o| &o.source) {
            Some(Source::Body(_)) => &[Phase::Request, Phase::Body],
            _ => &[Phase::Request],
        };
        Self {
            requirements: Requirements::compile(spec),
            owner,
            policy,
            phases,
        }
    }
}

impl Guard for AuthorizeGuard {
    fn id(&self) -> GuardId {
        ID
    }

    fn phases(&self) -> &'static [Phase] {
        self.phases
    }

    fn on_request(&self, cx: &mut RequestCx, req: &mut http::request::Parts) -> Step {
        // Deny by default: without a proven caller nothing is authorized.
        let Some(identity) = cx.identity.as_ref() else {
            return Step::Deny(Denial::new(ProblemType::Unauthorized, "no_identity", ID));
        };
        match self
            .requirements
            .check(&req.method, &identity.scopes, &identity.roles)
        {
            Err(Missing::Scope) => return forbidden("missing_scope"),
            Err(Missing::Role) => return forbidden("missing_role"),
            Ok(()) => {}
        }
        if let Some(p) = &self.policy {
            let country = cx.extensions.get::<portcullis_core::Country>().copied();
            let matched =
                p.contract
                    .as_ref()
                    .and_then(|c| match c.find(&req.method, req.uri.path()) {
                        portcullis_contract::Lookup::Found(m) => {
                            m.operation.operation_id().map(|id| {
                                (
                                    id.to_string(),
                                    m.operation.template().to_string(),
                                    m.path_params,
                                )
                            })
                        }
                        _ => None,
                    });
            let client_cert = cx
                .tls
                .as_ref()
                .and_then(|t| t.client_certs.as_ref())
                .and_then(|chain| chain.first())
                .and_then(|leaf| portcullis_auth::mtls_guard::certificate_names(leaf));
            let decision = p.engine.authorize(&PolicyInput {
                client_cert,
                route: &p.route,
                template: &p.template,
                identity,
                method: req.method.as_str(),
                path: req.uri.path(),
                params: matched
                    .as_ref()
                    .map_or(&cx.path_params, |(_, _, params)| params),
                operation: matched
                    .as_ref()
                    .map(|(id, template, _)| (id.as_str(), template.as_str())),
                ip: cx.client_ip.0,
                country: country.as_ref().map_or("", |c| c.as_str()),
                headers: &req.headers,
                now: jiff::Timestamp::now(),
            });
            let outcome = if decision.allowed { "allow" } else { "deny" };
            if decision.deciding.is_empty() {
                Observations::record(&mut cx.extensions, "policy", "(no permit)".into(), outcome);
            }
            for id in &decision.deciding {
                Observations::record(&mut cx.extensions, "policy", id.as_str().into(), outcome);
            }
            for e in &decision.errors {
                tracing::warn!(target: "portcullis::audit", request_id = %cx.request_id, route = %p.route, error = %e, "policy evaluation error");
            }
            if !decision.allowed {
                tracing::warn!(
                    target: "portcullis::audit",
                    request_id = %cx.request_id,
                    route = %p.route,
                    consumer = %identity.consumer_id,
                    policies = ?decision.deciding,
                    "policy denied"
                );
                return forbidden("policy_denied");
            }
        }
        let Some(rule) = &self.owner else {
            return Step::Continue;
        };
        if rule.bypassed_by(identity) {
            return Step::Continue;
        }
        let value = match &rule.source {
            // Compared as the upstream will read it: percent-decoded.
            Source::Path(name) => cx.path_param(name).map(|v| {
                percent_encoding::percent_decode_str(v)
                    .decode_utf8_lossy()
                    .into_owned()
            }),
            Source::Query(name) => match query_value(req.uri.query(), name) {
                Ok(v) => v,
                Err(_) => return forbidden("owner_ambiguous"),
            },
            Source::Body(_) => return Step::Continue,
        };
        match value {
            Some(v) if rule.owns(identity, &v) => Step::Continue,
            Some(_) => forbidden("not_owner"),
            None => forbidden("owner_missing"),
        }
    }

    fn on_body(&self, cx: &mut RequestCx, _req: &http::request::Parts, body: &Bytes) -> Step {
        let (Some(rule), Some(identity)) = (&self.owner, cx.identity.as_ref()) else {
            return Step::Continue;
        };
        let Source::Body(pointer) = &rule.source else {
            return Step::Continue;
        };
        if rule.bypassed_by(identity) {
            return Step::Continue;
        }
        match body_value(body, pointer) {
            Some(v) if rule.owns(identity, &v) => Step::Continue,
            Some(_) => forbidden("not_owner"),
            None => forbidden("owner_missing"),
        }
    }
}
