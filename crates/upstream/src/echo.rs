//! The built-in echo service: shows what an upstream behind portcullis receives.
//!
//! Answers 200 with `{"method", "path", "query", "headers", "body_sha256", "body_bytes"}`.
//! For tests and demos, three request headers shape the answer: `x-echo-status: NNN` sets the
//! status, `x-echo-header: name: value` adds a response header, `x-echo-body: text` replaces
//! the body (to show how the gateway treats an upstream's error page or fingerprint headers).

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use serde_json::{Map, Value};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The echo answer for a request.
pub fn echo_response(req: &Request<Bytes>) -> Response<Bytes> {
    let mut headers = Map::new();
    for name in req.headers().keys() {
        let values: Vec<Value> = req
            .headers()
            .get_all(name)
            .iter()
            .map(|v| Value::String(String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        let value = match <[Value; 1]>::try_from(values) {
            Ok([one]) => one,
            Err(many) => Value::Array(many),
        };
        headers.insert(name.as_str().to_string(), value);
    }
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, req.body());
    let body = serde_json::json!({
        "method": req.method().as_str(),
        "path": req.uri().path(),
        "query": req.uri().query(),
        "headers": headers,
        "body_sha256": hex(digest.as_ref()),
        "body_bytes": req.body().len(),
    });
    let status = req
        .headers()
        .get("x-echo-status")
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.parse::<u16>().ok())
        .filter(|n| (200..=599).contains(n))
        .and_then(|n| StatusCode::from_u16(n).ok())
        .unwrap_or(StatusCode::OK);
    let custom_body = req
        .headers()
        .get("x-echo-body")
        .map(|v| Bytes::copy_from_slice(v.as_bytes()));
    let mut resp = Response::new(
        custom_body
            .clone()
            .unwrap_or_else(|| Bytes::from(body.to_string())),
    );
    *resp.status_mut() = status;
    let content_type = if custom_body.is_some() {
        "text/plain"
    } else {
        "application/json"
    };
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    );
    for extra in req.headers().get_all("x-echo-header") {
        let Ok(text) = extra.to_str() else { continue };
        let Some((name, value)) = text.split_once(':') else {
            continue;
        };
        // Framing headers would contradict the real body.
        if ["content-length", "transfer-encoding", "connection"]
            .contains(&name.trim().to_ascii_lowercase().as_str())
        {
            continue;
        }
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.trim().as_bytes()),
            HeaderValue::from_str(value.trim()),
        ) {
            resp.headers_mut().append(n, v);
        }
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoes_request_and_body_hash() {
        let req = Request::post("/a/b?x=1")
            .header("x-one", "1")
            .header("x-two", "a")
            .header("x-two", "b")
            .body(Bytes::from_static(b"abc"))
            .unwrap();
        let resp = echo_response(&req);
        assert_eq!(resp.status(), 200);
        let v: Value = serde_json::from_slice(resp.body()).unwrap();
        assert_eq!(v["method"], "POST");
        assert_eq!(v["path"], "/a/b");
        assert_eq!(v["query"], "x=1");
        assert_eq!(v["headers"]["x-one"], "1");
        assert_eq!(v["headers"]["x-two"], serde_json::json!(["a", "b"]));
        assert_eq!(
            v["body_sha256"],
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(v["body_bytes"], 3);
    }

    #[test]
    fn test_headers_shape_the_answer() {
        let req = Request::get("/")
            .header("x-echo-status", "500")
            .header("x-echo-header", "server: Apache/2.4")
            .header("x-echo-body", "Traceback")
            .body(Bytes::new())
            .unwrap();
        let resp = echo_response(&req);
        assert_eq!(resp.status(), 500);
        assert_eq!(resp.headers()["server"], "Apache/2.4");
        assert_eq!(resp.body(), "Traceback");
    }
}
