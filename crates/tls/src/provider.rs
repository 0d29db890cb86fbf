//! The restricted crypto provider.
//!
//! rustls's aws-lc-rs provider is already free of CBC, RSA key exchange and TLS < 1.2, but we
//! list suites and groups explicitly anyway (as linkerd does): a future rustls release that
//! adds a suite must not silently widen what the gateway accepts, and the list here is the one
//! place an auditor has to read.

use std::sync::Arc;

use portcullis_config::TlsVersion;
use rustls::SupportedProtocolVersion;
use rustls::crypto::CryptoProvider;
use rustls::crypto::aws_lc_rs::{self, cipher_suite, kx_group};

/// TLS 1.3 suites, in server preference order. All are AEAD; TLS 1.3 always has forward
/// secrecy.
const TLS13_SUITES: [rustls::SupportedCipherSuite; 3] = [
    cipher_suite::TLS13_AES_128_GCM_SHA256,
    cipher_suite::TLS13_AES_256_GCM_SHA384,
    cipher_suite::TLS13_CHACHA20_POLY1305_SHA256,
];

/// TLS 1.2 suites: ECDHE (forward secrecy) with an AEAD only. No CBC, no static RSA.
const TLS12_SUITES: [rustls::SupportedCipherSuite; 6] = [
    cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    cipher_suite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    cipher_suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    cipher_suite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    cipher_suite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
];

static TLS13_ONLY: [&SupportedProtocolVersion; 1] = [&rustls::version::TLS13];
static TLS12_AND_13: [&SupportedProtocolVersion; 2] =
    [&rustls::version::TLS13, &rustls::version::TLS12];

/// The crypto provider for listeners whose lowest version is `min_version`.
///
/// Cipher suites: the AEAD, forward-secret suites above; with `TlsVersion::Tls13` the TLS 1.2
/// suites are dropped too, so the provider itself cannot negotiate 1.2 even if a caller forgot
/// [`protocol_versions`]. Key exchange: the post-quantum hybrid X25519MLKEM768 first (only
/// aws-lc-rs has it), then X25519, P-256 and P-384. Signature verification and key loading are
/// aws-lc-rs's.
pub fn crypto_provider(min_version: TlsVersion) -> CryptoProvider {
    let mut cipher_suites = TLS13_SUITES.to_vec();
    if min_version == TlsVersion::Tls12 {
        cipher_suites.extend_from_slice(&TLS12_SUITES);
    }
    CryptoProvider {
        cipher_suites,
        kx_groups: vec![
            kx_group::X25519MLKEM768,
            kx_group::X25519,
            kx_group::SECP256R1,
            kx_group::SECP384R1,
        ],
        ..aws_lc_rs::default_provider()
    }
}

/// The provider as an `Arc`, as rustls config builders want it.
pub(crate) fn shared_provider(min_version: TlsVersion) -> Arc<CryptoProvider> {
    Arc::new(crypto_provider(min_version))
}

/// The protocol versions a listener with lowest version `min_version` enables.
pub fn protocol_versions(min_version: TlsVersion) -> &'static [&'static SupportedProtocolVersion] {
    match min_version {
        TlsVersion::Tls12 => &TLS12_AND_13,
        TlsVersion::Tls13 => &TLS13_ONLY,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::CipherSuite;
    use rustls::NamedGroup;

    #[test]
    fn tls12_provider_lists_exactly_the_allowed_suites() {
        let p = crypto_provider(TlsVersion::Tls12);
        let got: Vec<CipherSuite> = p.cipher_suites.iter().map(|s| s.suite()).collect();
        assert_eq!(
            got,
            vec![
                CipherSuite::TLS13_AES_128_GCM_SHA256,
                CipherSuite::TLS13_AES_256_GCM_SHA384,
                CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
                CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
                CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
                CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
                CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
                CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
                CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
            ]
        );
        for s in &p.cipher_suites {
            let name = format!("{:?}", s.suite());
            assert!(!name.contains("CBC"), "{name}");
            assert!(
                name.starts_with("TLS13_") || name.starts_with("TLS_ECDHE_"),
                "{name}"
            );
            assert!(
                name.contains("GCM") || name.contains("CHACHA20_POLY1305"),
                "{name}"
            );
        }
        let groups: Vec<NamedGroup> = p.kx_groups.iter().map(|g| g.name()).collect();
        assert_eq!(
            groups,
            vec![
                NamedGroup::X25519MLKEM768,
                NamedGroup::X25519,
                NamedGroup::secp256r1,
                NamedGroup::secp384r1,
            ]
        );
    }

    #[test]
    fn tls13_provider_drops_tls12_suites_and_versions() {
        let p = crypto_provider(TlsVersion::Tls13);
        assert_eq!(p.cipher_suites.len(), 3);
        assert!(
            p.cipher_suites
                .iter()
                .all(|s| s.version() == &rustls::version::TLS13)
        );
        let v = protocol_versions(TlsVersion::Tls13);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].version, rustls::ProtocolVersion::TLSv1_3);
        let v = protocol_versions(TlsVersion::Tls12);
        assert_eq!(v.len(), 2);
    }
}
