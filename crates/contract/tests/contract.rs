//! Request validation against the petstore (3.0, split across files) and items (3.1) specs.

mod common;

use common::{assert_refused, check, load, violations};
use portcullis_contract::Rejection;

const JSON: &[(&str, &str)] = &[("content-type", "application/json")];
const UUID: &str = "5f0c6a5e-8a4e-4d8f-9a43-0b7b3c1d2e3f";

// === valid requests ===

#[test]
fn valid_requests_pass() {
    let c = load("petstore/openapi.yaml", true);
    assert_eq!(
        check(
            &c,
            "GET",
            "/v1/pets?limit=10&tags=a&tags=b&status=sold&q=free%20text",
            &[("x-trace-id", UUID), ("cookie", "theme=dark; other=1")],
            ""
        )
        .unwrap(),
        "listPets"
    );
    let pet = format!(
        r#"{{"name":"Rex","email":"rex@example.com","tag":null,"age":3,"kind":"cat","owner":{{"id":"{UUID}","nick":"x"}}}}"#
    );
    assert_eq!(
        check(&c, "POST", "/v1/pets", JSON, &pet).unwrap(),
        "createPet"
    );
    assert_eq!(
        check(
            &c,
            "POST",
            "/v1/pets",
            &[("content-type", "application/json; charset=utf-8")],
            r#"{"name":"Rex"}"#
        )
        .unwrap(),
        "createPet"
    );
    assert_eq!(check(&c, "GET", "/v1/pets/42", &[], "").unwrap(), "getPet");
    assert_eq!(check(&c, "HEAD", "/v1/pets/42", &[], "").unwrap(), "getPet");
    assert_eq!(
        check(&c, "DELETE", "/v1/pets/42", &[], "").unwrap(),
        "deletePet"
    );
    assert_eq!(
        check(
            &c,
            "POST",
            "/v1/dogs",
            JSON,
            r#"{"name":"Rex","bark":true}"#
        )
        .unwrap(),
        "createDog"
    );
    assert_eq!(
        check(
            &c,
            "POST",
            "/v1/login",
            &[("content-type", "application/x-www-form-urlencoded")],
            "username=bob&remember=true"
        )
        .unwrap(),
        "login"
    );
}

#[test]
fn literal_segments_beat_templates() {
    let c = load("petstore/openapi.yaml", true);
    assert_eq!(
        check(&c, "GET", "/v1/pets/mine", &[], "").unwrap(),
        "myPets"
    );
}

#[test]
fn cyclic_schemas_validate_recursively() {
    let c = load("petstore/openapi.yaml", true);
    let ok = r#"{"value":"a","children":[{"value":"b","children":[{"value":"c"}]}]}"#;
    assert_eq!(
        check(&c, "POST", "/v1/trees", JSON, ok).unwrap(),
        "plantTree"
    );
    let r = check(
        &c,
        "POST",
        "/v1/trees",
        JSON,
        r#"{"children":[{"children":[{"value":918273}]}]}"#,
    );
    assert_refused(&r, "/body/children/0/children/0/value", "type", "918273");
    let r = check(
        &c,
        "POST",
        "/v1/trees",
        JSON,
        r#"{"children":[{"evilField":"zzz-secret"}]}"#,
    );
    assert_refused(
        &r,
        "/body/children/0/evilField",
        "additionalProperties",
        "zzz-secret",
    );
}

// === parameters ===

#[test]
fn query_rules() {
    let c = load("petstore/openapi.yaml", true);
    assert_refused(
        &check(&c, "GET", "/v1/pets?limit=777", &[], ""),
        "/query/limit",
        "maximum",
        "777",
    );
    assert_refused(
        &check(&c, "GET", "/v1/pets?limit=0", &[], ""),
        "/query/limit",
        "minimum",
        "limit=0",
    );
    assert_refused(
        &check(&c, "GET", "/v1/pets?limit=abc123xyz", &[], ""),
        "/query/limit",
        "type",
        "abc123xyz",
    );
    assert_refused(
        &check(&c, "GET", "/v1/pets?status=weirdvalue", &[], ""),
        "/query/status",
        "enum",
        "weirdvalue",
    );
    assert_refused(
        &check(
            &c,
            "GET",
            "/v1/pets?tags=ok&tags=averyveryverylongtag",
            &[],
            "",
        ),
        "/query/tags/1",
        "maxLength",
        "averyveryverylongtag",
    );
    assert_refused(
        &check(&c, "GET", "/v1/pets?limit=1&limit=2", &[], ""),
        "/query/limit",
        "duplicate",
        "limit=",
    );
}

#[test]
fn header_cookie_and_path_rules() {
    let c = load("petstore/openapi.yaml", true);
    assert_refused(
        &check(
            &c,
            "GET",
            "/v1/pets",
            &[("x-trace-id", "not-a-uuid-zzz")],
            "",
        ),
        "/header/x-trace-id",
        "format",
        "not-a-uuid-zzz",
    );
    assert_refused(
        &check(&c, "GET", "/v1/pets", &[("cookie", "theme=neonpink")], ""),
        "/cookie/theme",
        "pattern",
        "neonpink",
    );
    assert_refused(
        &check(&c, "GET", "/v1/pets/0", &[], ""),
        "/path/petId",
        "minimum",
        "petId\":0",
    );
    assert_refused(
        &check(&c, "GET", "/v1/pets/abcxyz", &[], ""),
        "/path/petId",
        "type",
        "abcxyz",
    );
}

#[test]
fn unknown_query_parameters_depend_on_strict_mode() {
    let strict = load("petstore/openapi.yaml", true);
    assert_refused(
        &check(&strict, "GET", "/v1/pets?limit=5&debug=trueish", &[], ""),
        "/query/debug",
        "unknown",
        "trueish",
    );
    // A hostile parameter name is not echoed.
    let r = check(&strict, "GET", "/v1/pets?%3Cscript%3Ealert(1)=1", &[], "");
    assert_refused(&r, "/query/*", "unknown", "script");
    let lax = load("petstore/openapi.yaml", false);
    assert!(check(&lax, "GET", "/v1/pets?limit=5&debug=trueish", &[], "").is_ok());
}

// === bodies ===

#[test]
fn body_rules() {
    let c = load("petstore/openapi.yaml", true);
    let post = |body: &str| check(&c, "POST", "/v1/pets", JSON, body);
    assert_refused(&post(r#"{"name":""}"#), "/body/name", "minLength", "\"\"");
    assert_refused(
        &post(r#"{"name":"Zsecretname-is-way-too-long"}"#),
        "/body/name",
        "maxLength",
        "Zsecretname",
    );
    assert_refused(
        &post(r#"{"name":"a","email":"notanemail-secret"}"#),
        "/body/email",
        "format",
        "notanemail-secret",
    );
    assert_refused(
        &post(r#"{"name":"a","age":0}"#),
        "/body/age",
        "exclusiveMinimum",
        "\"age\":0",
    );
    assert_refused(
        &post(r#"{"name":"a","age":"5five"}"#),
        "/body/age",
        "type",
        "5five",
    );
    assert_refused(
        &post(r#"{"name":"a","kind":"hamster-secret"}"#),
        "/body/kind",
        "enum",
        "hamster-secret",
    );
    assert_refused(
        &post(r#"{"name":"a","owner":{"id":"bad-uuid-secret"}}"#),
        "/body/owner/id",
        "format",
        "bad-uuid-secret",
    );
    assert_refused(
        &post(r#"{"email":"x-secret@example.com"}"#),
        "/body/name",
        "required",
        "x-secret",
    );
    assert_refused(
        &post(r#"{"name":"a","tag":42424242}"#),
        "/body/tag",
        "type",
        "42424242",
    );
    assert_refused(&post(""), "/body", "required", "xyzzy");
    assert_refused(
        &post(r#"{"name": "syntax-secret""#),
        "/body",
        "syntax",
        "syntax-secret",
    );
}

#[test]
fn unknown_body_fields_depend_on_strict_mode() {
    let strict = load("petstore/openapi.yaml", true);
    let lax = load("petstore/openapi.yaml", false);
    for (path, body, pointer) in [
        (
            "/v1/pets",
            r#"{"name":"Rex","isAdmin":"yes-secret"}"#,
            "/body/isAdmin",
        ),
        (
            "/v1/pets",
            r#"{"name":"Rex","owner":{"role":"yes-secret"}}"#,
            "/body/owner/role",
        ),
        (
            "/v1/dogs",
            r#"{"name":"Rex","bark":true,"isAdmin":"yes-secret"}"#,
            "/body/isAdmin",
        ),
    ] {
        assert_refused(
            &check(&strict, "POST", path, JSON, body),
            pointer,
            "additionalProperties",
            "yes-secret",
        );
        assert!(
            check(&lax, "POST", path, JSON, body).is_ok(),
            "{path} {body}"
        );
    }
}

#[test]
fn undeclared_bodies_are_refused_in_strict_mode() {
    let strict = load("petstore/openapi.yaml", true);
    assert_refused(
        &check(&strict, "DELETE", "/v1/pets/4", JSON, r#"{"a":"zz"}"#),
        "/body",
        "unexpected",
        "zz",
    );
    let lax = load("petstore/openapi.yaml", false);
    assert!(check(&lax, "DELETE", "/v1/pets/4", JSON, r#"{"a":"zz"}"#).is_ok());
}

#[test]
fn wrong_content_type_is_415() {
    let c = load("petstore/openapi.yaml", true);
    let r = check(
        &c,
        "POST",
        "/v1/pets",
        &[("content-type", "text/plain")],
        "name=Rex",
    );
    assert!(
        matches!(r, Err(Rejection::UnsupportedMediaType(_))),
        "{r:?}"
    );
    assert_refused(&r, "/header/content-type", "contentType", "text/plain");
    let r = check(&c, "POST", "/v1/pets", &[], r#"{"name":"Rex"}"#);
    assert!(
        matches!(r, Err(Rejection::UnsupportedMediaType(_))),
        "{r:?}"
    );
}

#[test]
fn form_bodies_are_coerced_and_validated() {
    let c = load("petstore/openapi.yaml", true);
    let form = &[("content-type", "application/x-www-form-urlencoded")];
    assert_refused(
        &check(
            &c,
            "POST",
            "/v1/login",
            form,
            "username=bobbobbobbob-secret",
        ),
        "/body/username",
        "maxLength",
        "bobbob",
    );
    assert_refused(
        &check(
            &c,
            "POST",
            "/v1/login",
            form,
            "username=bob&remember=maybe-zz",
        ),
        "/body/remember",
        "type",
        "maybe-zz",
    );
    assert_refused(
        &check(&c, "POST", "/v1/login", form, "username=bob&admin=1-zz"),
        "/body/admin",
        "additionalProperties",
        "1-zz",
    );
}

// === routing ===

#[test]
fn undeclared_method_is_405_with_allow() {
    let c = load("petstore/openapi.yaml", true);
    assert_eq!(
        check(&c, "PUT", "/v1/pets", &[], ""),
        Err(Rejection::MethodNotAllowed {
            allow: "GET, HEAD, POST".into()
        })
    );
    assert_eq!(
        check(&c, "POST", "/v1/pets/3", &[], ""),
        Err(Rejection::MethodNotAllowed {
            allow: "GET, HEAD, DELETE".into()
        })
    );
}

#[test]
fn unknown_paths_are_not_in_contract() {
    let c = load("petstore/openapi.yaml", true);
    assert_eq!(
        check(&c, "GET", "/v1/cats", &[], ""),
        Err(Rejection::NotInContract)
    );
    assert_eq!(
        check(&c, "GET", "/pets", &[], ""),
        Err(Rejection::NotInContract)
    );
    assert_eq!(
        check(&c, "GET", "/v10/pets", &[], ""),
        Err(Rejection::NotInContract)
    );
}

// === OpenAPI 3.1 ===

#[test]
fn openapi_31_type_arrays_and_formats() {
    let c = load("v31.yaml", true);
    let uri = format!("/items/{UUID}");
    let ok = r#"{"title":"t","price":1.5,"note":null,"site":"https://x.example/a","ip":"10.0.0.1","created":"2024-01-01T00:00:00Z","host":"example.com"}"#;
    assert_eq!(check(&c, "PUT", &uri, JSON, ok).unwrap(), "putItem");
    assert!(
        check(
            &c,
            "PUT",
            &uri,
            &[("content-type", "application/merge-patch+json")],
            ok
        )
        .is_ok()
    );
    let put = |body: &str| check(&c, "PUT", &uri, JSON, body);
    assert_refused(
        &put(r#"{"title":"t","price":0}"#),
        "/body/price",
        "exclusiveMinimum",
        "\"price\":0",
    );
    assert_refused(
        &put(r#"{"title":"t","price":1,"note":31415}"#),
        "/body/note",
        "type",
        "31415",
    );
    assert_refused(
        &put(r#"{"title":"t","price":1,"ip":"999.1.1.1"}"#),
        "/body/ip",
        "format",
        "999.1.1.1",
    );
    assert_refused(
        &put(r#"{"title":"t","price":1,"created":"yesterday-zz"}"#),
        "/body/created",
        "format",
        "yesterday-zz",
    );
    assert_refused(
        &put(r#"{"title":"t","price":1,"host":"bad_host!!zz"}"#),
        "/body/host",
        "format",
        "bad_host",
    );
    assert_refused(
        &put(r#"{"title":"t","price":1,"extra":"zz-secret"}"#),
        "/body/extra",
        "additionalProperties",
        "zz-secret",
    );
    assert_refused(
        &check(&c, "PUT", "/items/not-a-uuid-qq", JSON, ok),
        "/path/id",
        "format",
        "not-a-uuid-qq",
    );
}

#[test]
fn violations_are_capped() {
    let c = load("petstore/openapi.yaml", true);
    let mut q = String::from("/v1/pets?");
    for i in 0..60 {
        q.push_str(&format!("u{i}=1&"));
    }
    let v = violations(&check(&c, "GET", &q, &[], ""));
    assert_eq!(v.len(), portcullis_contract::MAX_VIOLATIONS);
}

// === constrained locations ===

#[test]
fn constrained_locations_name_non_free_text_inputs() {
    let c = load("petstore/openapi.yaml", true);
    let op = |name: &str| {
        c.operations()
            .iter()
            .position(|o| o.operation_id() == Some(name))
            .map(portcullis_contract::OperationId)
            .unwrap()
    };
    let list = c.constrained_locations(op("listPets"));
    assert!(list("query:limit"));
    assert!(list("query:status"));
    assert!(list("header:x-trace-id"));
    assert!(list("cookie:theme"));
    assert!(!list("query:q"));
    assert!(!list("query:tags"));
    assert!(c.constrained_locations(op("getPet"))("path:petId"));
    let create = c.constrained_locations(op("createPet"));
    assert!(create("body:/age"));
    assert!(create("body:/kind"));
    assert!(create("body:/owner/id"));
    assert!(!create("body:/name"));
    assert!(!create("body:/owner/nick"));
    let tree = c.constrained_locations(op("plantTree"));
    assert!(!tree("body:/value"));
}

#[test]
fn documented_example_in_docs_openapi_md() {
    let c = load("petstore/openapi.yaml", true);
    let v = violations(&check(
        &c,
        "POST",
        "/v1/pets",
        JSON,
        r#"{"name":"","email":"x","isAdmin":true}"#,
    ));
    let got: Vec<(&str, &str)> = v
        .iter()
        .map(|x| (x.pointer.as_str(), x.rule.as_str()))
        .collect();
    for want in [
        ("/body/name", "minLength"),
        ("/body/email", "format"),
        ("/body/isAdmin", "additionalProperties"),
    ] {
        assert!(got.contains(&want), "{got:?}");
    }
    assert_eq!(v.len(), 3);
}

#[test]
fn read_only_members_are_refused_in_strict_mode_and_never_required() {
    let strict = load("petstore/openapi.yaml", true);
    // `id` is required and readOnly: not required in a request...
    assert!(check(&strict, "POST", "/v1/pets", JSON, r#"{"name":"Rex"}"#).is_ok());
    // ...and refused when sent (mass assignment of a server-owned field).
    assert_refused(
        &check(
            &strict,
            "POST",
            "/v1/pets",
            JSON,
            r#"{"name":"Rex","id":987654}"#,
        ),
        "/body/id",
        "readOnly",
        "987654",
    );
    let lax = load("petstore/openapi.yaml", false);
    assert!(check(&lax, "POST", "/v1/pets", JSON, r#"{"name":"Rex"}"#).is_ok());
    assert!(
        check(
            &lax,
            "POST",
            "/v1/pets",
            JSON,
            r#"{"name":"Rex","id":987654}"#
        )
        .is_ok()
    );
}
