//! The upstream pool against real servers on loopback.
#![allow(missing_docs)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use portcullis_config::{Balance, HealthCheckSpec, HumanDuration, UpstreamSpec};
use portcullis_upstream::{Upstream, UpstreamErrorKind};

/// A server answering with its name; `delay_ms` per request; `status` may be changed live.
struct Server {
    addr: SocketAddr,
    hits: Arc<AtomicUsize>,
    status: Arc<AtomicU16>,
}

async fn server(
    name: &'static str,
    delay_ms: u64,
    tls: Option<Arc<rustls::ServerConfig>>,
    h2: bool,
) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let status = Arc::new(AtomicU16::new(200));
    let (h, s) = (hits.clone(), status.clone());
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let (h, s, tls) = (h.clone(), s.clone(), tls.clone());
            tokio::spawn(async move {
                let svc = service_fn(move |req: Request<hyper::body::Incoming>| {
                    let (h, s) = (h.clone(), s.clone());
                    async move {
                        if req.uri().path() != "/health" {
                            h.fetch_add(1, Ordering::SeqCst);
                        }
                        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
                        let mut r = Response::new(Full::new(Bytes::from(format!(
                            "{name} {:?}",
                            req.version()
                        ))));
                        *r.status_mut() =
                            http::StatusCode::from_u16(s.load(Ordering::SeqCst)).unwrap();
                        Ok::<_, Infallible>(r)
                    }
                });
                let mut b = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                if h2 {
                    b = b.http2_only();
                }
                match tls {
                    Some(cfg) => {
                        if let Ok(s) = tokio_rustls::TlsAcceptor::from(cfg).accept(tcp).await {
                            let _ = b.serve_connection(TokioIo::new(s), svc).await;
                        }
                    }
                    None => {
                        let _ = b.serve_connection(TokioIo::new(tcp), svc).await;
                    }
                }
            });
        }
    });
    Server { addr, hits, status }
}

fn spec(targets: Vec<String>) -> UpstreamSpec {
    let yaml = format!(
        "id: app\ntargets: [{}]\n",
        targets
            .iter()
            .map(|t| format!("\"{t}\""))
            .collect::<Vec<_>>()
            .join(", ")
    );
    serde_saphyr::from_str(&yaml).unwrap()
}

fn get(path: &str) -> Request<Bytes> {
    Request::get(path).body(Bytes::new()).unwrap()
}

async fn body_text(r: portcullis_upstream::UpstreamResponse) -> String {
    String::from_utf8(
        r.response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap()
}

fn dead_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

#[tokio::test]
async fn round_robin_alternates() {
    let a = server("a", 0, None, false).await;
    let b = server("b", 0, None, false).await;
    let up = Upstream::build(&spec(vec![
        format!("http://{}", a.addr),
        format!("http://{}", b.addr),
    ]))
    .unwrap();
    let mut seen = Vec::new();
    for _ in 0..4 {
        seen.push(body_text(up.send(get("/x")).await.unwrap()).await);
    }
    assert_eq!(a.hits.load(Ordering::SeqCst), 2);
    assert_eq!(b.hits.load(Ordering::SeqCst), 2);
    assert_ne!(seen[0], seen[1]);
}

#[tokio::test]
async fn least_connections_prefers_the_idle_target() {
    let slow = server("slow", 800, None, false).await;
    let fast = server("fast", 0, None, false).await;
    let mut s = spec(vec![
        format!("http://{}", slow.addr),
        format!("http://{}", fast.addr),
    ]);
    s.balance = Balance::LeastConnections;
    let up = Upstream::build(&s).unwrap();
    // Occupy whichever target the first request picks, then make sure the next ones avoid it.
    let up2 = up.clone();
    let first = tokio::spawn(async move { body_text(up2.send(get("/hold")).await.unwrap()).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let busy_is_slow = slow.hits.load(Ordering::SeqCst) == 1;
    for _ in 0..3 {
        let text = body_text(up.send(get("/x")).await.unwrap()).await;
        if busy_is_slow {
            assert!(text.starts_with("fast"), "{text}");
        }
    }
    first.await.unwrap();
    if !busy_is_slow {
        // The first went to `fast` and finished at once; both are idle again: no assertion on
        // order, but both must have served.
        assert!(fast.hits.load(Ordering::SeqCst) >= 1);
    }
}

#[tokio::test]
async fn dead_targets_are_retried_for_get_and_ejected() {
    let live = server("live", 0, None, false).await;
    let mut s = spec(vec![
        format!("http://{}", dead_addr()),
        format!("http://{}", live.addr),
    ]);
    s.passive_health.consecutive_failures = 1;
    let up = Upstream::build(&s).unwrap();
    for _ in 0..4 {
        let r = up.send(get("/x")).await.unwrap();
        assert_eq!(r.response.status(), 200);
    }
    assert_eq!(live.hits.load(Ordering::SeqCst), 4);
    let health = up.health();
    assert!(health.iter().any(|h| h.ejected), "{health:?}");
}

#[tokio::test]
async fn post_is_never_retried() {
    let live = server("live", 0, None, false).await;
    let mut s = spec(vec![
        format!("http://{}", dead_addr()),
        format!("http://{}", live.addr),
    ]);
    s.passive_health.consecutive_failures = 0;
    s.balance = Balance::RoundRobin;
    let up = Upstream::build(&s).unwrap();
    let mut failures = 0;
    for _ in 0..2 {
        let req = Request::post("/x")
            .body(Bytes::from_static(b"pay"))
            .unwrap();
        match up.send(req).await {
            Ok(_) => {}
            Err(e) => {
                assert_eq!(e.kind(), UpstreamErrorKind::Connect);
                failures += 1;
            }
        }
    }
    assert_eq!(
        failures, 1,
        "one of two POSTs hit the dead target and was not retried"
    );
    assert_eq!(live.hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn slow_upstreams_time_out() {
    let slow = server("slow", 2000, None, false).await;
    let mut s = spec(vec![format!("http://{}", slow.addr)]);
    s.timeouts.request = HumanDuration::millis(200);
    let up = Upstream::build(&s).unwrap();
    let started = std::time::Instant::now();
    let err = up.send(get("/x")).await.err().unwrap();
    assert_eq!(err.kind(), UpstreamErrorKind::Timeout);
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[tokio::test]
async fn max_in_flight_sheds_load() {
    let slow = server("slow", 500, None, false).await;
    let mut s = spec(vec![format!("http://{}", slow.addr)]);
    s.max_in_flight = 1;
    let up = Upstream::build(&s).unwrap();
    let up2 = up.clone();
    let first = tokio::spawn(async move { up2.send(get("/a")).await.map(|r| r.response.status()) });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let err = up.send(get("/b")).await.err().unwrap();
    assert_eq!(err.kind(), UpstreamErrorKind::Overloaded);
    assert_eq!(first.await.unwrap().unwrap(), 200);
}

#[tokio::test]
async fn active_health_checks_mark_targets_down_and_up() {
    let a = server("a", 0, None, false).await;
    let mut s = spec(vec![format!("http://{}", a.addr)]);
    s.health_check = Some(HealthCheckSpec {
        path: "/health".into(),
        interval: HumanDuration::millis(50),
        timeout: HumanDuration::millis(200),
        unhealthy_threshold: 2,
        healthy_threshold: 2,
    });
    let up = Upstream::build(&s).unwrap();
    a.status.store(500, Ordering::SeqCst);
    let mut down = false;
    for _ in 0..100 {
        if !up.health()[0].healthy {
            down = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(down, "target never marked unhealthy");
    assert_eq!(
        up.send(get("/x")).await.err().unwrap().kind(),
        UpstreamErrorKind::NoHealthyTarget
    );
    a.status.store(200, Ordering::SeqCst);
    let mut up_again = false;
    for _ in 0..100 {
        if up.health()[0].healthy {
            up_again = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(up_again, "target never healthy again");
}

#[tokio::test]
async fn http2_prior_knowledge_to_plain_targets() {
    let a = server("a", 0, None, true).await;
    let mut s = spec(vec![format!("http://{}", a.addr)]);
    s.http2 = true;
    let up = Upstream::build(&s).unwrap();
    let text = body_text(up.send(get("/x")).await.unwrap()).await;
    assert_eq!(text, "a HTTP/2.0");
}

struct Pki {
    dir: tempfile::TempDir,
    server: Arc<rustls::ServerConfig>,
    mtls_server: Arc<rustls::ServerConfig>,
}

fn pki() -> Pki {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let srv_key = rcgen::KeyPair::generate().unwrap();
    let srv = rcgen::CertificateParams::new(vec!["upstream.test".to_string()])
        .unwrap()
        .signed_by(&srv_key, &issuer)
        .unwrap();
    let cli_key = rcgen::KeyPair::generate().unwrap();
    let cli = rcgen::CertificateParams::new(vec!["gateway.test".to_string()])
        .unwrap()
        .signed_by(&cli_key, &issuer)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), ca.pem()).unwrap();
    std::fs::write(dir.path().join("client.pem"), cli.pem()).unwrap();
    std::fs::write(dir.path().join("client.key"), cli_key.serialize_pem()).unwrap();
    let chain = vec![srv.der().clone()];
    let key = rustls::pki_types::PrivateKeyDer::try_from(srv_key.serialize_der()).unwrap();
    let server = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain.clone(), key.clone_key())
        .unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.der().clone()).unwrap();
    let verifier = rustls::server::WebPkiClientVerifier::builder(Arc::new(roots))
        .build()
        .unwrap();
    let mtls_server = rustls::ServerConfig::builder()
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .unwrap();
    Pki {
        dir,
        server: Arc::new(server),
        mtls_server: Arc::new(mtls_server),
    }
}

#[tokio::test]
async fn tls_is_verified_against_the_configured_ca() {
    let pki = pki();
    let a = server("tls", 0, Some(pki.server.clone()), false).await;
    let mut s = spec(vec![format!("https://{}", a.addr)]);
    s.retries = 0;
    s.tls.server_name = Some("upstream.test".into());
    s.tls.ca_file = Some(pki.dir.path().join("ca.pem"));
    let up = Upstream::build(&s).unwrap();
    assert_eq!(
        body_text(up.send(get("/x")).await.unwrap()).await,
        "tls HTTP/1.1"
    );
    // Without the CA (system roots only), verification fails.
    s.tls.ca_file = None;
    let up = Upstream::build(&s).unwrap();
    assert_eq!(
        up.send(get("/x")).await.err().unwrap().kind(),
        UpstreamErrorKind::Connect
    );
    // A wrong name fails too.
    s.tls.ca_file = Some(pki.dir.path().join("ca.pem"));
    s.tls.server_name = Some("other.test".into());
    let up = Upstream::build(&s).unwrap();
    assert!(up.send(get("/x")).await.is_err());
}

#[tokio::test]
async fn client_certificates_for_mtls_upstreams() {
    let pki = pki();
    let a = server("mtls", 0, Some(pki.mtls_server.clone()), false).await;
    let mut s = spec(vec![format!("https://{}", a.addr)]);
    s.retries = 0;
    s.tls.server_name = Some("upstream.test".into());
    s.tls.ca_file = Some(pki.dir.path().join("ca.pem"));
    let without = Upstream::build(&s).unwrap();
    assert!(without.send(get("/x")).await.is_err());
    s.tls.client_cert_file = Some(pki.dir.path().join("client.pem"));
    s.tls.client_key_file = Some(pki.dir.path().join("client.key"));
    let with = Upstream::build(&s).unwrap();
    assert_eq!(
        body_text(with.send(get("/x")).await.unwrap()).await,
        "mtls HTTP/1.1"
    );
}

#[tokio::test]
async fn echo_upstream_answers_in_process() {
    let s: UpstreamSpec = serde_saphyr::from_str("id: echo\nkind: echo\n").unwrap();
    let up = Upstream::build(&s).unwrap();
    let r = up
        .send(
            Request::post("/p?q=1")
                .body(Bytes::from_static(b"abc"))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(&*r.target, "echo");
    let v: serde_json::Value = serde_json::from_str(&body_text(r).await).unwrap();
    assert_eq!(v["path"], "/p");
    assert_eq!(
        v["body_sha256"],
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}
