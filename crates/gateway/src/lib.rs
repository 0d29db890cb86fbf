//! The portcullis data plane.
//!
//! [`Gateway::start`] binds the listeners and the admin listener of a loaded config and serves
//! until [`Gateway::shutdown`] (or a signal, through [`Gateway::run_until_signal`]). A request's
//! way is described in `docs/lifecycle.md`; in code: [`listener`] (accept, caps, TLS, framing
//! sentinel, hyper) → [`handler`] (request id, client address, path safety, router, guard
//! chain, body, upstream, response guards) → [`observe`] (access log and metrics at the end
//! of the response body).
//!
//! Config versions are compiled into a [`runtime::RuntimeConfig`] and swapped atomically; a
//! request keeps the version it started with until its log line is written.

pub mod admin_api;
mod body;
pub mod client_addr;
pub mod conn_limits;
pub mod handler;
pub mod listener;
pub mod observe;
pub mod path;
pub mod problem;
pub mod reload;
pub mod router;
pub mod runtime;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use arc_swap::ArcSwap;
use portcullis_config::Loaded;
use portcullis_telemetry::Metrics;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::conn_limits::ConnLimits;
use crate::listener::BoundListener;
use crate::runtime::{CompileError, RuntimeConfig};

/// State shared by every connection of the gateway.
pub struct Shared {
    /// The current config version.
    pub config: ArcSwap<RuntimeConfig>,
    /// Metrics registry.
    pub metrics: Metrics,
    /// Connection caps (sized from the config at start; changing them needs a restart).
    pub conn_limits: ConnLimits,
    /// Last config version number.
    pub version: AtomicU64,
    /// Ready for traffic (readiness probe).
    pub ready: Arc<AtomicBool>,
    /// Store and pepper, when a route uses them.
    pub services: Option<runtime::Services>,
    /// The config file, for reloads (`None`: embedded config, no reloads).
    pub config_path: Option<PathBuf>,
}

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The config compiled into an unusable runtime.
    #[error("config: {0}")]
    Compile(#[from] CompileError),
    /// A listener could not be bound.
    #[error("listener `{id}` on {address}: {source}")]
    Bind {
        /// Listener id.
        id: String,
        /// Address.
        address: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The credential store or pepper could not be opened.
    #[error("credential store: {0}")]
    Services(String),
    /// TLS setup failed (certificate files, dev certificate).
    #[error("listener `{id}`: TLS: {source}")]
    Tls {
        /// Listener id.
        id: String,
        /// What failed.
        source: portcullis_tls::TlsError,
    },
}

/// A running gateway.
pub struct Gateway {
    shared: Arc<Shared>,
    shutdown: CancellationToken,
    tracker: TaskTracker,
    admin_shutdown: CancellationToken,
    addresses: Vec<(String, SocketAddr)>,
    admin_address: Option<SocketAddr>,
    tls: Vec<Arc<portcullis_tls::ServerTls>>,
    _cert_watchers: Vec<portcullis_tls::CertWatcher>,
}

impl Gateway {
    /// Compiles the loaded config, binds every listener (TLS set up, dev certificate generated
    /// if needed) and the admin listener, and starts serving.
    pub async fn start(loaded: Loaded, config_path: Option<&Path>) -> Result<Self, StartError> {
        let spec = loaded.spec;
        let metrics = Metrics::new(env!("CARGO_PKG_VERSION"));
        let conn_limits = ConnLimits::new(
            spec.limits.max_connections,
            spec.limits.max_connections_per_ip,
        );
        let listeners = spec.listeners.clone();
        let admin = spec.admin.clone();
        let data_dir = spec.data_dir.clone();
        let services = Some(runtime::Services::open(&spec).map_err(StartError::Services)?);
        if let Some(q) = services.as_ref().and_then(|s| s.quotas.as_ref()) {
            q.start_flusher();
        }
        if let Some(r) = services.as_ref().and_then(|s| s.revocations.as_ref()) {
            r.start_refresher();
        }
        let runtime = RuntimeConfig::compile(spec, 1, services.as_ref())?;
        metrics.config_loaded(1, true);
        let shared = Arc::new(Shared {
            config: ArcSwap::from_pointee(runtime),
            metrics: metrics.clone(),
            conn_limits,
            version: AtomicU64::new(1),
            ready: Arc::new(AtomicBool::new(false)),
            services,
            config_path: config_path.map(Path::to_path_buf),
        });

        let mut bound = Vec::new();
        let mut addresses = Vec::new();
        let mut tls_states = Vec::new();
        let mut watchers = Vec::new();
        for l in listeners {
            let tcp = TcpListener::bind(l.address)
                .await
                .map_err(|source| StartError::Bind {
                    id: l.id.clone(),
                    address: l.address,
                    source,
                })?;
            let local = tcp.local_addr().unwrap_or(l.address);
            let tls = match &l.tls {
                Some(spec) => {
                    let tls_error = |source| StartError::Tls {
                        id: l.id.clone(),
                        source,
                    };
                    let client_auth = match &spec.client_auth {
                        Some(ca) => {
                            portcullis_tls::client_auth(ca, spec.min_version).map_err(tls_error)?
                        }
                        None => portcullis_tls::ClientAuth::None,
                    };
                    let state =
                        portcullis_tls::ServerTls::with_client_auth(spec, &data_dir, client_auth)
                            .map_err(tls_error)?;
                    if let Some(dev) = state.dev_certificate() {
                        tracing::warn!(
                            listener = %l.id,
                            sha256_fingerprint = %dev.fingerprint,
                            cert_file = %dev.cert_file.display(),
                            "no certificate configured: serving a self-signed development certificate"
                        );
                    }
                    match state.spawn_watcher() {
                        Ok(Some(w)) => watchers.push(w),
                        Ok(None) => {}
                        Err(e) => {
                            tracing::warn!(listener = %l.id, error = %e, "certificate watching unavailable")
                        }
                    }
                    let state = Arc::new(state);
                    tls_states.push(state.clone());
                    Some(state)
                }
                None => None,
            };
            tracing::info!(listener = %l.id, address = %local, tls = tls.is_some(), "listener bound");
            addresses.push((l.id.clone(), local));
            bound.push(BoundListener { spec: l, tcp, tls });
        }

        let shutdown = CancellationToken::new();
        let admin_shutdown = CancellationToken::new();
        let tracker = TaskTracker::new();
        let mut admin_address = None;
        if admin.enabled {
            let tcp =
                TcpListener::bind(admin.address)
                    .await
                    .map_err(|source| StartError::Bind {
                        id: "admin".into(),
                        address: admin.address,
                        source,
                    })?;
            let local = tcp.local_addr().unwrap_or(admin.address);
            tracing::info!(listener = "admin", address = %local, "listener bound");
            admin_address = Some(local);
            let state = admin_state(&shared);
            let token = admin_shutdown.clone();
            let tls = match &admin.tls {
                Some(spec) => {
                    let tls_error = |source| StartError::Tls {
                        id: "admin".into(),
                        source,
                    };
                    let client_auth = match &spec.client_auth {
                        Some(ca) => {
                            portcullis_tls::client_auth(ca, spec.min_version).map_err(tls_error)?
                        }
                        None => portcullis_tls::ClientAuth::None,
                    };
                    let state =
                        portcullis_tls::ServerTls::with_client_auth(spec, &data_dir, client_auth)
                            .map_err(tls_error)?;
                    // The admin listener speaks HTTP/1.1 only: offer nothing else in ALPN.
                    let mut config = (*state.server_config()).clone();
                    config.alpn_protocols = vec![b"http/1.1".to_vec()];
                    Some(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
                }
                None => None,
            };
            tokio::spawn(portcullis_admin::serve_tls(tcp, state, tls, async move {
                token.cancelled().await
            }));
        }
        for b in bound {
            tokio::spawn(listener::run(
                b,
                shared.clone(),
                shutdown.clone(),
                tracker.clone(),
            ));
        }
        tokio::spawn(reload::watch(shared.clone(), shutdown.clone()));
        shared.ready.store(true, Ordering::SeqCst);
        Ok(Self {
            shared,
            shutdown,
            tracker,
            admin_shutdown,
            addresses,
            admin_address,
            tls: tls_states,
            _cert_watchers: watchers,
        })
    }

    /// The bound address of each listener, by id.
    pub fn addresses(&self) -> &[(String, SocketAddr)] {
        &self.addresses
    }

    /// The bound admin address.
    pub fn admin_address(&self) -> Option<SocketAddr> {
        self.admin_address
    }

    /// The shared state (for reload and tests).
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Serves until SIGTERM or SIGINT, reloading on SIGHUP, then drains.
    pub async fn run_until_signal(self) {
        reload::wait_for_termination(&self.shared).await;
        self.shutdown().await;
    }

    /// Stops accepting, lets in-flight requests finish within the drain deadline, then stops.
    pub async fn shutdown(self) {
        self.shared.ready.store(false, Ordering::SeqCst);
        let drain = self.shared.config.load().spec.shutdown.drain_timeout.get();
        tracing::info!(drain_timeout = ?drain, "shutting down: draining connections");
        self.shutdown.cancel();
        self.tracker.close();
        if tokio::time::timeout(drain, self.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!("drain deadline passed; closing remaining connections");
        }
        if let Some(q) = self.shared.services.as_ref().and_then(|s| s.quotas.clone()) {
            match tokio::task::spawn_blocking(move || q.flush()).await {
                Ok(Ok(())) => {}
                _ => tracing::error!("quota counts could not be written at shutdown"),
            }
        }
        self.admin_shutdown.cancel();
        drop(self.tls);
    }
}

fn admin_state(shared: &Arc<Shared>) -> portcullis_admin::AdminState {
    let weak = Arc::downgrade(shared);
    let hook: Arc<dyn Fn() + Send + Sync> = Arc::new(move || {
        if let Some(shared) = weak.upgrade() {
            let rt = shared.config.load();
            let mut health = Vec::new();
            for (id, upstream) in &rt.upstreams {
                for t in upstream.health() {
                    health.push((id.clone(), t.target.to_string(), t.healthy && !t.ejected));
                }
            }
            shared.metrics.set_upstream_health(health);
        }
    });
    let state = portcullis_admin::AdminState::new(shared.metrics.clone(), shared.ready.clone())
        .with_before_scrape(hook);
    // The admin API: only with a configured token hash and an open store.
    let token = shared
        .config
        .load()
        .spec
        .admin
        .token_sha256
        .as_deref()
        .and_then(hex32);
    let services = shared.services.as_ref();
    let state = match services.map(|s| &s.identity_signers) {
        Some(signers) if !signers.is_empty() => {
            let list: Vec<_> = signers.values().cloned().collect();
            state.with_jwks(portcullis_auth::identity_token::jwks(&list))
        }
        _ => state,
    };
    let admin = &shared.config.load().spec.admin;
    let client_certificate = admin.tls.as_ref().is_some_and(|t| t.client_auth.is_some());
    let credentials = portcullis_admin::ApiCredentials {
        token_sha256: token,
        client_certificate,
        require_both: admin.require_token_and_certificate,
    };
    match (
        token.is_some() || client_certificate,
        services.and_then(|s| s.store.clone()),
        services.and_then(|s| s.pepper.clone()),
    ) {
        (true, Some(store), Some(pepper)) => state.with_api_credentials(
            credentials,
            admin_api::AdminApi {
                store,
                pepper,
                quotas: services.and_then(|s| s.quotas.clone()),
            }
            .handler(),
        ),
        _ => state,
    }
}

/// 64 hex digits as 32 bytes.
fn hex32(text: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    if text.len() != 64 {
        return None;
    }
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}
