//! Compiles the default firewall and checks a few requests end to end.

use portcullis_firewall::{Firewall, FirewallSpec};

#[test]
fn default_spec_compiles_and_flags_a_classic() {
    let fw = Firewall::new(&FirewallSpec::default()).unwrap();
    let parts = http::Request::builder()
        .uri("/items?id=1%27%20OR%20%271%27%3D%271")
        .body(())
        .unwrap()
        .into_parts()
        .0;
    let v = fw.inspect(&parts, b"");
    assert!(v.blocked, "{v:?}");
    let parts = http::Request::builder()
        .uri("/items?name=O%27Brien")
        .body(())
        .unwrap()
        .into_parts()
        .0;
    let v = fw.inspect(&parts, b"");
    assert!(!v.blocked, "{v:?}");
}
