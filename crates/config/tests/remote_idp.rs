//! Validation of the remote identity-provider settings: one JWT key source, provider URLs
//! over https (plain http only to loopback), and the introspection block.

use std::path::Path;

fn load(src: &str) -> Result<(), String> {
    portcullis_config::load_str(src, Path::new("t.yaml"))
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn route(auth: &str) -> String {
    format!(
        "listeners:\n  - id: a\n    address: 127.0.0.1:8443\n    tls: {{}}\nupstreams:\n  - id: echo\n    kind: echo\nroutes:\n  - id: r\n    path: /r/\n    methods: [GET]\n    upstream: echo\n    authorize: {{ any_authenticated: true }}\n    auth:\n{auth}"
    )
}

fn jwt(source: &str) -> String {
    route(&format!(
        "      jwt:\n        issuer: https://idp.example\n        audiences: [api]\n{source}"
    ))
}

#[test]
fn jwt_needs_exactly_one_key_source() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("k.pem");
    std::fs::write(&keys, "x").unwrap();
    for ok in [
        "        jwks_url: https://idp.example/jwks.json\n".to_string(),
        "        discovery_url: https://idp.example/.well-known/openid-configuration\n".into(),
        "        jwks_url: http://127.0.0.1:8080/jwks.json\n".into(),
        "        jwks_url: http://localhost:8080/jwks.json\n".into(),
        format!("        keys_file: {}\n", keys.display()),
    ] {
        assert_eq!(load(&jwt(&ok)), Ok(()), "{ok}");
    }
    for (bad, path) in [
        ("", "routes[0].auth.jwt"),
        (
            "        jwks_url: https://a/j\n        discovery_url: https://a/d\n",
            "routes[0].auth.jwt.discovery_url",
        ),
        (
            &*format!(
                "        jwks_url: https://a/j\n        keys_file: {}\n",
                keys.display()
            ),
            "routes[0].auth.jwt.jwks_url",
        ),
        (
            "        jwks_url: http://idp.example/jwks.json\n",
            "routes[0].auth.jwt.jwks_url",
        ),
        (
            "        discovery_url: ftp://idp.example/d\n",
            "routes[0].auth.jwt.discovery_url",
        ),
        (
            "        jwks_url: https://u:p@idp.example/j\n",
            "routes[0].auth.jwt.jwks_url",
        ),
        (
            "        jwks_url: https://idp.example/j\n        algorithms: [HS256]\n",
            "routes[0].auth.jwt.algorithms",
        ),
        (
            "        jwks_url: https://idp.example/j\n        ca_file: /nonexistent/ca.pem\n",
            "routes[0].auth.jwt.ca_file",
        ),
        (
            "        jwks_url: https://idp.example/j\n        jwks_min_refresh_interval: 100ms\n",
            "routes[0].auth.jwt.jwks_min_refresh_interval",
        ),
        (
            "        jwks_url: https://idp.example/j\n        jwks_refresh: 10s\n        jwks_min_refresh_interval: 1m\n",
            "routes[0].auth.jwt.jwks_refresh",
        ),
    ] {
        let e = load(&jwt(bad)).unwrap_err();
        assert!(e.contains(path), "{bad}: {e}");
    }
}

#[test]
fn introspection_block_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "s").unwrap();
    let block = |extra: &str| {
        route(&format!(
            "      introspection:\n        url: https://idp.example/introspect\n        client_id: gateway\n        client_secret_file: {}\n{extra}",
            secret.display()
        ))
    };
    assert_eq!(load(&block("")), Ok(()));
    assert_eq!(
        load(&block(
            "        on_unavailable: \"401\"\n        consumer_claim: client_id\n"
        )),
        Ok(())
    );
    for (bad, path) in [
        (
            "        on_unavailable: allow\n",
            "introspection.on_unavailable",
        ),
        (
            "        consumer_claim: email\n",
            "introspection.consumer_claim",
        ),
        ("        cache_entries: 0\n", "introspection.cache_entries"),
        ("        timeout: 5m\n", "introspection.timeout"),
        (
            "        ca_file: /nonexistent/ca.pem\n",
            "introspection.ca_file",
        ),
        ("      api_key: {}\n", "routes[0].auth"),
    ] {
        let e = load(&block(bad)).unwrap_err();
        assert!(e.contains(path), "{bad}: {e}");
    }
    let http = route(&format!(
        "      introspection:\n        url: http://idp.example/introspect\n        client_id: gateway\n        client_secret_file: {}\n",
        secret.display()
    ));
    assert!(load(&http).unwrap_err().contains("introspection.url"));
    let missing = route(
        "      introspection:\n        url: https://idp.example/i\n        client_id: gateway\n        client_secret_file: /nonexistent/secret\n",
    );
    assert!(
        load(&missing)
            .unwrap_err()
            .contains("introspection.client_secret_file")
    );
}
