//! The guard over a real (in-memory SQLite) store and a real keyring: skew, replay, body and
//! header tampering, revocation. Each attack next to its benign twin.

use super::*;
use crate::sealed::MasterKey;
use portcullis_core::{ClientIp, RequestId};
use portcullis_store::{ApiKeyRecord, NewConsumer, SqliteStore};

const NOW: i64 = 1_767_225_600;
const SECRET: &[u8] = b"ExampleSecretDoNotUse0123456789abcdefghijkl";

fn clock() -> i64 {
    NOW
}

struct Fixture {
    guard: HmacGuard,
    store: Arc<dyn Store>,
    key_id: String,
}

fn fixture() -> Fixture {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory().unwrap());
    let keyring = Arc::new(Keyring::new(
        MasterKey::from_bytes(&[9u8; 32]).unwrap(),
        vec![],
    ));
    let consumer = store
        .create_consumer(
            &NewConsumer {
                name: "alice".into(),
                ..Default::default()
            },
            "test",
            NOW,
        )
        .unwrap();
    let key_id = "a1B2c3D4e5F6".to_string();
    store
        .insert_api_key(
            &ApiKeyRecord {
                id: key_id.clone(),
                consumer_id: consumer.id,
                hash: vec![1; 32],
                scopes: vec!["orders:write".into()],
                allow_ips: vec![],
                allow_referrers: vec![],
                routes: vec![],
                created_at: NOW,
                expires_at: None,
                revoked_at: None,
                last_used_at: None,
                replaced_by: None,
                kind: KeyKind::Hmac,
                sealed_secret: Some(keyring.seal(&seal_context(&key_id), SECRET).unwrap()),
            },
            "test",
            NOW,
        )
        .unwrap();
    let spec: HmacAuthSpec = serde_saphyr::from_str("{}").unwrap();
    let guard = HmacGuard::new(
        &spec,
        "orders",
        store.clone(),
        keyring,
        Arc::new(NonceStore::new(100)),
    )
    .with_clock(clock);
    Fixture {
        guard,
        store,
        key_id,
    }
}

fn request(key_id: &str, ts: i64, nonce: &str, body: &[u8]) -> (http::request::Parts, Bytes) {
    let uri: http::Uri = "/orders?b=2&a=1".parse().unwrap();
    let mut headers = http::HeaderMap::new();
    headers.insert("host", "api.example.com".parse().unwrap());
    headers.insert("content-type", "application/json".parse().unwrap());
    let p = signing::sign(
        SECRET,
        key_id,
        "POST",
        &uri,
        &headers,
        &["content-type".into(), "host".into()],
        body,
        ts,
        nonce,
    )
    .unwrap();
    let mut req = http::Request::post(uri).body(()).unwrap();
    *req.headers_mut() = headers;
    req.headers_mut()
        .insert(AUTHORIZATION, p.to_header().parse().unwrap());
    (req.into_parts().0, Bytes::copy_from_slice(body))
}

fn cx() -> RequestCx {
    let mut cx = RequestCx::new(
        RequestId::generate(),
        "127.0.0.1:1".parse().unwrap(),
        std::time::Instant::now(),
    );
    cx.client_ip = ClientIp("127.0.0.1".parse().unwrap());
    cx
}

/// Runs both phases like the pipeline; `Ok(identity)` or the denial's reason.
fn run(
    g: &HmacGuard,
    mut parts: http::request::Parts,
    body: &Bytes,
) -> Result<String, &'static str> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    // The guard touches the key's last use on the blocking pool, as in the gateway.
    let _rt = rt.enter();
    let mut cx = cx();
    let step = match g.on_request(&mut cx, &mut parts) {
        Step::Wait(w) => {
            let resume = rt.block_on(w);
            resume(&mut cx)
        }
        other => other,
    };
    match step {
        Step::Continue => {}
        Step::Deny(d) => return Err(d.reason),
        other => panic!("{other:?}"),
    }
    assert!(
        parts.headers.get(AUTHORIZATION).is_none(),
        "signature forwarded"
    );
    match g.on_body(&mut cx, &parts, body) {
        Step::Continue => Ok(cx.identity.unwrap().consumer_id),
        Step::Deny(d) => Err(d.reason),
        other => panic!("{other:?}"),
    }
}

const N1: &str = "AAECAwQFBgcICQoLDA0ODw";
const N2: &str = "BBECAwQFBgcICQoLDA0ODw";
const N3: &str = "CCECAwQFBgcICQoLDA0ODw";

#[test]
fn signed_request_passes_and_its_replay_does_not() {
    let f = fixture();
    let (parts, body) = request(&f.key_id, NOW, N1, b"{}");
    assert_eq!(run(&f.guard, parts.clone(), &body), Ok("alice".into()));
    assert_eq!(run(&f.guard, parts, &body), Err("hmac_replayed"));
    // The same request with a fresh nonce is fine.
    let (parts, body) = request(&f.key_id, NOW, N2, b"{}");
    assert_eq!(run(&f.guard, parts, &body), Ok("alice".into()));
}

#[test]
fn timestamps_outside_the_window_are_refused() {
    let f = fixture();
    for (ts, ok) in [
        (NOW - 300, true),
        (NOW + 300, true),
        (NOW - 301, false),
        (NOW + 301, false),
    ] {
        let nonce = signing::new_nonce().unwrap();
        let (parts, body) = request(&f.key_id, ts, &nonce, b"");
        let got = run(&f.guard, parts, &body);
        if ok {
            assert_eq!(got, Ok("alice".into()), "ts {ts}");
        } else {
            assert_eq!(got, Err("hmac_timestamp_outside_window"), "ts {ts}");
        }
    }
}

#[test]
fn tampered_body_and_headers_are_refused() {
    let f = fixture();
    let (parts, _) = request(&f.key_id, NOW, N1, br#"{"qty":1}"#);
    assert_eq!(
        run(&f.guard, parts, &Bytes::from_static(br#"{"qty":100}"#)),
        Err("hmac_body_mismatch")
    );
    let (mut parts, body) = request(&f.key_id, NOW, N2, b"{}");
    parts
        .headers
        .insert("content-type", "text/plain".parse().unwrap());
    assert_eq!(run(&f.guard, parts, &body), Err("hmac_bad_signature"));
    let (mut parts, body) = request(&f.key_id, NOW, N3, b"{}");
    parts.uri = "/orders?a=1&b=2&admin=1".parse().unwrap();
    assert_eq!(run(&f.guard, parts, &body), Err("hmac_bad_signature"));
    // Benign twin: query reordered only.
    let (mut parts, body) = request(&f.key_id, NOW, "DDECAwQFBgcICQoLDA0ODw", b"{}");
    parts.uri = "/orders?a=1&b=2".parse().unwrap();
    assert_eq!(run(&f.guard, parts, &body), Ok("alice".into()));
}

#[test]
fn unknown_revoked_and_missing_credentials_are_refused() {
    let f = fixture();
    let (parts, body) = request("zzzzzzzzzzzz", NOW, N1, b"");
    assert_eq!(run(&f.guard, parts, &body), Err("hmac_key_unknown"));
    let (mut parts, body) = request(&f.key_id, NOW, N1, b"");
    parts.headers.remove(AUTHORIZATION);
    assert_eq!(run(&f.guard, parts, &body), Err("hmac_missing"));
    f.store.revoke_api_key(&f.key_id, "test", NOW - 1).unwrap();
    let (parts, body) = request(&f.key_id, NOW, N2, b"");
    assert_eq!(run(&f.guard, parts, &body), Err("api_key_revoked"));
}
