//! The HTTP client for identity providers (JWKS, discovery, introspection).
//!
//! Same stack as the upstream pools (hyper-util's pooled client, hyper-rustls on the
//! aws-lc-rs provider), with the rules a credential path needs: certificates always
//! verified (against `ca_file` only, or the system's roots), plain `http://` only to
//! loopback (checked by config validation and again here), redirects never followed, one
//! deadline for the whole exchange and a cap on the answer's size, so a slow or hostile
//! provider costs bounded time and memory. Errors name the URL and the failure, never a
//! request body (which may hold a token).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A client for one provider endpoint family, built once per config version.
#[derive(Clone)]
pub(crate) struct ProviderClient {
    client: HttpsClient,
    timeout: Duration,
}

fn roots(ca_file: Option<&Path>) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                .map_err(|e| format!("ca_file `{}`: {e}", path.display()))?
                .collect::<Result<_, _>>()
                .map_err(|e| format!("ca_file `{}`: {e}", path.display()))?;
            if certs.is_empty() {
                return Err(format!("ca_file `{}` holds no certificate", path.display()));
            }
            for c in certs {
                roots
                    .add(c)
                    .map_err(|e| format!("ca_file `{}`: {e}", path.display()))?;
            }
        }
        None => {
            for c in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(c);
            }
        }
    }
    Ok(roots)
}

impl ProviderClient {
    /// A client trusting `ca_file` (only) or the system roots; `timeout` bounds connect,
    /// request and the whole answer.
    pub(crate) fn new(ca_file: Option<&Path>, timeout: Duration) -> Result<Self, String> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots(ca_file)?)
            .with_no_client_auth();
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(timeout));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(4)
            .build(connector);
        Ok(Self { client, timeout })
    }

    /// Sends `req` and reads at most `max_bytes` of the answer, all within the timeout.
    /// The URL must pass [`portcullis_config::remote_url_problem`] (checked again here so
    /// no caller can reach a non-loopback `http://` URL).
    pub(crate) async fn send(
        &self,
        req: Request<Full<Bytes>>,
        max_bytes: usize,
    ) -> Result<(StatusCode, Bytes), String> {
        let url = req.uri().to_string();
        if let Some(problem) = portcullis_config::remote_url_problem(&url) {
            return Err(problem);
        }
        let exchange = async {
            let resp = self
                .client
                .request(req)
                .await
                .map_err(|e| format!("{url}: {e}"))?;
            let status = resp.status();
            let body = Limited::new(resp.into_body(), max_bytes)
                .collect()
                .await
                .map_err(|e| format!("{url}: answer unreadable or over {max_bytes} bytes: {e}"))?
                .to_bytes();
            Ok((status, body))
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| format!("{url}: no answer within {:?}", self.timeout))?
    }

    /// GET `url` and parse the answer as JSON (status 200 only).
    pub(crate) async fn get_json(
        &self,
        url: &str,
        max_bytes: usize,
    ) -> Result<serde_json::Value, String> {
        let req = Request::get(url)
            .header(http::header::ACCEPT, "application/json")
            .body(Full::new(Bytes::new()))
            .map_err(|e| format!("{url}: {e}"))?;
        let (status, body) = self.send(req, max_bytes).await?;
        if status != StatusCode::OK {
            return Err(format!("{url}: status {status}"));
        }
        serde_json::from_slice(&body).map_err(|e| format!("{url}: not JSON: {e}"))
    }
}
