//! The file model: one struct per YAML mapping. Types end in `Spec`; every field's doc states
//! its unit and default (they feed the JSON Schema and `docs/configuration.md`). No
//! `flatten`, no untagged enums: both lose source locations.

use std::net::SocketAddr;
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{Cidr, HumanDuration};

// === defaults ===

/// Default HTTPS listener address of the quickstart.
pub const DEFAULT_ADMIN_ADDRESS: &str = "127.0.0.1:9901";
/// Default directory for generated and persistent state.
pub const DEFAULT_DATA_DIR: &str = "./data";
/// Default cap on the bytes of a request head (request line + headers).
pub const DEFAULT_MAX_HEADER_BYTES: usize = 16 * 1024;
/// Default cap on the number of request headers.
pub const DEFAULT_MAX_HEADERS: usize = 100;
/// Default cap on the request target length.
pub const DEFAULT_MAX_URI_BYTES: usize = 8 * 1024;
/// Default cap on a request body.
pub const DEFAULT_MAX_BODY_BYTES: u64 = 1024 * 1024;
/// Default time a client has to send the request head.
pub const DEFAULT_HEADER_READ_TIMEOUT: HumanDuration = HumanDuration::secs(10);
/// Default time a client has to send the whole body.
pub const DEFAULT_BODY_READ_TIMEOUT: HumanDuration = HumanDuration::secs(30);
/// Default idle time before a keep-alive connection is closed.
pub const DEFAULT_IDLE_TIMEOUT: HumanDuration = HumanDuration::secs(60);
/// Default TLS handshake deadline.
pub const DEFAULT_TLS_HANDSHAKE_TIMEOUT: HumanDuration = HumanDuration::secs(10);
/// Default cap on open client connections, all listeners together.
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
/// Default cap on open connections from one client IP.
pub const DEFAULT_MAX_CONNECTIONS_PER_IP: usize = 256;
/// Default HTTP/2 concurrent streams per connection.
pub const DEFAULT_H2_MAX_CONCURRENT_STREAMS: u32 = 100;
/// Default HTTP/2 cap on streams reset by the client before the server saw them (rapid reset).
pub const DEFAULT_H2_MAX_PENDING_RESET_STREAMS: usize = 20;
/// Default HTTP/2 cap on streams the server had to reset for errors (MadeYouReset).
pub const DEFAULT_H2_MAX_LOCAL_ERROR_RESET_STREAMS: usize = 64;
/// Default HSTS max-age (one year).
pub const DEFAULT_HSTS_MAX_AGE: HumanDuration = HumanDuration::secs(31_536_000);
/// Default upstream connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: HumanDuration = HumanDuration::secs(3);
/// Default upstream request timeout (until the response head).
pub const DEFAULT_REQUEST_TIMEOUT: HumanDuration = HumanDuration::secs(30);
/// Default idle time of a pooled upstream connection.
pub const DEFAULT_POOL_IDLE_TIMEOUT: HumanDuration = HumanDuration::secs(90);
/// Default idle pooled connections per upstream target.
pub const DEFAULT_POOL_MAX_IDLE: usize = 256;
/// Default retries of idempotent requests on another target.
pub const DEFAULT_RETRIES: u32 = 1;
/// Default health check interval.
pub const DEFAULT_HEALTH_INTERVAL: HumanDuration = HumanDuration::secs(5);
/// Default health check timeout.
pub const DEFAULT_HEALTH_TIMEOUT: HumanDuration = HumanDuration::secs(2);
/// Default consecutive failures that eject a target passively.
pub const DEFAULT_EJECT_AFTER_FAILURES: u32 = 5;
/// Default time an ejected target sits out.
pub const DEFAULT_EJECT_FOR: HumanDuration = HumanDuration::secs(30);
/// Default shutdown drain deadline.
pub const DEFAULT_DRAIN_TIMEOUT: HumanDuration = HumanDuration::secs(30);
/// Default request id header.
pub const DEFAULT_REQUEST_ID_HEADER: &str = "x-request-id";

// === root ===

/// The whole config file.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigSpec {
    /// Where the gateway accepts client connections. At least one.
    pub listeners: Vec<ListenerSpec>,
    /// Backends that routes forward to.
    #[serde(default)]
    pub upstreams: Vec<UpstreamSpec>,
    /// Routes, matched by host, path and method. Order matters only among routes with the
    /// same host and path (see `match_headers`).
    #[serde(default)]
    pub routes: Vec<RouteSpec>,
    /// Protocol and resource limits that apply to every listener and route.
    #[serde(default)]
    pub limits: LimitsSpec,
    /// How the client address is determined (trusted proxies).
    #[serde(default)]
    pub client_ip: ClientIpSpec,
    /// Global IP allow / deny lists, applied to every route before its own lists.
    #[serde(default)]
    pub ip_policy: IpPolicySpec,
    /// Security headers added to every response.
    #[serde(default)]
    pub security_headers: SecurityHeadersSpec,
    /// Request ids.
    #[serde(default)]
    pub request_id: RequestIdSpec,
    /// Logging.
    #[serde(default)]
    pub logging: LoggingSpec,
    /// The admin listener (health, readiness, metrics).
    #[serde(default)]
    pub admin: AdminSpec,
    /// Shutdown behaviour.
    #[serde(default)]
    pub shutdown: ShutdownSpec,
    /// Directory for generated and persistent state (dev certificate, stores). Relative paths
    /// are resolved against the working directory. Default `./data`.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// The credential store.
    #[serde(default)]
    pub store: StoreSpec,
    /// Brute-force and credential-stuffing lockout for every authentication method: failures
    /// per client address, per real credential (API key or signing key) and per username
    /// (Basic, TOTP).
    #[serde(default)]
    pub auth_lockout: LockoutSpec,
    /// Cedar policies, evaluated on routes whose `authorize` block says `policy: true`.
    #[serde(default)]
    pub policies: Option<PoliciesSpec>,
    /// A MaxMind-format (GeoIP2 / GeoLite2 Country, `.mmdb`) database giving the client's
    /// country to tiers and policies.
    #[serde(default)]
    pub geoip: Option<GeoIpSpec>,
    /// Source tiers: clients from listed networks or countries get stricter limits and
    /// quotas (`tiers:` in rate limits and quotas) or are refused. The first matching tier
    /// applies.
    #[serde(default)]
    pub tiers: Vec<TierSpec>,
    /// Identity to upstreams as a short-lived JWT minted by the gateway, for every route
    /// that does not set its own. Default: none.
    #[serde(default)]
    pub upstream_identity_token: Option<UpstreamIdentityTokenSpec>,
}

/// A gateway-minted JWT carrying the authenticated caller to the upstream (zero trust: the
/// upstream verifies it against the JWKS the admin listener publishes at
/// `/.well-known/jwks.json` instead of trusting plain headers). Client-supplied copies of the
/// header are always removed.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpstreamIdentityTokenSpec {
    /// `ES256` or `EdDSA`. Default `ES256`.
    #[serde(default = "default_identity_algorithm")]
    pub algorithm: String,
    /// Token lifetime; at most `60s`. Default `30s`.
    #[serde(default = "default_identity_ttl")]
    pub ttl: HumanDuration,
    /// The `aud` claim: the upstream's name for itself.
    pub audience: String,
    /// The `iss` claim. Default `portcullis`.
    #[serde(default = "default_identity_issuer")]
    pub issuer: String,
    /// PKCS#8 PEM private key. Default `<data_dir>/identity-<algorithm>.pem`; generated with
    /// mode 0600 when the file does not exist. A new key file needs a restart.
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    /// Header carrying the token. Default `x-portcullis-identity`.
    #[serde(default = "default_identity_header")]
    pub header: String,
}

/// Longest identity-token lifetime, in seconds.
pub const MAX_IDENTITY_TTL_SECS: u64 = 60;

fn default_identity_algorithm() -> String {
    "ES256".into()
}
fn default_identity_ttl() -> HumanDuration {
    HumanDuration::secs(30)
}
fn default_identity_issuer() -> String {
    "portcullis".into()
}
/// Default header of gateway-minted identity tokens.
pub const DEFAULT_IDENTITY_TOKEN_HEADER: &str = "x-portcullis-identity";

fn default_identity_header() -> String {
    DEFAULT_IDENTITY_TOKEN_HEADER.into()
}

impl UpstreamIdentityTokenSpec {
    /// The key file: the configured one or `<data_dir>/identity-<algorithm>.pem`.
    pub fn key_path(&self, data_dir: &std::path::Path) -> PathBuf {
        self.key_file.clone().unwrap_or_else(|| {
            data_dir.join(format!(
                "identity-{}.pem",
                self.algorithm.to_ascii_lowercase()
            ))
        })
    }
}

/// The GeoIP database.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GeoIpSpec {
    /// The `.mmdb` file (country or city database). Reloaded with the config.
    pub database: PathBuf,
}

/// A tier of suspicious (or trusted) sources.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TierSpec {
    /// Name, referenced by `tiers:` of rate limits and quotas and shown in logs.
    pub name: String,
    /// Files of networks, one address or CIDR per line (`#` comments). Reloaded with the
    /// config and when they change.
    #[serde(default)]
    pub ip_files: Vec<PathBuf>,
    /// Networks listed inline.
    #[serde(default)]
    pub networks: Vec<Cidr>,
    /// ISO 3166-1 alpha-2 country codes (needs `geoip`).
    #[serde(default)]
    pub countries: Vec<String>,
    /// Refuse requests from this tier outright (403). Default false.
    #[serde(default)]
    pub block: bool,
}

/// The policy engine (Cedar). `portcullis check` validates the policies against a schema
/// generated from this config (`portcullis policy-schema` prints it).
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PoliciesSpec {
    /// Cedar policy files. Relative paths are resolved against the config file's directory.
    /// Reloaded with the config.
    pub files: Vec<PathBuf>,
    /// Request headers exposed to policies as `context.headers["<name>"]` (lower-case).
    #[serde(default)]
    pub context_headers: Vec<String>,
    /// Token claims exposed as `principal.claims.<name>`, with their type.
    #[serde(default)]
    pub claims: std::collections::BTreeMap<String, ClaimType>,
    /// IANA time zone of `context.time` (hour, weekday...). Default `UTC`.
    #[serde(default = "default_time_zone")]
    pub time_zone: String,
}

/// The Cedar type of an exposed claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClaimType {
    /// A string.
    String,
    /// An integer.
    Long,
    /// A boolean.
    Bool,
    /// A set of strings (a JSON array, or a space-separated string).
    SetOfStrings,
}

fn default_data_dir() -> PathBuf {
    PathBuf::from(DEFAULT_DATA_DIR)
}

// === listeners and TLS ===

/// One listening socket.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListenerSpec {
    /// Unique id, used in logs and metrics.
    pub id: String,
    /// `ip:port` to bind, e.g. `127.0.0.1:8443` or `[::]:443`.
    #[schemars(with = "String")]
    pub address: SocketAddr,
    /// TLS settings. Present: the listener speaks HTTPS. Absent: plain HTTP, handled per
    /// `plain_http`.
    #[serde(default)]
    pub tls: Option<TlsSpec>,
    /// What a plain-HTTP listener does with requests: `redirect` (308 to https), `refuse`
    /// (403 problem) or `serve` (proxy without TLS; for local benchmarks or behind a
    /// TLS-terminating balancer). Ignored for TLS listeners. Default `redirect`.
    #[serde(default)]
    pub plain_http: PlainHttpAction,
    /// Port to redirect to when `plain_http: redirect`. Default 443.
    #[serde(default = "default_redirect_port")]
    pub redirect_port: u16,
}

fn default_redirect_port() -> u16 {
    443
}

/// What a plain-HTTP listener does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlainHttpAction {
    /// Answer 308 with the https URL.
    #[default]
    Redirect,
    /// Answer 403 problem `https-required`.
    Refuse,
    /// Route and proxy as usual.
    Serve,
}

/// TLS for a listener.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsSpec {
    /// Certificates. The first is the default; others are chosen by SNI against their
    /// names. Empty: dev mode, a self-signed certificate for `localhost` is generated under
    /// `data_dir` on first start and its SHA-256 fingerprint printed.
    #[serde(default)]
    pub certificates: Vec<CertificateSpec>,
    /// Lowest protocol version: `"1.2"` or `"1.3"`. Default `"1.2"`.
    #[serde(default)]
    pub min_version: TlsVersion,
    /// Re-read certificate files when they change, without a restart. Default true.
    #[serde(default = "yes")]
    pub watch: bool,
    /// Client certificates (mTLS): verified against these CAs during the handshake. Routes
    /// with `auth: { mtls: ... }` then map the certificate to a consumer. Default: none asked.
    #[serde(default)]
    pub client_auth: Option<ClientAuthSpec>,
}

/// Client-certificate verification on a TLS listener.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientAuthSpec {
    /// PEM bundle of the CA certificates client certificates must chain to.
    pub ca_file: PathBuf,
    /// Refuse the handshake without a valid client certificate. When false a certificate is
    /// optional and routes decide (an `mtls` route refuses requests without one). Default
    /// false.
    #[serde(default)]
    pub required: bool,
    /// PEM CRL files; certificates they revoke are refused in the handshake.
    #[serde(default)]
    pub crl_files: Vec<PathBuf>,
}

/// One certificate and its key.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CertificateSpec {
    /// PEM file with the certificate chain, leaf first.
    pub cert_file: PathBuf,
    /// PEM file with the private key (PKCS#8, PKCS#1 or SEC1).
    pub key_file: PathBuf,
    /// SNI names this certificate answers for. Default: the names in the certificate.
    #[serde(default)]
    pub server_names: Vec<String>,
}

/// A TLS protocol version.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum TlsVersion {
    /// TLS 1.2 and 1.3.
    #[default]
    #[serde(rename = "1.2")]
    Tls12,
    /// TLS 1.3 only.
    #[serde(rename = "1.3")]
    Tls13,
}

// === upstreams ===

/// A backend: one or more targets behind one name.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpstreamSpec {
    /// Unique id, referenced by routes.
    pub id: String,
    /// `http` (forward to `targets`) or `echo` (the built-in echo service, for the quickstart
    /// and tests: it answers with the method, path, query, headers and the body's SHA-256).
    #[serde(default)]
    pub kind: UpstreamKind,
    /// Target base URLs, e.g. `http://10.0.0.5:8080` or `https://api.internal`. Required for
    /// `kind: http`. A path in the URL is prepended to the request path.
    #[serde(default)]
    pub targets: Vec<String>,
    /// How a target is chosen: `round_robin` or `least_connections`. Default `round_robin`.
    #[serde(default)]
    pub balance: Balance,
    /// Speak HTTP/2 to the targets (ALPN for https, prior knowledge for http). Default false.
    #[serde(default)]
    pub http2: bool,
    /// TLS to `https` targets.
    #[serde(default)]
    pub tls: UpstreamTlsSpec,
    /// Timeouts.
    #[serde(default)]
    pub timeouts: UpstreamTimeoutsSpec,
    /// Retries of idempotent requests (GET, HEAD, OPTIONS, PUT, DELETE) on another target
    /// after a connect failure or timeout. Default 1.
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// Idle pooled connections kept per target. Default 256.
    #[serde(default = "default_pool_max_idle")]
    pub pool_max_idle: usize,
    /// Active health checks. Absent: none.
    #[serde(default)]
    pub health_check: Option<HealthCheckSpec>,
    /// Passive ejection of failing targets.
    #[serde(default)]
    pub passive_health: PassiveHealthSpec,
    /// Concurrent requests allowed to this upstream; beyond it the gateway sheds load with
    /// 503 and `Retry-After`. 0 = unlimited. Default 0.
    #[serde(default)]
    pub max_in_flight: usize,
}

fn default_retries() -> u32 {
    DEFAULT_RETRIES
}
fn default_pool_max_idle() -> usize {
    DEFAULT_POOL_MAX_IDLE
}

/// What an upstream is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum UpstreamKind {
    /// Real targets over HTTP(S).
    #[default]
    Http,
    /// The built-in echo service.
    Echo,
}

/// Load-balancing strategy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Balance {
    /// Each healthy target in turn.
    #[default]
    RoundRobin,
    /// The healthy target with the fewest requests in flight.
    LeastConnections,
}

/// TLS towards upstream targets. Verification is always on.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpstreamTlsSpec {
    /// PEM bundle of CAs to trust instead of the system store.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Client certificate (PEM) for mTLS to the upstream.
    #[serde(default)]
    pub client_cert_file: Option<PathBuf>,
    /// Key of the client certificate (PEM).
    #[serde(default)]
    pub client_key_file: Option<PathBuf>,
    /// Name to send in SNI and verify the certificate against. Default: the target's host.
    #[serde(default)]
    pub server_name: Option<String>,
}

/// Upstream timeouts.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpstreamTimeoutsSpec {
    /// TCP (+TLS) connect. Default `3s`.
    #[serde(default = "default_connect_timeout")]
    pub connect: HumanDuration,
    /// From sending the request to receiving the response head. Default `30s`.
    #[serde(default = "default_request_timeout")]
    pub request: HumanDuration,
    /// Idle pooled connection lifetime. Default `90s`.
    #[serde(default = "default_pool_idle_timeout")]
    pub idle: HumanDuration,
}

impl Default for UpstreamTimeoutsSpec {
    fn default() -> Self {
        Self {
            connect: DEFAULT_CONNECT_TIMEOUT,
            request: DEFAULT_REQUEST_TIMEOUT,
            idle: DEFAULT_POOL_IDLE_TIMEOUT,
        }
    }
}

fn default_connect_timeout() -> HumanDuration {
    DEFAULT_CONNECT_TIMEOUT
}
fn default_request_timeout() -> HumanDuration {
    DEFAULT_REQUEST_TIMEOUT
}
fn default_pool_idle_timeout() -> HumanDuration {
    DEFAULT_POOL_IDLE_TIMEOUT
}

/// Active health checking: a GET to `path` on every target every `interval`.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HealthCheckSpec {
    /// Path to GET. Any 2xx is healthy.
    pub path: String,
    /// Time between checks. Default `5s`.
    #[serde(default = "default_health_interval")]
    pub interval: HumanDuration,
    /// Time a check may take. Default `2s`.
    #[serde(default = "default_health_timeout")]
    pub timeout: HumanDuration,
    /// Consecutive failures that mark a target unhealthy. Default 2.
    #[serde(default = "two")]
    pub unhealthy_threshold: u32,
    /// Consecutive successes that mark it healthy again. Default 2.
    #[serde(default = "two")]
    pub healthy_threshold: u32,
}

fn default_health_interval() -> HumanDuration {
    DEFAULT_HEALTH_INTERVAL
}
fn default_health_timeout() -> HumanDuration {
    DEFAULT_HEALTH_TIMEOUT
}
fn two() -> u32 {
    2
}

/// Passive health: eject a target after consecutive failures (connect errors, timeouts, 502,
/// 503, 504) for a while.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PassiveHealthSpec {
    /// Consecutive failures that eject a target. 0 disables. Default 5.
    #[serde(default = "default_eject_after")]
    pub consecutive_failures: u32,
    /// How long an ejected target sits out. Default `30s`.
    #[serde(default = "default_eject_for")]
    pub eject_for: HumanDuration,
}

impl Default for PassiveHealthSpec {
    fn default() -> Self {
        Self {
            consecutive_failures: DEFAULT_EJECT_AFTER_FAILURES,
            eject_for: DEFAULT_EJECT_FOR,
        }
    }
}

fn default_eject_after() -> u32 {
    DEFAULT_EJECT_AFTER_FAILURES
}
fn default_eject_for() -> HumanDuration {
    DEFAULT_EJECT_FOR
}

// === routes ===

/// One route: which requests it takes and what it does with them.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteSpec {
    /// Unique id, used in logs and metrics.
    pub id: String,
    /// Host names this route serves (exact, case-insensitive, port ignored). Empty: any host.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// The path: exact (`/status`), prefix (ends in `/`, e.g. `/echo/`, also matches
    /// everything below it) or templated (`/users/{id}`, `/files/{*rest}`).
    pub path: String,
    /// Methods served, e.g. `[GET, POST]`. Others get 405 with `Allow`. TRACE, TRACK and
    /// CONNECT are refused and may not be listed.
    pub methods: Vec<String>,
    /// Only take requests whose headers have these exact values (e.g. an API version header:
    /// `{X-Api-Version: "2"}`). Routes with the same path are tried in file order.
    #[serde(default)]
    pub match_headers: std::collections::BTreeMap<String, String>,
    /// The upstream id to forward to.
    pub upstream: String,
    /// Remove this prefix from the path before forwarding (e.g. `/v1`).
    #[serde(default)]
    pub strip_prefix: Option<String>,
    /// The route needs no authentication. Deny by default: a route without an auth block
    /// must say `public: true`. Default false.
    #[serde(default)]
    pub public: bool,
    /// IP allow / deny lists for this route (after the global lists).
    #[serde(default)]
    pub ip_policy: IpPolicySpec,
    /// Cap on the request body in bytes; larger gets 413. Default: `limits.max_body_bytes`.
    #[serde(default)]
    pub max_body_bytes: Option<u64>,
    /// Replace the body of upstream 5xx responses with a generic problem (the status is kept),
    /// so stack traces and internal detail never reach the client. Default true.
    #[serde(default = "yes")]
    pub generic_errors: bool,
    /// Log query values in the access log instead of redacting them. Default false.
    #[serde(default)]
    pub log_query_values: bool,
    /// How callers of this route authenticate. Absent: the route must say `public: true`.
    #[serde(default)]
    pub auth: Option<AuthSpec>,
    /// This route's gateway-minted identity token (overrides the top-level one). Default:
    /// the top-level `upstream_identity_token`, if any.
    #[serde(default)]
    pub upstream_identity_token: Option<UpstreamIdentityTokenSpec>,
    /// Who may call, once authenticated: scopes, roles, the owner rule. Least privilege: an
    /// authenticated route must have this block, and admits every authenticated caller only
    /// if it says `any_authenticated: true`.
    #[serde(default)]
    pub authorize: Option<AuthorizeSpec>,
    /// Rate limits (GCRA), all of which must admit a request. Checked after authentication,
    /// so limits can be keyed by consumer or credential.
    #[serde(default)]
    pub rate_limits: Vec<RateLimitSpec>,
    /// Calendar quotas (per day or month), persisted in the store.
    #[serde(default)]
    pub quotas: Vec<QuotaSpec>,
    /// Cap on requests in flight per key (e.g. per consumer) on this route.
    #[serde(default)]
    pub concurrency: Option<ConcurrencySpec>,
    /// The OpenAPI document requests must follow (positive model of the API firewall).
    #[serde(default)]
    pub openapi: Option<crate::contract::OpenApiSpec>,
    /// Structural limits on request bodies (JSON depth, keys, duplicate keys, XML without
    /// DTDs, form and multipart limits). Applied on every route; these are the defaults.
    #[serde(default)]
    pub body_limits: crate::contract::BodyLimitsSpec,
    /// The API firewall's detectors (SQL, NoSQL, LDAP, OS-command, XML, template injection,
    /// XSS, path traversal, SSRF, CRLF, Log4Shell...) on every free-text value of the request.
    /// On in blocking mode by default; `mode: detect_only` to tune, `mode: off` to disable.
    #[serde(default)]
    pub firewall: crate::firewall::FirewallSpec,
}

/// Authorization of a route: every part present must hold.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthorizeSpec {
    /// Admit every authenticated caller without a scope or role requirement. Must be said
    /// explicitly: least privilege is the default. Default false.
    #[serde(default)]
    pub any_authenticated: bool,
    /// Scopes the caller must hold for every method of the route.
    #[serde(default)]
    pub scopes: Option<RequirementSpec>,
    /// Roles the caller must hold for every method of the route.
    #[serde(default)]
    pub roles: Option<RequirementSpec>,
    /// Further requirements per method (`GET`, `POST`...), on top of the route's.
    #[serde(default)]
    pub methods: std::collections::BTreeMap<String, MethodAuthorizeSpec>,
    /// Object-level rule (against BOLA): a value of the request must belong to the caller.
    #[serde(default)]
    pub owner: Option<OwnerRuleSpec>,
    /// Also evaluate the Cedar policies (top-level `policies`): some `permit` must apply and
    /// no `forbid`. Default false.
    #[serde(default)]
    pub policy: bool,
}

/// Extra requirements for one method.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MethodAuthorizeSpec {
    /// Scopes required for this method.
    #[serde(default)]
    pub scopes: Option<RequirementSpec>,
    /// Roles required for this method.
    #[serde(default)]
    pub roles: Option<RequirementSpec>,
}

/// A set requirement: the caller holds every one of `all_of` and at least one of `any_of`
/// (an empty list is no requirement).
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequirementSpec {
    /// All of these are required.
    #[serde(default)]
    pub all_of: Vec<String>,
    /// At least one of these is required.
    #[serde(default)]
    pub any_of: Vec<String>,
}

/// The owner rule: the value at `value` must equal the principal attribute `owner`, or be
/// one of its elements when that attribute is a list.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OwnerRuleSpec {
    /// Where the object's owner is named: `path:<param>`, `query:<name>` or
    /// `body:<JSON pointer>` (e.g. `body:/owner_id`).
    pub value: String,
    /// The principal attribute it must match: `consumer_id` or `claim:<dotted path>` (e.g.
    /// `claim:tenant` or `claim:projects` for a list). Default `consumer_id`.
    #[serde(default = "default_owner_principal")]
    pub owner: String,
    /// Callers with one of these roles pass without the check (e.g. support staff).
    #[serde(default)]
    pub bypass_roles: Vec<String>,
}

fn default_owner_principal() -> String {
    "consumer_id".into()
}

/// One rate limit. Requests are counted per key; the key is made of the listed parts.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSpec {
    /// Name shown in the `RateLimit` headers, logs and metrics. Default: `limit<N>`.
    #[serde(default)]
    pub name: Option<String>,
    /// What a request is counted against, combined: `consumer`, `credential`, `ip`, `route`,
    /// `header:<name>`. Default `[consumer]` on authenticated routes, `[ip]` on public ones.
    #[serde(default)]
    pub key: Vec<String>,
    /// Sustained rate: `<count>/<period>`, e.g. `100/1m`, `10/s`, `5000/1h`.
    pub rate: String,
    /// Requests admitted at once from idle. Default: the count of `rate`.
    #[serde(default)]
    pub burst: Option<u32>,
    /// Per-plan overrides of `rate` and `burst` (the consumer's plan picks one).
    #[serde(default)]
    pub plans: std::collections::BTreeMap<String, PlanRateSpec>,
    /// Per-tier overrides (a client in a tier gets its rate, before any plan).
    #[serde(default)]
    pub tiers: std::collections::BTreeMap<String, PlanRateSpec>,
    /// Slow requests down instead of refusing them, up to a bound.
    #[serde(default)]
    pub throttle: Option<ThrottleSpec>,
}

/// A plan's rate.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanRateSpec {
    /// `<count>/<period>`.
    pub rate: String,
    /// Burst. Default: the count of `rate`.
    #[serde(default)]
    pub burst: Option<u32>,
}

/// Throttling: a request over the limit waits for its slot instead of being refused.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ThrottleSpec {
    /// Longest a request is held; beyond it the request gets 429. Default `2s`.
    #[serde(default = "default_throttle_wait")]
    pub max_wait: HumanDuration,
    /// Most requests of one key waiting at once; beyond it 429. Default 10.
    #[serde(default = "default_throttle_queue")]
    pub max_queue: u32,
}

fn default_throttle_wait() -> HumanDuration {
    HumanDuration::secs(2)
}
fn default_throttle_queue() -> u32 {
    10
}

/// A calendar quota.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QuotaSpec {
    /// Name for headers, logs and `portcullis keys show`. Default `quota<N>`.
    #[serde(default)]
    pub name: Option<String>,
    /// What is counted (same parts as rate-limit keys). Default `[consumer]`.
    #[serde(default)]
    pub key: Vec<String>,
    /// `day` or `month`: calendar windows in `time_zone`.
    pub per: QuotaPeriod,
    /// Requests per window.
    pub limit: u64,
    /// Per-plan limits.
    #[serde(default)]
    pub plans: std::collections::BTreeMap<String, u64>,
    /// Per-tier limits (before any plan).
    #[serde(default)]
    pub tiers: std::collections::BTreeMap<String, u64>,
    /// IANA time zone of the calendar (e.g. `Europe/Berlin`). Default `UTC`.
    #[serde(default = "default_time_zone")]
    pub time_zone: String,
}

fn default_time_zone() -> String {
    "UTC".into()
}

/// Quota window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum QuotaPeriod {
    /// A calendar day.
    Day,
    /// A calendar month.
    Month,
}

/// Concurrency cap.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConcurrencySpec {
    /// What is counted. Default `[consumer]` (authenticated) or `[ip]` (public).
    #[serde(default)]
    pub key: Vec<String>,
    /// Requests of one key in flight at once; more get 429 with `Retry-After: 1`.
    pub max_in_flight: u32,
}

/// Authentication required by a route.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthSpec {
    /// API keys issued with `portcullis keys create`.
    #[serde(default)]
    pub api_key: Option<ApiKeyAuthSpec>,
    /// JSON Web Tokens (`Authorization: Bearer …`) from an issuer whose keys are in a file or
    /// fetched from the issuer (JWKS URL, OpenID Connect discovery).
    #[serde(default)]
    pub jwt: Option<JwtAuthSpec>,
    /// Client certificates verified by the listener's `tls.client_auth` (mTLS).
    #[serde(default)]
    pub mtls: Option<MtlsAuthSpec>,
    /// Opaque bearer tokens checked with the issuer's OAuth2 introspection endpoint
    /// (RFC 7662).
    #[serde(default)]
    pub introspection: Option<IntrospectionAuthSpec>,
    /// HMAC request signing (`Authorization: PCS1-HMAC-SHA256 …`) with keys issued by
    /// `portcullis keys create --kind hmac`; see docs/request-signing.md.
    #[serde(default)]
    pub hmac: Option<HmacAuthSpec>,
    /// Built-in accounts (`portcullis accounts create`) with HTTP Basic authentication,
    /// optionally with a TOTP second factor.
    #[serde(default)]
    pub basic: Option<BasicAuthSpec>,
    /// With more than one method: the client may use any one of these (names of the blocks
    /// above, in order of preference). The first method whose credential the request carries
    /// decides; the other credentials are removed before forwarding. Exactly one of `any_of`
    /// and `all_of` is required when two or more methods are configured.
    #[serde(default)]
    pub any_of: Vec<String>,
    /// With more than one method: the client must pass every one of these, in this order
    /// (e.g. `[mtls, jwt]`: a workload certificate and a user's token). The first names the
    /// consumer; the others only verify.
    #[serde(default)]
    pub all_of: Vec<String>,
}

impl AuthSpec {
    /// Names of the configured method blocks, in a fixed order.
    pub fn configured_methods(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.api_key.is_some() {
            out.push("api_key");
        }
        if self.jwt.is_some() {
            out.push("jwt");
        }
        if self.mtls.is_some() {
            out.push("mtls");
        }
        if self.introspection.is_some() {
            out.push("introspection");
        }
        if self.hmac.is_some() {
            out.push("hmac");
        }
        if self.basic.is_some() {
            out.push("basic");
        }
        out
    }

    /// The methods in the order they apply: the `any_of` / `all_of` list if given, else the
    /// one configured method.
    pub fn ordered_methods(&self) -> Vec<&str> {
        if !self.any_of.is_empty() {
            self.any_of.iter().map(String::as_str).collect()
        } else if !self.all_of.is_empty() {
            self.all_of.iter().map(String::as_str).collect()
        } else {
            self.configured_methods()
        }
    }
}

/// HMAC request signing: how far a signature's timestamp may be from the gateway's clock and
/// which headers every signature must cover.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HmacAuthSpec {
    /// Largest accepted distance between a signature's timestamp and the gateway's clock, in
    /// either direction; at most `300s`. Nonces are remembered this long. Default `300s`.
    #[serde(default = "default_hmac_max_skew")]
    pub max_skew: HumanDuration,
    /// Headers a signature must cover whenever the request carries them (lower-case names);
    /// `host` is always required. Default `[host, content-type]`.
    #[serde(default = "default_hmac_required_headers")]
    pub required_headers: Vec<String>,
}

/// Default and largest allowed `auth.hmac.max_skew`, in seconds.
pub const DEFAULT_HMAC_MAX_SKEW_SECS: u64 = 300;

fn default_hmac_max_skew() -> HumanDuration {
    HumanDuration::secs(DEFAULT_HMAC_MAX_SKEW_SECS)
}

fn default_hmac_required_headers() -> Vec<String> {
    vec!["host".into(), "content-type".into()]
}

/// Default Basic realm.
pub const DEFAULT_BASIC_REALM: &str = "portcullis";
/// Default lifetime of a verified-password cache entry.
pub const DEFAULT_BASIC_VERIFIED_CACHE: HumanDuration = HumanDuration::secs(60);

/// HTTP Basic authentication against built-in accounts.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BasicAuthSpec {
    /// Realm named in the `WWW-Authenticate: Basic` challenge. Default `portcullis`.
    #[serde(default = "default_basic_realm")]
    pub realm: String,
    /// Also demand a current TOTP code (RFC 6238) in the `X-OTP` header; each code is accepted
    /// once. Accounts enrol with `portcullis keys totp enroll`. Default false.
    #[serde(default)]
    pub require_totp: bool,
    /// How long a verified username and password are remembered (as an HMAC under a
    /// per-process key, never the password) so a client sending them on every request does
    /// not pay Argon2 each time; `0s` disables. At most `15m`. Default `60s`.
    #[serde(default = "default_basic_verified_cache")]
    pub verified_cache: HumanDuration,
    /// This route's own brute-force lockout thresholds, instead of the top-level
    /// `auth_lockout` (counters are shared: a username's failures on any route count).
    /// Default: `auth_lockout`.
    #[serde(default)]
    pub lockout: Option<LockoutSpec>,
}

fn default_basic_realm() -> String {
    DEFAULT_BASIC_REALM.into()
}
fn default_basic_verified_cache() -> HumanDuration {
    DEFAULT_BASIC_VERIFIED_CACHE
}

/// Default failures per username within the window before a lockout.
pub const DEFAULT_LOCKOUT_MAX_FAILURES: u32 = 5;
/// Default failures per client address within the window before a lockout.
pub const DEFAULT_LOCKOUT_MAX_FAILURES_PER_IP: u32 = 20;
/// Default sliding window in which failures are counted.
pub const DEFAULT_LOCKOUT_WINDOW: HumanDuration = HumanDuration::secs(15 * 60);
/// Default first lockout.
pub const DEFAULT_LOCKOUT_BASE: HumanDuration = HumanDuration::secs(60);
/// Default longest lockout.
pub const DEFAULT_LOCKOUT_MAX: HumanDuration = HumanDuration::secs(3600);

/// Brute-force lockout: after `max_failures` failed authentications of one username or
/// stored credential (or `max_failures_per_ip` from one client address, IPv6 by /64) within
/// `window`, further attempts are refused with 429 and `Retry-After`, even with the right
/// secret, for `base_lockout`, doubling with each further lockout up to `max_lockout`. Locks
/// are kept in memory.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LockoutSpec {
    /// Failures of one username or stored credential (API key, signing key) within `window`
    /// that lock it (at least 1). Default 5.
    #[serde(default = "default_lockout_max_failures")]
    pub max_failures: u32,
    /// Failures from one client address (IPv6: its /64), by any method, within `window` that
    /// lock the address (at least 1). Default 20.
    #[serde(default = "default_lockout_max_failures_per_ip")]
    pub max_failures_per_ip: u32,
    /// Sliding window in which failures are counted. Default `15m`.
    #[serde(default = "default_lockout_window")]
    pub window: HumanDuration,
    /// First lockout; each further lockout of the same key doubles it. Default `1m`.
    #[serde(default = "default_lockout_base")]
    pub base_lockout: HumanDuration,
    /// Longest lockout. Default `1h`.
    #[serde(default = "default_lockout_max")]
    pub max_lockout: HumanDuration,
}

impl Default for LockoutSpec {
    fn default() -> Self {
        Self {
            max_failures: DEFAULT_LOCKOUT_MAX_FAILURES,
            max_failures_per_ip: DEFAULT_LOCKOUT_MAX_FAILURES_PER_IP,
            window: DEFAULT_LOCKOUT_WINDOW,
            base_lockout: DEFAULT_LOCKOUT_BASE,
            max_lockout: DEFAULT_LOCKOUT_MAX,
        }
    }
}

fn default_lockout_max_failures() -> u32 {
    DEFAULT_LOCKOUT_MAX_FAILURES
}
fn default_lockout_max_failures_per_ip() -> u32 {
    DEFAULT_LOCKOUT_MAX_FAILURES_PER_IP
}
fn default_lockout_window() -> HumanDuration {
    DEFAULT_LOCKOUT_WINDOW
}
fn default_lockout_base() -> HumanDuration {
    DEFAULT_LOCKOUT_BASE
}
fn default_lockout_max() -> HumanDuration {
    DEFAULT_LOCKOUT_MAX
}

/// mTLS authentication: which part of the verified client certificate names the consumer.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MtlsAuthSpec {
    /// `san_uri` (e.g. a SPIFFE id), `san_dns`, `san_email` or `subject_cn`. The first
    /// value of that kind in the certificate is the consumer id. Default `san_uri`.
    #[serde(default = "default_mtls_identity")]
    pub identity: String,
}

fn default_mtls_identity() -> String {
    "san_uri".into()
}

/// JWT bearer-token authentication against one issuer.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JwtAuthSpec {
    /// Required `iss` value.
    pub issuer: String,
    /// Accepted `aud` values (at least one; the token must name one of them).
    pub audiences: Vec<String>,
    /// PEM public key or JWKS (JSON) file with the issuer's keys. Header fields `jku`, `x5u`,
    /// `jwk` and `x5c` are never used to find keys; `kid` only chooses among these. Exactly
    /// one key source is required: `keys_file`, `hmac_secret_file`, `jwks_url` or
    /// `discovery_url`.
    #[serde(default)]
    pub keys_file: Option<std::path::PathBuf>,
    /// For issuers that sign with a shared secret (HS256/384/512): a file holding the secret,
    /// at least 32 bytes (trailing newline ignored). Only then are HMAC algorithms accepted,
    /// and only HMAC algorithms (so a public key can never be used as an HMAC secret).
    #[serde(default)]
    pub hmac_secret_file: Option<std::path::PathBuf>,
    /// Accepted algorithms: `RS256`, `RS384`, `RS512`, `PS256`, `PS384`, `PS512`, `ES256`,
    /// `ES384`, `EdDSA` with `keys_file`, `jwks_url` or `discovery_url`; `HS256`, `HS384`,
    /// `HS512` with `hmac_secret_file`.
    /// `none` is never accepted. Default `[ES256]`.
    #[serde(default = "default_jwt_algorithms")]
    pub algorithms: Vec<String>,
    /// Clock skew allowed on `exp`, `nbf` and `iat`; at most `60s`. Default `30s`.
    #[serde(default = "default_jwt_leeway")]
    pub leeway: HumanDuration,
    /// Longest token accepted, in bytes. Default 8192.
    #[serde(default = "default_jwt_max_bytes")]
    pub max_token_bytes: usize,
    /// Claim holding scopes: a space-separated string or an array. Default `scope`.
    #[serde(default = "default_scopes_claim")]
    pub scopes_claim: String,
    /// Dotted path of the claim holding roles (e.g. `realm_access.roles`). Default `roles`.
    #[serde(default = "default_roles_claim")]
    pub roles_claim: String,
    /// Multi-factor requirement: the token's `amr` claim (RFC 8176) must contain one of these
    /// methods, e.g. `[mfa, otp, hwk]`. Empty: no requirement. Default empty.
    #[serde(default)]
    pub require_amr: Vec<String>,
    /// Assurance requirement: the token's `acr` claim must be one of these. Empty: no
    /// requirement. Default empty.
    #[serde(default)]
    pub require_acr: Vec<String>,
    /// The issuer's JWKS over HTTPS (`https://idp.example/.well-known/jwks.json`), fetched at
    /// start, refreshed every `jwks_refresh` and on an unknown `kid` (at most once per
    /// `jwks_min_refresh_interval`). `http://` only to a loopback address.
    #[serde(default)]
    pub jwks_url: Option<String>,
    /// The issuer's OpenID Connect discovery document
    /// (`https://idp.example/.well-known/openid-configuration`): its `issuer` must equal
    /// `issuer`, and its `jwks_uri` is used like `jwks_url`. `http://` only to a loopback
    /// address.
    #[serde(default)]
    pub discovery_url: Option<String>,
    /// PEM file with the CA certificates trusted for `jwks_url` / `discovery_url` (only
    /// those). Default: the system's trust store.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// How often remote keys are fetched again. Default `5m`.
    #[serde(default = "default_jwks_refresh")]
    pub jwks_refresh: HumanDuration,
    /// Least time between two fetches caused by tokens naming an unknown `kid`, so a flood
    /// of made-up `kid`s cannot turn into a flood of requests to the issuer. Default `30s`.
    #[serde(default = "default_jwks_min_refresh")]
    pub jwks_min_refresh_interval: HumanDuration,
}

fn default_jwks_refresh() -> HumanDuration {
    HumanDuration::secs(300)
}
fn default_jwks_min_refresh() -> HumanDuration {
    HumanDuration::secs(30)
}

/// OAuth2 token introspection (RFC 7662) for opaque bearer tokens.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IntrospectionAuthSpec {
    /// The introspection endpoint, `https://` (`http://` only to a loopback address).
    pub url: String,
    /// The gateway's client id at the provider (HTTP Basic, RFC 7662 §2.1).
    pub client_id: String,
    /// File holding the gateway's client secret (trailing newline ignored).
    pub client_secret_file: PathBuf,
    /// PEM file with the CA certificates trusted for `url` (only those). Default: the
    /// system's trust store.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Longest time an active answer is reused; never past the token's `exp`. Default `60s`.
    #[serde(default = "default_introspection_cache")]
    pub cache_cap: HumanDuration,
    /// How long an inactive answer is reused. Default `5s`.
    #[serde(default = "default_introspection_negative")]
    pub negative_cache: HumanDuration,
    /// Tokens (answers) remembered at most. Default 10000.
    #[serde(default = "default_introspection_entries")]
    pub cache_entries: usize,
    /// Time allowed for one call to the provider. Default `3s`.
    #[serde(default = "default_introspection_timeout")]
    pub timeout: HumanDuration,
    /// Answer when the provider cannot be asked (down, timeout, garbage, our credentials
    /// refused): `503` (default: the token is neither accepted nor called invalid) or `401`.
    #[serde(default = "default_on_unavailable")]
    pub on_unavailable: String,
    /// Required `iss` in the answer, if set.
    #[serde(default)]
    pub issuer: Option<String>,
    /// If not empty, the answer's `aud` must name one of these.
    #[serde(default)]
    pub audiences: Vec<String>,
    /// Member naming the consumer: `sub` (default), `username` or `client_id`.
    #[serde(default = "default_consumer_claim")]
    pub consumer_claim: String,
    /// Longest token accepted, in bytes. Default 4096.
    #[serde(default = "default_introspection_max_token")]
    pub max_token_bytes: usize,
}

fn default_introspection_cache() -> HumanDuration {
    HumanDuration::secs(60)
}
fn default_introspection_negative() -> HumanDuration {
    HumanDuration::secs(5)
}
fn default_introspection_entries() -> usize {
    10_000
}
fn default_introspection_timeout() -> HumanDuration {
    HumanDuration::secs(3)
}
fn default_on_unavailable() -> String {
    "503".into()
}
fn default_consumer_claim() -> String {
    "sub".into()
}
fn default_introspection_max_token() -> usize {
    4096
}

fn default_jwt_algorithms() -> Vec<String> {
    vec!["ES256".into()]
}
fn default_jwt_leeway() -> HumanDuration {
    HumanDuration::secs(30)
}
fn default_jwt_max_bytes() -> usize {
    8192
}
fn default_scopes_claim() -> String {
    "scope".into()
}
fn default_roles_claim() -> String {
    "roles".into()
}

/// API-key authentication.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyAuthSpec {
    /// Request header carrying the key. Default `x-api-key`.
    #[serde(default = "default_api_key_header")]
    pub header: String,
    /// Query parameter that may carry the key instead (discouraged: URLs end up in logs and
    /// browser history; the value is always redacted in portcullis's own log). Absent: keys
    /// in the query string are refused.
    #[serde(default)]
    pub query: Option<String>,
}

/// Default API-key header.
pub const DEFAULT_API_KEY_HEADER: &str = "x-api-key";

fn default_api_key_header() -> String {
    DEFAULT_API_KEY_HEADER.into()
}

fn yes() -> bool {
    true
}

// === store ===

/// Where consumers and hashed credentials live.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreSpec {
    /// SQLite database file. Default `<data_dir>/portcullis.db`.
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// File holding the pepper (≥ 32 bytes) mixed into every API-key hash. Default: the
    /// environment variable `PORTCULLIS_PEPPER` (hex, ≥ 64 characters) if set, else
    /// `<data_dir>/pepper`, generated with mode 0600 on first use. Changing the pepper
    /// invalidates every issued key.
    #[serde(default)]
    pub pepper_file: Option<PathBuf>,
    /// File holding the AES-256 master key (32 raw bytes or 64 hex characters) that encrypts
    /// secrets the gateway must read back: TOTP seeds and HMAC signing secrets. Default: the
    /// environment variable `PORTCULLIS_MASTER_KEY` (hex). Needed only when such secrets exist.
    #[serde(default)]
    pub master_key_file: Option<PathBuf>,
    /// Earlier master keys, still accepted for reading while secrets are re-sealed under the
    /// current one (rotation; see docs/authentication.md). Default none.
    #[serde(default)]
    pub previous_master_key_files: Vec<PathBuf>,
}

// === limits ===

/// Protocol and resource limits.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitsSpec {
    /// Request head size (request line + headers) in bytes; larger gets 431. Default 16384.
    #[serde(default = "default_max_header_bytes")]
    pub max_header_bytes: usize,
    /// Number of request headers (at most 256); more gets 431. Default 100.
    #[serde(default = "default_max_headers")]
    pub max_headers: usize,
    /// Request target length in bytes; longer gets 414. Default 8192.
    #[serde(default = "default_max_uri_bytes")]
    pub max_uri_bytes: usize,
    /// Request body size in bytes for routes that set none; larger gets 413. Default 1048576.
    #[serde(default = "default_max_body_bytes")]
    pub max_body_bytes: u64,
    /// Time to receive a request head. Default `10s`.
    #[serde(default = "default_header_read_timeout")]
    pub header_read_timeout: HumanDuration,
    /// Time to receive a whole request body; slower gets 408. Default `30s`.
    #[serde(default = "default_body_read_timeout")]
    pub body_read_timeout: HumanDuration,
    /// Idle keep-alive time. Default `60s`.
    #[serde(default = "default_idle_timeout")]
    pub idle_timeout: HumanDuration,
    /// TLS handshake deadline. Default `10s`.
    #[serde(default = "default_tls_handshake_timeout")]
    pub tls_handshake_timeout: HumanDuration,
    /// Open client connections, all listeners together. Default 10000.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Open connections from one client IP. Default 256.
    #[serde(default = "default_max_connections_per_ip")]
    pub max_connections_per_ip: usize,
    /// HTTP/2 concurrent streams per connection. Default 100.
    #[serde(default = "default_h2_streams")]
    pub h2_max_concurrent_streams: u32,
    /// HTTP/2 streams reset by the client before being served, per connection, before the
    /// connection is closed (rapid-reset, CVE-2023-44487). Default 20.
    #[serde(default = "default_h2_pending_reset")]
    pub h2_max_pending_reset_streams: usize,
    /// HTTP/2 streams the server reset for protocol errors before closing the connection
    /// (MadeYouReset, CVE-2025-8671). Default 64.
    #[serde(default = "default_h2_local_reset")]
    pub h2_max_local_error_reset_streams: usize,
}

impl Default for LimitsSpec {
    fn default() -> Self {
        Self {
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
            max_headers: DEFAULT_MAX_HEADERS,
            max_uri_bytes: DEFAULT_MAX_URI_BYTES,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            tls_handshake_timeout: DEFAULT_TLS_HANDSHAKE_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_connections_per_ip: DEFAULT_MAX_CONNECTIONS_PER_IP,
            h2_max_concurrent_streams: DEFAULT_H2_MAX_CONCURRENT_STREAMS,
            h2_max_pending_reset_streams: DEFAULT_H2_MAX_PENDING_RESET_STREAMS,
            h2_max_local_error_reset_streams: DEFAULT_H2_MAX_LOCAL_ERROR_RESET_STREAMS,
        }
    }
}

fn default_max_header_bytes() -> usize {
    DEFAULT_MAX_HEADER_BYTES
}
fn default_max_headers() -> usize {
    DEFAULT_MAX_HEADERS
}
fn default_max_uri_bytes() -> usize {
    DEFAULT_MAX_URI_BYTES
}
fn default_max_body_bytes() -> u64 {
    DEFAULT_MAX_BODY_BYTES
}
fn default_header_read_timeout() -> HumanDuration {
    DEFAULT_HEADER_READ_TIMEOUT
}
fn default_body_read_timeout() -> HumanDuration {
    DEFAULT_BODY_READ_TIMEOUT
}
fn default_idle_timeout() -> HumanDuration {
    DEFAULT_IDLE_TIMEOUT
}
fn default_tls_handshake_timeout() -> HumanDuration {
    DEFAULT_TLS_HANDSHAKE_TIMEOUT
}
fn default_max_connections() -> usize {
    DEFAULT_MAX_CONNECTIONS
}
fn default_max_connections_per_ip() -> usize {
    DEFAULT_MAX_CONNECTIONS_PER_IP
}
fn default_h2_streams() -> u32 {
    DEFAULT_H2_MAX_CONCURRENT_STREAMS
}
fn default_h2_pending_reset() -> usize {
    DEFAULT_H2_MAX_PENDING_RESET_STREAMS
}
fn default_h2_local_reset() -> usize {
    DEFAULT_H2_MAX_LOCAL_ERROR_RESET_STREAMS
}

// === client address, IP policy ===

/// How the client address is found.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientIpSpec {
    /// CIDRs of proxies whose `X-Forwarded-For` / `Forwarded` headers are believed. From any
    /// other peer these headers are ignored and stripped. Default: none.
    #[serde(default)]
    pub trusted_proxies: Vec<Cidr>,
}

/// IP allow and deny lists. A deny match refuses; a non-empty allow list refuses every
/// address it does not contain. IPv4 and IPv6 CIDRs; a bare address means /32 or /128.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IpPolicySpec {
    /// Only these networks are admitted (empty: all).
    #[serde(default)]
    pub allow: Vec<Cidr>,
    /// These networks are refused, even if allowed.
    #[serde(default)]
    pub deny: Vec<Cidr>,
}

// === response headers ===

/// Security headers the gateway adds to every response, and fingerprinting headers it removes.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecurityHeadersSpec {
    /// `Strict-Transport-Security` on HTTPS responses.
    #[serde(default)]
    pub hsts: HstsSpec,
    /// `X-Content-Type-Options: nosniff`. Default true.
    #[serde(default = "yes")]
    pub content_type_options: bool,
    /// `X-Frame-Options: DENY` and `Content-Security-Policy: frame-ancestors 'none'`
    /// (API responses are never meant to be framed). Default true.
    #[serde(default = "yes")]
    pub frame_options: bool,
    /// `Referrer-Policy: no-referrer`. Default true.
    #[serde(default = "yes")]
    pub referrer_policy: bool,
    /// `Cache-Control: no-store` on responses of routes that require authentication.
    /// Default true.
    #[serde(default = "yes")]
    pub no_store_when_authenticated: bool,
    /// Response headers removed because they fingerprint the stack. Default: `Server`,
    /// `X-Powered-By`, `X-AspNet-Version`, `X-AspNetMvc-Version`, `X-Runtime`, `X-Generator`,
    /// `X-Drupal-Cache`, `X-Varnish`, `Via`.
    #[serde(default = "default_strip_headers")]
    pub strip: Vec<String>,
}

impl Default for SecurityHeadersSpec {
    fn default() -> Self {
        Self {
            hsts: HstsSpec::default(),
            content_type_options: true,
            frame_options: true,
            referrer_policy: true,
            no_store_when_authenticated: true,
            strip: default_strip_headers(),
        }
    }
}

fn default_strip_headers() -> Vec<String> {
    [
        "server",
        "x-powered-by",
        "x-aspnet-version",
        "x-aspnetmvc-version",
        "x-runtime",
        "x-generator",
        "x-drupal-cache",
        "x-varnish",
        "via",
    ]
    .into_iter()
    .map(String::from)
    .collect()
}

/// HTTP Strict Transport Security.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HstsSpec {
    /// Send the header on HTTPS responses. Default true.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// `max-age`. Default `365d`.
    #[serde(default = "default_hsts_max_age")]
    pub max_age: HumanDuration,
    /// Add `includeSubDomains`. Default true.
    #[serde(default = "yes")]
    pub include_subdomains: bool,
    /// Add `preload`. Default false (preloading is hard to undo).
    #[serde(default)]
    pub preload: bool,
}

impl Default for HstsSpec {
    fn default() -> Self {
        Self {
            enabled: true,
            max_age: DEFAULT_HSTS_MAX_AGE,
            include_subdomains: true,
            preload: false,
        }
    }
}

fn default_hsts_max_age() -> HumanDuration {
    DEFAULT_HSTS_MAX_AGE
}

// === request ids, logging, admin, shutdown ===

/// Request ids.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestIdSpec {
    /// Header carrying the id to the upstream and back to the client. Default `x-request-id`.
    #[serde(default = "default_request_id_header")]
    pub header: String,
}

impl Default for RequestIdSpec {
    fn default() -> Self {
        Self {
            header: DEFAULT_REQUEST_ID_HEADER.into(),
        }
    }
}

fn default_request_id_header() -> String {
    DEFAULT_REQUEST_ID_HEADER.into()
}

/// Logging.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoggingSpec {
    /// Minimum level of the gateway's own log: `error`, `warn`, `info`, `debug`, `trace`.
    /// The `RUST_LOG` environment variable overrides it. Default `info`.
    #[serde(default = "default_level")]
    pub level: String,
    /// `json` (one object per line) or `text`. Default `json`.
    #[serde(default)]
    pub format: LogFormat,
    /// Write one access-log line per request (target `portcullis::access`). Default true.
    #[serde(default = "yes")]
    pub access_log: bool,
    /// Extra request headers whose values are redacted in every log line, on top of the
    /// built-in list (`authorization`, `proxy-authorization`, `cookie`, `set-cookie`,
    /// `x-api-key`, `api-key`, `x-auth-token`, `x-otp`).
    #[serde(default)]
    pub redact_headers: Vec<String>,
}

impl Default for LoggingSpec {
    fn default() -> Self {
        Self {
            level: default_level(),
            format: LogFormat::Json,
            access_log: true,
            redact_headers: Vec::new(),
        }
    }
}

fn default_level() -> String {
    "info".into()
}

/// Log line format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// JSON lines.
    #[default]
    Json,
    /// Human-readable text.
    Text,
}

/// The admin listener.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdminSpec {
    /// Serve the admin endpoints. Default true.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Address; loopback by default so it is never exposed by accident. Default
    /// `127.0.0.1:9901`.
    #[serde(default = "default_admin_address")]
    #[schemars(with = "String")]
    pub address: SocketAddr,
    /// SHA-256 (hex) of the admin API token (`portcullis admin-token` makes one). Without it
    /// the admin API (`/admin/v1/...`) is off; health, readiness and metrics stay open.
    #[serde(default)]
    pub token_sha256: Option<String>,
    /// Serve the admin listener over TLS (same settings as a listener's `tls`). With
    /// `client_auth`, a client certificate verified in the handshake is an admin API
    /// credential: instead of the token, or with it (`require_token_and_certificate`), and
    /// it turns the admin API on even without `token_sha256`. Default: plain HTTP.
    #[serde(default)]
    pub tls: Option<TlsSpec>,
    /// The admin API needs both the token and a verified client certificate (needs
    /// `token_sha256` and `tls.client_auth`). Default false: either one is enough.
    #[serde(default)]
    pub require_token_and_certificate: bool,
}

impl Default for AdminSpec {
    fn default() -> Self {
        Self {
            enabled: true,
            address: default_admin_address(),
            token_sha256: None,
            tls: None,
            require_token_and_certificate: false,
        }
    }
}

fn default_admin_address() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 9901))
}

/// Shutdown.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShutdownSpec {
    /// On SIGTERM / SIGINT, stop accepting and let in-flight requests finish for at most this
    /// long. Default `30s`.
    #[serde(default = "default_drain_timeout")]
    pub drain_timeout: HumanDuration,
}

impl Default for ShutdownSpec {
    fn default() -> Self {
        Self {
            drain_timeout: DEFAULT_DRAIN_TIMEOUT,
        }
    }
}

fn default_drain_timeout() -> HumanDuration {
    DEFAULT_DRAIN_TIMEOUT
}
