//! Any bytes as a request body of every content type: the firewall's extraction and
//! detectors and the body-hygiene checkers (JSON, XML, form, multipart) never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

static FIREWALL: OnceLock<portcullis_firewall::Firewall> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let fw = FIREWALL.get_or_init(|| {
        portcullis_firewall::Firewall::new(&Default::default()).expect("default spec compiles")
    });
    let limits = portcullis_contract::BodyLimits::compile(&Default::default());
    for ct in [
        "application/json",
        "application/xml",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=XyZ",
        "text/plain",
    ] {
        let _ = limits.check(Some(ct), data);
        let (parts, _) = http::Request::post("/fuzz?a=1")
            .header("content-type", ct)
            .body(())
            .expect("static request")
            .into_parts();
        let _ = fw.inspect(&parts, data);
    }
});
