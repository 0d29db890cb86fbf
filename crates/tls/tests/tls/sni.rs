//! Certificate choice by SNI.

use portcullis_tls::ServerTls;

use crate::support::*;

struct Setup {
    ca: TestCa,
    a: Leaf,
    b: Leaf,
    wild: Leaf,
    named: Leaf,
    server: TestServer,
    _dir: tempfile::TempDir,
}

/// Four certificates: `a.test` (the default, first), `b.test`, `*.wild.test`, and one whose
/// own SAN is `other.test` but that is configured for `api.test` via `server_names`.
async fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new();
    let a = ca.leaf(&["a.test"]);
    let b = ca.leaf(&["b.test", "b2.test"]);
    let wild = ca.leaf(&["*.wild.test"]);
    let named = ca.leaf(&["other.test"]);
    let mut named_spec = write_leaf(dir.path(), "named", &named);
    named_spec.server_names = vec!["API.test".to_owned()];
    let spec = tls_spec(vec![
        write_leaf(dir.path(), "a", &a),
        write_leaf(dir.path(), "b", &b),
        write_leaf(dir.path(), "wild", &wild),
        named_spec,
    ]);
    let server = TestServer::start(ServerTls::new(&spec, dir.path()).unwrap()).await;
    Setup {
        ca,
        a,
        b,
        wild,
        named,
        server,
        _dir: dir,
    }
}

async fn leaf_for(s: &Setup, sni: Option<&'static str>, verify: bool) -> Vec<u8> {
    let client = Client {
        sni,
        roots: verify.then(|| s.ca.roots()),
        ..Client::default()
    };
    let seen = client.connect(s.server.addr).await.unwrap();
    assert_eq!(seen.chain.len(), 1);
    seen.leaf().to_vec()
}

#[tokio::test]
async fn sni_picks_the_matching_certificate_and_it_verifies() {
    let s = setup().await;
    // With full WebPKI verification against the CA: chain and name are right.
    assert_eq!(leaf_for(&s, Some("a.test"), true).await, s.a.der);
    assert_eq!(leaf_for(&s, Some("b.test"), true).await, s.b.der);
    assert_eq!(leaf_for(&s, Some("b2.test"), true).await, s.b.der);
    assert_eq!(leaf_for(&s, Some("B.TEST"), true).await, s.b.der);
    assert_eq!(leaf_for(&s, Some("x.wild.test"), true).await, s.wild.der);
    assert_eq!(
        s.server.tls.resolver().chain_for(Some("b.test")).unwrap()[0],
        s.b.der
    );
}

#[tokio::test]
async fn explicit_server_names_override_certificate_names() {
    let s = setup().await;
    assert_eq!(leaf_for(&s, Some("api.test"), false).await, s.named.der);
    // The certificate's own name is not used when `server_names` is set: default instead.
    assert_eq!(leaf_for(&s, Some("other.test"), false).await, s.a.der);
}

#[tokio::test]
async fn unknown_or_missing_sni_gets_the_first_certificate() {
    let s = setup().await;
    assert_eq!(leaf_for(&s, Some("unknown.test"), false).await, s.a.der);
    // A wildcard covers one label only.
    assert_eq!(leaf_for(&s, Some("a.b.wild.test"), false).await, s.a.der);
    assert_eq!(leaf_for(&s, None, false).await, s.a.der);
}
