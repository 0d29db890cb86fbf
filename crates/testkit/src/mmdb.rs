//! A minimal MaxMind DB writer for tests: a country database with a few networks, in the
//! binary format the `maxminddb` crate reads (IPv6 tree, 24-bit records, IPv4 networks under
//! `::/96`). Real GeoLite2 files cannot be shipped or downloaded in tests; this builds one.

use std::net::IpAddr;

#[derive(Clone, Copy)]
enum Rec {
    Empty,
    Node(usize),
    Data(usize),
}

fn ctrl(out: &mut Vec<u8>, ty: u8, size: usize) {
    assert!(size < 29, "small values only");
    if ty <= 7 {
        out.push((ty << 5) | size as u8);
    } else {
        out.push(size as u8);
        out.push(ty - 7);
    }
}

fn string(out: &mut Vec<u8>, s: &str) {
    ctrl(out, 2, s.len());
    out.extend_from_slice(s.as_bytes());
}

fn uint(out: &mut Vec<u8>, ty: u8, v: u64) {
    let bytes = v.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    ctrl(out, ty, 8 - skip);
    out.extend_from_slice(&bytes[skip..]);
}

/// Builds a country database: each `(network, ISO code)` maps the network to
/// `{"country": {"iso_code": code}}`. Networks must not overlap.
pub fn country_db(entries: &[(ipnet::IpNet, &str)]) -> Vec<u8> {
    let mut data = Vec::new();
    let mut offsets = std::collections::HashMap::new();
    for (_, code) in entries {
        offsets.entry(code.to_string()).or_insert_with(|| {
            let off = data.len();
            ctrl(&mut data, 7, 1);
            string(&mut data, "country");
            ctrl(&mut data, 7, 1);
            string(&mut data, "iso_code");
            string(&mut data, code);
            off
        });
    }
    let mut nodes: Vec<[Rec; 2]> = vec![[Rec::Empty, Rec::Empty]];
    for (net, code) in entries {
        let (bits, len): (u128, usize) = match net {
            ipnet::IpNet::V4(n) => (
                u128::from(u32::from(n.network())),
                96 + n.prefix_len() as usize,
            ),
            ipnet::IpNet::V6(n) => (u128::from(n.network()), n.prefix_len() as usize),
        };
        assert!(len > 0);
        let bit = |i: usize| ((bits >> (127 - i)) & 1) as usize;
        let mut node = 0;
        for i in 0..len - 1 {
            let b = bit(i);
            node = match nodes[node][b] {
                Rec::Node(n) => n,
                Rec::Empty => {
                    nodes.push([Rec::Empty, Rec::Empty]);
                    let n = nodes.len() - 1;
                    nodes[node][b] = Rec::Node(n);
                    n
                }
                Rec::Data(_) => panic!("overlapping networks"),
            };
        }
        nodes[node][bit(len - 1)] = Rec::Data(offsets[*code]);
    }
    let count = nodes.len();
    let value = |r: Rec| match r {
        Rec::Empty => count,
        Rec::Node(n) => n,
        Rec::Data(off) => count + 16 + off,
    };
    let mut out = Vec::new();
    for [l, r] in nodes {
        for v in [value(l), value(r)] {
            let v = u32::try_from(v).expect("24-bit record");
            out.extend_from_slice(&v.to_be_bytes()[1..]);
        }
    }
    out.extend_from_slice(&[0u8; 16]);
    out.extend_from_slice(&data);
    out.extend_from_slice(b"\xAB\xCD\xEFMaxMind.com");
    let mut meta = Vec::new();
    ctrl(&mut meta, 7, 9);
    string(&mut meta, "binary_format_major_version");
    uint(&mut meta, 5, 2);
    string(&mut meta, "binary_format_minor_version");
    uint(&mut meta, 5, 0);
    string(&mut meta, "build_epoch");
    uint(&mut meta, 9, 1_700_000_000);
    string(&mut meta, "database_type");
    string(&mut meta, "Portcullis-Test-Country");
    string(&mut meta, "description");
    ctrl(&mut meta, 7, 1);
    string(&mut meta, "en");
    string(&mut meta, "test database");
    string(&mut meta, "ip_version");
    uint(&mut meta, 5, 6);
    string(&mut meta, "languages");
    ctrl(&mut meta, 11, 1);
    string(&mut meta, "en");
    string(&mut meta, "node_count");
    uint(&mut meta, 6, count as u64);
    string(&mut meta, "record_size");
    uint(&mut meta, 5, 24);
    out.extend_from_slice(&meta);
    out
}

/// The ISO code the database maps `ip` to, read back with `maxminddb` (for self-tests).
pub fn lookup(db: &[u8], ip: IpAddr) -> Option<String> {
    let reader = maxminddb::Reader::from_source(db).ok()?;
    reader
        .lookup(ip)
        .ok()?
        .decode_path::<String>(&[
            maxminddb::PathElement::Key("country"),
            maxminddb::PathElement::Key("iso_code"),
        ])
        .ok()?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_databases_read_back() {
        let db = country_db(&[
            ("203.0.113.0/24".parse().unwrap(), "KP"),
            ("198.51.100.0/25".parse().unwrap(), "DE"),
            ("2001:db8::/32".parse().unwrap(), "FR"),
        ]);
        assert_eq!(
            lookup(&db, "203.0.113.9".parse().unwrap()).as_deref(),
            Some("KP")
        );
        assert_eq!(
            lookup(&db, "198.51.100.1".parse().unwrap()).as_deref(),
            Some("DE")
        );
        assert_eq!(lookup(&db, "198.51.100.200".parse().unwrap()), None);
        assert_eq!(
            lookup(&db, "2001:db8::1".parse().unwrap()).as_deref(),
            Some("FR")
        );
        assert_eq!(lookup(&db, "192.0.2.1".parse().unwrap()), None);
    }
}
