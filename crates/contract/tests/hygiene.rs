//! Body hygiene: JSON, XML, form and multipart limits, with attacks and their benign twins.

use portcullis_contract::{BodyLimits, BodyLimitsSpec};
use proptest::prelude::*;

fn limits() -> BodyLimits {
    BodyLimits::compile(&BodyLimitsSpec::default())
}

fn rule(ct: Option<&str>, body: &[u8]) -> Option<String> {
    limits().check(ct, body).err().map(|v| v.rule)
}

const JSON: Option<&str> = Some("application/json");
const XML: Option<&str> = Some("application/xml");

#[test]
fn json_duplicate_keys_are_refused() {
    assert_eq!(
        rule(JSON, br#"{"role":"user","role":"admin"}"#).as_deref(),
        Some("duplicateKey")
    );
    assert_eq!(
        rule(JSON, br#"{"a":{"x":1,"x":2}}"#).as_deref(),
        Some("duplicateKey")
    );
    assert_eq!(rule(JSON, br#"{"role":"user","a":{"role":"admin"}}"#), None);
}

#[test]
fn json_depth_is_capped() {
    let deep = format!("{}{}", "[".repeat(33), "]".repeat(33));
    assert_eq!(rule(JSON, deep.as_bytes()).as_deref(), Some("maxDepth"));
    let ok = format!("{}{}", "[".repeat(32), "]".repeat(32));
    assert_eq!(rule(JSON, ok.as_bytes()), None);
    // Far deeper than serde_json's recursion limit: refused, not a stack overflow.
    let abyss = "[".repeat(100_000);
    assert_eq!(rule(JSON, abyss.as_bytes()).as_deref(), Some("maxDepth"));
}

#[test]
fn json_invalid_utf8_and_syntax_are_refused() {
    assert_eq!(rule(JSON, b"{\"a\":\"\xc3\x28\"}").as_deref(), Some("utf8"));
    assert_eq!(rule(JSON, b"{\"a\":1,}").as_deref(), Some("syntax"));
    assert_eq!(rule(JSON, "{\"a\":\"\u{e9}t\u{e9}\"}".as_bytes()), None);
}

#[test]
fn json_counts_and_string_lengths() {
    let spec = BodyLimitsSpec {
        max_json_keys: 3,
        max_string_length: 5,
        ..BodyLimitsSpec::default()
    };
    let l = BodyLimits::compile(&spec);
    assert!(l.check(JSON, br#"{"a":[1,2]}"#).is_ok());
    assert_eq!(
        l.check(JSON, br#"{"a":[1,2,3]}"#).unwrap_err().rule,
        "maxKeys"
    );
    assert_eq!(
        l.check(JSON, br#"["abcdef"]"#).unwrap_err().rule,
        "maxStringLength"
    );
    // Length after unescaping: six escaped bytes are one character.
    assert!(l.check(JSON, br#"["\u0041"]"#).is_ok());
}

#[test]
fn body_size_is_capped() {
    let l = BodyLimits::compile(&BodyLimitsSpec::default()).with_max_body_bytes(10);
    assert_eq!(
        l.check(JSON, b"[1,2,3,4,5,6]").unwrap_err().rule,
        "maxBodySize"
    );
    assert!(l.check(JSON, b"[1,2]").is_ok());
}

#[test]
fn missing_content_type_is_sniffed() {
    assert_eq!(
        rule(None, br#"{"a":1,"a":2}"#).as_deref(),
        Some("duplicateKey")
    );
    assert_eq!(
        rule(None, b"<!DOCTYPE a [<!ENTITY x 'y'>]><a>&x;</a>").as_deref(),
        Some("doctype")
    );
    assert_eq!(rule(None, b"plain words"), None);
    // An explicit other type is only size-checked.
    assert_eq!(rule(Some("text/plain"), br#"{"a":1,"a":2}"#), None);
}

const XXE: &str = r#"<?xml version="1.0"?>
<!DOCTYPE foo [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<foo>&xxe;</foo>"#;

const LAUGHS: &str = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<lolz>&lol3;</lolz>"#;

#[test]
fn xml_dtds_and_entities_are_refused() {
    assert_eq!(rule(XML, XXE.as_bytes()).as_deref(), Some("doctype"));
    assert_eq!(rule(XML, LAUGHS.as_bytes()).as_deref(), Some("doctype"));
    assert_eq!(
        rule(Some("text/xml"), XXE.as_bytes()).as_deref(),
        Some("doctype")
    );
    assert_eq!(
        rule(Some("application/soap+xml"), LAUGHS.as_bytes()).as_deref(),
        Some("doctype")
    );
    // An entity reference without a DTD cannot be defined: refused, never expanded.
    assert_eq!(rule(XML, b"<a>&xxe;</a>").as_deref(), Some("entity"));
}

#[test]
fn benign_xml_passes() {
    let ok = r#"<?xml version="1.0" encoding="UTF-8"?>
<order id="7"><!-- note --><item sku="a&amp;b">Tea &lt;green&gt; &#233;</item><item/><![CDATA[<raw>]]></order>"#;
    assert_eq!(rule(XML, ok.as_bytes()), None);
}

#[test]
fn xml_depth_and_size() {
    let deep = format!("{}{}", "<a>".repeat(40), "</a>".repeat(40));
    assert_eq!(rule(XML, deep.as_bytes()).as_deref(), Some("maxDepth"));
    let wide = format!("<r>{}</r>", "<i/>".repeat(10_001));
    assert_eq!(rule(XML, wide.as_bytes()).as_deref(), Some("maxElements"));
    assert_eq!(rule(XML, b"<a><b></a></b>").as_deref(), Some("syntax"));
}

#[test]
fn form_limits() {
    let form = Some("application/x-www-form-urlencoded");
    let many = (0..300)
        .map(|i| format!("f{i}=1"))
        .collect::<Vec<_>>()
        .join("&");
    assert_eq!(rule(form, many.as_bytes()).as_deref(), Some("maxFields"));
    let long = format!("a={}", "x".repeat(9000));
    assert_eq!(
        rule(form, long.as_bytes()).as_deref(),
        Some("maxFieldLength")
    );
    assert_eq!(rule(form, b"user=bob&pass=secret"), None);
}

fn multipart(parts: usize, size: usize) -> Vec<u8> {
    let mut b = Vec::new();
    for i in 0..parts {
        b.extend_from_slice(
            format!("--BoUnD\r\nContent-Disposition: form-data; name=\"f{i}\"\r\n\r\n").as_bytes(),
        );
        b.extend(std::iter::repeat_n(b'x', size));
        b.extend_from_slice(b"\r\n");
    }
    b.extend_from_slice(b"--BoUnD--\r\n");
    b
}

#[test]
fn multipart_limits() {
    let ct = Some("multipart/form-data; boundary=BoUnD");
    assert_eq!(rule(ct, &multipart(3, 100)), None);
    assert_eq!(rule(ct, &multipart(33, 1)).as_deref(), Some("maxParts"));
    let spec = BodyLimitsSpec {
        multipart: portcullis_contract::MultipartLimitsSpec {
            max_part_bytes: 50,
            ..Default::default()
        },
        ..BodyLimitsSpec::default()
    };
    let l = BodyLimits::compile(&spec);
    assert_eq!(
        l.check(ct, &multipart(1, 51)).unwrap_err().rule,
        "maxPartBytes"
    );
    assert!(l.check(ct, &multipart(1, 50)).is_ok());
    // Boundary sanity and termination.
    assert_eq!(
        rule(Some("multipart/form-data"), &multipart(1, 1)).as_deref(),
        Some("boundary")
    );
    assert_eq!(
        rule(Some("multipart/form-data; boundary=\"\""), &multipart(1, 1)).as_deref(),
        Some("boundary")
    );
    let mut cut = multipart(2, 10);
    cut.truncate(cut.len() - 11);
    assert_eq!(rule(ct, &cut).as_deref(), Some("syntax"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn json_checker_never_panics(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = limits().check(JSON, &body);
        let _ = limits().check(None, &body);
    }

    #[test]
    fn json_checker_never_panics_on_jsonish(body in "[\\[\\]{}\",:0-9a-z\\\\ ]{0,256}") {
        let _ = limits().check(JSON, body.as_bytes());
    }

    #[test]
    fn xml_form_multipart_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = limits().check(XML, &body);
        let _ = limits().check(Some("application/x-www-form-urlencoded"), &body);
        let _ = limits().check(Some("multipart/form-data; boundary=a"), &body);
    }

    #[test]
    fn valid_json_is_accepted(v in proptest::collection::vec(("[a-z]{1,8}", any::<i32>()), 0..20)) {
        let obj: serde_json::Map<String, serde_json::Value> =
            v.into_iter().map(|(k, n)| (k, n.into())).collect();
        let body = serde_json::to_vec(&obj).unwrap();
        prop_assert!(limits().check(JSON, &body).is_ok());
    }
}
