//! Test fixtures: a CA issuing leaf certificates, a TLS server on 127.0.0.1:0 and a
//! tokio-rustls client, plus raw ClientHello bytes.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use portcullis_config::{CertificateSpec, TlsSpec, TlsVersion};
use portcullis_core::TlsInfo;
use portcullis_tls::{HandshakeErrorKind, ServerTls};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, PKCS_ECDSA_P256_SHA256,
    PKCS_RSA_SHA256, RsaKeySize,
};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub const WAIT: Duration = Duration::from_secs(10);

// === certificates ===

/// A test CA (ECDSA P-256).
pub struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    pub der: CertificateDer<'static>,
}

/// An issued leaf certificate.
pub struct Leaf {
    pub cert_pem: String,
    pub key_pem: String,
    pub der: Vec<u8>,
}

impl TestCa {
    pub fn new() -> Self {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "portcullis test CA");
        let cert = params.self_signed(&key).unwrap();
        Self {
            issuer: Issuer::new(params, key),
            der: cert.der().clone(),
        }
    }

    pub fn leaf(&self, names: &[&str]) -> Leaf {
        self.leaf_with(
            names,
            KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap(),
        )
    }

    pub fn rsa_leaf(&self, names: &[&str]) -> Leaf {
        let key = KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_2048).unwrap();
        self.leaf_with(names, key)
    }

    fn leaf_with(&self, names: &[&str], key: KeyPair) -> Leaf {
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        let mut params = CertificateParams::new(names.clone()).unwrap();
        params.distinguished_name.push(
            DnType::CommonName,
            names.first().cloned().unwrap_or_default(),
        );
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Leaf {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            der: cert.der().to_vec(),
        }
    }

    pub fn roots(&self) -> RootCertStore {
        let mut roots = RootCertStore::empty();
        roots.add(self.der.clone()).unwrap();
        roots
    }
}

/// Writes `leaf` as `<dir>/<name>.crt` + `<dir>/<name>.key` (atomically, by rename).
pub fn write_leaf(dir: &Path, name: &str, leaf: &Leaf) -> CertificateSpec {
    let cert_file = dir.join(format!("{name}.crt"));
    let key_file = dir.join(format!("{name}.key"));
    write_atomic(&key_file, leaf.key_pem.as_bytes());
    write_atomic(&cert_file, leaf.cert_pem.as_bytes());
    CertificateSpec {
        cert_file,
        key_file,
        server_names: Vec::new(),
    }
}

pub fn write_atomic(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension("tmp-write");
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

pub fn tls_spec(certificates: Vec<CertificateSpec>) -> TlsSpec {
    TlsSpec {
        certificates,
        min_version: TlsVersion::Tls12,
        watch: true,
        client_auth: None,
    }
}

// === server ===

/// What the server saw for one connection.
pub type ServerEvent = Result<TlsInfo, HandshakeErrorKind>;

/// A TLS server on an ephemeral loopback port; every accepted connection is handshaken with
/// `portcullis_tls::accept`, reported on `events`, answered with `hello` and closed.
pub struct TestServer {
    pub addr: SocketAddr,
    pub tls: ServerTls,
    pub events: mpsc::UnboundedReceiver<ServerEvent>,
    task: JoinHandle<()>,
}

impl TestServer {
    pub async fn start(tls: ServerTls) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, events) = mpsc::unbounded_channel();
        let acceptor = tls.acceptor();
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let acceptor = acceptor.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    match portcullis_tls::accept(&acceptor, tcp, Duration::from_secs(5)).await {
                        Ok(mut stream) => {
                            let info = portcullis_tls::tls_info(stream.get_ref().1);
                            let _ = tx.send(Ok(info));
                            let _ = stream.write_all(b"hello").await;
                            let _ = stream.shutdown().await;
                        }
                        Err(e) => {
                            let _ = tx.send(Err(e.kind));
                        }
                    }
                });
            }
        });
        Self {
            addr,
            tls,
            events,
            task,
        }
    }

    pub async fn next_event(&mut self) -> ServerEvent {
        tokio::time::timeout(WAIT, self.events.recv())
            .await
            .expect("server reported nothing in time")
            .expect("server task ended")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

// === client ===

/// Accepts any server certificate but still checks the handshake signatures: for tests that
/// look at *which* certificate was served (default for an unknown name, dev certificate).
#[derive(Debug)]
pub struct AcceptAnyCert(Arc<rustls::crypto::CryptoProvider>);

impl AcceptAnyCert {
    pub fn new() -> Arc<Self> {
        Arc::new(Self(
            Arc::new(rustls::crypto::aws_lc_rs::default_provider()),
        ))
    }
}

impl ServerCertVerifier for AcceptAnyCert {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// How the test client connects.
pub struct Client {
    pub sni: Option<&'static str>,
    pub versions: &'static [&'static rustls::SupportedProtocolVersion],
    pub alpn: Vec<Vec<u8>>,
    /// `None`: accept any certificate.
    pub roots: Option<RootCertStore>,
}

impl Default for Client {
    fn default() -> Self {
        Self {
            sni: Some("localhost"),
            versions: rustls::ALL_VERSIONS,
            alpn: Vec::new(),
            roots: None,
        }
    }
}

/// What the client saw of a successful handshake.
#[derive(Debug)]
pub struct ClientSeen {
    pub version: rustls::ProtocolVersion,
    pub suite: rustls::CipherSuite,
    pub kx_group: rustls::NamedGroup,
    pub alpn: Option<Vec<u8>>,
    pub chain: Vec<Vec<u8>>,
    pub greeting: Vec<u8>,
}

impl ClientSeen {
    pub fn leaf(&self) -> &[u8] {
        &self.chain[0]
    }
}

impl Client {
    pub async fn connect(&self, addr: SocketAddr) -> Result<ClientSeen, std::io::Error> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let builder = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(self.versions)
            .unwrap();
        let mut config = match &self.roots {
            Some(roots) => builder
                .with_root_certificates(roots.clone())
                .with_no_client_auth(),
            None => builder
                .dangerous()
                .with_custom_certificate_verifier(AcceptAnyCert::new())
                .with_no_client_auth(),
        };
        config.alpn_protocols = self.alpn.clone();
        // Without SNI rustls still needs a ServerName for verification; turn the extension off.
        config.enable_sni = self.sni.is_some();
        let name = ServerName::try_from(self.sni.unwrap_or("no-sni.invalid")).unwrap();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let tcp = TcpStream::connect(addr).await?;
        let mut stream = tokio::time::timeout(WAIT, connector.connect(name, tcp))
            .await
            .map_err(|_| std::io::Error::other("client handshake timed out"))??;
        let (_, conn) = stream.get_ref();
        let mut seen = ClientSeen {
            version: conn.protocol_version().unwrap(),
            suite: conn.negotiated_cipher_suite().unwrap().suite(),
            kx_group: conn.negotiated_key_exchange_group().unwrap().name(),
            alpn: conn.alpn_protocol().map(|p| p.to_vec()),
            chain: conn
                .peer_certificates()
                .unwrap()
                .iter()
                .map(|c| c.to_vec())
                .collect(),
            greeting: Vec::new(),
        };
        tokio::time::timeout(WAIT, stream.read_to_end(&mut seen.greeting))
            .await
            .map_err(|_| std::io::Error::other("read timed out"))??;
        Ok(seen)
    }
}

pub fn rustls_error(err: &std::io::Error) -> Option<&rustls::Error> {
    err.get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
}

// === raw ClientHello ===

pub mod raw {
    use super::*;

    pub const TLS1_0: u16 = 0x0301;
    pub const TLS1_1: u16 = 0x0302;
    pub const TLS1_2: u16 = 0x0303;

    fn u16be(v: usize) -> [u8; 2] {
        (v as u16).to_be_bytes()
    }

    fn with_u16_len(body: &[u8]) -> Vec<u8> {
        let mut out = u16be(body.len()).to_vec();
        out.extend_from_slice(body);
        out
    }

    pub fn ext(kind: u16, body: Vec<u8>) -> Vec<u8> {
        let mut out = kind.to_be_bytes().to_vec();
        out.extend(with_u16_len(&body));
        out
    }

    pub fn sni(host: &str) -> Vec<u8> {
        let mut entry = vec![0u8]; // host_name
        entry.extend(with_u16_len(host.as_bytes()));
        ext(0x0000, with_u16_len(&entry))
    }

    pub fn supported_groups(groups: &[u16]) -> Vec<u8> {
        let list: Vec<u8> = groups.iter().flat_map(|g| g.to_be_bytes()).collect();
        ext(0x000a, with_u16_len(&list))
    }

    pub fn ec_point_formats() -> Vec<u8> {
        ext(0x000b, vec![1, 0]) // one format: uncompressed
    }

    pub fn signature_algorithms(schemes: &[u16]) -> Vec<u8> {
        let list: Vec<u8> = schemes.iter().flat_map(|g| g.to_be_bytes()).collect();
        ext(0x000d, with_u16_len(&list))
    }

    /// A complete ClientHello record, built byte by byte (no TLS library involved).
    pub fn client_hello(
        record_version: u16,
        client_version: u16,
        suites: &[u16],
        extensions: &[Vec<u8>],
    ) -> Vec<u8> {
        let mut body = client_version.to_be_bytes().to_vec();
        body.extend((0..32u8).map(|i| i.wrapping_mul(37).wrapping_add(11))); // random
        body.push(0); // empty session id
        let suites: Vec<u8> = suites.iter().flat_map(|s| s.to_be_bytes()).collect();
        body.extend(with_u16_len(&suites));
        body.extend([1, 0]); // compression methods: null
        let exts: Vec<u8> = extensions.concat();
        body.extend(with_u16_len(&exts));

        let mut handshake = vec![1u8]; // client_hello
        handshake.extend(&(body.len() as u32).to_be_bytes()[1..]);
        handshake.extend(body);

        let mut record = vec![0x16]; // handshake
        record.extend(record_version.to_be_bytes());
        record.extend(with_u16_len(&handshake));
        record
    }

    /// The first thing the server answered.
    #[derive(Debug, PartialEq, Eq)]
    pub enum Answer {
        /// An alert record: (level, description).
        Alert(u8, u8),
        /// A handshake record starting with ServerHello.
        ServerHello,
        /// The server closed without sending anything.
        Closed,
        /// Anything else: record type and first body byte.
        Other(u8, Option<u8>),
    }

    pub async fn send(addr: SocketAddr, hello: &[u8]) -> Answer {
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        tcp.write_all(hello).await.unwrap();
        let mut header = [0u8; 5];
        match tokio::time::timeout(WAIT, tcp.read_exact(&mut header))
            .await
            .expect("server neither answered nor closed")
        {
            Ok(_) => {}
            Err(_) => return Answer::Closed,
        }
        let len = u16::from_be_bytes([header[3], header[4]]) as usize;
        let mut body = vec![0u8; len];
        tokio::time::timeout(WAIT, tcp.read_exact(&mut body))
            .await
            .unwrap()
            .unwrap();
        match (header[0], body.as_slice()) {
            (0x15, [level, desc, ..]) => Answer::Alert(*level, *desc),
            (0x16, [2, ..]) => Answer::ServerHello,
            (kind, rest) => Answer::Other(kind, rest.first().copied()),
        }
    }
}

pub fn openssl() -> Option<PathBuf> {
    let path = PathBuf::from("/usr/bin/openssl");
    path.exists().then_some(path)
}

pub static TLS12_ONLY: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS12];
pub static TLS13_ONLY: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS13];
