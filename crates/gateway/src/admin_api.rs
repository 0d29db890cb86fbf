//! The admin API on the admin listener (`/admin/v1/...`): consumers, API keys, token
//! revocations, quota usage and the change history. Authentication (a bearer token whose
//! SHA-256 is configured) is done by `portcullis-admin` before these handlers run. Every
//! change is written with a history entry (actor `admin-api`) and logged on the audit target.
//!
//! | method | path | does |
//! |---|---|---|
//! | GET | `/admin/v1/consumers/{name}` | the consumer, its keys (never secrets), its quota usage |
//! | POST | `/admin/v1/consumers/{name}/keys` | issues a key (`{"scopes": [...], "expires_in": "90d"}`); the key is in this answer only |
//! | POST | `/admin/v1/keys/{id}/revoke` | revokes a key |
//! | POST | `/admin/v1/tokens/revoke` | revokes JWTs: `{"issuer", "jti"}` or `{"issuer", "subject", "before"?}` |
//! | GET | `/admin/v1/history?limit=N` | the newest changes |

use std::sync::Arc;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Method, Response, StatusCode};
use http_body_util::Full;
use portcullis_admin::{AdminResponse, ApiHandler};
use portcullis_store::{ApiKeyRecord, NewConsumer, Store, TokenRevocation};
use serde_json::{Value, json};

const ACTOR: &str = "admin-api";

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn answer(status: StatusCode, body: &Value) -> AdminResponse {
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r.headers_mut().insert(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    );
    r
}

fn problem(status: StatusCode, slug: &str, detail: &str) -> AdminResponse {
    let mut r = answer(
        status,
        &json!({"type": format!("urn:portcullis:problem:{slug}"), "status": status.as_u16(), "detail": detail}),
    );
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    r
}

/// A refusal (boxed: responses are large and refusals are the rare path).
fn refuse(status: StatusCode, slug: &str, detail: &str) -> Box<AdminResponse> {
    Box::new(problem(status, slug, detail))
}

/// What the handlers use.
#[derive(Clone)]
pub struct AdminApi {
    /// The store.
    pub store: Arc<dyn Store>,
    /// The API-key pepper.
    pub pepper: Arc<portcullis_auth::api_key::Pepper>,
    /// Quota counters (for usage not yet flushed).
    pub quotas: Option<Arc<portcullis_limits::QuotaState>>,
}

impl AdminApi {
    /// The handler for `portcullis-admin`.
    pub fn handler(self) -> ApiHandler {
        Arc::new(move |method, path, query, body| {
            let api = self.clone();
            Box::pin(async move {
                let res = tokio::task::spawn_blocking(move || {
                    api.handle(&method, &path, query.as_deref(), &body)
                })
                .await;
                res.unwrap_or_else(|_| {
                    problem(StatusCode::INTERNAL_SERVER_ERROR, "internal-error", "")
                })
            })
        })
    }

    fn handle(
        &self,
        method: &Method,
        path: &str,
        query: Option<&str>,
        body: &[u8],
    ) -> AdminResponse {
        let parts: Vec<&str> = path.trim_start_matches("/admin/v1/").split('/').collect();
        let result = match (method.as_str(), parts.as_slice()) {
            ("GET", ["consumers", name]) => self.consumer(name),
            ("POST", ["consumers", name, "keys"]) => self.create_key(name, body),
            ("POST", ["keys", id, "revoke"]) => self.revoke_key(id),
            ("POST", ["tokens", "revoke"]) => self.revoke_tokens(body),
            ("GET", ["history"]) => self.history(query),
            _ => Err(refuse(
                StatusCode::NOT_FOUND,
                "not-found",
                "no such admin endpoint",
            )),
        };
        result.unwrap_or_else(|r| *r)
    }

    fn store_error(e: impl std::fmt::Display) -> Box<AdminResponse> {
        tracing::error!(error = %e, "admin API: store error");
        refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "service-unavailable",
            "store unavailable",
        )
    }

    fn consumer(&self, name: &str) -> Result<AdminResponse, Box<AdminResponse>> {
        let now = now();
        let c = self
            .store
            .consumer_by_name(name)
            .map_err(Self::store_error)?
            .ok_or_else(|| refuse(StatusCode::NOT_FOUND, "not-found", "no such consumer"))?;
        let keys = self
            .store
            .list_api_keys(Some(&c.id))
            .map_err(Self::store_error)?;
        let fragment = format!("|c={}", c.name);
        let usage = match &self.quotas {
            Some(q) => q.usage(&fragment),
            None => self.store.quota_usage(&fragment),
        }
        .map_err(Self::store_error)?;
        let usage: Vec<Value> = usage
            .into_iter()
            .filter(|(k, _, _)| k.ends_with(&fragment))
            .map(|(k, w, u)| json!({"quota": k.split('|').next().unwrap_or(""), "window": w, "used": u}))
            .collect();
        Ok(answer(
            StatusCode::OK,
            &json!({
                "id": c.id, "name": c.name, "plan": c.plan, "roles": c.roles, "scopes": c.scopes,
                "status": c.status, "created_at": c.created_at,
                "keys": keys.iter().map(|k| k.public_view(now)).collect::<Vec<_>>(),
                "quota_usage": usage,
            }),
        ))
    }

    fn create_key(&self, name: &str, body: &[u8]) -> Result<AdminResponse, Box<AdminResponse>> {
        let req: Value = if body.is_empty() {
            json!({})
        } else {
            serde_json::from_slice(body)
                .map_err(|_| refuse(StatusCode::BAD_REQUEST, "bad-request", "body is not JSON"))?
        };
        let strings = |k: &str| -> Vec<String> {
            req.get(k)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        let now = now();
        let expires_at = match req.get("expires_in").and_then(Value::as_str) {
            Some(t) => Some(
                humantime::parse_duration(t)
                    .map_err(|_| {
                        refuse(
                            StatusCode::BAD_REQUEST,
                            "bad-request",
                            "expires_in is not a duration",
                        )
                    })?
                    .as_secs(),
            )
            .map(|s| now.saturating_add(i64::try_from(s).unwrap_or(i64::MAX))),
            None => None,
        };
        let valid_name = !name.is_empty()
            && name.len() <= 128
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.@".contains(&b));
        if !valid_name {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                "bad-request",
                "invalid consumer name",
            ));
        }
        let consumer = match self
            .store
            .consumer_by_name(name)
            .map_err(Self::store_error)?
        {
            Some(c) => c,
            None => self
                .store
                .create_consumer(
                    &NewConsumer {
                        name: name.to_string(),
                        ..Default::default()
                    },
                    ACTOR,
                    now,
                )
                .map_err(Self::store_error)?,
        };
        let template = ApiKeyRecord {
            id: String::new(),
            consumer_id: consumer.id,
            hash: Vec::new(),
            scopes: strings("scopes"),
            allow_ips: strings("allow_ips"),
            allow_referrers: strings("allow_referrers"),
            routes: strings("routes"),
            created_at: now,
            expires_at,
            revoked_at: None,
            last_used_at: None,
            replaced_by: None,
            kind: portcullis_store::KeyKind::ApiKey,
            sealed_secret: None,
        };
        let (id, key) = portcullis_auth::api_key::issue(
            self.store.as_ref(),
            &self.pepper,
            &template,
            ACTOR,
            now,
        )
        .map_err(Self::store_error)?;
        tracing::info!(target: "portcullis::audit", key_id = %id, consumer = %name, "admin API: key issued");
        Ok(answer(
            StatusCode::CREATED,
            &json!({"id": id, "key": key.expose(), "consumer": name}),
        ))
    }

    fn revoke_key(&self, id: &str) -> Result<AdminResponse, Box<AdminResponse>> {
        if self.store.api_key(id).map_err(Self::store_error)?.is_none() {
            return Err(refuse(StatusCode::NOT_FOUND, "not-found", "no such key"));
        }
        let changed = self
            .store
            .revoke_api_key(id, ACTOR, now())
            .map_err(Self::store_error)?;
        tracing::info!(target: "portcullis::audit", key_id = %id, "admin API: key revoked");
        Ok(answer(
            StatusCode::OK,
            &json!({"id": id, "revoked": true, "changed": changed}),
        ))
    }

    fn revoke_tokens(&self, body: &[u8]) -> Result<AdminResponse, Box<AdminResponse>> {
        let bad = |m: &str| refuse(StatusCode::BAD_REQUEST, "bad-request", m);
        let req: Value = serde_json::from_slice(body).map_err(|_| bad("body is not JSON"))?;
        let issuer = req
            .get("issuer")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("issuer is required"))?;
        let now = now();
        let (kind, value, before) = match (
            req.get("jti").and_then(Value::as_str),
            req.get("subject").and_then(Value::as_str),
        ) {
            (Some(j), None) => ("jti", j, None),
            (None, Some(s)) => {
                let before = match req.get("before").and_then(Value::as_str) {
                    Some(t) => t
                        .parse::<jiff::Timestamp>()
                        .map_err(|_| bad("before is not an RFC 3339 time"))?
                        .as_second(),
                    None => now,
                };
                ("subject", s, Some(before))
            }
            _ => return Err(bad("give exactly one of jti and subject")),
        };
        let r = TokenRevocation {
            issuer: issuer.to_string(),
            kind: kind.into(),
            value: value.to_string(),
            before,
            created_at: now,
        };
        let seq = self
            .store
            .revoke_token(&r, ACTOR, now)
            .map_err(Self::store_error)?;
        tracing::info!(target: "portcullis::audit", kind, issuer, "admin API: tokens revoked");
        Ok(answer(
            StatusCode::OK,
            &json!({"seq": seq, "kind": kind, "before": before}),
        ))
    }

    fn history(&self, query: Option<&str>) -> Result<AdminResponse, Box<AdminResponse>> {
        let limit = query
            .unwrap_or("")
            .split('&')
            .find_map(|p| p.strip_prefix("limit="))
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(50)
            .min(1000);
        let entries = self.store.history(limit).map_err(Self::store_error)?;
        let rows: Vec<Value> = entries
            .into_iter()
            .map(|e| json!({"seq": e.seq, "at": e.at, "actor": e.actor, "action": e.action, "subject": e.subject, "detail": e.detail}))
            .collect();
        Ok(answer(StatusCode::OK, &Value::Array(rows)))
    }
}
