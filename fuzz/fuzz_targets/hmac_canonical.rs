//! Any `Authorization` value and request target: parsing the signature header and building
//! the canonical request never panic (both run before the signature is verified).
#![no_main]
use libfuzzer_sys::fuzz_target;
use portcullis_auth::signing;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (header, target) = text.split_once('\n').unwrap_or((text, "/"));
    let _ = signing::SignatureParams::parse(header);
    let _ = signing::SignatureParams::parse(&format!("PCS1-HMAC-SHA256 {header}"));
    if let Ok(uri) = target.parse::<http::Uri>() {
        let mut headers = http::HeaderMap::new();
        if let Ok(v) = http::HeaderValue::from_str(header) {
            headers.insert("host", v.clone());
            headers.insert("x-any", v);
        }
        let signed = ["host".to_string(), "x-any".to_string()];
        let _ = signing::canonical_request("GET", &uri, &headers, &signed, "0");
    }
});
