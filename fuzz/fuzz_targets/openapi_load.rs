//! Any text as an OpenAPI document: loading never panics (it may refuse), and a loaded
//! contract validates an arbitrary request without panicking.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(dir) = tempfile::tempdir() else { return };
    let path = dir.path().join("openapi.yaml");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let spec = portcullis_contract::OpenApiSpec::new(&path);
    if let Ok(contract) = portcullis_contract::Contract::load(&spec) {
        let (parts, _) = http::Request::post("/pets/1?limit=5")
            .header("content-type", "application/json")
            .body(())
            .expect("static request")
            .into_parts();
        let _ = contract.validate(&parts, br#"{"name":"x"}"#);
    }
});
