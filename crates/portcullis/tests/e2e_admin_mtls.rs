//! End to end: the admin listener over TLS with client certificates. A certificate verified
//! in a real handshake is an admin API credential — instead of the token, or together with
//! it when `require_token_and_certificate` is set. A certificate from another CA never
//! completes the handshake.

mod common;

use common::*;
use portcullis_testkit::GatewayProcess;

/// A CA and client certificates it signs (rcgen), as PEM.
struct TestCa {
    cert_pem: String,
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
}

impl TestCa {
    fn new(name: &str) -> Self {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let cert = params.self_signed(&key).unwrap();
        Self {
            cert_pem: cert.pem(),
            issuer: rcgen::Issuer::new(params, key),
        }
    }

    fn client(&self, cn: &str) -> String {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, cn);
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        format!("{}{}", cert.pem(), key.serialize_pem())
    }
}

const TOKEN: &str = "pca_e2e-admin-token-0123456789abcdef0123456789abcdef";

fn start_admin(ca: &TestCa, both: bool) -> (GatewayProcess, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ops-ca.pem");
    std::fs::write(&ca_file, &ca.cert_pem).unwrap();
    let cfg = format!(
        "listeners:\n  - id: https\n    address: 127.0.0.1:0\n    tls: {{}}\nadmin:\n  address: 127.0.0.1:0\n  token_sha256: {}\n  require_token_and_certificate: {both}\n  tls:\n    client_auth: {{ ca_file: {}, required: false }}\nlogging:\n  level: info\n{ECHO}",
        portcullis_auth::signing::sha256_hex(TOKEN.as_bytes()),
        ca_file.display()
    );
    (start(&cfg), dir)
}

fn admin_client(gw: &GatewayProcess, identity: Option<String>) -> reqwest::Client {
    let cert = reqwest::Certificate::from_pem(&gw.dev_cert_pem()).unwrap();
    let mut b = reqwest::Client::builder().tls_certs_only([cert]).no_proxy();
    if let Some(pem) = identity {
        b = b.identity(reqwest::Identity::from_pem(pem.as_bytes()).unwrap());
    }
    b.build().unwrap()
}

async fn history(
    gw: &GatewayProcess,
    client: &reqwest::Client,
    token: Option<&str>,
) -> reqwest::Result<reqwest::Response> {
    let url = format!(
        "https://localhost:{}/admin/v1/history",
        gw.addr("admin").port()
    );
    let mut req = client.get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await
}

#[tokio::test]
async fn a_verified_client_certificate_or_the_token_opens_the_admin_api() {
    let ops = TestCa::new("ops CA");
    let rogue = TestCa::new("rogue CA");
    let (gw, _dir) = start_admin(&ops, false);
    let with_cert = admin_client(&gw, Some(ops.client("operator")));
    let anonymous = admin_client(&gw, None);

    // Benign: certificate alone, token alone.
    assert_eq!(history(&gw, &with_cert, None).await.unwrap().status(), 200);
    assert_eq!(
        history(&gw, &anonymous, Some(TOKEN))
            .await
            .unwrap()
            .status(),
        200
    );
    // Attacks: neither, a wrong token, a certificate from another CA (no handshake).
    let r = history(&gw, &anonymous, None).await.unwrap();
    assert_eq!(r.status(), 401);
    let r = history(&gw, &anonymous, Some("pca_wrong")).await.unwrap();
    assert_eq!(r.status(), 401);
    let forged = admin_client(&gw, Some(rogue.client("operator")));
    assert!(
        history(&gw, &forged, Some(TOKEN)).await.is_err(),
        "rogue CA handshake completed"
    );
    // Health stays open over TLS, without a certificate.
    let url = format!("https://localhost:{}/healthz", gw.addr("admin").port());
    assert_eq!(anonymous.get(url).send().await.unwrap().status(), 200);
    // Plain HTTP to the TLS admin listener gets nothing.
    let plain = plain_client()
        .get(format!("http://{}/healthz", gw.addr("admin")))
        .send()
        .await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());
}

#[tokio::test]
async fn token_and_certificate_together_when_both_are_required() {
    let ops = TestCa::new("ops CA");
    let (gw, _dir) = start_admin(&ops, true);
    let with_cert = admin_client(&gw, Some(ops.client("operator")));
    let anonymous = admin_client(&gw, None);
    assert_eq!(
        history(&gw, &with_cert, Some(TOKEN))
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(history(&gw, &with_cert, None).await.unwrap().status(), 401);
    assert_eq!(
        history(&gw, &anonymous, Some(TOKEN))
            .await
            .unwrap()
            .status(),
        401
    );
}
