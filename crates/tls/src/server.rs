//! [`ServerTls`]: a listener's rustls configuration, built from its [`TlsSpec`] and kept
//! current by [`ServerTls::reload`].

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use portcullis_config::TlsSpec;
use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::server::danger::ClientCertVerifier;
use tokio_rustls::TlsAcceptor;

use crate::TlsError;
use crate::dev::{self, DevCertificate};
use crate::load::{PairPaths, load_pair};
use crate::provider::{protocol_versions, shared_provider};
use crate::resolver::{CertSet, LoadedPair, SniResolver};
use crate::watch::CertWatcher;

/// Application protocols offered by ALPN, in server preference order.
pub const ALPN_PROTOCOLS: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// How often the watcher compares the certificate files with what was loaded.
pub const DEFAULT_WATCH_INTERVAL: Duration = Duration::from_secs(1);

/// Client-certificate (mTLS) policy of a listener.
///
/// **Extension point.** Today listeners do not ask for client certificates. The mTLS issue
/// adds a config field (CA bundle, CRLs, required/optional) and builds a
/// [`Verifier`](ClientAuth::Verifier) from it with
/// `rustls::server::WebPkiClientVerifier::builder_with_provider(roots, provider)`, adding
/// `.allow_unauthenticated()` when a certificate is optional (routes then decide). Nothing
/// else here changes: the verified chain already flows into
/// [`TlsInfo::client_certs`](portcullis_core::TlsInfo) through [`crate::tls_info`].
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum ClientAuth {
    /// Do not request a client certificate.
    #[default]
    None,
    /// Request one and verify it with this verifier (which decides whether it is mandatory).
    Verifier(Arc<dyn ClientCertVerifier>),
}

impl fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientAuth::None => f.write_str("None"),
            ClientAuth::Verifier(v) => f.debug_tuple("Verifier").field(v).finish(),
        }
    }
}

/// Where one certificate of the listener comes from.
#[derive(Clone, Debug)]
struct Source {
    paths: PairPaths,
    server_names: Vec<String>,
}

struct Inner {
    provider: Arc<CryptoProvider>,
    sources: Vec<Source>,
    resolver: Arc<SniResolver>,
    config: Arc<ServerConfig>,
    dev: Option<DevCertificate>,
    watch: bool,
    /// Serialises reloads (watcher and manual), so an older, slower reload cannot overwrite a
    /// newer one.
    reload_lock: Mutex<()>,
}

/// The TLS side of one listener: a rustls [`ServerConfig`] with the restricted provider,
/// ALPN `h2`/`http/1.1`, and an SNI certificate resolver whose certificates can be reloaded
/// from disk while connections are being served.
///
/// Cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct ServerTls {
    inner: Arc<Inner>,
}

impl fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerTls")
            .field("resolver", &self.inner.resolver)
            .field("dev", &self.inner.dev)
            .field("watch", &self.inner.watch)
            .finish_non_exhaustive()
    }
}

// === impl ServerTls ===

impl ServerTls {
    /// Builds the TLS configuration of a listener without client authentication.
    ///
    /// With no `certificates` this is dev mode: a self-signed certificate under
    /// `<data_dir>/dev-tls/` is loaded, or generated on first start (see
    /// [`ServerTls::dev_certificate`] for its fingerprint). Certificate paths are used as
    /// given; resolving them against the config file's directory is the config crate's job.
    pub fn new(spec: &TlsSpec, data_dir: &Path) -> Result<Self, TlsError> {
        Self::with_client_auth(spec, data_dir, ClientAuth::None)
    }

    /// As [`ServerTls::new`], with a client-certificate policy (see [`ClientAuth`]).
    pub fn with_client_auth(
        spec: &TlsSpec,
        data_dir: &Path,
        client_auth: ClientAuth,
    ) -> Result<Self, TlsError> {
        let provider = shared_provider(spec.min_version);
        let (sources, dev) = if spec.certificates.is_empty() {
            let dev = dev::load_or_generate(data_dir)?;
            if dev.generated {
                tracing::info!(
                    target: "portcullis::tls",
                    cert = %dev.cert_file.display(),
                    fingerprint = %dev.fingerprint,
                    "generated self-signed dev certificate"
                );
            }
            let source = Source {
                paths: PairPaths {
                    cert: dev.cert_file.clone(),
                    key: dev.key_file.clone(),
                },
                server_names: Vec::new(),
            };
            (vec![source], Some(dev))
        } else {
            let sources = spec
                .certificates
                .iter()
                .map(|c| Source {
                    paths: PairPaths {
                        cert: c.cert_file.clone(),
                        key: c.key_file.clone(),
                    },
                    server_names: c.server_names.clone(),
                })
                .collect();
            (sources, None)
        };

        let resolver = Arc::new(SniResolver::new(load_all(&provider, &sources)?));
        let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_protocol_versions(protocol_versions(spec.min_version))
            .map_err(TlsError::Config)?;
        let builder = match client_auth {
            ClientAuth::None => builder.with_no_client_auth(),
            ClientAuth::Verifier(verifier) => builder.with_client_cert_verifier(verifier),
        };
        let mut config = builder.with_cert_resolver(Arc::clone(&resolver) as _);
        config.alpn_protocols = ALPN_PROTOCOLS.iter().map(|p| p.to_vec()).collect();
        // 0-RTT stays off (rustls default, `max_early_data_size = 0`): early data is
        // replayable and the gateway forwards non-idempotent requests.

        Ok(Self {
            inner: Arc::new(Inner {
                provider,
                sources,
                resolver,
                config: Arc::new(config),
                dev,
                watch: spec.watch,
                reload_lock: Mutex::new(()),
            }),
        })
    }

    /// The rustls configuration, for a `TlsAcceptor` or a hand-rolled accept loop.
    pub fn server_config(&self) -> Arc<ServerConfig> {
        Arc::clone(&self.inner.config)
    }

    /// A tokio-rustls acceptor over [`ServerTls::server_config`]. Reloads are visible to it.
    pub fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(self.server_config())
    }

    /// The certificate resolver (for diagnostics: which chain a name gets).
    pub fn resolver(&self) -> &SniResolver {
        &self.inner.resolver
    }

    /// The dev certificate, if the listener is in dev mode. The binary prints its
    /// fingerprint so a developer can check what the browser shows.
    pub fn dev_certificate(&self) -> Option<&DevCertificate> {
        self.inner.dev.as_ref()
    }

    /// All certificate and key files this listener reads, in configuration order.
    pub fn files(&self) -> Vec<PathBuf> {
        self.inner
            .sources
            .iter()
            .flat_map(|s| [s.paths.cert.clone(), s.paths.key.clone()])
            .collect()
    }

    /// Re-reads every certificate and key file and swaps them in at once.
    ///
    /// All or nothing: if any file fails to load, the certificates served so far stay in
    /// place and the error (naming the file) is returned. Handshakes already past certificate
    /// selection finish with the old certificate.
    pub fn reload(&self) -> Result<(), TlsError> {
        let _guard = self
            .inner
            .reload_lock
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let set = load_all(&self.inner.provider, &self.inner.sources)?;
        self.inner.resolver.replace(set);
        Ok(())
    }

    /// Starts the file watcher if the spec asks for it (`watch: true`, the default) and the
    /// listener is not in dev mode (the dev certificate is ours and does not change).
    ///
    /// The watcher lives as long as the returned handle; see [`CertWatcher`].
    pub fn spawn_watcher(&self) -> Result<Option<CertWatcher>, TlsError> {
        if !self.inner.watch || self.inner.dev.is_some() {
            return Ok(None);
        }
        self.spawn_watcher_every(DEFAULT_WATCH_INTERVAL).map(Some)
    }

    /// Starts the file watcher unconditionally, polling every `interval`.
    pub fn spawn_watcher_every(&self, interval: Duration) -> Result<CertWatcher, TlsError> {
        CertWatcher::spawn(self.clone(), interval)
    }
}

fn load_all(provider: &CryptoProvider, sources: &[Source]) -> Result<CertSet, TlsError> {
    let pairs = sources
        .iter()
        .map(|s| {
            Ok(LoadedPair {
                key: load_pair(provider, &s.paths.cert, &s.paths.key)?,
                server_names: s.server_names.clone(),
                paths: s.paths.clone(),
            })
        })
        .collect::<Result<Vec<_>, TlsError>>()?;
    CertSet::new(pairs)
}
