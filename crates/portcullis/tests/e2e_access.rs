//! End to end: least privilege (scopes, roles, per-method requirements), the owner rule
//! against BOLA, rate limits with their headers, throttling, and quotas that survive a
//! restart — through the real binary, with callers proven by JWTs.

mod common;

use std::time::{Duration, Instant};

use common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use portcullis_testkit::{GatewayProcess, RecordingUpstream};
use serde_json::{Value, json};

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// An identity provider key and a way to mint tokens for it.
struct Idp {
    key: rcgen::KeyPair,
    _dir: tempfile::TempDir,
    pem: std::path::PathBuf,
}

impl Idp {
    fn new() -> Self {
        let key = rcgen::KeyPair::generate().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let pem = dir.path().join("idp.pem");
        std::fs::write(&pem, key.public_key_pem()).unwrap();
        Self {
            key,
            _dir: dir,
            pem,
        }
    }

    fn token(&self, sub: &str, extra: Value) -> String {
        let mut claims = json!({ "iss": "https://idp.example", "aud": "api", "sub": sub,
                                 "exp": now() + 300 });
        for (k, v) in extra.as_object().unwrap() {
            claims[k] = v.clone();
        }
        encode(
            &Header::new(Algorithm::ES256),
            &claims,
            &EncodingKey::from_ec_pem(self.key.serialize_pem().as_bytes()).unwrap(),
        )
        .unwrap()
    }

    fn auth(&self) -> String {
        format!(
            "    auth:\n      jwt:\n        issuer: https://idp.example\n        audiences: [api]\n        keys_file: {}\n",
            self.pem.display()
        )
    }
}

/// The admin listener's metrics text.
async fn metrics(gw: &GatewayProcess) -> String {
    plain_client()
        .get(format!("http://{}/metrics", gw.addr("admin")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn status(c: &reqwest::Client, method: reqwest::Method, url: String, token: &str) -> u16 {
    c.request(method, url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn scopes_roles_and_the_owner_rule() {
    let up = RecordingUpstream::start().await;
    let idp = Idp::new();
    let auth = idp.auth();
    let routes = format!(
        "upstreams:\n  - id: app\n    targets: [\"{up}\"]\nroutes:\n  - id: orders\n    path: /orders/\n    methods: [GET, POST, DELETE]\n    upstream: app\n{auth}    authorize:\n      scopes: {{ any_of: [orders:read, orders:admin] }}\n      methods:\n        POST: {{ scopes: {{ all_of: [orders:write] }} }}\n        DELETE: {{ roles: {{ any_of: [admin] }} }}\n  - id: users\n    path: /users/{{id}}\n    methods: [GET]\n    upstream: app\n{auth}    authorize:\n      owner: {{ value: 'path:id', bypass_roles: [support] }}\n  - id: projects\n    path: /projects\n    methods: [GET, POST]\n    upstream: app\n{auth}    authorize:\n      owner: {{ value: 'body:/project', owner: 'claim:projects' }}\n",
        up = up.url()
    );
    let gw = start(&config(&routes));
    let c = client(&gw);
    let reader = idp.token("alice", json!({"scope": "orders:read"}));
    let writer = idp.token("wendy", json!({"scope": "orders:read orders:write"}));
    let admin = idp.token("ada", json!({"scope": "orders:read", "roles": ["admin"]}));
    let nobody = idp.token("nick", json!({"scope": "profile"}));
    use reqwest::Method as M;
    let u = |p: &str| https_url(&gw, p);
    // Route-level any_of.
    assert_eq!(status(&c, M::GET, u("/orders/1"), &reader).await, 200);
    assert_eq!(status(&c, M::GET, u("/orders/1"), &nobody).await, 403);
    // Per-method all_of on top of the route's requirement.
    assert_eq!(status(&c, M::POST, u("/orders/1"), &reader).await, 403);
    assert_eq!(status(&c, M::POST, u("/orders/1"), &writer).await, 200);
    // Per-method role.
    assert_eq!(status(&c, M::DELETE, u("/orders/1"), &writer).await, 403);
    assert_eq!(status(&c, M::DELETE, u("/orders/1"), &admin).await, 200);
    // Forbidden is a problem, and says nothing about what was missing.
    let r = c
        .get(u("/orders/1"))
        .bearer_auth(&nobody)
        .send()
        .await
        .unwrap();
    let body = assert_problem(r, 403, "forbidden").await;
    assert!(!body.to_string().contains("orders:read"), "{body}");

    // Owner rule: alice reads her own record, not bob's (BOLA); support staff bypass.
    assert_eq!(status(&c, M::GET, u("/users/alice"), &reader).await, 200);
    assert_eq!(status(&c, M::GET, u("/users/bob"), &reader).await, 403);
    assert_eq!(status(&c, M::GET, u("/users/al%69ce"), &reader).await, 200);
    let support = idp.token("sam", json!({"roles": ["support"]}));
    assert_eq!(status(&c, M::GET, u("/users/bob"), &support).await, 200);
    // Owner in the body, against a list claim.
    let member = idp.token("mia", json!({"projects": ["p1", "p2"]}));
    for (project, want) in [("p1", 200), ("p3", 403)] {
        let r = c
            .post(u("/projects"))
            .bearer_auth(&member)
            .json(&json!({"project": project, "name": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), want, "{project}");
    }
    let r = c
        .post(u("/projects"))
        .bearer_auth(&member)
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    // Denials never reached the upstream, and the log names the reason.
    let forwarded = up.requests();
    assert!(
        forwarded
            .iter()
            .all(|r| !r.uri.contains("/users/bob") || r.headers["x-consumer-id"] == "sam")
    );
    assert!(
        gw.wait_access(|v| v.to_string().contains("not_owner"))
            .is_some()
    );
    assert!(
        gw.wait_access(|v| v.to_string().contains("missing_scope"))
            .is_some()
    );
}

#[tokio::test]
async fn rate_limits_per_consumer_and_plan_with_headers() {
    let up = RecordingUpstream::start().await;
    let idp = Idp::new();
    let auth = idp.auth();
    let routes = format!(
        "upstreams:\n  - id: app\n    targets: [\"{up}\"]\nroutes:\n  - id: api\n    path: /api/\n    methods: [GET]\n    upstream: app\n{auth}    authorize: {{ any_authenticated: true }}\n    rate_limits:\n      - name: per-consumer\n        rate: 3/1m\n        plans: {{ gold: {{ rate: 6/1m }} }}\n",
        up = up.url()
    );
    let gw = start(&config(&routes));
    let c = client(&gw);
    let alice = idp.token("alice", json!({}));
    let bob = idp.token("bob", json!({}));
    let gold = idp.token("gina", json!({"plan": "gold"}));
    let url = https_url(&gw, "/api/x");
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let r = c.get(&url).bearer_auth(&alice).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["ratelimit-policy"], "\"per-consumer\";q=3;w=60");
        remaining.push(r.headers()["ratelimit"].to_str().unwrap().to_string());
    }
    assert!(
        remaining[0].starts_with("\"per-consumer\";r=2;t="),
        "{remaining:?}"
    );
    assert!(
        remaining[2].starts_with("\"per-consumer\";r=0;t="),
        "{remaining:?}"
    );
    let r = c.get(&url).bearer_auth(&alice).send().await.unwrap();
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((19..=20).contains(&retry), "retry-after {retry}");
    assert_problem(r, 429, "too-many-requests").await;
    // Another consumer has its own budget; the gold plan a bigger one.
    assert_eq!(
        status(&c, reqwest::Method::GET, url.clone(), &bob).await,
        200
    );
    let mut gold_ok = 0;
    for _ in 0..8 {
        if status(&c, reqwest::Method::GET, url.clone(), &gold).await == 200 {
            gold_ok += 1;
        }
    }
    assert_eq!(gold_ok, 6);
    assert_eq!(up.requests().len(), 3 + 1 + 6);
    assert!(
        gw.wait_access(|v| v.to_string().contains("rate_limited"))
            .is_some()
    );
    // Per-limit metrics: allowed and limited, by limit name.
    let m = metrics(&gw).await;
    let line = |outcome: &str| {
        format!(
            "portcullis_limit_and_policy_events_total{{route=\"api\",family=\"rate_limit\",name=\"per-consumer\",outcome=\"{outcome}\"}}"
        )
    };
    assert!(m.contains(&format!("{} 10", line("allowed"))), "{m}");
    assert!(m.contains(&format!("{} 3", line("limited"))), "{m}");
}

#[tokio::test]
async fn throttling_delays_instead_of_refusing_and_loses_nothing() {
    let up = RecordingUpstream::start().await;
    let routes = format!(
        "upstreams:\n  - id: app\n    targets: [\"{}\"]\nroutes:\n  - id: slow\n    path: /slow/\n    methods: [GET]\n    upstream: app\n    public: true\n    rate_limits:\n      - rate: 4/s\n        burst: 1\n        key: [route]\n        throttle: {{ max_wait: 1s, max_queue: 3 }}\n",
        up.url()
    );
    let gw = start(&config(&routes));
    let c = client(&gw);
    let url = https_url(&gw, "/slow/x");
    // Warm the connection pool so handshakes do not blur the timing.
    let _ = c.get(https_url(&gw, "/nope")).send().await;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let c = c.clone();
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let r = c.get(url).send().await.unwrap();
            (r.status().as_u16(), started.elapsed())
        }));
    }
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    results.sort_by_key(|(_, d)| *d);
    // One now, then one every 250 ms: 0, 250, 500, 750 ms (all within max_wait and the queue).
    assert!(results.iter().all(|(s, _)| *s == 200), "{results:?}");
    let last = results[3].1;
    assert!(last >= Duration::from_millis(700), "{results:?}");
    assert!(last < Duration::from_millis(1500), "{results:?}");
    assert!(results[1].1 >= Duration::from_millis(200), "{results:?}");
    assert_eq!(up.requests().len(), 4);
    // Over the queue bound: refused at once with 429, not held.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let c = c.clone();
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            c.get(url).send().await.unwrap().status().as_u16()
        }));
    }
    let mut codes = Vec::new();
    for t in tasks {
        codes.push(t.await.unwrap());
    }
    assert!(codes.contains(&429), "{codes:?}");
    assert!(codes.contains(&200), "{codes:?}");
    let delayed = gw
        .access_log()
        .iter()
        .filter(|v| v.to_string().contains("throttled"))
        .count();
    assert!(delayed >= 3, "delayed requests are logged");
}

#[tokio::test]
async fn quotas_survive_a_restart() {
    let up = RecordingUpstream::start().await;
    let idp = Idp::new();
    let data = tempfile::tempdir().unwrap();
    let routes = format!(
        "data_dir: {}\nupstreams:\n  - id: app\n    targets: [\"{}\"]\nroutes:\n  - id: api\n    path: /api/\n    methods: [GET]\n    upstream: app\n{}    authorize: {{ any_authenticated: true }}\n    quotas:\n      - {{ name: daily, per: day, limit: 3, time_zone: Europe/Berlin }}\n",
        data.path().display(),
        up.url(),
        idp.auth()
    );
    let alice = idp.token("alice", json!({}));
    let gw = start(&config(&routes));
    let trusting = || {
        let pem = std::fs::read(data.path().join("dev-tls/cert.pem")).unwrap();
        reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(&pem).unwrap()])
            .no_proxy()
            .build()
            .unwrap()
    };
    let c = trusting();
    for i in 0..2 {
        let r = c
            .get(https_url(&gw, "/api/x"))
            .bearer_auth(&alice)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let state = r.headers()["ratelimit"].to_str().unwrap().to_string();
        assert!(
            state.starts_with(&format!("\"daily\";r={};t=", 2 - i)),
            "{state}"
        );
    }
    drop(c);
    let mut gw = gw;
    gw.signal("TERM");
    // Wait off the test's runtime thread, which must go on closing the client's connection.
    let code = tokio::task::spawn_blocking(move || gw.wait_exit(Duration::from_secs(10)))
        .await
        .unwrap();
    assert_eq!(code, Some(0));
    let gw: GatewayProcess = start(&config(&routes));
    let c = trusting();
    let r = c
        .get(https_url(&gw, "/api/x"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "third request of the day");
    let r = c
        .get(https_url(&gw, "/api/x"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        retry <= 25 * 3600,
        "until the next Berlin midnight: {retry}"
    );
    assert_problem(r, 429, "too-many-requests").await;
    assert_eq!(up.requests().len(), 3);
}

#[tokio::test]
async fn cedar_policies_decide_are_logged_and_reload_with_their_file() {
    let up = RecordingUpstream::start().await;
    let idp = Idp::new();
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("payments.cedar");
    let strict = "@id(\"payments-read\")\npermit (principal, action in Portcullis::Action::\"payments\", resource)\nwhen { principal.scopes.contains(\"payments\") };\n\n@id(\"writes-need-mfa\")\nforbid (principal, action in Portcullis::Action::\"write\", resource)\nunless { principal.mfa };\n";
    std::fs::write(&policy, strict).unwrap();
    let routes = format!(
        "policies:\n  files: [{}]\nupstreams:\n  - id: app\n    targets: [\"{}\"]\nroutes:\n  - id: payments\n    path: /payments/\n    methods: [GET, POST]\n    upstream: app\n{}    authorize: {{ policy: true }}\n",
        policy.display(),
        up.url(),
        idp.auth()
    );
    let gw = start(&config(&routes));
    let c = client(&gw);
    let url = https_url(&gw, "/payments/1");
    let pwd = idp.token("pat", json!({"scope": "payments", "amr": ["pwd"]}));
    let otp = idp.token("ola", json!({"scope": "payments", "amr": ["pwd", "otp"]}));
    let none = idp.token("nina", json!({"scope": "profile", "amr": ["otp"]}));
    use reqwest::Method as M;
    assert_eq!(status(&c, M::GET, url.clone(), &pwd).await, 200);
    assert_eq!(status(&c, M::POST, url.clone(), &pwd).await, 403);
    assert_eq!(status(&c, M::POST, url.clone(), &otp).await, 200);
    assert_eq!(
        status(&c, M::GET, url.clone(), &none).await,
        403,
        "no permit applies"
    );
    // The deny is logged with the policy that decided.
    assert!(
        gw.wait_line("writes-need-mfa", Duration::from_secs(5)),
        "policy id in the audit log"
    );
    assert_eq!(up.requests().len(), 2);
    let m = metrics(&gw).await;
    assert!(
        m.contains("family=\"policy\",name=\"writes-need-mfa\",outcome=\"deny\"} 1"),
        "{m}"
    );
    assert!(
        m.contains("family=\"policy\",name=\"(no permit)\",outcome=\"deny\"} 1"),
        "{m}"
    );
    // Relax the policy file: the gateway reloads it without a restart.
    std::fs::write(
        &policy,
        strict.split("@id(\"writes-need-mfa\")").next().unwrap(),
    )
    .unwrap();
    let mut allowed = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if status(&c, M::POST, url.clone(), &pwd).await == 200 {
            allowed = true;
            break;
        }
    }
    assert!(allowed, "policy file change applied");
    // A broken policy file is refused and the last good policies stay.
    std::fs::write(&policy, "permit(principal, action resource);").unwrap();
    assert!(gw.wait_line("unexpected token", Duration::from_secs(5)));
    assert_eq!(status(&c, M::GET, url.clone(), &pwd).await, 200);
    assert_eq!(status(&c, M::GET, url.clone(), &none).await, 403);
}

#[tokio::test]
async fn tiers_by_network_file_and_country_get_stricter_limits_or_a_block() {
    let up = RecordingUpstream::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("country.mmdb");
    std::fs::write(
        &db,
        portcullis_testkit::mmdb::country_db(&[
            ("203.0.113.0/24".parse().unwrap(), "KP"),
            ("198.51.100.0/24".parse().unwrap(), "BR"),
        ]),
    )
    .unwrap();
    let list = dir.path().join("suspicious.txt");
    std::fs::write(&list, "# known abusers\n192.0.2.0/25\n").unwrap();
    let routes = format!(
        "client_ip:\n  trusted_proxies: [127.0.0.1]\ngeoip:\n  database: {}\ntiers:\n  - {{ name: embargo, countries: [KP], block: true }}\n  - {{ name: suspicious, ip_files: [{}], countries: [BR] }}\nupstreams:\n  - id: app\n    targets: [\"{}\"]\nroutes:\n  - id: search\n    path: /search\n    methods: [GET]\n    upstream: app\n    public: true\n    rate_limits:\n      - rate: 5/1m\n        key: [ip]\n        tiers: {{ suspicious: {{ rate: 1/1m }} }}\n",
        db.display(),
        list.display(),
        up.url()
    );
    let gw = start(&config(&routes));
    let c = client(&gw);
    let url = https_url(&gw, "/search");
    let from = |ip: &'static str| {
        let c = c.clone();
        let url = url.clone();
        async move {
            c.get(url)
                .header("x-forwarded-for", ip)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    // Embargoed country: refused outright.
    assert_eq!(from("203.0.113.5").await, 403);
    // A listed network and a suspicious country: one request a minute.
    for ip in ["192.0.2.10", "198.51.100.7"] {
        assert_eq!(from(ip).await, 200, "{ip}");
        assert_eq!(from(ip).await, 429, "{ip}");
    }
    // Everyone else: the normal limit of 5.
    let mut ok = 0;
    for _ in 0..7 {
        if from("192.0.2.200").await == 200 {
            ok += 1;
        }
    }
    assert_eq!(ok, 5);
    assert!(
        gw.wait_access(|v| v.to_string().contains("tier_blocked"))
            .is_some()
    );
    // The list file is reloaded when it changes: a new abuser joins the tier.
    std::fs::write(&list, "192.0.2.0/25\n192.0.2.128/25\n").unwrap();
    let mut tightened = false;
    for i in 0..40 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        // A fresh address of the newly listed network each time: its first request passes,
        // a second within the minute is refused only once the tier applies.
        let ip: &'static str = Box::leak(format!("192.0.2.{}", 130 + i).into_boxed_str());
        let first = from(ip).await;
        let second = from(ip).await;
        if first == 200 && second == 429 {
            tightened = true;
            break;
        }
    }
    assert!(tightened, "list change applied without restart");
}

#[tokio::test]
async fn openapi_operation_ids_are_cedar_actions() {
    let up = RecordingUpstream::start().await;
    let idp = Idp::new();
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("pets.yaml");
    std::fs::write(
        &spec,
        "openapi: 3.0.3\ninfo: { title: pets, version: '1' }\nservers: [ { url: /pets-api } ]\npaths:\n  /pets/{petId}:\n    get:\n      operationId: getPet\n      parameters: [ { name: petId, in: path, required: true, schema: { type: string } } ]\n      responses: { '200': { description: ok } }\n    delete:\n      operationId: deletePet\n      parameters: [ { name: petId, in: path, required: true, schema: { type: string } } ]\n      responses: { '204': { description: gone } }\n",
    )
    .unwrap();
    let policy = dir.path().join("pets.cedar");
    std::fs::write(
        &policy,
        "@id(\"read-pets\")\npermit (principal, action == Portcullis::Action::\"getPet\", resource);\n\n@id(\"delete-own-pet\")\npermit (principal, action == Portcullis::Action::\"deletePet\", resource)\nwhen { context.params.petId == principal.id };\n",
    )
    .unwrap();
    let routes = format!(
        "policies:\n  files: [{}]\nupstreams:\n  - id: app\n    targets: [\"{}\"]\nroutes:\n  - id: pets\n    path: /pets-api/\n    methods: [GET, DELETE]\n    upstream: app\n{}    authorize: {{ policy: true }}\n    openapi: {{ file: {} }}\n",
        policy.display(),
        up.url(),
        idp.auth(),
        spec.display()
    );
    let gw = start(&config(&routes));
    let c = client(&gw);
    let rex = idp.token("rex", json!({}));
    use reqwest::Method as M;
    let u = |p: &str| https_url(&gw, p);
    assert_eq!(status(&c, M::GET, u("/pets-api/pets/tom"), &rex).await, 200);
    assert_eq!(
        status(&c, M::DELETE, u("/pets-api/pets/rex"), &rex).await,
        200
    );
    assert_eq!(
        status(&c, M::DELETE, u("/pets-api/pets/tom"), &rex).await,
        403
    );
    // A policy naming an operation the spec does not have is refused at load.
    let out = std::process::Command::new(bin())
        .args(["check", "--config"])
        .arg(gw.config_path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(
        &policy,
        "permit (principal, action == Portcullis::Action::\"adoptPet\", resource);\n",
    )
    .unwrap();
    let out = std::process::Command::new(bin())
        .args(["check", "--config"])
        .arg(gw.config_path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("pets.cedar:1:") && err.contains("adoptPet"),
        "{err}"
    );
}

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

    /// A client certificate + key (PEM, for reqwest::Identity) with a URI SAN and a CN.
    fn client(&self, cn: &str, uri: &str) -> String {
        self.client_with_serial(cn, uri, None)
    }

    /// The same with a chosen serial number (to revoke it in a CRL).
    fn client_with_serial(&self, cn: &str, uri: &str, serial: Option<u64>) -> String {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.serial_number = serial.map(rcgen::SerialNumber::from);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, cn);
        params.subject_alt_names = vec![rcgen::SanType::URI(uri.try_into().unwrap())];
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        format!("{}{}", cert.pem(), key.serialize_pem())
    }
}

#[tokio::test]
async fn mtls_client_certificates_name_the_consumer_and_reach_policies() {
    let up = RecordingUpstream::start().await;
    let ca = TestCa::new("portcullis test CA");
    let rogue = TestCa::new("rogue CA");
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("clients-ca.pem");
    std::fs::write(&ca_file, &ca.cert_pem).unwrap();
    let policy = dir.path().join("svc.cedar");
    std::fs::write(
        &policy,
        "@id(\"billing-only\")\npermit (principal, action in Portcullis::Action::\"billing\", resource)\nwhen { context.client_cert.present && context.client_cert.sans.contains(\"uri:spiffe://example.org/billing\") };\n",
    )
    .unwrap();
    let cfg = format!(
        "listeners:\n  - id: https\n    address: 127.0.0.1:0\n    tls:\n      client_auth: {{ ca_file: {} }}\nadmin:\n  address: 127.0.0.1:0\npolicies:\n  files: [{}]\nupstreams:\n  - id: app\n    targets: [\"{}\"]\nroutes:\n  - id: svc\n    path: /svc/\n    methods: [GET]\n    upstream: app\n    auth: {{ mtls: {{ identity: san_uri }} }}\n    authorize: {{ any_authenticated: true }}\n  - id: billing\n    path: /billing/\n    methods: [GET]\n    upstream: app\n    auth: {{ mtls: {{}} }}\n    authorize: {{ policy: true }}\n",
        ca_file.display(),
        policy.display(),
        up.url()
    );
    let gw = start(&cfg);
    let dev = gw.dev_cert_pem();
    let with_identity = |pem: Option<String>| {
        let mut b = reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(&dev).unwrap()])
            .no_proxy();
        if let Some(pem) = pem {
            b = b.identity(reqwest::Identity::from_pem(pem.as_bytes()).unwrap());
        }
        b.build().unwrap()
    };
    let billing = with_identity(Some(ca.client("billing", "spiffe://example.org/billing")));
    let web = with_identity(Some(ca.client("web", "spiffe://example.org/web")));
    let forged = with_identity(Some(
        rogue.client("billing", "spiffe://example.org/billing"),
    ));
    let anonymous = with_identity(None);
    let u = |p: &str| https_url(&gw, p);
    // A verified certificate names the consumer (its SPIFFE id).
    let r = billing.get(u("/svc/x")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        up.requests().last().unwrap().headers["x-consumer-id"],
        "spiffe://example.org/billing"
    );
    assert_eq!(
        up.requests().last().unwrap().headers["x-authenticated-by"],
        "mtls"
    );
    // No certificate: the handshake succeeds (optional) but the mtls route refuses.
    let r = anonymous.get(u("/svc/x")).send().await.unwrap();
    assert_problem(r, 401, "unauthorized").await;
    // A certificate from another CA never completes the handshake.
    assert!(forged.get(u("/svc/x")).send().await.is_err());
    // Policies see the certificate: only the billing service may call /billing/.
    assert_eq!(
        billing.get(u("/billing/1")).send().await.unwrap().status(),
        200
    );
    assert_eq!(web.get(u("/billing/1")).send().await.unwrap().status(), 403);
    assert_eq!(up.requests().len(), 2);
}

#[tokio::test]
async fn auth_methods_combine_with_all_of_and_any_of() {
    let up = RecordingUpstream::start().await;
    let ca = TestCa::new("portcullis test CA");
    let idp = Idp::new();
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("clients-ca.pem");
    std::fs::write(&ca_file, &ca.cert_pem).unwrap();
    let jwt = format!(
        "jwt: {{ issuer: https://idp.example, audiences: [api], keys_file: {} }}",
        idp.pem.display()
    );
    let cfg = format!(
        "listeners:\n  - id: https\n    address: 127.0.0.1:0\n    tls:\n      client_auth: {{ ca_file: {} }}\nadmin:\n  address: 127.0.0.1:0\nupstreams:\n  - id: app\n    targets: [\"{}\"]\nroutes:\n  - id: both\n    path: /both/\n    methods: [GET]\n    upstream: app\n    auth: {{ all_of: [mtls, jwt], mtls: {{}}, {jwt} }}\n    authorize: {{ any_authenticated: true }}\n  - id: either\n    path: /either/\n    methods: [GET]\n    upstream: app\n    auth: {{ any_of: [jwt, mtls], mtls: {{}}, {jwt} }}\n    authorize: {{ any_authenticated: true }}\n",
        ca_file.display(),
        up.url()
    );
    let gw = start(&cfg);
    let dev = gw.dev_cert_pem();
    let with_identity = |pem: Option<String>| {
        let mut b = reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(&dev).unwrap()])
            .no_proxy();
        if let Some(pem) = pem {
            b = b.identity(reqwest::Identity::from_pem(pem.as_bytes()).unwrap());
        }
        b.build().unwrap()
    };
    let workload = with_identity(Some(ca.client("web", "spiffe://example.org/web")));
    let anonymous = with_identity(None);
    let token = idp.token("alice", json!({}));
    let forged = Idp::new().token("alice", json!({}));
    let u = |p: &str| https_url(&gw, p);
    let last = || up.requests().last().unwrap().headers.clone();

    // all_of: certificate and token both needed; the certificate (listed first) names the
    // consumer, the token only has to verify.
    let r = workload
        .get(u("/both/1"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(last()["x-consumer-id"], "spiffe://example.org/web");
    assert!(last().get("authorization").is_none());
    let seen = up.requests().len();
    for (client, bearer) in [
        (&workload, None),
        (&workload, Some(forged.as_str())),
        (&anonymous, Some(token.as_str())),
    ] {
        let mut req = client.get(u("/both/1"));
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        assert_problem(req.send().await.unwrap(), 401, "unauthorized").await;
    }
    assert_eq!(
        up.requests().len(),
        seen,
        "refused requests reached the upstream"
    );

    // any_of: either credential alone is enough; the first presented in the configured order
    // decides (a forged token is refused even with a good certificate: no fallback).
    let r = anonymous
        .get(u("/either/1"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(last()["x-consumer-id"], "alice");
    let r = workload.get(u("/either/1")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(last()["x-consumer-id"], "spiffe://example.org/web");
    let seen = up.requests().len();
    let r = workload
        .get(u("/either/1"))
        .bearer_auth(&forged)
        .send()
        .await
        .unwrap();
    assert_problem(r, 401, "unauthorized").await;
    let r = anonymous.get(u("/either/1")).send().await.unwrap();
    let challenges: Vec<_> = r
        .headers()
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    assert_eq!(challenges, ["Bearer", "Mutual"]);
    assert_problem(r, 401, "unauthorized").await;
    assert_eq!(up.requests().len(), seen);
}

#[tokio::test]
async fn revoked_client_certificates_are_refused_in_the_handshake() {
    let up = RecordingUpstream::start().await;
    let ca = TestCa::new("portcullis test CA");
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("clients-ca.pem");
    std::fs::write(&ca_file, &ca.cert_pem).unwrap();
    let crl = rcgen::CertificateRevocationListParams {
        this_update: rcgen::date_time_ymd(2025, 1, 1),
        next_update: rcgen::date_time_ymd(2035, 1, 1),
        crl_number: rcgen::SerialNumber::from(1u64),
        issuing_distribution_point: None,
        revoked_certs: vec![rcgen::RevokedCertParams {
            serial_number: rcgen::SerialNumber::from(666u64),
            revocation_time: rcgen::date_time_ymd(2025, 6, 1),
            reason_code: Some(rcgen::RevocationReason::KeyCompromise),
            invalidity_date: None,
        }],
        key_identifier_method: rcgen::KeyIdMethod::Sha256,
    }
    .signed_by(&ca.issuer)
    .unwrap();
    let crl_file = dir.path().join("clients.crl");
    std::fs::write(&crl_file, crl.pem().unwrap()).unwrap();
    let cfg = format!(
        "listeners:\n  - id: https\n    address: 127.0.0.1:0\n    tls:\n      client_auth: {{ ca_file: {}, crl_files: [{}] }}\nadmin:\n  address: 127.0.0.1:0\nupstreams:\n  - id: app\n    targets: [\"{}\"]\nroutes:\n  - id: svc\n    path: /svc/\n    methods: [GET]\n    upstream: app\n    auth: {{ mtls: {{}} }}\n    authorize: {{ any_authenticated: true }}\n",
        ca_file.display(),
        crl_file.display(),
        up.url()
    );
    let gw = start(&cfg);
    let dev = gw.dev_cert_pem();
    let client = |pem: String| {
        reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(&dev).unwrap()])
            .identity(reqwest::Identity::from_pem(pem.as_bytes()).unwrap())
            .no_proxy()
            .build()
            .unwrap()
    };
    let good = client(ca.client_with_serial("web", "spiffe://example.org/web", Some(7)));
    let revoked = client(ca.client_with_serial("old", "spiffe://example.org/old", Some(666)));
    let r = good.get(https_url(&gw, "/svc/1")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    // The revoked certificate is from the right CA, but the handshake refuses it.
    assert!(revoked.get(https_url(&gw, "/svc/1")).send().await.is_err());
    assert_eq!(up.requests().len(), 1);
}
