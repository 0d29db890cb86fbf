//! Certificate choice by SNI, swappable at runtime.
//!
//! The live set of certificates sits behind an [`ArcSwap`]: a handshake takes a snapshot with
//! one atomic load and no lock, and a reload replaces the whole set at once, so a handshake
//! never sees half of an old and half of a new configuration.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use arc_swap::ArcSwap;
use rustls::SignatureScheme;
use rustls::server::{ClientHello, ParsedCertificate, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::{DnsName, ServerName};

use crate::TlsError;
use crate::load::PairPaths;

/// A configured `server_names` entry, normalised to lower case without a trailing dot.
#[derive(Clone, Debug, PartialEq, Eq)]
enum NamePattern {
    /// `api.example.com`.
    Exact(String),
    /// `*.example.com`, stored as `.example.com`; matches exactly one extra label.
    Wildcard(String),
}

impl NamePattern {
    fn parse(raw: &str, paths: &PairPaths) -> Result<Self, TlsError> {
        let invalid = || TlsError::InvalidServerName {
            cert_path: paths.cert.clone(),
            name: raw.to_owned(),
        };
        let name = normalise(raw);
        let (pattern, checked) = match name.strip_prefix("*.") {
            Some(rest) => (NamePattern::Wildcard(format!(".{rest}")), rest),
            None => (NamePattern::Exact(name.clone()), name.as_str()),
        };
        if checked.is_empty() || DnsName::try_from(checked).is_err() {
            return Err(invalid());
        }
        Ok(pattern)
    }

    fn matches_wildcard(&self, sni: &str) -> bool {
        match self {
            NamePattern::Exact(_) => false,
            NamePattern::Wildcard(suffix) => sni
                .strip_suffix(suffix.as_str())
                .is_some_and(|label| !label.is_empty() && !label.contains('.')),
        }
    }
}

fn normalise(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// One certificate with the names it answers for.
struct Entry {
    key: Arc<CertifiedKey>,
    /// Explicit `server_names`; empty means "the names in the certificate".
    names: Vec<NamePattern>,
    paths: PairPaths,
}

impl Entry {
    /// Whether the certificate itself (its SAN DNS names, wildcards included) covers `sni`.
    ///
    /// Uses webpki's name check via rustls instead of extracting SANs at load time: no X.509
    /// parser dependency, and exactly the matching rules a client applies. The leaf was parsed
    /// successfully at load time, so a failure here only means "no match".
    fn certificate_covers(&self, sni: &ServerName<'_>) -> bool {
        let Ok(leaf) = self.key.end_entity_cert() else {
            return false;
        };
        let Ok(parsed) = ParsedCertificate::try_from(leaf) else {
            return false;
        };
        rustls::client::verify_server_name(&parsed, sni).is_ok()
    }

    fn can_sign(&self, schemes: &[SignatureScheme]) -> bool {
        self.key.key.choose_scheme(schemes).is_some()
    }
}

/// An immutable snapshot of the certificates of one listener.
pub(crate) struct CertSet {
    /// Never empty: [`CertSet::new`] refuses an empty list. The first entry is the default.
    entries: Vec<Entry>,
    /// Explicit exact names → entry indices, in configuration order.
    exact: HashMap<String, Vec<usize>>,
}

/// What [`CertSet::new`] takes per certificate.
pub(crate) struct LoadedPair {
    pub(crate) key: Arc<CertifiedKey>,
    pub(crate) server_names: Vec<String>,
    pub(crate) paths: PairPaths,
}

impl CertSet {
    pub(crate) fn new(pairs: Vec<LoadedPair>) -> Result<Self, TlsError> {
        let mut entries = Vec::with_capacity(pairs.len());
        let mut exact: HashMap<String, Vec<usize>> = HashMap::new();
        for (index, pair) in pairs.into_iter().enumerate() {
            let mut names = Vec::with_capacity(pair.server_names.len());
            for raw in &pair.server_names {
                let pattern = NamePattern::parse(raw, &pair.paths)?;
                if let NamePattern::Exact(name) = &pattern {
                    exact.entry(name.clone()).or_default().push(index);
                    warn_if_not_covered(&pair, name);
                }
                names.push(pattern);
            }
            entries.push(Entry {
                key: pair.key,
                names,
                paths: pair.paths,
            });
        }
        if entries.is_empty() {
            // Callers fall back to the dev certificate before getting here; keep the
            // invariant checked anyway so `choose` can rely on a default.
            return Err(TlsError::Config(rustls::Error::General(
                "no certificate to serve".to_owned(),
            )));
        }
        Ok(Self { entries, exact })
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The certificate for a ClientHello.
    ///
    /// Order: explicit exact `server_names`; then, in configuration order, explicit wildcard
    /// names or (for entries without `server_names`) the certificate's own names; then the
    /// default (the first certificate). Among several matches the first whose key can sign
    /// with a scheme the client offers wins, so an RSA and an ECDSA certificate for the same
    /// name can be served side by side.
    fn choose(&self, sni: Option<&str>, schemes: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        let mut candidates: Vec<usize> = Vec::new();
        if let Some(raw) = sni {
            let sni = normalise(raw);
            if let Some(hits) = self.exact.get(&sni) {
                candidates.extend_from_slice(hits);
            }
            if candidates.is_empty() {
                let server_name = ServerName::try_from(sni.as_str()).ok();
                for (index, entry) in self.entries.iter().enumerate() {
                    let hit = if entry.names.is_empty() {
                        server_name
                            .as_ref()
                            .is_some_and(|name| entry.certificate_covers(name))
                    } else {
                        entry.names.iter().any(|p| p.matches_wildcard(&sni))
                    };
                    if hit {
                        candidates.push(index);
                    }
                }
            }
        }
        if candidates.is_empty() {
            // No SNI, or a name nobody serves: the default, unless its key cannot sign for
            // this client at all, in which case any certificate beats a failed handshake.
            candidates = (0..self.entries.len()).collect();
        }
        let pick = candidates
            .iter()
            .filter_map(|&i| self.entries.get(i))
            .find(|e| e.can_sign(schemes))
            .or_else(|| candidates.first().and_then(|&i| self.entries.get(i)))?;
        Some(Arc::clone(&pick.key))
    }
}

fn warn_if_not_covered(pair: &LoadedPair, name: &str) {
    let covered = pair
        .key
        .end_entity_cert()
        .ok()
        .and_then(|leaf| ParsedCertificate::try_from(leaf).ok())
        .zip(ServerName::try_from(name).ok())
        .is_some_and(|(cert, sn)| rustls::client::verify_server_name(&cert, &sn).is_ok());
    if !covered {
        tracing::warn!(
            cert = %pair.paths.cert.display(),
            server_name = name,
            "certificate does not cover a configured server name; clients will reject it"
        );
    }
}

/// The [`ResolvesServerCert`] of a listener: SNI choice over a hot-swappable snapshot of its
/// certificates (see [`ServerTls::reload`](crate::ServerTls::reload)).
pub struct SniResolver {
    current: ArcSwap<CertSet>,
}

impl SniResolver {
    pub(crate) fn new(set: CertSet) -> Self {
        Self {
            current: ArcSwap::from_pointee(set),
        }
    }

    /// Replaces the certificates atomically; handshakes in flight keep the old snapshot.
    pub(crate) fn replace(&self, set: CertSet) {
        self.current.store(Arc::new(set));
    }

    /// The number of certificates currently served.
    pub fn len(&self) -> usize {
        self.current.load().len()
    }

    /// Always false: a resolver holds at least the default certificate.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The certificate chain (DER, leaf first) that a ClientHello with `sni` would get, for
    /// diagnostics and tests. `None` SNI means "no SNI sent".
    pub fn chain_for(&self, sni: Option<&str>) -> Option<Vec<Vec<u8>>> {
        let all = [
            SignatureScheme::ECDSA_NISTP256_SHA256,
            SignatureScheme::ECDSA_NISTP384_SHA384,
            SignatureScheme::ED25519,
            SignatureScheme::RSA_PSS_SHA256,
            SignatureScheme::RSA_PKCS1_SHA256,
        ];
        self.current
            .load()
            .choose(sni, &all)
            .map(|ck| ck.cert.iter().map(|c| c.to_vec()).collect())
    }
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.current
            .load()
            .choose(client_hello.server_name(), client_hello.signature_schemes())
    }
}

impl fmt::Debug for SniResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = self.current.load();
        let files: Vec<_> = set
            .entries
            .iter()
            .map(|e| e.paths.cert.display().to_string())
            .collect();
        f.debug_struct("SniResolver")
            .field("certificates", &files)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn paths() -> PairPaths {
        PairPaths {
            cert: PathBuf::from("c.pem"),
            key: PathBuf::from("k.pem"),
        }
    }

    #[test]
    fn name_patterns_parse_and_match() {
        let p = NamePattern::parse("*.Example.COM.", &paths()).unwrap();
        assert_eq!(p, NamePattern::Wildcard(".example.com".into()));
        assert!(p.matches_wildcard("a.example.com"));
        assert!(!p.matches_wildcard("example.com"));
        assert!(!p.matches_wildcard("a.b.example.com"));
        assert!(!p.matches_wildcard(".example.com"));
        assert_eq!(
            NamePattern::parse("API.example.com", &paths()).unwrap(),
            NamePattern::Exact("api.example.com".into())
        );
        for bad in ["", "*.", "a b.example", "*", "exa_mple..com"] {
            let err = NamePattern::parse(bad, &paths()).unwrap_err();
            assert!(err.to_string().contains("c.pem"), "{err}");
        }
    }
}
