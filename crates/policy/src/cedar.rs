//! The Cedar policy engine: attribute- and policy-based access control.
//!
//! The model handed to policies (namespace `Portcullis`):
//!
//! - **principal** `Portcullis::Consumer::"<id>"`: `id`, `roles` and `scopes` (sets), `plan`
//!   (`""` when none), `auth_method` (`api_key`, `jwt`...), `mfa` (bool), `claims` (a record
//!   of the claims the config exposes, each optional);
//! - **action** `Portcullis::Action::"<route>:<METHOD>"`, member of the groups
//!   `Action::"<route>"` and `Action::"read"` (GET, HEAD, OPTIONS) or `Action::"write"`;
//! - **resource** `Portcullis::Route::"<route>"`: `id`, `path` (the template);
//! - **context**: `ip` (an `ipaddr`), `country` (ISO code or `""`), `method`, `path`,
//!   `params` (the route's path parameters by name), `headers` (the exposed headers, each
//!   optional), `client_cert` (`present`, `subject_cn`, `sans` as `uri:…`/`dns:…`/`email:…`,
//!   of a certificate the listener verified), `time` (`hour`, `minute`, `weekday` 1 = Monday
//!   … 7, `day`, `month`, `year`, `unix`, in the configured time zone).
//!
//! The schema is generated from the config, so `portcullis check` can validate every policy
//! strictly (unknown attributes, wrong types and impossible actions are errors, with file and
//! line). Cedar denies unless some `permit` applies and no `forbid` does.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use std::collections::HashSet;

use cedar_policy::{
    Authorizer, Context, Decision, Entities, Entity, EntityUid, PolicyId, PolicySet, Request,
    RestrictedExpression as Rx, Schema, ValidationMode, Validator,
};
use jiff::tz::TimeZone;
use miette::Diagnostic;
use portcullis_config::{ClaimType, ConfigSpec, PoliciesSpec};
use serde_json::{Value, json};

/// The namespace of every generated type.
pub const NAMESPACE: &str = "Portcullis";

/// A problem in a policy file, located.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyDiagnostic {
    /// The file.
    pub file: PathBuf,
    /// 1-based line (0 when unknown).
    pub line: usize,
    /// 1-based column (0 when unknown).
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for PolicyDiagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line > 0 {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file.display(),
                self.line,
                self.column,
                self.message
            )
        } else {
            write!(f, "{}: {}", self.file.display(), self.message)
        }
    }
}

/// Policies could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
pub struct PolicyErrors(pub Vec<PolicyDiagnostic>);

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

fn diagnostic(file: &Path, text: &str, d: &dyn Diagnostic, message: String) -> PolicyDiagnostic {
    let offset = d.labels().and_then(|mut l| l.next()).map(|l| l.offset());
    let (line, column) = offset.map_or((0, 0), |o| line_col(text, o));
    let help = d.help().map(|h| format!(" ({h})")).unwrap_or_default();
    PolicyDiagnostic {
        file: file.to_path_buf(),
        line,
        column,
        message: format!("{message}{help}"),
    }
}

/// `read` for safe methods, `write` for the rest.
fn method_group(method: &str) -> &'static str {
    match method {
        "GET" | "HEAD" | "OPTIONS" => "read",
        _ => "write",
    }
}

/// The path parameters of a template (`/users/{id}`, `/files/{*rest}`, `/{a}.{b}`).
pub fn path_params(template: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let after = rest.get(start + 1..).unwrap_or("");
        let Some(end) = after.find('}') else { break };
        let name = after.get(..end).unwrap_or("").trim_start_matches('*');
        if !name.is_empty() && !out.iter().any(|n: &String| n == name) {
            out.push(name.to_string());
        }
        rest = after.get(end + 1..).unwrap_or("");
    }
    out
}

/// The OpenAPI operations of a route that have an `operationId`: `(operationId, method,
/// path template)`. They become Cedar actions of their own.
pub type Operations = Vec<(String, String, String)>;

/// The operations of every route with an OpenAPI spec, by route id.
pub fn route_operations(
    spec: &ConfigSpec,
) -> Result<HashMap<String, Operations>, PolicyDiagnostic> {
    let mut out = HashMap::new();
    for r in &spec.routes {
        let Some(o) = &r.openapi else { continue };
        let contract = portcullis_contract::Contract::load(o).map_err(|e| PolicyDiagnostic {
            file: o.file.clone(),
            line: 0,
            column: 0,
            message: e.to_string(),
        })?;
        let ops = contract
            .operations()
            .iter()
            .filter_map(|op| {
                Some((
                    op.operation_id()?.to_string(),
                    op.method().as_str().to_string(),
                    op.template().to_string(),
                ))
            })
            .collect();
        out.insert(r.id.clone(), ops);
    }
    Ok(out)
}

fn action_context(params: &[String], headers: &serde_json::Map<String, Value>) -> Value {
    let long = json!({"type": "Long"});
    let params: serde_json::Map<String, Value> = params
        .iter()
        .map(|p| (p.clone(), json!({"type": "String"})))
        .collect();
    json!({"type": "Record", "attributes": {
        "ip": {"type": "Extension", "name": "ipaddr"},
        "country": {"type": "String"},
        "method": {"type": "String"},
        "path": {"type": "String"},
        "params": {"type": "Record", "attributes": params},
        "headers": {"type": "Record", "attributes": headers},
        "client_cert": {"type": "Record", "attributes": {
            "present": {"type": "Boolean"},
            "subject_cn": {"type": "String"},
            "sans": {"type": "Set", "element": {"type": "String"}},
        }},
        "time": {"type": "Record", "attributes": {
            "hour": long, "minute": long, "weekday": long, "day": long,
            "month": long, "year": long, "unix": long,
        }},
    }})
}

fn claim_type(t: ClaimType) -> Value {
    match t {
        ClaimType::String => json!({"type": "String", "required": false}),
        ClaimType::Long => json!({"type": "Long", "required": false}),
        ClaimType::Bool => json!({"type": "Boolean", "required": false}),
        ClaimType::SetOfStrings => {
            json!({"type": "Set", "element": {"type": "String"}, "required": false})
        }
    }
}

/// The Cedar schema (JSON form) generated from a config and the OpenAPI operations of its
/// routes ([`route_operations`]).
pub fn schema_json(spec: &ConfigSpec, operations: &HashMap<String, Operations>) -> Value {
    let policies = spec.policies.clone().unwrap_or(PoliciesSpec {
        files: vec![],
        context_headers: vec![],
        claims: BTreeMap::new(),
        time_zone: "UTC".into(),
    });
    let claims: serde_json::Map<String, Value> = policies
        .claims
        .iter()
        .map(|(k, t)| (k.clone(), claim_type(*t)))
        .collect();
    let headers: serde_json::Map<String, Value> = policies
        .context_headers
        .iter()
        .map(|h| {
            (
                h.to_ascii_lowercase(),
                json!({"type": "String", "required": false}),
            )
        })
        .collect();
    let string_set = json!({"type": "Set", "element": {"type": "String"}});
    let mut actions = serde_json::Map::new();
    actions.insert("read".into(), json!({}));
    actions.insert("write".into(), json!({}));
    let applies = |params: &[String]| {
        json!({
            "principalTypes": ["Consumer"],
            "resourceTypes": ["Route"],
            "context": action_context(params, &headers),
        })
    };
    for r in &spec.routes {
        actions.insert(r.id.clone(), json!({}));
        let params = path_params(&r.path);
        for m in &r.methods {
            let m = m.to_ascii_uppercase();
            actions.insert(
                format!("{}:{m}", r.id),
                json!({
                    "memberOf": [{"id": r.id}, {"id": method_group(&m)}],
                    "appliesTo": applies(&params),
                }),
            );
        }
        for (op_id, method, template) in operations.get(&r.id).into_iter().flatten() {
            actions.insert(
                op_id.clone(),
                json!({
                    "memberOf": [{"id": r.id}, {"id": method_group(method)}],
                    "appliesTo": applies(&path_params(template)),
                }),
            );
        }
    }
    json!({ NAMESPACE: {
        "entityTypes": {
            "Consumer": {"shape": {"type": "Record", "attributes": {
                "id": {"type": "String"},
                "roles": string_set,
                "scopes": string_set,
                "plan": {"type": "String"},
                "auth_method": {"type": "String"},
                "mfa": {"type": "Boolean"},
                "claims": {"type": "Record", "attributes": claims},
            }}},
            "Route": {"shape": {"type": "Record", "attributes": {
                "id": {"type": "String"},
                "path": {"type": "String"},
            }}},
        },
        "actions": actions,
    }})
}

/// The schema in Cedar's human-readable form.
pub fn schema_text(json: Value) -> Result<String, String> {
    cedar_policy::SchemaFragment::from_json_value(json)
        .map_err(|e| e.to_string())?
        .to_cedarschema()
        .map_err(|e| e.to_string())
}

/// Policies compiled for one config version.
pub struct PolicyEngine {
    policies: PolicySet,
    /// Per action (`<route>:<METHOD>`): the action entity with its groups, built once so a
    /// request only adds its principal and resource (no schema work on the request path;
    /// the policies were validated against the schema at load).
    actions: HashMap<String, Vec<Entity>>,
    names: HashMap<PolicyId, String>,
    headers: Vec<String>,
    claims: Vec<(String, ClaimType)>,
    tz: TimeZone,
    authorizer: Authorizer,
    /// `Portcullis::Consumer`, `::Route`, `::Action`, parsed once: Cedar parses a type name
    /// with its full grammar, which cost more per request than evaluating the policies.
    types: EntityTypes,
    /// The client address as a Cedar `ip(...)` value, per address seen lately: building one
    /// parses the extension function's name with the Cedar grammar.
    ips: std::sync::Mutex<HashMap<std::net::IpAddr, Rx>>,
}

/// The entity types a request names.
#[derive(Debug)]
struct EntityTypes {
    consumer: cedar_policy::EntityTypeName,
    route: cedar_policy::EntityTypeName,
    action: cedar_policy::EntityTypeName,
}

impl EntityTypes {
    fn new() -> Result<Self, String> {
        Ok(Self {
            consumer: type_name("Consumer")?,
            route: type_name("Route")?,
            action: type_name("Action")?,
        })
    }
}

/// Client addresses whose Cedar value is kept (the map is cleared when full).
const IP_CACHE: usize = 4096;

impl std::fmt::Debug for PolicyEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyEngine")
            .field("policies", &self.names.len())
            .finish_non_exhaustive()
    }
}

/// What a request looks like to the policies.
#[derive(Debug)]
pub struct PolicyInput<'a> {
    /// The route id.
    pub route: &'a str,
    /// The route's path template.
    pub template: &'a str,
    /// The caller.
    pub identity: &'a portcullis_core::Identity,
    /// The method (upper case).
    pub method: &'a str,
    /// The request path.
    pub path: &'a str,
    /// Path parameters: of the route template (as matched, percent-encoded; decoded here), or
    /// of the OpenAPI operation when `operation` is set (already decoded by the contract).
    pub params: &'a [(String, String)],
    /// The verified client certificate: `(subject CN, SANs as "uri:…", "dns:…", "email:…")`.
    pub client_cert: Option<(Option<String>, Vec<String>)>,
    /// The matched OpenAPI operation: `(operationId, its path template)`. The action is then
    /// `Action::"<operationId>"` instead of `Action::"<route>:<METHOD>"`.
    pub operation: Option<(&'a str, &'a str)>,
    /// The client address.
    pub ip: std::net::IpAddr,
    /// ISO country code, `""` when unknown.
    pub country: &'a str,
    /// Request headers.
    pub headers: &'a http::HeaderMap,
    /// Now.
    pub now: jiff::Timestamp,
}

/// The engine's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyDecision {
    /// Allowed.
    pub allowed: bool,
    /// Ids of the policies that decided (`@id` annotations where given, else
    /// `<file>#<n>`): the permits that allowed, or the forbids that denied (empty when no
    /// permit applied).
    pub deciding: Vec<String>,
    /// Policy evaluation errors (a policy that errors is skipped, as Cedar specifies).
    pub errors: Vec<String>,
}

/// `amr` values that mean a second factor was used (RFC 8176).
const MFA_AMR: &[&str] = &[
    "mfa", "otp", "hwk", "swk", "sms", "fpt", "face", "iris", "pop",
];

/// Whether an identity proved a second factor (`amr` of a token).
pub fn has_mfa(identity: &portcullis_core::Identity) -> bool {
    identity
        .claims
        .as_deref()
        .and_then(|c| c.get("amr"))
        .and_then(Value::as_array)
        .is_some_and(|amr| {
            amr.iter()
                .filter_map(Value::as_str)
                .any(|a| MFA_AMR.contains(&a))
        })
}

impl PolicyEngine {
    /// Loads and strictly validates the policy files of `spec` against the generated schema.
    /// `Ok(None)` when the config names no policies.
    pub fn load(spec: &ConfigSpec) -> Result<Option<Self>, PolicyErrors> {
        let Some(p) = &spec.policies else {
            return Ok(None);
        };
        let mut errors = Vec::new();
        let operations = route_operations(spec).map_err(|d| PolicyErrors(vec![d]))?;
        // An operationId is an action name of its own: it may not collide with a route's.
        for (route, ops) in &operations {
            for (op_id, _, _) in ops {
                if spec
                    .routes
                    .iter()
                    .any(|r| &r.id == op_id || format!("{}:", r.id) == *op_id)
                    || ["read", "write"].contains(&op_id.as_str())
                {
                    return Err(PolicyErrors(vec![PolicyDiagnostic {
                        file: PathBuf::from("<config>"),
                        line: 0,
                        column: 0,
                        message: format!(
                            "route `{route}`: operationId `{op_id}` collides with a Cedar action name"
                        ),
                    }]));
                }
            }
        }
        let schema = Schema::from_json_value(schema_json(spec, &operations)).map_err(|e| {
            PolicyErrors(vec![PolicyDiagnostic {
                file: PathBuf::from("<generated schema>"),
                line: 0,
                column: 0,
                message: e.to_string(),
            }])
        })?;
        let validator = Validator::new(schema.clone());
        let mut policies = PolicySet::new();
        let mut names = HashMap::new();
        for file in &p.files {
            let text = match std::fs::read_to_string(file) {
                Ok(t) => t,
                Err(e) => {
                    errors.push(PolicyDiagnostic {
                        file: file.clone(),
                        line: 0,
                        column: 0,
                        message: format!("cannot read: {e}"),
                    });
                    continue;
                }
            };
            let set = match PolicySet::from_str(&text) {
                Ok(s) => s,
                Err(parse) => {
                    for e in parse.iter() {
                        errors.push(diagnostic(file, &text, e, e.to_string()));
                    }
                    continue;
                }
            };
            let result = validator.validate(&set, ValidationMode::Strict);
            for e in result.validation_errors() {
                errors.push(diagnostic(file, &text, e, e.to_string()));
            }
            let base = file
                .file_name()
                .map_or_else(|| "policies".into(), |n| n.to_string_lossy().into_owned());
            for policy in set.policies() {
                let id = PolicyId::new(format!("{base}#{}", policy.id()));
                let name = policy
                    .annotation("id")
                    .map_or_else(|| id.to_string(), str::to_string);
                if let Err(e) = policies.add(policy.new_id(id.clone())) {
                    errors.push(PolicyDiagnostic {
                        file: file.clone(),
                        line: 0,
                        column: 0,
                        message: e.to_string(),
                    });
                }
                names.insert(id, name);
            }
        }
        if !errors.is_empty() {
            return Err(PolicyErrors(errors));
        }
        let tz = TimeZone::get(&p.time_zone).map_err(|e| {
            PolicyErrors(vec![PolicyDiagnostic {
                file: PathBuf::from("<config>"),
                line: 0,
                column: 0,
                message: format!("policies.time_zone: {e}"),
            }])
        })?;
        let mut actions = HashMap::new();
        for r in &spec.routes {
            for m in &r.methods {
                let m = m.to_ascii_uppercase();
                let name = format!("{}:{m}", r.id);
                let (Ok(action), Ok(route_group), Ok(rw_group)) = (
                    uid("Action", &name),
                    uid("Action", &r.id),
                    uid("Action", method_group(&m)),
                ) else {
                    continue;
                };
                let parents: HashSet<EntityUid> = [route_group.clone(), rw_group.clone()]
                    .into_iter()
                    .collect();
                actions.insert(
                    name,
                    vec![
                        Entity::new_no_attrs(action, parents),
                        Entity::new_no_attrs(route_group, HashSet::new()),
                        Entity::new_no_attrs(rw_group, HashSet::new()),
                    ],
                );
            }
        }
        for (route, ops) in &operations {
            for (op_id, method, _) in ops {
                let (Ok(action), Ok(route_group), Ok(rw_group)) = (
                    uid("Action", op_id),
                    uid("Action", route),
                    uid("Action", method_group(method)),
                ) else {
                    continue;
                };
                let parents: HashSet<EntityUid> = [route_group.clone(), rw_group.clone()]
                    .into_iter()
                    .collect();
                actions.insert(
                    op_id.clone(),
                    vec![
                        Entity::new_no_attrs(action, parents),
                        Entity::new_no_attrs(route_group, HashSet::new()),
                        Entity::new_no_attrs(rw_group, HashSet::new()),
                    ],
                );
            }
        }
        drop(schema);
        Ok(Some(Self {
            policies,
            actions,
            names,
            headers: p
                .context_headers
                .iter()
                .map(|h| h.to_ascii_lowercase())
                .collect(),
            claims: p.claims.iter().map(|(k, t)| (k.clone(), *t)).collect(),
            tz,
            authorizer: Authorizer::new(),
            types: EntityTypes::new().map_err(|message| {
                PolicyErrors(vec![PolicyDiagnostic {
                    file: PathBuf::new(),
                    line: 0,
                    column: 0,
                    message,
                }])
            })?,
            ips: std::sync::Mutex::new(HashMap::new()),
        }))
    }

    fn claims_record(&self, identity: &portcullis_core::Identity) -> Vec<(String, Rx)> {
        let mut out = Vec::new();
        let Some(claims) = identity.claims.as_deref() else {
            return out;
        };
        for (name, ty) in &self.claims {
            let Some(v) = claims.get(name) else { continue };
            let converted = match (ty, v) {
                (ClaimType::String, Value::String(s)) => Some(Rx::new_string(s.clone())),
                (ClaimType::Long, Value::Number(n)) => n.as_i64().map(Rx::new_long),
                (ClaimType::Bool, Value::Bool(b)) => Some(Rx::new_bool(*b)),
                (ClaimType::SetOfStrings, Value::Array(items)) => Some(Rx::new_set(
                    items
                        .iter()
                        .filter_map(Value::as_str)
                        .map(|x| Rx::new_string(x.to_string())),
                )),
                (ClaimType::SetOfStrings, Value::String(s)) => Some(Rx::new_set(
                    s.split_whitespace().map(|x| Rx::new_string(x.to_string())),
                )),
                // A claim of the wrong type is left out, as if absent: policies that need it
                // must test `has` and so fail closed.
                _ => None,
            };
            if let Some(c) = converted {
                out.push((name.clone(), c));
            }
        }
        out
    }

    /// Decides one request.
    pub fn authorize(&self, input: &PolicyInput<'_>) -> PolicyDecision {
        let fail = |msg: String| PolicyDecision {
            allowed: false,
            deciding: Vec::new(),
            errors: vec![msg],
        };
        let id = input.identity;
        let principal_uid = typed_uid(&self.types.consumer, &id.consumer_id);
        let resource_uid = typed_uid(&self.types.route, input.route);
        let action_name = match input.operation {
            Some((op_id, _)) => op_id.to_string(),
            None => format!("{}:{}", input.route, input.method),
        };
        let template = input.operation.map_or(input.template, |(_, t)| t);
        let action_uid = typed_uid(&self.types.action, &action_name);
        let strings = |v: &[String]| Rx::new_set(v.iter().map(|x| Rx::new_string(x.clone())));
        let record = |fields: Vec<(String, Rx)>| Rx::new_record(fields);
        let Ok(claims) = record(self.claims_record(id)) else {
            return fail("claims record".into());
        };
        let principal_attrs: HashMap<String, Rx> = [
            ("id".to_string(), Rx::new_string(id.consumer_id.clone())),
            ("roles".to_string(), strings(&id.roles)),
            ("scopes".to_string(), strings(&id.scopes)),
            (
                "plan".to_string(),
                Rx::new_string(id.plan.clone().unwrap_or_default()),
            ),
            (
                "auth_method".to_string(),
                Rx::new_string(id.method.to_string()),
            ),
            ("mfa".to_string(), Rx::new_bool(has_mfa(id))),
            ("claims".to_string(), claims),
        ]
        .into_iter()
        .collect();
        let resource_attrs: HashMap<String, Rx> = [
            ("id".to_string(), Rx::new_string(input.route.to_string())),
            (
                "path".to_string(),
                Rx::new_string(input.template.to_string()),
            ),
        ]
        .into_iter()
        .collect();
        let Some(action_entities) = self.actions.get(&action_name) else {
            return fail(format!("unknown action {action_name}"));
        };
        let mut list = Vec::with_capacity(2 + action_entities.len());
        match Entity::new(principal_uid.clone(), principal_attrs, HashSet::new()) {
            Ok(e) => list.push(e),
            Err(e) => return fail(format!("principal: {e}")),
        }
        match Entity::new(resource_uid.clone(), resource_attrs, HashSet::new()) {
            Ok(e) => list.push(e),
            Err(e) => return fail(format!("resource: {e}")),
        }
        list.extend(action_entities.iter().cloned());
        let entities = match Entities::from_entities(list, None) {
            Ok(e) => e,
            Err(e) => return fail(format!("entities: {e}")),
        };
        let params: Vec<(String, Rx)> = path_params(template)
            .into_iter()
            .map(|name| {
                let v = input
                    .params
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| {
                        if input.operation.is_some() {
                            // The contract's matcher decoded them already: never twice.
                            v.clone()
                        } else {
                            percent_encoding::percent_decode_str(v)
                                .decode_utf8_lossy()
                                .into_owned()
                        }
                    })
                    .unwrap_or_default();
                (name, Rx::new_string(v))
            })
            .collect();
        let headers: Vec<(String, Rx)> = self
            .headers
            .iter()
            .filter_map(|h| {
                let v = input.headers.get(h.as_str())?.to_str().ok()?;
                Some((h.clone(), Rx::new_string(v.to_string())))
            })
            .collect();
        let zoned = input.now.to_zoned(self.tz.clone());
        let time = record(vec![
            ("hour".into(), Rx::new_long(i64::from(zoned.hour()))),
            ("minute".into(), Rx::new_long(i64::from(zoned.minute()))),
            (
                "weekday".into(),
                Rx::new_long(i64::from(zoned.weekday().to_monday_one_offset())),
            ),
            ("day".into(), Rx::new_long(i64::from(zoned.day()))),
            ("month".into(), Rx::new_long(i64::from(zoned.month()))),
            ("year".into(), Rx::new_long(i64::from(zoned.year()))),
            ("unix".into(), Rx::new_long(input.now.as_second())),
        ]);
        let client_cert = record(vec![
            ("present".into(), Rx::new_bool(input.client_cert.is_some())),
            (
                "subject_cn".into(),
                Rx::new_string(
                    input
                        .client_cert
                        .as_ref()
                        .and_then(|(cn, _)| cn.clone())
                        .unwrap_or_default(),
                ),
            ),
            (
                "sans".into(),
                strings(input.client_cert.as_ref().map_or(&[][..], |(_, s)| s)),
            ),
        ]);
        let (Ok(params), Ok(headers), Ok(time), Ok(client_cert)) =
            (record(params), record(headers), time, client_cert)
        else {
            return fail("context record".into());
        };
        let context = match Context::from_pairs([
            ("ip".to_string(), self.ip_value(input.ip)),
            (
                "country".to_string(),
                Rx::new_string(input.country.to_string()),
            ),
            (
                "method".to_string(),
                Rx::new_string(input.method.to_string()),
            ),
            ("path".to_string(), Rx::new_string(input.path.to_string())),
            ("params".to_string(), params),
            ("headers".to_string(), headers),
            ("client_cert".to_string(), client_cert),
            ("time".to_string(), time),
        ]) {
            Ok(c) => c,
            Err(e) => return fail(format!("context: {e}")),
        };
        let request = match Request::new(principal_uid, action_uid, resource_uid, context, None) {
            Ok(r) => r,
            Err(e) => return fail(format!("request: {e}")),
        };
        let response = self
            .authorizer
            .is_authorized(&request, &self.policies, &entities);
        let diagnostics = response.diagnostics();
        let mut deciding: Vec<String> = diagnostics
            .reason()
            .map(|id| {
                self.names
                    .get(id)
                    .cloned()
                    .unwrap_or_else(|| id.to_string())
            })
            .collect();
        deciding.sort();
        PolicyDecision {
            allowed: response.decision() == Decision::Allow,
            deciding,
            errors: diagnostics.errors().map(ToString::to_string).collect(),
        }
    }
}

impl PolicyEngine {
    /// The Cedar `ip(...)` value of a client address (see `ips`).
    fn ip_value(&self, ip: std::net::IpAddr) -> Rx {
        let mut cache = self.ips.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(v) = cache.get(&ip) {
            return v.clone();
        }
        let v = Rx::new_ip(ip.to_string());
        if cache.len() >= IP_CACHE {
            cache.clear();
        }
        cache.insert(ip, v.clone());
        v
    }
}

fn type_name(kind: &str) -> Result<cedar_policy::EntityTypeName, String> {
    cedar_policy::EntityTypeName::from_str(&format!("{NAMESPACE}::{kind}"))
        .map_err(|e| e.to_string())
}

fn typed_uid(ty: &cedar_policy::EntityTypeName, id: &str) -> EntityUid {
    EntityUid::from_type_name_and_id(ty.clone(), cedar_policy::EntityId::new(id))
}

fn uid(kind: &str, id: &str) -> Result<EntityUid, String> {
    let ty = cedar_policy::EntityTypeName::from_str(&format!("{NAMESPACE}::{kind}"))
        .map_err(|e| e.to_string())?;
    Ok(EntityUid::from_type_name_and_id(
        ty,
        cedar_policy::EntityId::new(id),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_from_offsets() {
        assert_eq!(line_col("ab\ncd\nef", 0), (1, 1));
        assert_eq!(line_col("ab\ncd\nef", 4), (2, 2));
        assert_eq!(line_col("ab\ncd\nef", 100), (3, 3));
    }

    #[test]
    fn params_from_templates() {
        assert_eq!(path_params("/users/{id}/files/{*rest}"), vec!["id", "rest"]);
        assert!(path_params("/users/").is_empty());
    }
}
