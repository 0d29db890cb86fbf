//! Inspection never panics, whatever the bytes, and stays within its limits.

mod common;

use portcullis_firewall::{Firewall, FirewallSpec, LimitsSpec};
use proptest::prelude::*;

fn fw() -> &'static Firewall {
    static FW: std::sync::OnceLock<Firewall> = std::sync::OnceLock::new();
    FW.get_or_init(|| {
        let spec = FirewallSpec {
            limits: LimitsSpec {
                max_values: 64,
                max_value_bytes: 512,
                max_body_bytes: 4096,
                max_depth: 8,
                max_base64_bytes: 256,
            },
            ..FirewallSpec::default()
        };
        Firewall::new(&spec).unwrap()
    })
}

const TYPES: &[&str] = &[
    "application/json",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=b",
    "application/xml",
    "text/plain",
    "",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bodies_never_panic(body in proptest::collection::vec(any::<u8>(), 0..2048), ct in 0usize..6) {
        let mut b = http::Request::builder().method("POST").uri("/x?a=1");
        if let Some(t) = TYPES.get(ct).filter(|t| !t.is_empty()) {
            b = b.header("content-type", *t);
        }
        let parts = b.body(()).unwrap().into_parts().0;
        let v = fw().inspect(&parts, &body);
        prop_assert!(v.inspected <= 64);
        prop_assert!(v.matches.iter().all(|m| m.excerpt.chars().count() <= 42));
    }

    #[test]
    fn arbitrary_text_in_every_placement_never_panics(s in "\\PC{0,300}", p in 0usize..9) {
        let placements = ["query", "path", "header", "cookie", "json", "form", "xml", "multipart", "query_pre"];
        let (parts, body) = common::build(placements[p], &s, Some("f"));
        let _ = fw().inspect(&parts, &body);
    }

    #[test]
    fn structured_junk_never_panics(s in "[<>{}\\[\\]\"':=&;%$#!/\\\\a-z0-9 ]{0,400}", ct in 0usize..6) {
        let mut b = http::Request::builder().method("POST").uri("/x");
        if let Some(t) = TYPES.get(ct).filter(|t| !t.is_empty()) {
            b = b.header("content-type", *t);
        }
        let parts = b.body(()).unwrap().into_parts().0;
        let _ = fw().inspect(&parts, s.as_bytes());
    }
}

#[test]
fn deep_and_wide_bodies_are_bounded() {
    let deep = format!("{}\"x\"{}", "[".repeat(10_000), "]".repeat(10_000));
    let parts = http::Request::builder()
        .method("POST")
        .uri("/x")
        .header("content-type", "application/json")
        .body(())
        .unwrap()
        .into_parts()
        .0;
    let v = fw().inspect(&parts, deep.as_bytes());
    assert!(v.truncated);
    let wide: String = (0..10_000).map(|i| format!("k{i}=v&")).collect();
    let parts = http::Request::builder()
        .method("POST")
        .uri("/x")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(())
        .unwrap()
        .into_parts()
        .0;
    let v = fw().inspect(&parts, wide.as_bytes());
    assert!(v.inspected <= 64 && v.skipped > 0);
}
