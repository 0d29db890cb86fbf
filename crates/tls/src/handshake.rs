//! After (or instead of) a handshake: what it established, and why it failed.

use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use portcullis_core::TlsInfo;
use rustls::{AlertDescription, PeerIncompatible, ProtocolVersion, ServerConnection};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// Describes a finished handshake for the request context.
///
/// `client_certs` is only set when a client certificate was presented, which requires a
/// [`ClientAuth::Verifier`](crate::ClientAuth::Verifier); rustls only exposes chains its
/// verifier accepted.
pub fn tls_info(conn: &ServerConnection) -> TlsInfo {
    let version = match conn.protocol_version() {
        Some(ProtocolVersion::TLSv1_3) => "TLSv1_3",
        Some(ProtocolVersion::TLSv1_2) => "TLSv1_2",
        // Not reachable after a completed handshake with our provider.
        _ => "unknown",
    };
    TlsInfo {
        version,
        sni: conn.server_name().map(Arc::from),
        alpn: conn.alpn_protocol().map(<[u8]>::to_vec),
        client_certs: conn
            .peer_certificates()
            .filter(|chain| !chain.is_empty())
            .map(|chain| Arc::new(chain.iter().map(|c| c.to_vec()).collect())),
    }
}

/// Why a handshake failed, as a small closed set for a metrics label.
///
/// The strings of [`HandshakeErrorKind::as_str`] are a stable interface (dashboards and
/// alerts use them); add kinds, never rename them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HandshakeErrorKind {
    /// The client offered no protocol version we speak (TLS ≤ 1.1, or 1.2 on a 1.3-only
    /// listener), or rejected ours. Note that rustls answers a typical TLS 1.0/1.1 hello with
    /// a `handshake_failure` alert, not `protocol_version`: it requires the
    /// `signature_algorithms` extension (TLS 1.2+) before it looks at the version. We still
    /// count it here, because that is what it is.
    ProtocolVersion,
    /// No cipher suite, key exchange group or signature scheme in common (e.g. a CBC-only or
    /// RSA-key-exchange-only client).
    NoSharedCipher,
    /// A certificate was refused: the client rejected ours (unknown CA, bad name) or, with
    /// mTLS, we rejected or missed theirs.
    BadCertificate,
    /// The bytes were not a valid TLS handshake (garbage, plain HTTP to a TLS port, a
    /// message out of order).
    Malformed,
    /// The handshake did not finish within the deadline.
    Timeout,
    /// The peer closed or reset the connection during the handshake.
    Eof,
    /// Anything else.
    Other,
}

impl HandshakeErrorKind {
    /// Every kind, for pre-registering metric label values.
    pub const ALL: [HandshakeErrorKind; 7] = [
        HandshakeErrorKind::ProtocolVersion,
        HandshakeErrorKind::NoSharedCipher,
        HandshakeErrorKind::BadCertificate,
        HandshakeErrorKind::Malformed,
        HandshakeErrorKind::Timeout,
        HandshakeErrorKind::Eof,
        HandshakeErrorKind::Other,
    ];

    /// The stable label value.
    pub const fn as_str(self) -> &'static str {
        match self {
            HandshakeErrorKind::ProtocolVersion => "protocol_version",
            HandshakeErrorKind::NoSharedCipher => "no_shared_cipher",
            HandshakeErrorKind::BadCertificate => "bad_certificate",
            HandshakeErrorKind::Malformed => "malformed",
            HandshakeErrorKind::Timeout => "timeout",
            HandshakeErrorKind::Eof => "eof",
            HandshakeErrorKind::Other => "other",
        }
    }

    /// Classifies an error from `TlsAcceptor::accept`. tokio-rustls wraps rustls errors in
    /// `io::ErrorKind::InvalidData`; those are unwrapped and classified by
    /// [`HandshakeErrorKind::from_rustls`].
    pub fn from_io(err: &io::Error) -> Self {
        if let Some(inner) = err
            .get_ref()
            .and_then(|e| e.downcast_ref::<rustls::Error>())
        {
            return Self::from_rustls(inner);
        }
        match err.kind() {
            io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe => HandshakeErrorKind::Eof,
            io::ErrorKind::TimedOut => HandshakeErrorKind::Timeout,
            io::ErrorKind::InvalidData => HandshakeErrorKind::Malformed,
            _ => HandshakeErrorKind::Other,
        }
    }

    /// Classifies a rustls error (ours, or an alert the peer sent).
    pub fn from_rustls(err: &rustls::Error) -> Self {
        use rustls::Error as E;
        match err {
            E::PeerIncompatible(p) => match p {
                PeerIncompatible::Tls12NotOffered
                | PeerIncompatible::Tls12NotOfferedOrEnabled
                | PeerIncompatible::SupportedVersionsExtensionRequired
                | PeerIncompatible::ServerDoesNotSupportTls12Or13
                | PeerIncompatible::Tls13RequiredForQuic
                // rustls checks for this TLS 1.2 extension *before* the version, so it is
                // what a TLS 1.0/1.1 client (which never sends it) runs into; every TLS 1.2+
                // client in use sends it.
                | PeerIncompatible::SignatureAlgorithmsExtensionRequired => {
                    HandshakeErrorKind::ProtocolVersion
                }
                PeerIncompatible::NoCipherSuitesInCommon
                | PeerIncompatible::NoKxGroupsInCommon
                | PeerIncompatible::NoSignatureSchemesInCommon
                | PeerIncompatible::NoEcPointFormatsInCommon
                | PeerIncompatible::UncompressedEcPointsRequired
                | PeerIncompatible::KeyShareExtensionRequired
                | PeerIncompatible::NamedGroupsExtensionRequired => {
                    HandshakeErrorKind::NoSharedCipher
                }
                _ => HandshakeErrorKind::Other,
            },
            E::AlertReceived(alert) => match alert {
                AlertDescription::ProtocolVersion => HandshakeErrorKind::ProtocolVersion,
                AlertDescription::InsufficientSecurity => HandshakeErrorKind::NoSharedCipher,
                AlertDescription::BadCertificate
                | AlertDescription::UnsupportedCertificate
                | AlertDescription::CertificateRevoked
                | AlertDescription::CertificateExpired
                | AlertDescription::CertificateUnknown
                | AlertDescription::UnknownCA
                | AlertDescription::CertificateRequired
                | AlertDescription::AccessDenied => HandshakeErrorKind::BadCertificate,
                AlertDescription::DecodeError
                | AlertDescription::UnexpectedMessage
                | AlertDescription::IllegalParameter => HandshakeErrorKind::Malformed,
                _ => HandshakeErrorKind::Other,
            },
            E::InvalidCertificate(_) | E::NoCertificatesPresented => {
                HandshakeErrorKind::BadCertificate
            }
            E::InvalidMessage(_)
            | E::InappropriateMessage { .. }
            | E::InappropriateHandshakeMessage { .. }
            | E::PeerMisbehaved(_) => HandshakeErrorKind::Malformed,
            _ => HandshakeErrorKind::Other,
        }
    }
}

impl fmt::Display for HandshakeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed [`accept`]: the kind for metrics and the underlying error for logs.
#[derive(Debug, thiserror::Error)]
#[error("TLS handshake failed ({kind}): {detail}")]
pub struct HandshakeError {
    /// The metrics label.
    pub kind: HandshakeErrorKind,
    /// A human-readable cause.
    pub detail: String,
}

/// Runs a server handshake with a deadline, classifying failures.
///
/// The deadline bounds slow-loris handshakes: without it a client that opens a socket and
/// sends nothing holds a connection slot forever.
pub async fn accept<IO>(
    acceptor: &TlsAcceptor,
    io: IO,
    timeout: Duration,
) -> Result<TlsStream<IO>, HandshakeError>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    match tokio::time::timeout(timeout, acceptor.accept(io)).await {
        Ok(Ok(stream)) => Ok(stream),
        Ok(Err(err)) => Err(HandshakeError {
            kind: HandshakeErrorKind::from_io(&err),
            detail: err.to_string(),
        }),
        Err(_elapsed) => Err(HandshakeError {
            kind: HandshakeErrorKind::Timeout,
            detail: format!("no complete handshake within {timeout:?}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_stable_and_distinct() {
        let labels: Vec<&str> = HandshakeErrorKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(
            labels,
            [
                "protocol_version",
                "no_shared_cipher",
                "bad_certificate",
                "malformed",
                "timeout",
                "eof",
                "other"
            ]
        );
    }

    #[test]
    fn io_errors_unwrap_rustls_errors() {
        let wrapped = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::PeerIncompatible(PeerIncompatible::Tls12NotOffered),
        );
        assert_eq!(
            HandshakeErrorKind::from_io(&wrapped),
            HandshakeErrorKind::ProtocolVersion
        );
        let wrapped = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::PeerIncompatible(PeerIncompatible::NoCipherSuitesInCommon),
        );
        assert_eq!(
            HandshakeErrorKind::from_io(&wrapped),
            HandshakeErrorKind::NoSharedCipher
        );
        let wrapped = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::AlertReceived(AlertDescription::UnknownCA),
        );
        assert_eq!(
            HandshakeErrorKind::from_io(&wrapped),
            HandshakeErrorKind::BadCertificate
        );
        let eof = io::Error::new(io::ErrorKind::UnexpectedEof, "tls handshake eof");
        assert_eq!(HandshakeErrorKind::from_io(&eof), HandshakeErrorKind::Eof);
        let other = io::Error::other("x");
        assert_eq!(
            HandshakeErrorKind::from_io(&other),
            HandshakeErrorKind::Other
        );
    }
}
