//! A real identity provider stand-in: HTTPS on a loopback port with a certificate from its
//! own test CA, serving OpenID Connect discovery, a JWKS and an OAuth2 introspection
//! endpoint (RFC 7662) — enough for the gateway's remote identity features to be tested over
//! real sockets and real TLS.
//!
//! Tests control it: rotate signing keys, make the JWKS fail or return garbage, register
//! introspection answers, take the whole provider down (connections are accepted and dropped),
//! and count calls per endpoint to assert caching and rate limits.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// How the JWKS endpoint answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JwksMode {
    /// The current keys.
    Serve,
    /// 500.
    Fail,
    /// 200 with a body that is not a JWKS.
    Garbage,
}

struct Inner {
    keys: Vec<(String, rcgen::KeyPair)>,
    next_kid: usize,
    jwks: JwksMode,
    tokens: HashMap<String, Value>,
    client_id: String,
    client_secret: String,
}

struct State {
    inner: Mutex<Inner>,
    issuer: String,
    down: AtomicBool,
    discovery_calls: AtomicUsize,
    jwks_calls: AtomicUsize,
    introspection_calls: AtomicUsize,
}

/// The provider. Stops when dropped.
pub struct TestIdp {
    addr: SocketAddr,
    state: Arc<State>,
    ca: PathBuf,
    _dir: tempfile::TempDir,
    task: tokio::task::JoinHandle<()>,
}

fn json_response(status: StatusCode, body: &Value) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    r
}

/// Decodes one `application/x-www-form-urlencoded` value.
fn form_decode(v: &str) -> String {
    let bytes = v.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl State {
    fn jwks(&self) -> Value {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let keys: Vec<Value> = inner
            .keys
            .iter()
            .map(|(kid, kp)| {
                let raw = kp.public_key_raw();
                let (x, y) = raw.get(1..).unwrap_or_default().split_at(32);
                json!({"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": kid,
                       "x": URL_SAFE_NO_PAD.encode(x), "y": URL_SAFE_NO_PAD.encode(y)})
            })
            .collect();
        json!({ "keys": keys })
    }

    async fn handle(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let path = req.uri().path().to_string();
        match path.as_str() {
            "/.well-known/openid-configuration" => {
                self.discovery_calls.fetch_add(1, Ordering::SeqCst);
                json_response(
                    StatusCode::OK,
                    &json!({
                        "issuer": self.issuer,
                        "jwks_uri": format!("{}/jwks.json", self.issuer),
                        "introspection_endpoint": format!("{}/introspect", self.issuer),
                    }),
                )
            }
            "/jwks.json" => {
                self.jwks_calls.fetch_add(1, Ordering::SeqCst);
                let mode = self.inner.lock().map(|i| i.jwks).unwrap_or(JwksMode::Fail);
                match mode {
                    JwksMode::Serve => json_response(StatusCode::OK, &self.jwks()),
                    JwksMode::Fail => {
                        json_response(StatusCode::INTERNAL_SERVER_ERROR, &json!({"error": "down"}))
                    }
                    JwksMode::Garbage => {
                        let mut r = Response::new(Full::new(Bytes::from_static(b"<html>oops")));
                        *r.status_mut() = StatusCode::OK;
                        r
                    }
                }
            }
            "/introspect" => {
                self.introspection_calls.fetch_add(1, Ordering::SeqCst);
                let (parts, body) = req.into_parts();
                let body = body
                    .collect()
                    .await
                    .map(|c| c.to_bytes())
                    .unwrap_or_default();
                let (expected, tokens) = {
                    let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
                    (
                        format!(
                            "Basic {}",
                            STANDARD.encode(format!("{}:{}", inner.client_id, inner.client_secret))
                        ),
                        inner.tokens.clone(),
                    )
                };
                let auth = parts
                    .headers
                    .get(http::header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok());
                if parts.method != http::Method::POST || auth != Some(expected.as_str()) {
                    return json_response(
                        StatusCode::UNAUTHORIZED,
                        &json!({"error": "invalid_client"}),
                    );
                }
                let form = String::from_utf8_lossy(&body).into_owned();
                let token = form
                    .split('&')
                    .filter_map(|kv| kv.split_once('='))
                    .find(|(k, _)| *k == "token")
                    .map(|(_, v)| form_decode(v));
                let answer = token
                    .and_then(|t| tokens.get(&t).cloned())
                    .unwrap_or_else(|| json!({"active": false}));
                json_response(StatusCode::OK, &answer)
            }
            _ => json_response(StatusCode::NOT_FOUND, &json!({"error": "not_found"})),
        }
    }
}

impl TestIdp {
    /// Starts the provider over HTTPS with one ES256 signing key (kid `k1`) and client
    /// credentials `gateway` / `gateway-secret`.
    pub async fn start() -> Self {
        Self::start_with(true).await
    }

    /// The same provider over plain HTTP (`http://127.0.0.1:PORT`: the loopback sidecar case).
    pub async fn start_plain() -> Self {
        Self::start_with(false).await
    }

    async fn start_with(tls: bool) -> Self {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let listener = match TcpListener::bind("127.0.0.1:0").await {
            Ok(l) => l,
            Err(e) => panic!("bind idp: {e}"),
        };
        let addr = match listener.local_addr() {
            Ok(a) => a,
            Err(e) => panic!("idp addr: {e}"),
        };
        let (server, ca_pem) = tls_server();
        let dir = match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => panic!("tempdir: {e}"),
        };
        let ca = dir.path().join("idp-ca.pem");
        if let Err(e) = std::fs::write(&ca, ca_pem) {
            panic!("write ca: {e}");
        }
        let state = Arc::new(State {
            inner: Mutex::new(Inner {
                keys: vec![("k1".into(), key())],
                next_kid: 2,
                jwks: JwksMode::Serve,
                tokens: HashMap::new(),
                client_id: "gateway".into(),
                client_secret: "gateway-secret".into(),
            }),
            issuer: format!("{}://{addr}", if tls { "https" } else { "http" }),
            down: AtomicBool::new(false),
            discovery_calls: AtomicUsize::new(0),
            jwks_calls: AtomicUsize::new(0),
            introspection_calls: AtomicUsize::new(0),
        });
        let acceptor = tokio_rustls::TlsAcceptor::from(server);
        let st = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                if st.down.load(Ordering::SeqCst) {
                    // Down: the connection is dropped before any TLS byte.
                    drop(tcp);
                    continue;
                }
                let st = st.clone();
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req: Request<Incoming>| {
                        let st = st.clone();
                        async move { Ok::<_, Infallible>(st.handle(req).await) }
                    });
                    let builder =
                        hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                    if !tls {
                        let _ = builder.serve_connection(TokioIo::new(tcp), svc).await;
                    } else if let Ok(stream) = acceptor.accept(tcp).await {
                        let _ = builder.serve_connection(TokioIo::new(stream), svc).await;
                    }
                });
            }
        });
        Self {
            addr,
            state,
            ca,
            _dir: dir,
            task,
        }
    }

    /// `https://127.0.0.1:PORT` (`http://` from [`TestIdp::start_plain`]), also the issuer (`iss`) of its tokens.
    pub fn issuer(&self) -> String {
        self.state.issuer.clone()
    }

    /// The discovery document URL.
    pub fn discovery_url(&self) -> String {
        format!("{}/.well-known/openid-configuration", self.issuer())
    }

    /// The JWKS URL.
    pub fn jwks_url(&self) -> String {
        format!("{}/jwks.json", self.issuer())
    }

    /// The introspection endpoint.
    pub fn introspection_url(&self) -> String {
        format!("{}/introspect", self.issuer())
    }

    /// The PEM file of the CA that issued the provider's certificate.
    pub fn ca_file(&self) -> PathBuf {
        self.ca.clone()
    }

    /// The address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Replaces every signing key by a new one; returns its `kid`.
    pub fn rotate(&self) -> String {
        let mut inner = self.state.inner.lock().unwrap_or_else(|p| p.into_inner());
        let kid = format!("k{}", inner.next_kid);
        inner.next_kid += 1;
        inner.keys = vec![(kid.clone(), key())];
        kid
    }

    /// Signs `claims` (ES256) with the newest key, under its `kid`.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_as(claims, None)
    }

    /// Signs `claims` with the newest key but names `kid` in the header (an unknown `kid`
    /// when it is not the key's).
    pub fn sign_as(&self, claims: &Value, kid: Option<&str>) -> String {
        let inner = self.state.inner.lock().unwrap_or_else(|p| p.into_inner());
        let Some((own, kp)) = inner.keys.last() else {
            panic!("no key")
        };
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some(kid.unwrap_or(own).to_string());
        let key = match jsonwebtoken::EncodingKey::from_ec_pem(kp.serialize_pem().as_bytes()) {
            Ok(k) => k,
            Err(e) => panic!("key: {e}"),
        };
        match jsonwebtoken::encode(&header, claims, &key) {
            Ok(t) => t,
            Err(e) => panic!("sign: {e}"),
        }
    }

    /// How the JWKS endpoint answers from now on.
    pub fn set_jwks(&self, mode: JwksMode) {
        if let Ok(mut i) = self.state.inner.lock() {
            i.jwks = mode;
        }
    }

    /// Down: every connection is dropped at once; up again with `false`.
    pub fn set_down(&self, down: bool) {
        self.state.down.store(down, Ordering::SeqCst);
    }

    /// The introspection answer for `token` (unknown tokens are `{"active": false}`).
    pub fn set_token(&self, token: &str, answer: Value) {
        if let Ok(mut i) = self.state.inner.lock() {
            i.tokens.insert(token.to_string(), answer);
        }
    }

    /// The client credentials the introspection endpoint accepts (default `gateway` /
    /// `gateway-secret`).
    pub fn set_client(&self, id: &str, secret: &str) {
        if let Ok(mut i) = self.state.inner.lock() {
            i.client_id = id.to_string();
            i.client_secret = secret.to_string();
        }
    }

    /// Discovery requests so far.
    pub fn discovery_calls(&self) -> usize {
        self.state.discovery_calls.load(Ordering::SeqCst)
    }

    /// JWKS requests so far.
    pub fn jwks_calls(&self) -> usize {
        self.state.jwks_calls.load(Ordering::SeqCst)
    }

    /// Introspection requests so far.
    pub fn introspection_calls(&self) -> usize {
        self.state.introspection_calls.load(Ordering::SeqCst)
    }
}

impl Drop for TestIdp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn key() -> rcgen::KeyPair {
    match rcgen::KeyPair::generate() {
        Ok(k) => k,
        Err(e) => panic!("keypair: {e}"),
    }
}

/// A server config with a certificate for `127.0.0.1` and `localhost` from a fresh CA, and
/// that CA's PEM.
fn tls_server() -> (Arc<rustls::ServerConfig>, String) {
    let ca_key = key();
    let Ok(mut ca_params) = rcgen::CertificateParams::new(Vec::<String>::new()) else {
        panic!("ca params")
    };
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "portcullis test IdP CA");
    let Ok(ca) = ca_params.self_signed(&ca_key) else {
        panic!("ca cert")
    };
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let srv_key = key();
    let Ok(params) =
        rcgen::CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
    else {
        panic!("server params")
    };
    let Ok(srv) = params.signed_by(&srv_key, &issuer) else {
        panic!("server cert")
    };
    let Ok(key) = rustls_pki_types::PrivateKeyDer::try_from(srv_key.serialize_der()) else {
        panic!("server key")
    };
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let Ok(builder) =
        rustls::ServerConfig::builder_with_provider(provider).with_safe_default_protocol_versions()
    else {
        panic!("versions")
    };
    let mut config = match builder
        .with_no_client_auth()
        .with_single_cert(vec![srv.der().clone()], key)
    {
        Ok(c) => c,
        Err(e) => panic!("server config: {e}"),
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    (Arc::new(config), ca.pem())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_values_decode() {
        assert_eq!(form_decode("a+b%2Bc%2F"), "a b+c/");
        assert_eq!(form_decode("%zz%4"), "%zz%4");
    }
}
