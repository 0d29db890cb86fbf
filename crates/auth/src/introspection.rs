//! OAuth2 token introspection (RFC 7662): opaque bearer tokens checked with their issuer.
//!
//! Why it is shaped like this:
//! - the gateway authenticates to the provider with HTTP Basic (RFC 7662 §2.1, client id and
//!   secret form-encoded first as RFC 6749 §2.3.1 requires);
//! - answers are cached by SHA-256 of the token (the token itself is never stored nor
//!   logged): active ones no longer than `min(exp, cache_cap)`, inactive ones for
//!   `negative_cache`, so a client retrying a bad token does not turn into provider load and
//!   a revoked token stops working within `cache_cap`;
//! - "the provider could not answer" (down, timeout, status ≠ 200 — including our own
//!   credentials being refused —, garbage) is not "the token is invalid": it is never cached
//!   and becomes a 503 by default (fail closed, and the client knows to retry), or a 401 if
//!   configured.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use bytes::Bytes;
use http::{HeaderValue, Request, StatusCode};
use http_body_util::Full;
use portcullis_config::IntrospectionAuthSpec;
use portcullis_core::Identity;
use serde_json::Value;

use crate::remote::ProviderClient;

/// Largest introspection answer accepted.
const MAX_ANSWER_BYTES: usize = 64 * 1024;
const CACHE_SHARDS: usize = 16;

/// What the provider said about a token.
#[derive(Clone, Debug)]
pub enum Verdict {
    /// Active, and every configured check passed.
    Active(Identity),
    /// Inactive, or active but failing a check (reason for the log).
    Rejected(&'static str),
    /// The provider could not be asked (reason for the log); never cached.
    Unavailable(&'static str),
}

/// One cached answer: the verdict and when it stops being usable.
type Entry = (Result<Identity, &'static str>, Instant);
type Shard = Mutex<HashMap<[u8; 32], Entry>>;

/// Answers by token hash, bounded: a full shard is cleared (like the JWT cache), which
/// costs a few extra provider calls and never a wrong answer.
struct AnswerCache {
    shards: Vec<Shard>,
    per_shard: usize,
}

impl AnswerCache {
    fn new(capacity: usize) -> Self {
        Self {
            shards: (0..CACHE_SHARDS)
                .map(|_| Mutex::new(HashMap::new()))
                .collect(),
            per_shard: capacity.div_ceil(CACHE_SHARDS).max(1),
        }
    }

    fn shard(&self, key: &[u8; 32]) -> Option<&Shard> {
        self.shards.get(usize::from(key[0]) % CACHE_SHARDS)
    }

    fn get(&self, key: &[u8; 32]) -> Option<Result<Identity, &'static str>> {
        let mut map = self.shard(key)?.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(key) {
            Some((answer, until)) if *until > Instant::now() => Some(answer.clone()),
            Some(_) => {
                map.remove(key);
                None
            }
            None => None,
        }
    }

    fn put(&self, key: [u8; 32], answer: Result<Identity, &'static str>, ttl: Duration) {
        if ttl.is_zero() {
            return;
        }
        let Some(shard) = self.shard(&key) else {
            return;
        };
        let mut map = shard.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= self.per_shard {
            map.clear();
        }
        map.insert(key, (answer, Instant::now() + ttl));
    }
}

/// The compiled introspection settings of a route.
pub struct Introspector {
    client: ProviderClient,
    url: String,
    authorization: HeaderValue,
    cache: AnswerCache,
    cache_cap: Duration,
    negative_cache: Duration,
    issuer: Option<String>,
    audiences: Vec<String>,
    consumer_claim: String,
    max_token_bytes: usize,
    unavailable_is_503: bool,
    /// Calls in progress by token hash: concurrent requests with the same uncached token
    /// share one provider call (a client fanning out N requests costs one introspection).
    inflight: Mutex<HashMap<[u8; 32], Arc<tokio::sync::OnceCell<Verdict>>>>,
}

/// `application/x-www-form-urlencoded` encoding of one value.
fn form_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'*') {
            out.push(char::from(b));
        } else if b == b' ' {
            out.push('+');
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => s.split_whitespace().map(str::to_string).collect(),
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// SHA-256 of a token: the only form in which a token is kept.
pub fn token_key(token: &str) -> [u8; 32] {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
    let mut k = [0u8; 32];
    k.copy_from_slice(d.as_ref());
    k
}

impl Introspector {
    /// Reads the client secret and builds the client.
    pub fn from_spec(spec: &IntrospectionAuthSpec) -> Result<Self, String> {
        if let Some(problem) = portcullis_config::remote_url_problem(&spec.url) {
            return Err(problem);
        }
        let secret = std::fs::read_to_string(&spec.client_secret_file)
            .map_err(|e| format!("{}: {e}", spec.client_secret_file.display()))?;
        let secret = secret.trim_end_matches(['\r', '\n']);
        if secret.is_empty() {
            return Err(format!(
                "{}: the client secret is empty",
                spec.client_secret_file.display()
            ));
        }
        let basic = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            form_encode(&spec.client_id),
            form_encode(secret)
        ));
        let mut authorization = HeaderValue::from_str(&format!("Basic {basic}"))
            .map_err(|_| "client credentials are not a header value".to_string())?;
        authorization.set_sensitive(true);
        Ok(Self {
            client: ProviderClient::new(spec.ca_file.as_deref(), spec.timeout.get())?,
            url: spec.url.clone(),
            authorization,
            cache: AnswerCache::new(spec.cache_entries),
            cache_cap: spec.cache_cap.get(),
            negative_cache: spec.negative_cache.get(),
            issuer: spec.issuer.clone(),
            audiences: spec.audiences.clone(),
            consumer_claim: spec.consumer_claim.clone(),
            max_token_bytes: spec.max_token_bytes,
            unavailable_is_503: spec.on_unavailable != "401",
            inflight: Mutex::new(HashMap::new()),
        })
    }

    /// Longest token accepted, in bytes.
    pub fn max_token_bytes(&self) -> usize {
        self.max_token_bytes
    }

    /// Whether an unavailable provider means 503 (else 401).
    pub fn unavailable_is_503(&self) -> bool {
        self.unavailable_is_503
    }

    /// The cached answer for a token hash, if still fresh.
    pub fn cached(&self, key: &[u8; 32]) -> Option<Result<Identity, &'static str>> {
        self.cache.get(key)
    }

    /// Asks the provider about `token` (`key` is its [`token_key`]), sharing a call already in
    /// progress for the same token, and caches the answer (not an unavailability).
    pub async fn introspect(&self, token: &str, key: [u8; 32]) -> Verdict {
        let cell = self
            .inflight
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(key)
            .or_default()
            .clone();
        let verdict = cell.get_or_init(|| self.call(token, key)).await.clone();
        let mut inflight = self.inflight.lock().unwrap_or_else(|p| p.into_inner());
        if inflight.get(&key).is_some_and(|c| Arc::ptr_eq(c, &cell)) {
            inflight.remove(&key);
        }
        verdict
    }

    async fn call(&self, token: &str, key: [u8; 32]) -> Verdict {
        let body = format!("token={}&token_type_hint=access_token", form_encode(token));
        let req = Request::post(self.url.as_str())
            .header(http::header::AUTHORIZATION, self.authorization.clone())
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(http::header::ACCEPT, "application/json")
            .body(Full::new(Bytes::from(body)));
        let Ok(req) = req else {
            return Verdict::Unavailable("introspection_request_invalid");
        };
        let (status, answer) = match self.client.send(req, MAX_ANSWER_BYTES).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "introspection provider unreachable");
                return Verdict::Unavailable("introspection_unavailable");
            }
        };
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            tracing::error!(
                url = %self.url,
                %status,
                "the introspection provider refused the gateway's client credentials"
            );
            return Verdict::Unavailable("introspection_client_rejected");
        }
        if status != StatusCode::OK {
            tracing::warn!(url = %self.url, %status, "introspection provider failed");
            return Verdict::Unavailable("introspection_unavailable");
        }
        let Ok(answer) = serde_json::from_slice::<Value>(&answer) else {
            tracing::warn!(url = %self.url, "introspection answer is not JSON");
            return Verdict::Unavailable("introspection_garbage");
        };
        let verdict = self.judge(answer);
        match &verdict {
            Verdict::Active(identity) => {
                let exp = identity
                    .claims
                    .as_deref()
                    .and_then(|c| c.get("exp"))
                    .and_then(Value::as_u64);
                let until_exp = exp.map_or(self.cache_cap, |e| {
                    Duration::from_secs(e.saturating_sub(now_secs()))
                });
                self.cache
                    .put(key, Ok(identity.clone()), until_exp.min(self.cache_cap));
            }
            Verdict::Rejected(reason) => self.cache.put(key, Err(reason), self.negative_cache),
            Verdict::Unavailable(_) => {}
        }
        verdict
    }

    /// Applies the configured checks to a provider answer.
    pub fn judge(&self, answer: Value) -> Verdict {
        if !answer.is_object() {
            return Verdict::Unavailable("introspection_garbage");
        }
        // RFC 7662 §2.2: `active` is a boolean; anything else is not an active token.
        if answer.get("active").and_then(Value::as_bool) != Some(true) {
            return Verdict::Rejected("introspection_inactive");
        }
        let now = now_secs();
        if let Some(exp) = answer.get("exp") {
            match exp.as_u64() {
                Some(e) if e > now => {}
                _ => return Verdict::Rejected("introspection_expired"),
            }
        }
        if let Some(nbf) = answer.get("nbf") {
            match nbf.as_u64() {
                Some(n) if n <= now.saturating_add(30) => {}
                _ => return Verdict::Rejected("introspection_not_yet_valid"),
            }
        }
        if answer
            .get("token_type")
            .and_then(Value::as_str)
            .is_some_and(|t| t.eq_ignore_ascii_case("refresh_token"))
        {
            return Verdict::Rejected("introspection_not_access_token");
        }
        if let Some(issuer) = &self.issuer
            && answer.get("iss").and_then(Value::as_str) != Some(issuer.as_str())
        {
            return Verdict::Rejected("introspection_wrong_issuer");
        }
        if !self.audiences.is_empty()
            && !strings(answer.get("aud"))
                .iter()
                .any(|a| self.audiences.contains(a))
        {
            return Verdict::Rejected("introspection_wrong_audience");
        }
        let Some(consumer) = answer
            .get(self.consumer_claim.as_str())
            .and_then(Value::as_str)
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
        else {
            return Verdict::Rejected("introspection_no_subject");
        };
        Verdict::Active(Identity {
            consumer_id: consumer,
            method: "introspection",
            scopes: strings(answer.get("scope")),
            roles: strings(answer.get("roles")),
            credential_id: answer.get("jti").and_then(Value::as_str).map(str::to_owned),
            plan: answer
                .get("plan")
                .and_then(Value::as_str)
                .map(str::to_owned),
            claims: Some(Arc::new(answer)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(dir: &std::path::Path, extra: &str) -> IntrospectionAuthSpec {
        let secret = dir.join("secret");
        std::fs::write(&secret, "s3cr3t:&=\n").unwrap();
        serde_saphyr::from_str(&format!(
            "url: https://idp.example/introspect\nclient_id: gate way\nclient_secret_file: {}\n{extra}",
            secret.display()
        ))
        .unwrap()
    }

    #[test]
    fn client_credentials_are_form_encoded_then_basic() {
        let dir = tempfile::tempdir().unwrap();
        let i = Introspector::from_spec(&spec(dir.path(), "")).unwrap();
        let expected = base64::engine::general_purpose::STANDARD.encode("gate+way:s3cr3t%3A%26%3D");
        assert_eq!(
            i.authorization.to_str().unwrap(),
            format!("Basic {expected}")
        );
        assert!(i.authorization.is_sensitive());
    }

    #[test]
    fn judges_answers() {
        let dir = tempfile::tempdir().unwrap();
        let i = Introspector::from_spec(&spec(
            dir.path(),
            "issuer: https://idp.example\naudiences: [orders]\n",
        ))
        .unwrap();
        let exp = now_secs() + 100;
        let good = json!({"active": true, "sub": "alice", "scope": "a b", "iss": "https://idp.example", "aud": ["orders"], "exp": exp});
        match i.judge(good.clone()) {
            Verdict::Active(id) => {
                assert_eq!(id.consumer_id, "alice");
                assert_eq!(id.scopes, ["a", "b"]);
                assert_eq!(id.method, "introspection");
            }
            v => panic!("{v:?}"),
        }
        let cases = [
            (json!({"active": false}), "introspection_inactive"),
            (
                json!({"active": "true", "sub": "alice"}),
                "introspection_inactive",
            ),
            (json!({"sub": "alice"}), "introspection_inactive"),
            (
                json!({"active": true, "sub": "alice", "iss": "https://idp.example", "aud": "orders", "exp": 5}),
                "introspection_expired",
            ),
            (
                json!({"active": true, "sub": "alice", "iss": "https://evil.example", "aud": "orders"}),
                "introspection_wrong_issuer",
            ),
            (
                json!({"active": true, "sub": "alice", "iss": "https://idp.example", "aud": "billing"}),
                "introspection_wrong_audience",
            ),
            (
                json!({"active": true, "iss": "https://idp.example", "aud": "orders"}),
                "introspection_no_subject",
            ),
            (
                json!({"active": true, "sub": "a", "token_type": "refresh_token", "iss": "https://idp.example", "aud": "orders"}),
                "introspection_not_access_token",
            ),
        ];
        for (answer, reason) in cases {
            match i.judge(answer.clone()) {
                Verdict::Rejected(r) => assert_eq!(r, reason, "{answer}"),
                v => panic!("{answer}: {v:?}"),
            }
        }
        assert!(matches!(i.judge(json!([1])), Verdict::Unavailable(_)));
    }

    #[test]
    fn consumer_claim_is_configurable() {
        let dir = tempfile::tempdir().unwrap();
        let i = Introspector::from_spec(&spec(dir.path(), "consumer_claim: client_id\n")).unwrap();
        match i.judge(json!({"active": true, "sub": "alice", "client_id": "svc-1"})) {
            Verdict::Active(id) => assert_eq!(id.consumer_id, "svc-1"),
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn cache_is_bounded_and_expires() {
        let cache = AnswerCache::new(16);
        for n in 0..1000u32 {
            let mut k = [0u8; 32];
            k[..4].copy_from_slice(&n.to_le_bytes());
            cache.put(k, Err("x"), Duration::from_secs(60));
        }
        let total: usize = cache.shards.iter().map(|s| s.lock().unwrap().len()).sum();
        assert!(total <= 16, "{total}");
        let k = [7u8; 32];
        cache.put(k, Err("x"), Duration::from_millis(1));
        std::thread::sleep(Duration::from_millis(5));
        assert!(cache.get(&k).is_none());
        cache.put(k, Err("y"), Duration::ZERO);
        assert!(cache.get(&k).is_none());
    }

    #[test]
    fn form_encoding() {
        assert_eq!(form_encode("a b+c/d=é"), "a+b%2Bc%2Fd%3D%C3%A9");
    }
}
