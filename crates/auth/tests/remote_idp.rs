//! Remote identity providers against a real HTTPS provider (`TestIdp`, its own CA): fetched
//! keys with a rate-limited refresh that keeps the last good set, and introspection calls
//! shared by concurrent requests.

use std::time::Duration;

use portcullis_auth::introspection::{Introspector, Verdict, token_key};
use portcullis_auth::jwks_remote::RemoteKeys;
use portcullis_auth::jwt::JwtVerifier;
use portcullis_config::{IntrospectionAuthSpec, JwtAuthSpec};
use portcullis_testkit::{JwksMode, TestIdp};
use serde_json::json;

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn jwt_spec(idp: &TestIdp) -> JwtAuthSpec {
    serde_saphyr::from_str(&format!(
        "issuer: {}\naudiences: [api]\njwks_url: {}\nca_file: {}\njwks_min_refresh_interval: 1s\n",
        idp.issuer(),
        idp.jwks_url(),
        idp.ca_file().display()
    ))
    .unwrap()
}

#[tokio::test]
async fn unknown_kid_refreshes_are_rate_limited_and_bad_sets_keep_the_last_good_one() {
    let idp = TestIdp::start().await;
    let keys = RemoteKeys::from_spec(&jwt_spec(&idp)).unwrap().unwrap();
    assert!(!keys.has_keys());
    keys.refresh_for_unknown_kid().await;
    assert!(keys.has_keys());
    assert_eq!(idp.jwks_calls(), 1);
    // Within the interval: no fetch, however many callers.
    for _ in 0..10 {
        assert!(!keys.may_refresh());
        keys.refresh_for_unknown_kid().await;
    }
    assert_eq!(idp.jwks_calls(), 1);
    for mode in [JwksMode::Garbage, JwksMode::Fail] {
        idp.set_jwks(mode);
        tokio::time::sleep(Duration::from_millis(1050)).await;
        assert!(keys.may_refresh());
        keys.refresh_for_unknown_kid().await;
        assert!(keys.has_keys(), "{mode:?} emptied the key set");
    }
    assert_eq!(idp.jwks_calls(), 3);
    assert_eq!(keys.fetches(), 3);
}

#[tokio::test]
async fn a_verifier_with_remote_keys_verifies_after_the_first_fetch() {
    let idp = TestIdp::start().await;
    let verifier = JwtVerifier::from_spec(&jwt_spec(&idp)).unwrap();
    let token = idp.sign(&json!({"iss": idp.issuer(), "aud": "api", "sub": "alice",
                                 "exp": now() + 60}));
    let remote = verifier.remote_keys().unwrap().clone();
    // The background fetch (started by from_spec) or this one installs the keys.
    remote.refresh_for_unknown_kid().await;
    assert!(remote.has_keys());
    assert_eq!(verifier.verify(&token).unwrap().consumer_id, "alice");
    let forged = TestIdp::start()
        .await
        .sign(&json!({"iss": idp.issuer(), "aud": "api", "sub": "alice", "exp": now() + 60}));
    assert!(verifier.verify(&forged).is_err());
}

#[tokio::test]
async fn concurrent_requests_for_one_token_share_one_introspection_call() {
    let idp = TestIdp::start().await;
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "gateway-secret\n").unwrap();
    let spec: IntrospectionAuthSpec = serde_saphyr::from_str(&format!(
        "url: {}\nclient_id: gateway\nclient_secret_file: {}\nca_file: {}\n",
        idp.introspection_url(),
        secret.display(),
        idp.ca_file().display()
    ))
    .unwrap();
    let introspector = Introspector::from_spec(&spec).unwrap();
    let token = "opaque-shared-token-1234567890";
    idp.set_token(
        token,
        json!({"active": true, "sub": "alice", "exp": now() + 60}),
    );
    let key = token_key(token);
    let calls = (0..20).map(|_| introspector.introspect(token, key));
    for v in futures_join(calls).await {
        assert!(
            matches!(v, Verdict::Active(ref id) if id.consumer_id == "alice"),
            "{v:?}"
        );
    }
    assert_eq!(idp.introspection_calls(), 1);
    assert!(introspector.cached(&key).is_some_and(|a| a.is_ok()));
    // Benign twin of the sharing: a different token is a different call.
    let other = "opaque-other-token-0987654321";
    assert!(matches!(
        introspector.introspect(other, token_key(other)).await,
        Verdict::Rejected("introspection_inactive")
    ));
    assert_eq!(idp.introspection_calls(), 2);
}

/// Runs the futures concurrently on this task.
async fn futures_join<F: std::future::Future>(futs: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut set = Vec::new();
    for f in futs {
        set.push(Box::pin(f));
    }
    let mut out: Vec<Option<F::Output>> = set.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, slot) in set.iter_mut().zip(out.iter_mut()) {
            if slot.is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *slot = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().flatten().collect()
}
