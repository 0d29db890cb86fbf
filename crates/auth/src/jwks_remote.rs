//! An issuer's keys fetched over the network: a JWKS URL, or the `jwks_uri` of its OpenID
//! Connect discovery document.
//!
//! Why it is shaped like this:
//! - keys are fetched in the background at start and every `jwks_refresh`; nothing in a token
//!   (`jku`, `x5u`, `exp`, `kid`) decides where or when to fetch;
//! - a token naming an unknown `kid` may trigger one extra fetch (the issuer rotated keys),
//!   but at most once per `jwks_min_refresh_interval` for all requests together, so a flood
//!   of made-up `kid`s costs the issuer one request per interval;
//! - a failed fetch (provider down, status ≠ 200, garbage, a set without usable keys) never
//!   replaces keys: the last good set stays until a good one arrives;
//! - the last good set of each source also survives a config reload (a process-wide
//!   registry), so a reload does not open a window where every token is refused.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock, Weak};
use std::time::{Duration, Instant};

use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet, PublicKeyUse};
use portcullis_config::JwtAuthSpec;
use serde_json::Value;

use crate::remote::ProviderClient;

/// A verification key and the `kid` it was published under.
pub(crate) type VerifyKey = (Option<String>, DecodingKey);

/// Largest discovery document or JWKS accepted (real ones are a few KiB).
const MAX_DOCUMENT_BYTES: usize = 256 * 1024;
/// Time allowed for one fetch (connect, request, answer).
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// First retry after a failed fetch; doubled up to `jwks_refresh`.
const FIRST_RETRY: Duration = Duration::from_secs(1);

/// Where the keys come from.
enum Source {
    Jwks(String),
    Discovery { url: String, issuer: String },
}

impl Source {
    /// The registry key: the same source in the next config version finds its last keys.
    fn id(&self) -> String {
        match self {
            Self::Jwks(u) => format!("jwks {u}"),
            Self::Discovery { url, issuer } => format!("discovery {url} {issuer}"),
        }
    }
}

/// Last good key set per source, shared by config versions.
fn registry() -> &'static Mutex<HashMap<String, Arc<Vec<VerifyKey>>>> {
    static REGISTRY: OnceLock<Mutex<HashMap<String, Arc<Vec<VerifyKey>>>>> = OnceLock::new();
    REGISTRY.get_or_init(|| Mutex::new(HashMap::new()))
}

/// One issuer's remote key set with its refresh policy.
pub struct RemoteKeys {
    source: Source,
    client: ProviderClient,
    keys: RwLock<Arc<Vec<VerifyKey>>>,
    refresh: Duration,
    min_interval: Duration,
    /// When the last fetch started (any cause).
    last_attempt: Mutex<Option<Instant>>,
    /// One fetch at a time; requests waiting for a refresh queue here and find it done.
    fetching: tokio::sync::Mutex<()>,
    fetches: AtomicU64,
}

impl RemoteKeys {
    /// The key source of `spec`, if it names `jwks_url` or `discovery_url`. Keys start from
    /// the last good set of the same source (a previous config version), else empty.
    pub fn from_spec(spec: &JwtAuthSpec) -> Result<Option<Arc<Self>>, String> {
        let source = match (&spec.jwks_url, &spec.discovery_url) {
            (Some(u), None) => Source::Jwks(u.clone()),
            (None, Some(u)) => Source::Discovery {
                url: u.clone(),
                issuer: spec.issuer.clone(),
            },
            (None, None) => return Ok(None),
            (Some(_), Some(_)) => return Err("name jwks_url or discovery_url, not both".into()),
        };
        for url in spec.jwks_url.iter().chain(&spec.discovery_url) {
            if let Some(problem) = portcullis_config::remote_url_problem(url) {
                return Err(problem);
            }
        }
        let client = ProviderClient::new(spec.ca_file.as_deref(), FETCH_TIMEOUT)?;
        let previous = registry()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&source.id())
            .cloned()
            .unwrap_or_default();
        Ok(Some(Arc::new(Self {
            source,
            client,
            keys: RwLock::new(previous),
            refresh: spec.jwks_refresh.get(),
            min_interval: spec.jwks_min_refresh_interval.get(),
            last_attempt: Mutex::new(None),
            fetching: tokio::sync::Mutex::new(()),
            fetches: AtomicU64::new(0),
        })))
    }

    /// Starts the background fetcher if a tokio runtime is running (it is in the gateway;
    /// unit tests without one fetch on demand only). The task holds a weak reference and
    /// ends once the config version owning these keys is gone.
    pub fn start(self: &Arc<Self>) {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let weak: Weak<Self> = Arc::downgrade(self);
        handle.spawn(async move {
            let mut retry = FIRST_RETRY;
            loop {
                let Some(me) = weak.upgrade() else { return };
                let ok = me.refresh_now().await;
                let wait = if ok {
                    retry = FIRST_RETRY;
                    me.refresh
                } else {
                    let w = retry;
                    retry = retry.saturating_mul(2).min(me.refresh);
                    w
                };
                drop(me);
                tokio::time::sleep(wait).await;
            }
        });
    }

    /// The current key set (possibly empty before the first good fetch).
    pub(crate) fn current(&self) -> Arc<Vec<VerifyKey>> {
        self.keys
            .read()
            .map_or_else(|p| p.into_inner().clone(), |k| k.clone())
    }

    /// Whether a good key set has been installed (this or a previous config version).
    pub fn has_keys(&self) -> bool {
        !self.current().is_empty()
    }

    /// Fetches started so far (for tests and metrics).
    pub fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// Whether a token with an unknown `kid` may cause a fetch now (none started within
    /// `jwks_min_refresh_interval`). Cheap; checked before any waiting.
    pub fn may_refresh(&self) -> bool {
        self.last_attempt
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_none_or(|t| t.elapsed() >= self.min_interval)
    }

    /// The refresh for an unknown `kid` (or for the first keys): waits for a fetch in
    /// progress, and fetches only if still allowed afterwards (so concurrent callers cause one
    /// fetch). Bounded by the fetch timeout.
    pub async fn refresh_for_unknown_kid(&self) {
        let _one = self.fetching.lock().await;
        if self.may_refresh() {
            self.fetch_locked().await;
        }
    }

    /// Fetches now (the periodic refresh). True if a good set was installed.
    async fn refresh_now(&self) -> bool {
        let _one = self.fetching.lock().await;
        self.fetch_locked().await
    }

    async fn fetch_locked(&self) -> bool {
        *self.last_attempt.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
        self.fetches.fetch_add(1, Ordering::Relaxed);
        match self.fetch().await {
            Ok(keys) => {
                let keys = Arc::new(keys);
                tracing::debug!(source = %self.source.id(), keys = keys.len(), "issuer keys fetched");
                registry()
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(self.source.id(), keys.clone());
                *self.keys.write().unwrap_or_else(|p| p.into_inner()) = keys;
                true
            }
            Err(e) => {
                tracing::warn!(
                    source = %self.source.id(),
                    error = %e,
                    kept = self.current().len(),
                    "issuer keys not refreshed; keeping the last good set"
                );
                false
            }
        }
    }

    async fn fetch(&self) -> Result<Vec<VerifyKey>, String> {
        let jwks_url = match &self.source {
            Source::Jwks(u) => u.clone(),
            Source::Discovery { url, issuer } => {
                let doc = self.client.get_json(url, MAX_DOCUMENT_BYTES).await?;
                jwks_uri_from_discovery(&doc, issuer)?
            }
        };
        let doc = self.client.get_json(&jwks_url, MAX_DOCUMENT_BYTES).await?;
        keys_from_jwks(doc)
    }
}

/// The `jwks_uri` of a discovery document whose `issuer` is exactly `issuer` (OpenID Connect
/// Discovery §4.3: a document for another issuer must not be used).
pub(crate) fn jwks_uri_from_discovery(doc: &Value, issuer: &str) -> Result<String, String> {
    let found = doc.get("issuer").and_then(Value::as_str);
    if found != Some(issuer) {
        return Err(format!(
            "discovery document names issuer {found:?}, configured `{issuer}`"
        ));
    }
    let uri = doc
        .get("jwks_uri")
        .and_then(Value::as_str)
        .ok_or("discovery document has no jwks_uri")?;
    if let Some(problem) = portcullis_config::remote_url_problem(uri) {
        return Err(format!("discovery jwks_uri: {problem}"));
    }
    Ok(uri.to_string())
}

/// The signature keys of a JWKS: encryption keys and symmetric (`oct`) keys are skipped (a
/// remote source is never an HMAC source), keys that do not parse are skipped; a set with no
/// usable key is an error (and keeps the previous set).
pub(crate) fn keys_from_jwks(doc: Value) -> Result<Vec<VerifyKey>, String> {
    let set: JwkSet = serde_json::from_value(doc).map_err(|e| format!("not a JWKS: {e}"))?;
    let keys: Vec<VerifyKey> = set
        .keys
        .iter()
        .filter(|k| !matches!(k.common.public_key_use, Some(PublicKeyUse::Encryption)))
        .filter(|k| !matches!(k.algorithm, AlgorithmParameters::OctetKey(_)))
        .filter_map(|k| {
            DecodingKey::from_jwk(k)
                .ok()
                .map(|d| (k.common.key_id.clone(), d))
        })
        .collect();
    if keys.is_empty() {
        return Err("the JWKS holds no usable signature key".into());
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn discovery_for_another_issuer_is_refused() {
        let doc = json!({"issuer": "https://evil.example", "jwks_uri": "https://evil.example/k"});
        assert!(jwks_uri_from_discovery(&doc, "https://idp.example").is_err());
        let doc = json!({"issuer": "https://idp.example", "jwks_uri": "https://idp.example/k"});
        assert_eq!(
            jwks_uri_from_discovery(&doc, "https://idp.example").unwrap(),
            "https://idp.example/k"
        );
    }

    #[test]
    fn discovery_pointing_to_plain_http_elsewhere_is_refused() {
        let doc = json!({"issuer": "https://idp.example", "jwks_uri": "http://idp.example/k"});
        assert!(jwks_uri_from_discovery(&doc, "https://idp.example").is_err());
        let doc = json!({"issuer": "https://idp.example", "jwks_uri": "http://127.0.0.1:9/k"});
        assert!(jwks_uri_from_discovery(&doc, "https://idp.example").is_ok());
    }

    #[test]
    fn garbage_and_symmetric_sets_are_refused() {
        assert!(keys_from_jwks(json!({"nope": 1})).is_err());
        assert!(keys_from_jwks(json!({"keys": []})).is_err());
        let oct = json!({"keys": [{"kty": "oct", "kid": "h", "k": "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}]});
        assert!(keys_from_jwks(oct).is_err());
    }

    #[test]
    fn signature_keys_are_kept_with_their_kid() {
        // A P-256 public key (RFC 7515 A.3).
        let ec = json!({"keys": [
            {"kty": "EC", "crv": "P-256", "kid": "a", "use": "sig",
             "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
             "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
            {"kty": "EC", "crv": "P-256", "kid": "enc", "use": "enc",
             "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
             "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}
        ]});
        let keys = keys_from_jwks(ec).unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].0.as_deref(), Some("a"));
    }
}
