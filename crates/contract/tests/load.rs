//! Loading: refused references, cycles, errors naming file and pointer.

mod common;

use common::spec_path;
use portcullis_contract::{Contract, LoadError, OpenApiSpec};

fn load_err(rel: &str) -> LoadError {
    Contract::load(&OpenApiSpec::new(spec_path(rel))).unwrap_err()
}

#[test]
fn http_refs_are_refused() {
    let e = load_err("bad/remote.yaml");
    let msg = e.to_string();
    assert!(matches!(e, LoadError::Ref { .. }), "{e:?}");
    assert!(msg.contains("remote.yaml"), "{msg}");
    assert!(
        msg.contains("#/paths/~1x/post/requestBody/content/application~1json/schema/$ref"),
        "{msg}"
    );
    assert!(msg.contains("no URLs"), "{msg}");
}

#[test]
fn refs_escaping_the_spec_directory_are_refused() {
    let e = load_err("bad/escape.yaml");
    let msg = e.to_string();
    assert!(matches!(e, LoadError::Ref { .. }), "{e:?}");
    assert!(msg.contains("outside the spec's directory"), "{msg}");
    assert!(
        msg.contains("escape.yaml#/paths/~1x/get/parameters/0/$ref"),
        "{msg}"
    );
}

#[test]
fn existing_files_outside_the_directory_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let inner = dir.path().join("api");
    std::fs::create_dir(&inner).unwrap();
    std::fs::write(dir.path().join("secret.yaml"), "A: {type: string}\n").unwrap();
    let spec = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /x:\n    post:\n      requestBody:\n        content:\n          application/json:\n            schema: {$ref: '../secret.yaml#/A'}\n      responses: {'200': {description: ok}}\n";
    std::fs::write(inner.join("openapi.yaml"), spec).unwrap();
    let e = Contract::load(&OpenApiSpec::new(inner.join("openapi.yaml"))).unwrap_err();
    assert!(
        e.to_string().contains("outside the spec's directory"),
        "{e}"
    );
    // The same reference from a spec one level up is fine.
    std::fs::write(
        dir.path().join("openapi.yaml"),
        spec.replace("../secret", "./secret"),
    )
    .unwrap();
    assert!(Contract::load(&OpenApiSpec::new(dir.path().join("openapi.yaml"))).is_ok());
}

#[test]
fn reference_cycles_between_non_schema_objects_are_refused() {
    let e = load_err("bad/cycle.yaml");
    assert!(e.to_string().contains("cycle"), "{e}");
}

#[test]
fn missing_targets_and_versions_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.json");
    std::fs::write(&p, r##"{"openapi":"3.0.0","paths":{"/x":{"get":{"parameters":[{"$ref":"#/components/parameters/Nope"}]}}}}"##).unwrap();
    let e = Contract::load(&OpenApiSpec::new(&p)).unwrap_err();
    assert!(e.to_string().contains("does not exist"), "{e}");
    std::fs::write(&p, r#"{"swagger":"2.0","paths":{}}"#).unwrap();
    let e = Contract::load(&OpenApiSpec::new(&p)).unwrap_err();
    assert!(e.to_string().contains("#/openapi"), "{e}");
    let e = Contract::load(&OpenApiSpec::new(dir.path().join("missing.yaml"))).unwrap_err();
    assert!(matches!(e, LoadError::Read { .. }));
}

#[test]
fn response_validation_is_refused_until_implemented() {
    let mut spec = OpenApiSpec::new(spec_path("v31.yaml"));
    spec.validate_responses = true;
    let e = Contract::load(&spec).unwrap_err();
    assert!(e.to_string().contains("validate_responses"), "{e}");
}
