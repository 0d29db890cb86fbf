//! Client-certificate verification (mTLS) for a listener: a CA bundle, optional CRLs,
//! required or optional. Built on rustls' `WebPkiClientVerifier` with our restricted
//! provider, so client chains are checked with the same algorithms as everything else.

use std::path::Path;
use std::sync::Arc;

use portcullis_config::{ClientAuthSpec, TlsVersion};
use rustls::RootCertStore;
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, CertificateRevocationListDer};

use crate::errors::TlsError;
use crate::provider::shared_provider;
use crate::server::ClientAuth;

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// Builds the verifier of `spec`.
pub fn client_auth(spec: &ClientAuthSpec, min_version: TlsVersion) -> Result<ClientAuth, TlsError> {
    let pem = read(&spec.ca_file)?;
    let mut roots = RootCertStore::empty();
    let mut found = false;
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| TlsError::Pem {
            path: spec.ca_file.clone(),
            detail: e.to_string(),
        })?;
        roots.add(cert).map_err(|e| TlsError::InvalidCertificate {
            path: spec.ca_file.clone(),
            detail: e.to_string(),
        })?;
        found = true;
    }
    if !found {
        return Err(TlsError::NoCertificate {
            path: spec.ca_file.clone(),
        });
    }
    let mut crls = Vec::new();
    for f in &spec.crl_files {
        let pem = read(f)?;
        for crl in CertificateRevocationListDer::pem_slice_iter(&pem) {
            crls.push(crl.map_err(|e| TlsError::Pem {
                path: f.clone(),
                detail: e.to_string(),
            })?);
        }
    }
    let mut builder =
        WebPkiClientVerifier::builder_with_provider(Arc::new(roots), shared_provider(min_version))
            .with_crls(crls);
    if !spec.required {
        builder = builder.allow_unauthenticated();
    }
    let verifier = builder.build().map_err(|e| TlsError::InvalidCertificate {
        path: spec.ca_file.clone(),
        detail: e.to_string(),
    })?;
    Ok(ClientAuth::Verifier(verifier))
}
