//! End to end: request smuggling and malformed HTTP/1 framing. Each probe must get 400 (or
//! 431), the connection must close, and the upstream must see nothing. Each has a benign twin.

mod common;

use std::time::Duration;

use common::*;
use portcullis_testkit::RecordingUpstream;
use portcullis_testkit::raw::{send, send_tls, statuses};

fn cfg(url: &str) -> String {
    config(&format!(
        r#"
upstreams:
  - id: app
    targets: ["{url}"]
routes:
  - id: app
    path: /
    methods: [GET, POST]
    upstream: app
    public: true
"#
    ))
}

const PROBES: &[(&str, &str)] = &[
    (
        "cl_and_te",
        "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    ),
    (
        "te_and_cl",
        "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n",
    ),
    (
        "duplicate_cl",
        "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
    ),
    (
        "cl_list",
        "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 3\r\n\r\nabc",
    ),
    (
        "cl_non_numeric",
        "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3a\r\n\r\nabc",
    ),
    (
        "cl_signed",
        "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\nabc",
    ),
    (
        "te_gzip_chunked",
        "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
    ),
    (
        "te_identity",
        "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n",
    ),
    (
        "te_obfuscated",
        "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
    ),
    ("two_hosts", "GET /a HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n"),
    ("no_host", "GET /a HTTP/1.1\r\n\r\n"),
    ("bare_lf", "GET /a HTTP/1.1\nHost: x\n\n"),
    (
        "obs_fold",
        "GET /a HTTP/1.1\r\nHost: x\r\nX-A: b\r\n c\r\n\r\n",
    ),
    ("space_before_colon", "GET /a HTTP/1.1\r\nHost : x\r\n\r\n"),
    (
        "nul_in_value",
        "GET /a HTTP/1.1\r\nHost: x\r\nX-A: b\0c\r\n\r\n",
    ),
    (
        "cr_in_value",
        "GET /a HTTP/1.1\r\nHost: x\r\nX-A: b\rc\r\n\r\n",
    ),
    (
        "absolute_form_host_mismatch",
        "GET http://evil.example/a HTTP/1.1\r\nHost: x\r\n\r\n",
    ),
    (
        "invalid_chunk_size",
        "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
    ),
    (
        "chunk_size_overflow",
        "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nabc\r\n0\r\n\r\n",
    ),
];

#[tokio::test]
async fn smuggling_and_malformed_framing_get_400_close_and_forward_nothing() {
    let up = RecordingUpstream::start().await;
    let gw = start(&cfg(&up.url()));
    for (name, probe) in PROBES {
        let (raw, closed) = send(gw.addr("plain"), probe.as_bytes(), Duration::from_secs(3)).await;
        let st = statuses(&raw);
        assert_eq!(
            st.len(),
            1,
            "{name}: expected one response, got {st:?}: {}",
            String::from_utf8_lossy(&raw)
        );
        assert_eq!(st[0], 400, "{name}: {}", String::from_utf8_lossy(&raw));
        assert!(closed, "{name}: connection must be closed");
        let text = String::from_utf8_lossy(&raw).to_ascii_lowercase();
        assert!(
            text.contains("application/problem+json"),
            "{name}: problem body"
        );
    }
    up.assert_nothing_forwarded().await;
}

#[tokio::test]
async fn smuggling_probe_over_tls_is_refused_too() {
    let up = RecordingUpstream::start().await;
    let gw = start(&cfg(&up.url()));
    let tls = portcullis_testkit::tls::client_config(&gw.dev_cert_pem(), &[b"http/1.1"], None);
    let (raw, closed) = send_tls(
        gw.addr("https"),
        tls,
        PROBES[0].1.as_bytes(),
        Duration::from_secs(3),
    )
    .await;
    assert_eq!(statuses(&raw), vec![400]);
    assert!(closed);
    up.assert_nothing_forwarded().await;
}

#[tokio::test]
async fn smuggled_second_request_is_refused_after_a_valid_first() {
    let up = RecordingUpstream::start().await;
    let gw = start(&cfg(&up.url()));
    let attack = "POST /first HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello\
                  POST /second HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
    let (raw, closed) = send(gw.addr("plain"), attack.as_bytes(), Duration::from_secs(3)).await;
    assert_eq!(statuses(&raw), vec![200, 400]);
    assert!(closed);
    let seen = up.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].uri, "/first");
    assert_eq!(&seen[0].body[..], b"hello");
}

#[tokio::test]
async fn benign_twins_pass_intact() {
    let up = RecordingUpstream::start().await;
    let gw = start(&cfg(&up.url()));
    let twins = [
        "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
        "POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        "GET http://x/c HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /d HTTP/1.0\r\n\r\n",
    ];
    for t in twins {
        let (raw, _) = send(gw.addr("plain"), t.as_bytes(), Duration::from_millis(800)).await;
        assert_eq!(
            statuses(&raw).first(),
            Some(&200),
            "{t:?}: {}",
            String::from_utf8_lossy(&raw)
        );
    }
    let seen = up.requests();
    assert_eq!(seen.len(), 4);
    assert_eq!(&seen[0].body[..], b"abc");
    assert_eq!(&seen[1].body[..], b"abcde");
    // Pipelined valid requests keep their order and bodies.
    let pipelined = "POST /p1 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi\
                     GET /p2 HTTP/1.1\r\nHost: x\r\n\r\n";
    let (raw, _) = send(
        gw.addr("plain"),
        pipelined.as_bytes(),
        Duration::from_millis(800),
    )
    .await;
    assert_eq!(statuses(&raw), vec![200, 200]);
}

#[tokio::test]
async fn slow_headers_are_cut_off() {
    let up = RecordingUpstream::start().await;
    let gw = start(&(cfg(&up.url()) + "limits:\n  header_read_timeout: 1s\n"));
    // Slowloris: a head that never ends.
    let started = std::time::Instant::now();
    let (_, closed) = send(
        gw.addr("plain"),
        b"GET / HTTP/1.1\r\nHost: x\r\nX-A: ",
        Duration::from_secs(5),
    )
    .await;
    assert!(closed, "connection must be closed");
    assert!(started.elapsed() < Duration::from_secs(4));
    up.assert_nothing_forwarded().await;
}

#[tokio::test]
async fn slow_bodies_get_408() {
    let up = RecordingUpstream::start().await;
    let gw = start(&(cfg(&up.url()) + "limits:\n  body_read_timeout: 1s\n"));
    let (raw, closed) = send(
        gw.addr("plain"),
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly-a-little",
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(statuses(&raw), vec![408]);
    assert!(closed);
    up.assert_nothing_forwarded().await;
}
