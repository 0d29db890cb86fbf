//! Any X-Forwarded-For / Forwarded values from a trusted peer: resolution never panics and
//! an untrusted peer's address always wins.
#![no_main]
use libfuzzer_sys::fuzz_target;
use portcullis_gateway::client_addr::TrustedProxies;

fuzz_target!(|data: &[u8]| {
    let (a, b) = data.split_at(data.len() / 2);
    let mut headers = http::HeaderMap::new();
    if let Ok(v) = http::HeaderValue::from_bytes(a) {
        headers.insert("x-forwarded-for", v);
    }
    if let Ok(v) = http::HeaderValue::from_bytes(b) {
        headers.insert("forwarded", v);
    }
    let proxies = TrustedProxies::new(vec!["10.0.0.0/8".parse().unwrap()]);
    let _ = proxies.resolve("10.0.0.1".parse().unwrap(), &headers);
    let peer = "203.0.113.1".parse().unwrap();
    assert_eq!(proxies.resolve(peer, &headers), peer);
});
