//! The worked example of docs/request-signing.md, byte for byte, and the properties the
//! scheme promises: what is covered cannot change, what is canonicalised may.

use super::*;
use proptest::prelude::*;

const SECRET: &str = "ExampleSecretDoNotUse0123456789abcdefghijkl";
const KEY_ID: &str = "a1B2c3D4e5F6";
const TS: i64 = 1_767_225_600;
const NONCE: &str = "AAECAwQFBgcICQoLDA0ODw";
const BODY: &[u8] = br#"{"qty":1}"#;

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (n, v) in pairs {
        h.append(
            http::HeaderName::from_bytes(n.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    h
}

fn example_headers() -> HeaderMap {
    headers(&[
        ("host", "api.example.com"),
        ("content-type", "application/json"),
    ])
}

fn signed() -> Vec<String> {
    vec!["content-type".into(), "host".into()]
}

fn example() -> SignatureParams {
    let uri: http::Uri = "/orders/42%7e?b=2&a=1&a=%2f".parse().unwrap();
    sign(
        SECRET.as_bytes(),
        KEY_ID,
        "POST",
        &uri,
        &example_headers(),
        &signed(),
        BODY,
        TS,
        NONCE,
    )
    .unwrap()
}

fn verifies(p: &SignatureParams, method: &str, uri: &str, h: &HeaderMap) -> bool {
    verify(SECRET.as_bytes(), p, method, &uri.parse().unwrap(), h).unwrap_or(false)
}

#[test]
fn worked_example_of_the_documentation() {
    let uri: http::Uri = "/orders/42%7e?b=2&a=1&a=%2f".parse().unwrap();
    let body_hash = sha256_hex(BODY);
    assert_eq!(
        body_hash,
        "92438ddd4266b3271fcebff491a7db7f0995332bade824c704f83596b7f36f74"
    );
    let canonical =
        canonical_request("POST", &uri, &example_headers(), &signed(), &body_hash).unwrap();
    assert_eq!(
        canonical,
        "POST\n/orders/42~\na=%2F&a=1&b=2\ncontent-type:application/json\nhost:api.example.com\ncontent-type;host\n92438ddd4266b3271fcebff491a7db7f0995332bade824c704f83596b7f36f74"
    );
    let sts = string_to_sign(TS, NONCE, KEY_ID, &canonical);
    assert_eq!(
        sts,
        "PCS1-HMAC-SHA256\n1767225600\nAAECAwQFBgcICQoLDA0ODw\na1B2c3D4e5F6\n349e44d777662271fc975fab9e33f2d7d33bfd004a75db2d57dea7e9ff24c50e"
    );
    let p = example();
    assert_eq!(
        p.signature,
        "e30c8cc899254fb23d104dfea0ff5b6845e7d5d2353d3ca292c494d6640991cb"
    );
    assert_eq!(
        p.to_header(),
        "PCS1-HMAC-SHA256 KeyId=a1B2c3D4e5F6, SignedHeaders=content-type;host, Timestamp=1767225600, Nonce=AAECAwQFBgcICQoLDA0ODw, BodySha256=92438ddd4266b3271fcebff491a7db7f0995332bade824c704f83596b7f36f74, Signature=e30c8cc899254fb23d104dfea0ff5b6845e7d5d2353d3ca292c494d6640991cb"
    );
    assert_eq!(SignatureParams::parse(&p.to_header()), Ok(p));
}

#[test]
fn canonicalisation_normalises_encoding_but_keeps_meaning() {
    assert_eq!(canonical_path("").unwrap(), "/");
    assert_eq!(canonical_path("/a%7E%41%2f%2F").unwrap(), "/a~A%2F%2F");
    assert_eq!(canonical_path("/a/b").unwrap(), "/a/b");
    assert_eq!(canonical_path("/%zz"), Err(SigningError::Encoding));
    assert_eq!(canonical_path("/%4"), Err(SigningError::Encoding));
    assert_eq!(canonical_query(None).unwrap(), "");
    assert_eq!(canonical_query(Some("")).unwrap(), "");
    assert_eq!(canonical_query(Some("b=2&&a&a=1")).unwrap(), "a=&a=1&b=2");
    assert_eq!(
        canonical_query(Some("q=a+b&q=a%20b")).unwrap(),
        "q=a%20b&q=a+b"
    );
    // Header values: all values joined, trimmed, inner whitespace collapsed.
    let h = headers(&[
        ("host", "h"),
        ("x-multi", "  one   two "),
        ("x-multi", "three"),
    ]);
    let uri: http::Uri = "/".parse().unwrap();
    let c = canonical_request(
        "GET",
        &uri,
        &h,
        &["host".into(), "x-multi".into()],
        &sha256_hex(b""),
    )
    .unwrap();
    assert!(c.contains("\nx-multi:one two,three\n"), "{c}");
    // HTTP/2: no Host header, the authority stands in.
    let uri: http::Uri = "https://h/".parse().unwrap();
    let c = canonical_request("GET", &uri, &HeaderMap::new(), &["host".into()], "x").unwrap();
    assert!(c.contains("\nhost:h\n"), "{c}");
}

#[test]
fn query_reordered_and_reencoded_still_verifies() {
    let p = example();
    let h = example_headers();
    assert!(verifies(&p, "POST", "/orders/42%7e?b=2&a=1&a=%2f", &h));
    assert!(verifies(&p, "POST", "/orders/42~?a=%2F&b=2&a=1", &h));
    assert!(verifies(&p, "POST", "/orders/42%7E?a=1&a=%2F&b=2", &h));
}

#[test]
fn every_covered_part_is_tamper_evident() {
    let p = example();
    let h = example_headers();
    // Benign twin first.
    assert!(verifies(&p, "POST", "/orders/42~?a=1&a=%2F&b=2", &h));
    // Method, path, query value, extra parameter, encoded slash vs slash.
    assert!(!verifies(&p, "PUT", "/orders/42~?a=1&a=%2F&b=2", &h));
    assert!(!verifies(&p, "POST", "/orders/43~?a=1&a=%2F&b=2", &h));
    assert!(!verifies(&p, "POST", "/orders/42~?a=1&a=%2F&b=3", &h));
    assert!(!verifies(&p, "POST", "/orders/42~?a=1&a=%2F&b=2&c=1", &h));
    assert!(!verifies(&p, "POST", "/orders/42~?a=1&a=/&b=2", &h));
    // Signed headers: changed value, another host; a missing signed header is an error.
    let tampered = headers(&[("host", "api.example.com"), ("content-type", "text/plain")]);
    assert!(!verifies(
        &p,
        "POST",
        "/orders/42~?a=1&a=%2F&b=2",
        &tampered
    ));
    let other_host = headers(&[
        ("host", "evil.example"),
        ("content-type", "application/json"),
    ]);
    assert!(!verifies(
        &p,
        "POST",
        "/orders/42~?a=1&a=%2F&b=2",
        &other_host
    ));
    let missing = headers(&[("host", "api.example.com")]);
    let uri: http::Uri = "/orders/42~".parse().unwrap();
    assert_eq!(
        verify(SECRET.as_bytes(), &p, "POST", &uri, &missing),
        Err(SigningError::MissingHeader)
    );
    // Claimed body hash, timestamp, nonce, key id: all inside the string to sign.
    for change in [
        |p: &mut SignatureParams| p.body_sha256 = sha256_hex(b"{\"qty\":100}"),
        |p: &mut SignatureParams| p.timestamp += 1,
        |p: &mut SignatureParams| p.nonce = "BAECAwQFBgcICQoLDA0ODw".into(),
        |p: &mut SignatureParams| p.key_id = "a1B2c3D4e5F7".into(),
    ] {
        let mut q = p.clone();
        change(&mut q);
        assert!(!verifies(&q, "POST", "/orders/42~?a=1&a=%2F&b=2", &h));
    }
    // Another secret.
    let uri: http::Uri = "/orders/42~?a=1&a=%2F&b=2".parse().unwrap();
    assert!(!verify(b"another secret", &p, "POST", &uri, &h).unwrap());
}

#[test]
fn unsigned_required_headers_are_refused() {
    let mut p = example();
    p.signed_headers = vec!["host".into()];
    let required = vec!["host".to_string(), "content-type".to_string()];
    // content-type present but not signed: refused; absent: fine (GET without a body).
    assert_eq!(
        check_required(&p, &required, &example_headers()),
        Err(SigningError::UnsignedRequiredHeader)
    );
    assert_eq!(
        check_required(&p, &required, &headers(&[("host", "h")])),
        Ok(())
    );
    assert_eq!(
        check_required(&example(), &required, &example_headers()),
        Ok(())
    );
}

#[test]
fn header_parsing_is_strict() {
    let good = example().to_header();
    assert!(SignatureParams::parse(&good).is_ok());
    let bad = [
        String::new(),
        good.replace("PCS1-HMAC-SHA256 ", "Bearer "),
        good.replace("PCS1-HMAC-SHA256 ", "PCS1-HMAC-SHA256"),
        good.replace("KeyId=a1B2c3D4e5F6", "KeyId=a1B2c3D4e5F6, KeyId=x"),
        good.replace(", Signature=", ", Extra=1, Signature="),
        good.replace(
            "SignedHeaders=content-type;host",
            "SignedHeaders=host;content-type",
        ),
        good.replace(
            "SignedHeaders=content-type;host",
            "SignedHeaders=content-type",
        ),
        good.replace(
            "SignedHeaders=content-type;host",
            "SignedHeaders=authorization;host",
        ),
        good.replace("SignedHeaders=content-type;host", "SignedHeaders=host;host"),
        good.replace("SignedHeaders=content-type;host", "SignedHeaders=Host"),
        good.replace("Timestamp=1767225600", "Timestamp=-1"),
        good.replace("Timestamp=1767225600", "Timestamp=99999999999999999999"),
        good.replace("Nonce=AAECAwQFBgcICQoLDA0ODw", "Nonce=short"),
        good.replace(
            "Nonce=AAECAwQFBgcICQoLDA0ODw",
            "Nonce=AAECAwQFBgcICQoLDA0OD+",
        ),
        good.replace("Signature=e30c", "Signature=E30C"),
        good.replace("Signature=e30c", "Signature=e30"),
    ];
    for b in bad {
        assert!(SignatureParams::parse(&b).is_err(), "accepted: {b}");
    }
}

#[test]
fn nonces_are_fresh_and_long_enough() {
    let a = new_nonce().unwrap();
    assert_eq!(a.len(), MIN_NONCE_CHARS);
    assert_ne!(a, new_nonce().unwrap());
}

proptest! {
    #[test]
    fn parsing_and_canonicalising_never_panic(s in ".{0,200}", q in "[a-z%&=0-9A-F]{0,40}") {
        let _ = SignatureParams::parse(&s);
        let _ = SignatureParams::parse(&format!("PCS1-HMAC-SHA256 {s}"));
        let _ = canonical_query(Some(&q));
        let _ = canonical_path(&q);
    }

    #[test]
    fn query_order_never_matters(mut pairs in proptest::collection::vec(("[a-z]{1,3}", "[a-z0-9%]{0,3}"), 0..6)) {
        let join = |p: &[(String, String)]| p.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
        let a = canonical_query(Some(&join(&pairs)));
        pairs.reverse();
        prop_assert_eq!(a, canonical_query(Some(&join(&pairs))));
    }
}
