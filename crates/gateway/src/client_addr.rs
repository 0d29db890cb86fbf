//! Client address resolution and the forwarding headers the gateway sets itself.
//!
//! `X-Forwarded-For` and `Forwarded` are believed only when the TCP peer is a configured
//! trusted proxy; the chain is then walked from the right, skipping trusted hops, and the first
//! untrusted address is the client. From any other peer those headers are attacker input: they
//! are ignored for decisions and stripped before forwarding, and the gateway writes its own.

use std::net::IpAddr;

use http::header::{FORWARDED, HOST, HeaderMap, HeaderName, HeaderValue};
use portcullis_config::{Cidr, cidr::canonical};

static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
static X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
static X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
static X_FORWARDED_PORT: HeaderName = HeaderName::from_static("x-forwarded-port");
static X_REAL_IP: HeaderName = HeaderName::from_static("x-real-ip");

/// Caps the hops examined, so a huge header costs bounded work.
const MAX_HOPS: usize = 32;

/// Which peers' forwarding headers are believed.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies {
    nets: Vec<Cidr>,
}

impl TrustedProxies {
    /// From the configured CIDRs.
    pub fn new(nets: Vec<Cidr>) -> Self {
        Self { nets }
    }

    /// Whether `ip` is a trusted proxy.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.nets.iter().any(|n| n.contains(ip))
    }

    /// The client address for a request from `peer` with these headers.
    pub fn resolve(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.contains(peer) {
            return peer;
        }
        let hops = forwarded_for_hops(headers);
        let mut client = peer;
        for hop in hops.iter().rev() {
            match hop {
                Some(ip) => {
                    client = *ip;
                    if !self.contains(*ip) {
                        return *ip;
                    }
                }
                // An unparsable hop ends the walk: nothing to its left can be trusted.
                None => return client,
            }
        }
        client
    }
}

/// The hops of `X-Forwarded-For` (all header lines, in order) or, when absent, the `for=`
/// parameters of `Forwarded`. `None` marks an unparsable or obfuscated hop.
fn forwarded_for_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let mut hops = Vec::new();
    for value in headers.get_all(&X_FORWARDED_FOR) {
        let Ok(text) = value.to_str() else {
            hops.push(None);
            continue;
        };
        for part in text.split(',') {
            if hops.len() >= MAX_HOPS {
                break;
            }
            hops.push(parse_addr(part.trim()));
        }
    }
    if !hops.is_empty() {
        return hops;
    }
    for value in headers.get_all(FORWARDED) {
        let Ok(text) = value.to_str() else {
            hops.push(None);
            continue;
        };
        for element in text.split(',') {
            if hops.len() >= MAX_HOPS {
                break;
            }
            let node = element.split(';').find_map(|pair| {
                let (k, v) = pair.split_once('=')?;
                k.trim().eq_ignore_ascii_case("for").then(|| v.trim())
            });
            if let Some(node) = node {
                hops.push(parse_addr(node.trim_matches('"')));
            }
        }
    }
    hops
}

/// Parses `1.2.3.4`, `1.2.3.4:80`, `::1`, `[::1]`, `[::1]:80`.
fn parse_addr(s: &str) -> Option<IpAddr> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Some(rest) = s.strip_prefix('[') {
        let (inner, _) = rest.split_once(']')?;
        return inner.parse::<IpAddr>().ok().map(canonical);
    }
    let (host, port) = s.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

/// Replaces every client-supplied forwarding header with the gateway's own.
pub fn set_forwarding_headers(
    headers: &mut HeaderMap,
    peer: IpAddr,
    peer_trusted: bool,
    https: bool,
    authority: Option<&str>,
) {
    let prior_chain = if peer_trusted {
        let joined: Vec<&str> = headers
            .get_all(&X_FORWARDED_FOR)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        (!joined.is_empty()).then(|| joined.join(", "))
    } else {
        None
    };
    // HTTP/2 requests carry the host in `:authority`, not in a Host header.
    let host = headers
        .get(HOST)
        .cloned()
        .or_else(|| authority.and_then(|a| HeaderValue::from_str(a).ok()));
    for name in [
        &X_FORWARDED_FOR,
        &X_FORWARDED_PROTO,
        &X_FORWARDED_HOST,
        &X_FORWARDED_PORT,
        &X_REAL_IP,
    ] {
        headers.remove(name);
    }
    headers.remove(FORWARDED);
    let peer = canonical(peer).to_string();
    let xff = match prior_chain {
        Some(chain) => format!("{chain}, {peer}"),
        None => peer,
    };
    if let Ok(v) = HeaderValue::from_str(&xff) {
        headers.insert(X_FORWARDED_FOR.clone(), v);
    }
    headers.insert(
        X_FORWARDED_PROTO.clone(),
        HeaderValue::from_static(if https { "https" } else { "http" }),
    );
    if let Some(host) = host {
        headers.insert(X_FORWARDED_HOST.clone(), host);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    fn proxies() -> TrustedProxies {
        TrustedProxies::new(vec!["10.0.0.0/8".parse().unwrap()])
    }

    #[test]
    fn untrusted_peers_cannot_spoof() {
        let h = headers(&[("x-forwarded-for", "1.2.3.4")]);
        let ip = proxies().resolve("203.0.113.9".parse().unwrap(), &h);
        assert_eq!(ip, "203.0.113.9".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn trusted_chain_is_walked_from_the_right() {
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 198.51.100.1, 10.0.0.2")]);
        let ip = proxies().resolve("10.0.0.1".parse().unwrap(), &h);
        assert_eq!(ip, "198.51.100.1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn forwarded_header_is_understood() {
        let h = headers(&[(
            "forwarded",
            "for=\"[2001:db8::1]:4711\";proto=https, for=10.0.0.3",
        )]);
        let ip = proxies().resolve("10.0.0.1".parse().unwrap(), &h);
        assert_eq!(ip, "2001:db8::1".parse::<IpAddr>().unwrap());
        let h = headers(&[("forwarded", "for=192.0.2.60:80;by=x")]);
        assert_eq!(
            proxies().resolve("10.0.0.1".parse().unwrap(), &h),
            "192.0.2.60".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn garbage_hop_stops_the_walk() {
        let h = headers(&[("x-forwarded-for", "1.1.1.1, unknown, 10.0.0.5")]);
        let ip = proxies().resolve("10.0.0.1".parse().unwrap(), &h);
        assert_eq!(ip, "10.0.0.5".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn client_copies_are_replaced() {
        let mut h = headers(&[
            ("x-forwarded-for", "1.2.3.4"),
            ("x-forwarded-proto", "http"),
            ("x-real-ip", "1.2.3.4"),
            ("forwarded", "for=1.2.3.4"),
            ("host", "api.example"),
        ]);
        set_forwarding_headers(&mut h, "203.0.113.9".parse().unwrap(), false, true, None);
        assert_eq!(h["x-forwarded-for"], "203.0.113.9");
        assert_eq!(h["x-forwarded-proto"], "https");
        assert_eq!(h["x-forwarded-host"], "api.example");
        assert!(h.get("x-real-ip").is_none());
        assert!(h.get("forwarded").is_none());

        let mut h = headers(&[("x-forwarded-for", "1.2.3.4")]);
        set_forwarding_headers(
            &mut h,
            "10.0.0.1".parse().unwrap(),
            true,
            false,
            Some("api.example"),
        );
        assert_eq!(h["x-forwarded-host"], "api.example");
        assert_eq!(h["x-forwarded-for"], "1.2.3.4, 10.0.0.1");
    }

    proptest::proptest! {
        #[test]
        fn resolution_never_panics_and_untrusted_peers_always_win(xff in ".{0,200}", fwd in ".{0,200}") {
            let mut h = HeaderMap::new();
            if let Ok(v) = HeaderValue::from_str(&xff) { h.insert(X_FORWARDED_FOR.clone(), v); }
            if let Ok(v) = HeaderValue::from_str(&fwd) { h.insert(FORWARDED, v); }
            let _ = proxies().resolve("10.0.0.1".parse().unwrap(), &h);
            let peer: IpAddr = "203.0.113.1".parse().unwrap();
            proptest::prop_assert_eq!(proxies().resolve(peer, &h), peer);
        }
    }
}
