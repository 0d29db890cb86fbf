//! TLS towards upstream targets. Verification is always on.

use std::sync::Arc;

use portcullis_config::UpstreamTlsSpec;
use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::errors::{UpstreamError, UpstreamErrorKind};

fn config_error(message: String) -> UpstreamError {
    UpstreamError::new(UpstreamErrorKind::Config, message)
}

/// A client config: roots from `ca_file` (only those) or the system store, TLS 1.2+, the
/// aws-lc-rs provider, and the client certificate when configured.
pub(crate) fn client_config(spec: &UpstreamTlsSpec) -> Result<rustls::ClientConfig, UpstreamError> {
    let mut roots = RootCertStore::empty();
    match &spec.ca_file {
        Some(path) => {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                .map_err(|e| config_error(format!("ca_file `{}`: {e}", path.display())))?
                .collect::<Result<_, _>>()
                .map_err(|e| config_error(format!("ca_file `{}`: {e}", path.display())))?;
            if certs.is_empty() {
                return Err(config_error(format!(
                    "ca_file `{}` holds no certificate",
                    path.display()
                )));
            }
            for c in certs {
                roots
                    .add(c)
                    .map_err(|e| config_error(format!("ca_file `{}`: {e}", path.display())))?;
            }
        }
        None => {
            let native = rustls_native_certs::load_native_certs();
            for c in native.certs {
                let _ = roots.add(c);
            }
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| config_error(e.to_string()))?
        .with_root_certificates(roots);
    match (&spec.client_cert_file, &spec.client_key_file) {
        (Some(cert), Some(key)) => {
            let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
                .map_err(|e| config_error(format!("client_cert_file `{}`: {e}", cert.display())))?
                .collect::<Result<_, _>>()
                .map_err(|e| config_error(format!("client_cert_file `{}`: {e}", cert.display())))?;
            let key = PrivateKeyDer::from_pem_file(key)
                .map_err(|e| config_error(format!("client_key_file `{}`: {e}", key.display())))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| config_error(format!("client certificate: {e}")))
        }
        _ => Ok(builder.with_no_client_auth()),
    }
}
