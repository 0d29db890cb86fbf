//! One config version compiled for serving: routes with their guard chains, the router,
//! upstream pools. Built once per (re)load and swapped atomically; every request runs to its
//! end on the version it started with.

use std::collections::HashMap;
use std::sync::Arc;

use http::{HeaderName, HeaderValue, Method};
use portcullis_config::{ConfigSpec, LimitsSpec, ListenerSpec, RouteSpec};
use portcullis_core::{Chain, ChainEntry, Guard, RouteId};
use portcullis_guards::{
    GenericErrorsGuard, IpList, IpPolicyGuard, RequestLimitsGuard, SecurityHeadersGuard,
};
use portcullis_upstream::Upstream;

use crate::client_addr::TrustedProxies;
use crate::router::{RouteKey, Router, RouterError};

/// A compiled route.
pub struct Route {
    /// Its id.
    pub id: RouteId,
    /// Its guard chain.
    pub chain: Chain,
    /// Where it forwards.
    pub upstream: Arc<Upstream>,
    /// The upstream's id, for logs and metrics.
    pub upstream_id: Arc<str>,
    /// Prefix removed before forwarding.
    pub strip_prefix: Option<String>,
    /// Body cap.
    pub max_body_bytes: u64,
    /// Log query values unredacted.
    pub log_query_values: bool,
    /// The route needs authentication.
    pub requires_auth: bool,
}

/// Long-lived services that guards use, opened once at start (changing them needs a restart).
/// Limit state lives here too, so a config reload keeps every counter.
#[derive(Clone)]
pub struct Services {
    /// The credential store (opened when a route uses API keys or quotas).
    pub store: Option<Arc<dyn portcullis_store::Store>>,
    /// The API-key pepper (loaded with the store).
    pub pepper: Option<Arc<portcullis_auth::api_key::Pepper>>,
    /// Rate-limit and concurrency state.
    pub limits: portcullis_limits::LimitState,
    /// Quota counters (with the store).
    pub quotas: Option<Arc<portcullis_limits::QuotaState>>,
    /// Token revocations (with the store).
    pub revocations: Option<Arc<portcullis_auth::revocation::Revocations>>,
    /// HMAC signing: the master-key ring that opens signing secrets (when a route uses
    /// `auth.hmac`) and the nonces already seen, kept across reloads so a reload never
    /// reopens the replay window.
    pub signing: Option<SigningServices>,
    /// Keys signing identity tokens for upstreams, by `(algorithm, key file)`; their public
    /// halves are the admin listener's JWKS.
    pub identity_signers: IdentitySigners,
    /// Built-in accounts: lockouts, verification slots, master keyring (with the store).
    pub accounts: Option<Arc<portcullis_auth::AccountServices>>,
    /// Authentication failure counters and locks (per client address, per credential, per
    /// username), shared by every route's `FailureLockout` and by Basic; kept across reloads,
    /// in memory only.
    pub auth_lockout: Arc<portcullis_auth::lockout::Lockout>,
}

/// Identity-token signing keys by `(algorithm, key file)`.
pub type IdentitySigners = Arc<
    HashMap<(String, std::path::PathBuf), Arc<portcullis_auth::identity_token::IdentitySigner>>,
>;

/// Loads (or generates) every identity-token key the config names.
fn open_identity_signers(spec: &ConfigSpec) -> Result<IdentitySigners, String> {
    let mut out = HashMap::new();
    for t in spec.upstream_identity_token.iter().chain(
        spec.routes
            .iter()
            .filter_map(|r| r.upstream_identity_token.as_ref()),
    ) {
        let path = t.key_path(&spec.data_dir);
        if let std::collections::hash_map::Entry::Vacant(slot) =
            out.entry((t.algorithm.clone(), path.clone()))
        {
            let signer = portcullis_auth::identity_token::IdentitySigner::load_or_generate(
                &t.algorithm,
                &path,
            )
            .map_err(|e| format!("upstream_identity_token: {e}"))?;
            slot.insert(Arc::new(signer));
        }
    }
    Ok(Arc::new(out))
}

/// What the HMAC signing guards share for the life of the process.
#[derive(Clone)]
pub struct SigningServices {
    /// Opens sealed signing secrets.
    pub keyring: Arc<portcullis_auth::sealed::Keyring>,
    /// Nonces seen within their window.
    pub nonces: Arc<portcullis_auth::nonce::NonceStore>,
}

impl SigningServices {
    /// Loads the keyring if some route signs requests.
    fn open(spec: &ConfigSpec) -> Result<Option<Self>, String> {
        if !spec
            .routes
            .iter()
            .any(|r| r.auth.as_ref().is_some_and(|a| a.hmac.is_some()))
        {
            return Ok(None);
        }
        let keyring = portcullis_auth::sealed::Keyring::load(
            spec.store.master_key_file.as_deref(),
            &spec.store.previous_master_key_files,
        )
        .map_err(|e| format!("request signing needs the master key: {e}"))?;
        Ok(Some(Self {
            keyring: Arc::new(keyring),
            nonces: Arc::new(portcullis_auth::nonce::NonceStore::default()),
        }))
    }
}

impl Services {
    /// Opens what the config needs: the store and pepper if any route authenticates (API keys,
    /// token revocations) or has quotas, and fresh limit state.
    pub fn open(spec: &ConfigSpec) -> Result<Self, String> {
        let needs_store = spec
            .routes
            .iter()
            .any(|r| r.auth.is_some() || !r.quotas.is_empty())
            || spec.admin.token_sha256.is_some()
            || spec
                .admin
                .tls
                .as_ref()
                .is_some_and(|t| t.client_auth.is_some());
        if !needs_store {
            return Ok(Self {
                store: None,
                pepper: None,
                limits: portcullis_limits::LimitState::new(),
                quotas: None,
                revocations: None,
                signing: None,
                identity_signers: open_identity_signers(spec)?,
                accounts: None,
                auth_lockout: Arc::new(portcullis_auth::lockout::Lockout::default()),
            });
        }
        let path = spec
            .store
            .path
            .clone()
            .unwrap_or_else(|| spec.data_dir.join("portcullis.db"));
        let store: Arc<dyn portcullis_store::Store> =
            Arc::new(portcullis_store::SqliteStore::open(&path).map_err(|e| e.to_string())?);
        let pepper = portcullis_auth::pepper::load_pepper(
            spec.store.pepper_file.as_deref(),
            &spec.data_dir.join("pepper"),
        )?;
        let revocations = portcullis_auth::revocation::Revocations::load(store.clone())
            .map_err(|e| e.to_string())?;
        let auth_lockout = Arc::new(portcullis_auth::lockout::Lockout::default());
        let accounts = open_accounts(spec, &store, &auth_lockout)?;
        Ok(Self {
            accounts,
            auth_lockout,
            revocations: Some(revocations),
            signing: SigningServices::open(spec)?,
            identity_signers: open_identity_signers(spec)?,
            quotas: Some(portcullis_limits::QuotaState::new(store.clone())),
            store: Some(store),
            pepper: Some(Arc::new(pepper)),
            limits: portcullis_limits::LimitState::new(),
        })
    }
}

/// Account services if a route uses Basic. The master keyring is required when a route
/// demands TOTP, and loaded if configured otherwise.
fn open_accounts(
    spec: &ConfigSpec,
    store: &Arc<dyn portcullis_store::Store>,
    lockout: &Arc<portcullis_auth::lockout::Lockout>,
) -> Result<Option<Arc<portcullis_auth::AccountServices>>, String> {
    let basic: Vec<_> = spec
        .routes
        .iter()
        .filter_map(|r| r.auth.as_ref().and_then(|a| a.basic.as_ref()))
        .collect();
    if basic.is_empty() {
        return Ok(None);
    }
    let keyring = if basic.iter().any(|b| b.require_totp) || spec.store.master_key_file.is_some() {
        let ring = portcullis_auth::sealed::Keyring::load(
            spec.store.master_key_file.as_deref(),
            &spec.store.previous_master_key_files,
        )
        .map_err(|e| format!("TOTP needs the master key: {e}"))?;
        Some(Arc::new(ring))
    } else {
        None
    };
    let mut services =
        portcullis_auth::AccountServices::new(store.clone(), keyring).map_err(|e| e.to_string())?;
    // One table for every method: an address locked by Basic guesses is locked for API keys
    // and tokens too, and the other way round.
    services.lockout = lockout.clone();
    Ok(Some(Arc::new(services)))
}

/// Everything compiled from one config file.
pub struct RuntimeConfig {
    /// Monotonic version, for logs and metrics.
    pub version: u64,
    /// The source model.
    pub spec: Arc<ConfigSpec>,
    /// Routes, in file order.
    pub routes: Vec<Route>,
    /// The router over `routes`.
    pub router: Router,
    /// Upstreams by id.
    pub upstreams: HashMap<String, Arc<Upstream>>,
    /// Trusted proxies.
    pub trusted: TrustedProxies,
    /// Global IP lists (also applied at accept time to untrusted peers).
    pub global_ip: IpList,
    /// Chain for responses that match no route (404, 405, 400...): security headers only.
    pub unrouted_chain: Chain,
    /// The request id header.
    pub request_id_header: HeaderName,
    /// Extra headers redacted in logs.
    pub redact_headers: Vec<HeaderName>,
    /// Headers only the gateway may set (identity-token headers of any route, and the default
    /// one): removed from every request before its guards run, so a client can never smuggle
    /// one to an upstream, also on routes that mint no token.
    pub gateway_only_headers: Vec<HeaderName>,
}

/// Compilation failed (config validation should have caught these; they are the checks that
/// need compiled structures, like template conflicts, or I/O like reading CA files).
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    /// Two route templates conflict.
    #[error(transparent)]
    Router(#[from] RouterError),
    /// An upstream could not be built (CA file, client certificate...).
    #[error("upstream `{id}`: {source}")]
    Upstream {
        /// The upstream id.
        id: String,
        /// What failed.
        source: portcullis_upstream::UpstreamError,
    },
    /// A route names an upstream that does not exist.
    #[error("route `{route}`: unknown upstream `{upstream}`")]
    UnknownUpstream {
        /// Route id.
        route: String,
        /// Upstream id.
        upstream: String,
    },
    /// A value that should have been validated is not usable.
    #[error("{0}")]
    Invalid(String),
}

impl RuntimeConfig {
    /// Compiles a validated config. Upstreams from `previous` are not reused: pools and health
    /// state start fresh, and the old ones stop when the last request holding them ends.
    pub fn compile(
        spec: ConfigSpec,
        version: u64,
        services: Option<&Services>,
    ) -> Result<Self, CompileError> {
        let mut upstreams = HashMap::new();
        for u in &spec.upstreams {
            let built = Upstream::build(u).map_err(|source| CompileError::Upstream {
                id: u.id.clone(),
                source,
            })?;
            upstreams.insert(u.id.clone(), built);
        }
        let limits: &LimitsSpec = &spec.limits;
        let headers_guard = Arc::new(SecurityHeadersGuard::compile(&spec.security_headers));
        let tiers = portcullis_limits::Tiers::load(&spec).map_err(CompileError::Invalid)?;
        let policies = portcullis_policy::cedar::PolicyEngine::load(&spec)
            .map_err(|e| CompileError::Invalid(format!("policies:\n{e}")))?
            .map(Arc::new);
        let mut routes = Vec::with_capacity(spec.routes.len());
        let mut firewalls: Vec<(
            portcullis_config::firewall::FirewallSpec,
            Arc<portcullis_firewall::Firewall>,
        )> = Vec::new();
        // Routes naming the same spec file share one compiled contract.
        let mut contracts: HashMap<
            std::path::PathBuf,
            (
                portcullis_config::contract::OpenApiSpec,
                Arc<portcullis_contract::Contract>,
            ),
        > = HashMap::new();
        let mut keys = Vec::with_capacity(spec.routes.len());
        for r in &spec.routes {
            let upstream = upstreams.get(&r.upstream).cloned().ok_or_else(|| {
                CompileError::UnknownUpstream {
                    route: r.id.clone(),
                    upstream: r.upstream.clone(),
                }
            })?;
            let max_body_bytes = r.max_body_bytes.unwrap_or(limits.max_body_bytes);
            let mut entries = Vec::new();
            if let Some(ip) = IpPolicyGuard::compile(&spec.ip_policy, &r.ip_policy) {
                entries.push(ChainEntry::enforce(Arc::new(ip)));
            }
            if let Some(t) = &tiers {
                // First: country and tier are facts every later guard may use.
                entries.push(ChainEntry::enforce(Arc::new(
                    portcullis_limits::TierGuard::new(t.clone()),
                )));
            }
            entries.push(ChainEntry::enforce(Arc::new(RequestLimitsGuard::new(
                limits.max_uri_bytes,
                max_body_bytes,
            ))));
            auth_guards(r, &spec.auth_lockout, services, &mut entries)?;
            // The route's OpenAPI contract, shared by routes naming the same file.
            let contract = match &r.openapi {
                None => None,
                Some(o) => Some(match contracts.get(&o.file) {
                    Some((spec, c)) if spec == o => c.clone(),
                    _ => {
                        let c = Arc::new(portcullis_contract::Contract::load(o).map_err(|e| {
                            CompileError::Invalid(format!("route `{}`: openapi: {e}", r.id))
                        })?);
                        contracts.insert(o.file.clone(), (o.clone(), c.clone()));
                        c
                    }
                }),
            };
            access_guards(
                r,
                services,
                policies.as_ref(),
                contract.clone(),
                &mut entries,
            )?;
            // After authentication and authorization: the identity the upstream receives.
            if let Some(t) = r
                .upstream_identity_token
                .as_ref()
                .or(spec.upstream_identity_token.as_ref())
            {
                let signer = services
                    .and_then(|s| {
                        s.identity_signers
                            .get(&(t.algorithm.clone(), t.key_path(&spec.data_dir)))
                            .cloned()
                    })
                    .ok_or_else(|| {
                        CompileError::Invalid(format!(
                            "route `{}`: a new upstream_identity_token key needs a restart",
                            r.id
                        ))
                    })?;
                let header = HeaderName::from_bytes(t.header.to_ascii_lowercase().as_bytes())
                    .map_err(|_| {
                        CompileError::Invalid(format!("route `{}`: bad identity header", r.id))
                    })?;
                entries.push(ChainEntry::enforce(Arc::new(
                    portcullis_auth::identity_token::IdentityTokenGuard::new(
                        signer,
                        header,
                        &t.issuer,
                        &t.audience,
                        i64::try_from(t.ttl.get().as_secs()).unwrap_or(30),
                    ),
                )));
            }
            // The positive model: structure first (duplicate keys, depth, XXE) so no parser
            // builds a tree from a hostile body, then the OpenAPI contract.
            entries.push(ChainEntry::enforce(Arc::new(
                portcullis_contract::BodyHygieneGuard::compile(&r.body_limits),
            )));
            let mut route_contract = contract.clone();
            if let Some(contract) = &contract {
                entries.push(ChainEntry::enforce(Arc::new(
                    portcullis_contract::ContractGuard::new(contract.clone()),
                )));
            }
            if r.firewall.mode != portcullis_config::firewall::FirewallMode::Off {
                // Compiling the rule set takes milliseconds: routes with the same settings
                // share one.
                let fw = match firewalls.iter().find(|(spec, _)| *spec == r.firewall) {
                    Some((_, fw)) => fw.clone(),
                    None => {
                        let fw = Arc::new(
                            portcullis_firewall::Firewall::new(&r.firewall).map_err(|e| {
                                CompileError::Invalid(format!("route `{}`: firewall: {e}", r.id))
                            })?,
                        );
                        firewalls.push((r.firewall.clone(), fw.clone()));
                        fw
                    }
                };
                let mut guard = portcullis_firewall::FirewallGuard::new(fw);
                if let Some(contract) = route_contract.take() {
                    // Values the matched operation constrains (integers, enums, UUIDs...) are
                    // validated already; detectors spend their effort on free text.
                    guard = guard.with_schema_hint(Arc::new(move |cx, loc| {
                        cx.extensions
                            .get::<portcullis_contract::MatchedOperation>()
                            .and_then(|m| contract.operation(m.0))
                            .is_some_and(|op| op.is_constrained(&loc.to_string()))
                    }));
                }
                entries.push(ChainEntry::enforce(Arc::new(guard)));
            }
            entries.push(ChainEntry::enforce(headers_guard.clone()));
            if r.generic_errors {
                entries.push(ChainEntry::enforce(Arc::new(GenericErrorsGuard)));
            }
            let methods = r
                .methods
                .iter()
                .map(|m| {
                    Method::from_bytes(m.to_ascii_uppercase().as_bytes()).map_err(|_| {
                        CompileError::Invalid(format!("route `{}`: bad method `{m}`", r.id))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let match_headers = r
                .match_headers
                .iter()
                .map(|(k, v)| {
                    let name = HeaderName::from_bytes(k.to_ascii_lowercase().as_bytes());
                    let value = HeaderValue::from_str(v);
                    match (name, value) {
                        (Ok(n), Ok(v)) => Ok((n, v)),
                        _ => Err(CompileError::Invalid(format!(
                            "route `{}`: bad match_headers entry `{k}`",
                            r.id
                        ))),
                    }
                })
                .collect::<Result<Vec<_>, _>>()?;
            keys.push(RouteKey {
                hosts: r.hosts.iter().map(|h| h.to_ascii_lowercase()).collect(),
                path: r.path.clone(),
                methods,
                match_headers,
            });
            routes.push(Route {
                id: RouteId::new(&r.id),
                chain: Chain::new(entries),
                upstream,
                upstream_id: r.upstream.as_str().into(),
                strip_prefix: r.strip_prefix.clone(),
                max_body_bytes,
                log_query_values: r.log_query_values,
                requires_auth: !r.public,
            });
        }
        let ids: Vec<String> = spec.routes.iter().map(|r| r.id.clone()).collect();
        let router = Router::build(keys, &ids)?;
        let request_id_header =
            HeaderName::from_bytes(spec.request_id.header.to_ascii_lowercase().as_bytes())
                .map_err(|_| {
                    CompileError::Invalid("request_id.header is not a header name".into())
                })?;
        // Identity-token headers carry bearer tokens for upstreams: never logged either.
        let identity_headers = spec
            .upstream_identity_token
            .iter()
            .chain(
                spec.routes
                    .iter()
                    .filter_map(|r| r.upstream_identity_token.as_ref()),
            )
            .map(|t| &t.header);
        let mut gateway_only_headers: Vec<HeaderName> = identity_headers
            .clone()
            .filter_map(|h| HeaderName::from_bytes(h.to_ascii_lowercase().as_bytes()).ok())
            .collect();
        let default_identity =
            HeaderName::from_static(portcullis_config::DEFAULT_IDENTITY_TOKEN_HEADER);
        if !gateway_only_headers.contains(&default_identity) {
            gateway_only_headers.push(default_identity);
        }
        let redact_headers = spec
            .logging
            .redact_headers
            .iter()
            .chain(identity_headers)
            .filter_map(|h| HeaderName::from_bytes(h.to_ascii_lowercase().as_bytes()).ok())
            .collect();
        Ok(Self {
            version,
            trusted: TrustedProxies::new(spec.client_ip.trusted_proxies.clone()),
            global_ip: IpList::compile(&spec.ip_policy),
            unrouted_chain: Chain::new(vec![ChainEntry::enforce(headers_guard)]),
            request_id_header,
            redact_headers,
            gateway_only_headers,
            routes,
            router,
            upstreams,
            spec: Arc::new(spec),
        })
    }

    /// The listener spec with this id.
    pub fn listener(&self, id: &str) -> Option<&ListenerSpec> {
        self.spec.listeners.iter().find(|l| l.id == id)
    }
}

/// The route's authentication: one method, or several combined by `any_of` / `all_of` in the
/// configured order.
fn auth_guards(
    r: &RouteSpec,
    lockout: &portcullis_config::LockoutSpec,
    services: Option<&Services>,
    entries: &mut Vec<ChainEntry>,
) -> Result<(), CompileError> {
    use portcullis_auth::FailureLockout;
    use portcullis_auth::combine::{AnyOf, Credential, Secondary};
    let Some(auth) = &r.auth else {
        return Ok(());
    };
    let mut methods: Vec<Arc<dyn Credential>> = Vec::new();
    for name in auth.ordered_methods() {
        let method: Arc<dyn Credential> = match name {
            "api_key" => {
                let Some(api_key) = &auth.api_key else {
                    return Err(missing_block(r, name));
                };
                let (Some(store), Some(pepper)) = (
                    services.and_then(|s| s.store.clone()),
                    services.and_then(|s| s.pepper.clone()),
                ) else {
                    return Err(CompileError::Invalid(format!(
                        "route `{}`: API keys need the credential store (restart to open it)",
                        r.id
                    )));
                };
                Arc::new(
                    portcullis_auth::ApiKeyGuard::new(api_key, &r.id, store, pepper).ok_or_else(
                        || CompileError::Invalid(format!("route `{}`: bad api_key header", r.id)),
                    )?,
                )
            }
            "mtls" => {
                let Some(m) = &auth.mtls else {
                    return Err(missing_block(r, name));
                };
                Arc::new(portcullis_auth::MtlsGuard::new(m))
            }
            "jwt" => {
                let Some(jwt) = &auth.jwt else {
                    return Err(missing_block(r, name));
                };
                let verifier = portcullis_auth::jwt::JwtVerifier::from_spec(jwt)
                    .map_err(|e| CompileError::Invalid(format!("route `{}`: jwt: {e}", r.id)))?;
                let mut guard = portcullis_auth::JwtGuard::new(Arc::new(verifier));
                if let Some(list) = services.and_then(|s| s.revocations.clone()) {
                    guard = guard.with_revocations(list);
                }
                Arc::new(guard)
            }
            "hmac" => {
                let Some(h) = &auth.hmac else {
                    return Err(missing_block(r, name));
                };
                let (Some(store), Some(signing)) = (
                    services.and_then(|s| s.store.clone()),
                    services.and_then(|s| s.signing.clone()),
                ) else {
                    return Err(CompileError::Invalid(format!(
                        "route `{}`: request signing needs the credential store and master key (restart to open them)",
                        r.id
                    )));
                };
                Arc::new(portcullis_auth::HmacGuard::new(
                    h,
                    &r.id,
                    store,
                    signing.keyring,
                    signing.nonces,
                ))
            }
            "basic" => {
                let Some(basic) = &auth.basic else {
                    return Err(missing_block(r, name));
                };
                let Some(accounts) = services.and_then(|s| s.accounts.clone()) else {
                    return Err(CompileError::Invalid(format!(
                        "route `{}`: Basic needs the account store (restart to open it)",
                        r.id
                    )));
                };
                Arc::new(portcullis_auth::BasicGuard::new(
                    basic,
                    basic.lockout.as_ref().unwrap_or(lockout),
                    accounts,
                ))
            }
            "introspection" => {
                let Some(t) = &auth.introspection else {
                    return Err(missing_block(r, name));
                };
                let introspector = portcullis_auth::introspection::Introspector::from_spec(t)
                    .map_err(|e| {
                        CompileError::Invalid(format!("route `{}`: introspection: {e}", r.id))
                    })?;
                Arc::new(portcullis_auth::IntrospectionGuard::new(Arc::new(
                    introspector,
                )))
            }
            other => return Err(missing_block(r, other)),
        };
        methods.push(method);
    }
    // Every method is wrapped in the brute-force lockout: the `any_of` set as one, each
    // method of an `all_of` list on its own (they share the counters).
    let table = services.map_or_else(Default::default, |s| s.auth_lockout.clone());
    let wrap = |inner: Arc<dyn Guard>, methods: Vec<Arc<dyn Credential>>| {
        ChainEntry::enforce(Arc::new(FailureLockout::new(
            inner,
            methods,
            &r.id,
            lockout,
            table.clone(),
        )))
    };
    if !auth.any_of.is_empty() && methods.len() > 1 {
        let any: Arc<dyn Guard> = Arc::new(AnyOf::new(methods.clone()));
        entries.push(wrap(any, methods));
        return Ok(());
    }
    for (k, m) in methods.into_iter().enumerate() {
        let guard: Arc<dyn Guard> = if k == 0 {
            m.clone()
        } else {
            Arc::new(Secondary(m.clone()))
        };
        entries.push(wrap(guard, vec![m]));
    }
    Ok(())
}

fn missing_block(r: &RouteSpec, name: &str) -> CompileError {
    CompileError::Invalid(format!(
        "route `{}`: auth method `{name}` is listed but not configured",
        r.id
    ))
}

/// The guards after authentication, in order: rate limits and concurrency (so refused and
/// forbidden attempts count too), authorization, then quotas (only authorized requests use
/// quota).
fn access_guards(
    r: &portcullis_config::RouteSpec,
    services: Option<&Services>,
    policies: Option<&Arc<portcullis_policy::cedar::PolicyEngine>>,
    contract: Option<Arc<portcullis_contract::Contract>>,
    entries: &mut Vec<ChainEntry>,
) -> Result<(), CompileError> {
    let authenticated = r.auth.is_some();
    let invalid = |what: &str, e: &dyn std::fmt::Display| {
        CompileError::Invalid(format!("route `{}`: {what}: {e}", r.id))
    };
    // Without services (unit tests) limits still work, with state private to this version.
    let fallback = portcullis_limits::LimitState::new();
    let limits = services.map_or(&fallback, |s| &s.limits);
    if !r.rate_limits.is_empty() {
        let guard = portcullis_limits::RateLimitGuard::new(
            &r.id,
            &r.rate_limits,
            authenticated,
            limits.rates.clone(),
        )
        .map_err(|e| invalid("rate_limits", &e))?;
        entries.push(ChainEntry::enforce(Arc::new(guard)));
    }
    if let Some(c) = &r.concurrency {
        let guard = portcullis_limits::ConcurrencyGuard::new(
            &r.id,
            c,
            authenticated,
            limits.in_flight.clone(),
        )
        .map_err(|e| invalid("concurrency", &e))?;
        entries.push(ChainEntry::enforce(Arc::new(guard)));
    }
    if let Some(a) = &r.authorize {
        entries.push(ChainEntry::enforce(Arc::new(
            portcullis_policy::AuthorizeGuard::with_contract(
                a,
                policies.cloned(),
                &r.id,
                &r.path,
                contract,
            ),
        )));
    }
    if !r.quotas.is_empty() {
        let Some(state) = services.and_then(|s| s.quotas.clone()) else {
            return Err(CompileError::Invalid(format!(
                "route `{}`: quotas need the store (restart to open it)",
                r.id
            )));
        };
        let guard = portcullis_limits::QuotaGuard::new(&r.id, &r.quotas, authenticated, state)
            .map_err(|e| invalid("quotas", &e))?;
        entries.push(ChainEntry::enforce(Arc::new(guard)));
    }
    Ok(())
}
