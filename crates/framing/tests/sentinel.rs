//! The sentinel over real in-memory streams: what hyper would read for each input.
#![allow(missing_docs)]

use http::HeaderMap;
use portcullis_framing::{
    FramingHandle, FramingLimits, HeadCheck, Sentinel, Violation, check_head,
};
use proptest::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const LIMITS: FramingLimits = FramingLimits {
    max_head_bytes: 4096,
    max_headers: 20,
};

/// Feeds `input` (in pieces of `step` bytes) and returns everything the sentinel yields.
async fn run(input: &[u8], step: usize) -> (Vec<u8>, FramingHandle) {
    run_with(input, step, LIMITS).await
}

/// [`run`] with other limits.
async fn run_with(input: &[u8], step: usize, limits: FramingLimits) -> (Vec<u8>, FramingHandle) {
    let (mut client, server) = tokio::io::duplex(64 * 1024);
    let (mut sentinel, handle) = Sentinel::new(server, limits);
    let data = input.to_vec();
    let writer = tokio::spawn(async move {
        for piece in data.chunks(step.max(1)) {
            client.write_all(piece).await.unwrap();
            tokio::task::yield_now().await;
        }
        client.shutdown().await.unwrap();
        client
    });
    // After a violation the sentinel never yields more bytes (nor end of stream): stop reading
    // once it has been quiet for a while.
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(
            std::time::Duration::from_millis(50),
            sentinel.read(&mut buf),
        )
        .await
        {
            Ok(Ok(0)) | Err(_) => break,
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Ok(Err(e)) => panic!("read error: {e}"),
        }
    }
    let _ = writer.await;
    (out, handle)
}

fn notice(out: &[u8], handle: &FramingHandle) -> Option<Violation> {
    let text = String::from_utf8_lossy(out);
    let start = text.find("GET /.portcullis/framing")?;
    let mut headers = HeaderMap::new();
    for line in text[start..].split("\r\n").skip(1) {
        if let Some((k, v)) = line.split_once(": ") {
            headers.insert(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
    }
    handle.violation(&headers)
}

#[tokio::test]
async fn valid_pipelines_pass_byte_for_byte_even_one_byte_at_a_time() {
    let input = b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello\
GET /b HTTP/1.1\r\nHost: x\r\n\r\n\
POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n0\r\nX-Trailer: t\r\n\r\n\
GET /d HTTP/1.0\r\n\r\n";
    for step in [1, 7, 1000] {
        let (out, handle) = run(input, step).await;
        assert_eq!(out, input.to_vec(), "step {step}");
        assert!(notice(&out, &handle).is_none());
    }
}

#[tokio::test]
async fn a_smuggled_second_request_is_cut_and_noticed() {
    let first = b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello".to_vec();
    let mut input = first.clone();
    input.extend_from_slice(b"POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    let (out, handle) = run(&input, 3).await;
    assert!(out.starts_with(&first));
    let v = notice(&out, &handle).expect("notice");
    assert_eq!(v.code, "cl_and_te");
    assert_eq!(v.status, 400);
    assert!(!String::from_utf8_lossy(&out).contains("POST /b"));
}

#[tokio::test]
async fn oversized_heads_get_431() {
    let input = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(5000)
    );
    let (out, handle) = run(input.as_bytes(), 512).await;
    let v = notice(&out, &handle).expect("notice");
    assert_eq!((v.code, v.status.as_u16()), ("head_too_large", 431));
}

/// Regression, found by the `h1_sentinel` fuzz target (`fuzz/artifacts/h1_sentinel/
/// crash-bf8166103652b3a4c4e157f2fd255ea160bbd7db`): the sentinel parsed heads with
/// `max_headers + 1` slots, so one field over the limit passed (and a bad name in it was
/// reported instead of the count, disagreeing with `check_head`).
#[tokio::test]
async fn one_field_over_max_headers_gets_431() {
    let head = |fields: usize| {
        let mut s = String::from("GET / HTTP/1.1\r\nHost: x\r\n");
        for i in 1..fields {
            s.push_str(&format!("X-{i}: v\r\n"));
        }
        s.push_str("\r\n");
        s
    };
    let at_limit = head(LIMITS.max_headers);
    let (out, handle) = run(at_limit.as_bytes(), 64).await;
    assert_eq!(out, at_limit.as_bytes());
    assert!(notice(&out, &handle).is_none());
    let over = head(LIMITS.max_headers + 1);
    let (out, handle) = run(over.as_bytes(), 64).await;
    let v = notice(&out, &handle).expect("notice");
    assert_eq!((v.code, v.status.as_u16()), ("too_many_headers", 431));
    // A bad field name after the limit: the count is what refuses it, as in `check_head`.
    let mut bad = head(LIMITS.max_headers + 1);
    bad.insert_str(bad.len() - 2, "Bad\u{7f}Name: v\r\n");
    let (out, handle) = run(bad.as_bytes(), 64).await;
    let v = notice(&out, &handle).expect("notice");
    assert_eq!((v.code, v.status.as_u16()), ("too_many_headers", 431));
    // The fuzzer's minimised input (the 9-byte driver prefix dropped), under its limits:
    // 17 fields, at most 16 allowed. `check_head` and the sentinel agree.
    let crash = b"T rin HTTP/1.1\r\ng:\r\no: \r\nH: a\r\n$: \r\ng:.1\r\nt: \r\nn:\r\nt:/1\r\nn:\r\nT-: \r\nHo: a\r\nC: \r\ng:1\r\nt: \r\nC:3h \r\ntnz$:/1\r\nn:3h\r\n\r\nac";
    let fuzz_limits = FramingLimits {
        max_head_bytes: 2048,
        max_headers: 16,
    };
    match check_head(crash, fuzz_limits.max_head_bytes, fuzz_limits.max_headers) {
        HeadCheck::Refused(v) => assert_eq!(v.code, "too_many_headers"),
        other => panic!("{other:?}"),
    }
    for step in [1, 3, 64] {
        let (out, handle) = run_with(crash, step, fuzz_limits).await;
        let v = notice(&out, &handle).expect("notice");
        assert_eq!(
            (v.code, v.status.as_u16()),
            ("too_many_headers", 431),
            "step {step}"
        );
    }
}

#[tokio::test]
async fn forged_notices_are_refused() {
    let (_, real) = run(b"", 1).await;
    let (out, handle) = run(
        b"GET /.portcullis/framing HTTP/1.1\r\nHost: x\r\nx-portcullis-framing: 00;13\r\n\r\n",
        5,
    )
    .await;
    // The client's own marker header is a violation; the forged token is not recognised by
    // any other connection's handle either.
    let v = notice(&out, &handle).expect("notice");
    assert_eq!(v.code, "reserved_header");
    let mut h = HeaderMap::new();
    h.insert("x-portcullis-framing", "00;13".parse().unwrap());
    assert!(real.violation(&h).is_none());
}

#[tokio::test]
async fn bad_chunks_end_the_stream_after_the_valid_part_with_poison() {
    let head = "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    let cases = [
        ("zz\r\nabc\r\n0\r\n\r\n", "", "invalid_chunk_size"),
        ("3\r\nabcXX0\r\n\r\n", "3\r\nabc", "missing_chunk_crlf"),
        ("3\nabc\r\n0\r\n\r\n", "", "invalid_chunk_size"),
        ("3;a=\x01\r\nabc\r\n0\r\n\r\n", "", "bad_chunk_extension"),
        ("0\r\nbad trailer\r\n\r\n", "0\r\n", "bad_trailer"),
        ("0\r\nT: 1\n\r\n", "0\r\n", "bad_trailer"),
    ];
    for (body, passed, code) in cases {
        let input = format!("{head}{body}GET /next HTTP/1.1\r\nHost: x\r\n\r\n");
        for step in [1, 64] {
            let (out, handle) = run(input.as_bytes(), step).await;
            // The head and the valid part pass, then hyper's chunk decoder gets `\r\0`
            // (an error in every state it can be in) and nothing after it.
            let expected = format!("{head}{passed}\r\0");
            assert_eq!(
                String::from_utf8_lossy(&out),
                expected,
                "{code} step {step}"
            );
            assert_eq!(handle.body_violation().map(|v| v.code), Some(code));
        }
    }
    let long = format!("{head}1;{}\r\na\r\n0\r\n\r\n", "e".repeat(2000));
    let (_, handle) = run(long.as_bytes(), 300).await;
    assert_eq!(
        handle.body_violation().map(|v| v.code),
        Some("chunk_line_too_long")
    );
}

#[tokio::test]
async fn partial_heads_at_end_of_stream_are_dropped() {
    let (out, handle) = run(
        b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhiGET /b HTT",
        3,
    )
    .await;
    assert_eq!(
        out,
        b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi".to_vec()
    );
    assert!(notice(&out, &handle).is_none());
}

#[tokio::test]
async fn the_observer_counts_violations() {
    let (client, server) = tokio::io::duplex(1024);
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    let (sentinel, _) = Sentinel::new(server, LIMITS);
    let mut sentinel = sentinel.on_violation(std::sync::Arc::new(move |v: Violation| {
        log.lock().unwrap().push(v.code)
    }));
    let mut client = client;
    client
        .write_all(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 512];
    let n = sentinel.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"GET /.portcullis/framing"));
    assert_eq!(*seen.lock().unwrap(), vec!["duplicate_host"]);
    assert_eq!(Violation::all().count(), 28);
}

#[tokio::test]
async fn http2_preface_goes_transparent() {
    let mut input = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    input.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 0, 0, b'\n', b'\n']);
    let (out, _) = run(&input, 5).await;
    assert_eq!(out, input);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_bytes_never_panic(input in proptest::collection::vec(any::<u8>(), 0..2048), step in 1usize..64) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let _ = run(&input, step).await;
        });
    }

    #[test]
    fn generated_valid_requests_pass_unchanged(
        path in "/[a-z0-9/]{0,30}",
        names in proptest::collection::vec("x-[a-z]{1,10}", 0..8),
        body in proptest::collection::vec(any::<u8>(), 0..300),
        chunked in any::<bool>(),
        step in 1usize..50,
    ) {
        let mut req = format!("POST {path} HTTP/1.1\r\nHost: example\r\n");
        for n in &names { req.push_str(&format!("{n}: v\r\n")); }
        let mut bytes;
        if chunked {
            req.push_str("Transfer-Encoding: chunked\r\n\r\n");
            bytes = req.into_bytes();
            for c in body.chunks(97) {
                bytes.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
                bytes.extend_from_slice(c);
                bytes.extend_from_slice(b"\r\n");
            }
            bytes.extend_from_slice(b"0\r\n\r\n");
        } else {
            req.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
            bytes = req.into_bytes();
            bytes.extend_from_slice(&body);
        }
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (out, handle) = rt.block_on(run(&bytes, step));
        prop_assert_eq!(&out, &bytes);
        prop_assert!(notice(&out, &handle).is_none());
    }
}
