//! mTLS authentication: the listener verified the client certificate against its CAs during
//! the handshake (`tls.client_auth`); this guard names the consumer from it.

use portcullis_config::MtlsAuthSpec;
use portcullis_core::{Denial, Guard, GuardId, Identity, Phase, ProblemType, RequestCx, Step};
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

const ID: GuardId = GuardId("mtls");

/// Which part of the certificate is the consumer id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    SanUri,
    SanDns,
    SanEmail,
    SubjectCn,
}

/// The identity of a verified client certificate (leaf, DER): `(subject CN, SANs as
/// `uri:`/`dns:`/`email:` strings)`. `None` when it does not parse.
pub fn certificate_names(der: &[u8]) -> Option<(Option<String>, Vec<String>)> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let cn = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|a| a.as_str().ok())
        .map(str::to_string);
    let mut sans = Vec::new();
    if let Ok(Some(ext)) = cert.subject_alternative_name() {
        for name in &ext.value.general_names {
            match name {
                GeneralName::URI(u) => sans.push(format!("uri:{u}")),
                GeneralName::DNSName(d) => sans.push(format!("dns:{d}")),
                GeneralName::RFC822Name(e) => sans.push(format!("email:{e}")),
                _ => {}
            }
        }
    }
    Some((cn, sans))
}

/// Authenticates requests by their verified client certificate.
#[derive(Debug)]
pub struct MtlsGuard {
    source: Source,
}

impl MtlsGuard {
    /// A guard for a route's `mtls` block.
    pub fn new(spec: &MtlsAuthSpec) -> Self {
        let source = match spec.identity.as_str() {
            "san_dns" => Source::SanDns,
            "san_email" => Source::SanEmail,
            "subject_cn" => Source::SubjectCn,
            _ => Source::SanUri,
        };
        Self { source }
    }
}

fn unauthorized(reason: &'static str) -> Step {
    Step::Deny(Denial::new(ProblemType::Unauthorized, reason, ID))
}

impl Guard for MtlsGuard {
    fn id(&self) -> GuardId {
        ID
    }

    fn phases(&self) -> &'static [Phase] {
        &[Phase::Request]
    }

    fn on_request(&self, cx: &mut RequestCx, _req: &mut http::request::Parts) -> Step {
        // Only a chain the handshake verified is ever here (rustls refuses the rest).
        let Some(leaf) = cx
            .tls
            .as_ref()
            .and_then(|t| t.client_certs.as_ref())
            .and_then(|chain| chain.first())
        else {
            return unauthorized("mtls_no_certificate");
        };
        let Some((cn, sans)) = certificate_names(leaf) else {
            return unauthorized("mtls_unparseable");
        };
        let prefix = match self.source {
            Source::SanUri => Some("uri:"),
            Source::SanDns => Some("dns:"),
            Source::SanEmail => Some("email:"),
            Source::SubjectCn => None,
        };
        let consumer = match prefix {
            Some(p) => sans
                .iter()
                .find_map(|s| s.strip_prefix(p))
                .map(str::to_string),
            None => cn,
        };
        let Some(consumer) = consumer.filter(|c| !c.is_empty()) else {
            return unauthorized("mtls_no_identity");
        };
        cx.identity = Some(Identity {
            consumer_id: consumer,
            method: "mtls",
            ..Default::default()
        });
        Step::Continue
    }
}

impl crate::combine::Credential for MtlsGuard {
    fn presented(&self, cx: &RequestCx, _req: &http::request::Parts) -> bool {
        cx.tls
            .as_ref()
            .and_then(|t| t.client_certs.as_ref())
            .is_some_and(|chain| !chain.is_empty())
    }

    fn strip(&self, _req: &mut http::request::Parts) {}

    fn challenge(&self) -> http::HeaderValue {
        http::HeaderValue::from_static("Mutual")
    }
}
