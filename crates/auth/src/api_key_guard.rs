//! The API-key guard: every request of a route must carry a valid, unrevoked, unexpired key
//! that is allowed from this client address, referrer and route.

use std::net::IpAddr;
use std::sync::Arc;

use http::HeaderName;
use http::header::{HeaderValue, ORIGIN, REFERER, WWW_AUTHENTICATE};
use portcullis_config::{ApiKeyAuthSpec, Cidr};
use portcullis_core::{
    Denial, Guard, GuardId, Identity, Phase, ProblemType, RequestCx, Resume, Step,
};
use portcullis_store::{ApiKeyRecord, KeyStatus, Store};

use crate::api_key::{Pepper, parse};
use crate::failure_lockout::FailedCredential;

const ID: GuardId = GuardId("api_key");

/// Checks API keys against the store. The store read runs on the blocking pool (it is file
/// I/O), so the async workers never wait on SQLite. Every failure is the same 401 for the
/// client; the reason goes to the log.
pub struct ApiKeyGuard {
    store: Arc<dyn Store>,
    pepper: Arc<Pepper>,
    header: HeaderName,
    query: Option<String>,
    route: String,
}

impl ApiKeyGuard {
    /// A guard for route `route`.
    pub fn new(
        spec: &ApiKeyAuthSpec,
        route: &str,
        store: Arc<dyn Store>,
        pepper: Arc<Pepper>,
    ) -> Option<Self> {
        Some(Self {
            store,
            pepper,
            header: HeaderName::from_bytes(spec.header.to_ascii_lowercase().as_bytes()).ok()?,
            query: spec.query.clone(),
            route: route.to_string(),
        })
    }

    fn unauthorized(reason: &'static str) -> Step {
        Step::Deny(
            Denial::new(ProblemType::Unauthorized, reason, ID)
                .with_header(WWW_AUTHENTICATE, HeaderValue::from_static("ApiKey")),
        )
    }

    /// Takes the key out of the request (it is never forwarded upstream).
    fn take_key(&self, req: &mut http::request::Parts) -> Result<Option<String>, &'static str> {
        let from_header = req.headers.remove(&self.header);
        if let Some(v) = from_header {
            return v
                .to_str()
                .map(|s| Some(s.trim().to_string()))
                .map_err(|_| "api_key_not_text");
        }
        let Some(param) = &self.query else {
            return Ok(None);
        };
        let Some(query) = req.uri.query() else {
            return Ok(None);
        };
        let mut found = None;
        let mut rest = Vec::new();
        for pair in query.split('&') {
            match pair.split_once('=') {
                Some((k, v)) if k == param => found = Some(v.to_string()),
                _ => rest.push(pair),
            }
        }
        if found.is_some() {
            let path = req.uri.path();
            let target = if rest.is_empty() {
                path.to_string()
            } else {
                format!("{path}?{}", rest.join("&"))
            };
            if let Ok(uri) = target.parse() {
                req.uri = uri;
            }
        }
        Ok(found)
    }
}

/// Why a stored key does not admit this request (shared with the signing guard: both kinds
/// carry the same restrictions).
pub(crate) fn refuse(
    record: &ApiKeyRecord,
    now: i64,
    ip: IpAddr,
    origin: Option<&str>,
    route: &str,
) -> Option<(ProblemType, &'static str)> {
    match record.status(now) {
        KeyStatus::Revoked => return Some((ProblemType::Unauthorized, "api_key_revoked")),
        KeyStatus::Expired => return Some((ProblemType::Unauthorized, "api_key_expired")),
        KeyStatus::Active => {}
    }
    if !record.allow_ips.is_empty()
        && !record
            .allow_ips
            .iter()
            .filter_map(|c| c.parse::<Cidr>().ok())
            .any(|c| c.contains(ip))
    {
        return Some((ProblemType::Forbidden, "api_key_ip_not_allowed"));
    }
    if !record.allow_referrers.is_empty()
        && !origin.is_some_and(|o| {
            record
                .allow_referrers
                .iter()
                .any(|a| a.trim_end_matches('/') == o)
        })
    {
        return Some((ProblemType::Forbidden, "api_key_referrer_not_allowed"));
    }
    if !record.routes.is_empty() && !record.routes.iter().any(|r| r == route) {
        return Some((ProblemType::Forbidden, "api_key_route_not_allowed"));
    }
    None
}

/// The origin (`scheme://host[:port]`) of the `Origin` or `Referer` header.
pub(crate) fn request_origin(req: &http::request::Parts) -> Option<String> {
    if let Some(o) = req.headers.get(ORIGIN).and_then(|v| v.to_str().ok()) {
        return Some(o.trim_end_matches('/').to_string());
    }
    let referer: http::Uri = req.headers.get(REFERER)?.to_str().ok()?.parse().ok()?;
    Some(format!(
        "{}://{}",
        referer.scheme_str()?,
        referer.authority()?
    ))
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl Guard for ApiKeyGuard {
    fn id(&self) -> GuardId {
        ID
    }

    fn phases(&self) -> &'static [Phase] {
        &[Phase::Request]
    }

    fn on_request(&self, cx: &mut RequestCx, req: &mut http::request::Parts) -> Step {
        let presented = match self.take_key(req) {
            Ok(Some(k)) => k,
            Ok(None) => return Self::unauthorized("api_key_missing"),
            Err(reason) => return Self::unauthorized(reason),
        };
        let Ok(id) = parse(&presented).map(str::to_string) else {
            return Self::unauthorized("api_key_malformed");
        };
        let store = self.store.clone();
        let pepper = self.pepper.clone();
        let route = self.route.clone();
        let ip = cx.client_ip.0;
        let origin = request_origin(req);
        Step::Wait(Box::pin(async move {
            let looked_up = tokio::task::spawn_blocking(move || {
                let record = store.api_key(&id);
                let consumer = match &record {
                    Ok(Some(r)) => store.consumer(&r.consumer_id).ok().flatten(),
                    _ => None,
                };
                (record, consumer, store)
            })
            .await;
            let resume: Resume = Box::new(move |cx: &mut RequestCx| {
                let Ok((record, consumer, store)) = looked_up else {
                    return Step::Deny(Denial::new(
                        ProblemType::ServiceUnavailable,
                        "store_task_failed",
                        ID,
                    ));
                };
                let record = match record {
                    // A signing key's id is never a bearer credential.
                    Ok(Some(r)) if r.kind == portcullis_store::KeyKind::ApiKey => r,
                    Ok(_) => {
                        // Same work as a known key: hash anyway, so timing does not tell.
                        let _ = pepper.verify(&presented, &[0u8; 32]);
                        return Self::unauthorized("api_key_unknown");
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "credential store unavailable");
                        return Step::Deny(Denial::new(
                            ProblemType::ServiceUnavailable,
                            "store_unavailable",
                            ID,
                        ));
                    }
                };
                if !pepper.verify(&presented, &record.hash) {
                    // A real key id with a wrong secret: also counts for the key.
                    cx.extensions.insert(FailedCredential(record.id));
                    return Self::unauthorized("api_key_wrong_secret");
                }
                let now = now();
                if let Some((problem, reason)) = refuse(&record, now, ip, origin.as_deref(), &route)
                {
                    return match problem {
                        ProblemType::Unauthorized => Self::unauthorized(reason),
                        other => Step::Deny(Denial::new(other, reason, ID)),
                    };
                }
                let Some(consumer) = consumer.filter(|c| c.status == "active") else {
                    return Self::unauthorized("consumer_disabled");
                };
                let key_id = record.id.clone();
                tokio::task::spawn_blocking(move || {
                    let _ = store.touch_api_key(&key_id, now);
                });
                cx.identity = Some(Identity {
                    consumer_id: consumer.name,
                    method: "api_key",
                    scopes: if record.scopes.is_empty() {
                        consumer.scopes
                    } else {
                        record.scopes
                    },
                    roles: consumer.roles,
                    credential_id: Some(record.id),
                    plan: consumer.plan,
                    claims: None,
                });
                Step::Continue
            });
            resume
        }))
    }
}

impl crate::combine::Credential for ApiKeyGuard {
    fn presented(&self, _cx: &RequestCx, req: &http::request::Parts) -> bool {
        req.headers.contains_key(&self.header)
            || self.query.as_deref().is_some_and(|param| {
                req.uri.query().is_some_and(|q| {
                    q.split('&')
                        .any(|pair| pair.split('=').next() == Some(param))
                })
            })
    }

    fn strip(&self, req: &mut http::request::Parts) {
        // Removes the header and the query parameter alike.
        let _ = self.take_key(req);
    }

    fn challenge(&self) -> HeaderValue {
        HeaderValue::from_static("ApiKey")
    }

    fn claimed_id(&self, req: &http::request::Parts) -> Option<String> {
        let presented = match req.headers.get(&self.header) {
            Some(v) => v.to_str().ok()?.trim().to_string(),
            None => {
                let param = self.query.as_deref()?;
                req.uri.query()?.split('&').find_map(|pair| {
                    pair.split_once('=')
                        .filter(|(k, _)| *k == param)
                        .map(|(_, v)| v.to_string())
                })?
            }
        };
        parse(&presented).ok().map(str::to_string)
    }
}
