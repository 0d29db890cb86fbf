//! rustls client configs for tests.

use std::sync::Arc;

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// A client config trusting exactly the certificates in `pem`, with the given ALPN list and
/// protocol versions (`None`: rustls defaults, TLS 1.2 and 1.3).
pub fn client_config(
    pem: &[u8],
    alpn: &[&[u8]],
    versions: Option<&[&'static rustls::SupportedProtocolVersion]>,
) -> Arc<rustls::ClientConfig> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem).flatten() {
        let _ = roots.add(cert);
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider);
    let builder = match versions {
        Some(v) => builder.with_protocol_versions(v),
        None => builder.with_safe_default_protocol_versions(),
    };
    let Ok(builder) = builder else {
        panic!("protocol versions")
    };
    let mut config = builder.with_root_certificates(roots).with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Arc::new(config)
}
