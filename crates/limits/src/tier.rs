//! Source tiers: which clients get stricter treatment, by network (inline or from list
//! files) or by country (from a MaxMind-format GeoIP database).
//!
//! The tier guard runs first on every route: it records the client's country and tier in the
//! request context (for limits, quotas and policies) and refuses clients of blocking tiers.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use ipnet::IpNet;
use portcullis_config::ConfigSpec;
use portcullis_core::{Country, Denial, Guard, GuardId, Phase, ProblemType, RequestCx, Step};

const ID: GuardId = GuardId("tier");

/// The tier a request's client is in, kept in the request context's extensions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tier(pub Arc<str>);

/// Networks by prefix length, so a lookup is one hash probe per distinct length.
#[derive(Debug, Default)]
struct NetSet {
    v4: HashMap<u8, HashSet<u32>>,
    v6: HashMap<u8, HashSet<u128>>,
}

impl NetSet {
    fn insert(&mut self, net: IpNet) {
        match net.trunc() {
            IpNet::V4(n) => {
                self.v4
                    .entry(n.prefix_len())
                    .or_default()
                    .insert(u32::from(n.network()));
            }
            IpNet::V6(n) => {
                self.v6
                    .entry(n.prefix_len())
                    .or_default()
                    .insert(u128::from(n.network()));
            }
        }
    }

    fn contains(&self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(v4) => {
                let bits = u32::from(v4);
                self.v4.iter().any(|(len, set)| {
                    let mask = u32::MAX.checked_shl(32 - u32::from(*len)).unwrap_or(0);
                    set.contains(&(bits & mask))
                })
            }
            IpAddr::V6(v6) => {
                let bits = u128::from(v6);
                self.v6.iter().any(|(len, set)| {
                    let mask = u128::MAX.checked_shl(128 - u32::from(*len)).unwrap_or(0);
                    set.contains(&(bits & mask))
                })
            }
        }
    }
}

#[derive(Debug)]
struct CompiledTier {
    name: Arc<str>,
    nets: NetSet,
    countries: Vec<Country>,
    block: bool,
}

/// The tiers and GeoIP database of one config version.
pub struct Tiers {
    tiers: Vec<CompiledTier>,
    geoip: Option<maxminddb::Reader<Vec<u8>>>,
}

impl std::fmt::Debug for Tiers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tiers")
            .field("tiers", &self.tiers.len())
            .field("geoip", &self.geoip.is_some())
            .finish()
    }
}

/// Reads a list file: one address or CIDR per line, `#` starts a comment. Errors name the
/// file and line.
pub fn read_list(path: &Path) -> Result<Vec<IpNet>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let entry = line.split('#').next().unwrap_or("").trim();
        if entry.is_empty() {
            continue;
        }
        let net = entry
            .parse::<IpNet>()
            .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
            .map_err(|_| {
                format!(
                    "{}:{}: `{entry}` is not an address or CIDR",
                    path.display(),
                    n + 1
                )
            })?;
        out.push(net);
    }
    Ok(out)
}

fn unmapped(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

impl Tiers {
    /// Compiles the tiers and opens the GeoIP database of `spec`; `None` when it has neither.
    pub fn load(spec: &ConfigSpec) -> Result<Option<Arc<Self>>, String> {
        if spec.tiers.is_empty() && spec.geoip.is_none() {
            return Ok(None);
        }
        let geoip = match &spec.geoip {
            Some(g) => Some(
                maxminddb::Reader::open_readfile(&g.database)
                    .map_err(|e| format!("geoip database {}: {e}", g.database.display()))?,
            ),
            None => None,
        };
        let mut tiers = Vec::new();
        for t in &spec.tiers {
            let mut nets = NetSet::default();
            for c in &t.networks {
                nets.insert(c.0);
            }
            for f in &t.ip_files {
                for net in read_list(f)? {
                    nets.insert(net);
                }
            }
            tiers.push(CompiledTier {
                name: t.name.as_str().into(),
                nets,
                countries: t
                    .countries
                    .iter()
                    .filter_map(|c| Country::parse(c))
                    .collect(),
                block: t.block,
            });
        }
        Ok(Some(Arc::new(Self { tiers, geoip })))
    }

    /// The client's country, if the database knows it.
    pub fn country(&self, ip: IpAddr) -> Option<Country> {
        let reader = self.geoip.as_ref()?;
        let code: Option<String> = reader
            .lookup(unmapped(ip))
            .ok()?
            .decode_path(&[
                maxminddb::PathElement::Key("country"),
                maxminddb::PathElement::Key("iso_code"),
            ])
            .ok()?;
        code.as_deref().and_then(Country::parse)
    }

    /// The first tier the client is in: `(name, block)`.
    pub fn classify(&self, ip: IpAddr, country: Option<Country>) -> Option<(&Arc<str>, bool)> {
        let ip = unmapped(ip);
        self.tiers
            .iter()
            .find(|t| t.nets.contains(ip) || country.is_some_and(|c| t.countries.contains(&c)))
            .map(|t| (&t.name, t.block))
    }
}

/// Classifies every request's client; refuses blocking tiers.
#[derive(Debug)]
pub struct TierGuard {
    tiers: Arc<Tiers>,
}

impl TierGuard {
    /// A guard over compiled tiers.
    pub fn new(tiers: Arc<Tiers>) -> Self {
        Self { tiers }
    }
}

impl Guard for TierGuard {
    fn id(&self) -> GuardId {
        ID
    }

    fn phases(&self) -> &'static [Phase] {
        &[Phase::Request]
    }

    fn on_request(&self, cx: &mut RequestCx, _req: &mut http::request::Parts) -> Step {
        let ip = cx.client_ip.0;
        let country = self.tiers.country(ip);
        if let Some(c) = country {
            cx.extensions.insert(c);
        }
        if let Some((name, block)) = self.tiers.classify(ip, country) {
            cx.extensions.insert(Tier(name.clone()));
            if block {
                return Step::Deny(Denial::new(ProblemType::Forbidden, "tier_blocked", ID));
            }
        }
        Step::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netset_matches_by_prefix() {
        let mut s = NetSet::default();
        s.insert("10.1.0.0/16".parse().unwrap());
        s.insert("192.0.2.7/32".parse().unwrap());
        s.insert("2001:db8::/32".parse().unwrap());
        assert!(s.contains("10.1.200.3".parse().unwrap()));
        assert!(!s.contains("10.2.0.1".parse().unwrap()));
        assert!(s.contains("192.0.2.7".parse().unwrap()));
        assert!(!s.contains("192.0.2.8".parse().unwrap()));
        assert!(s.contains("2001:db8:1::9".parse().unwrap()));
        assert!(!s.contains("2001:db9::1".parse().unwrap()));
    }

    #[test]
    fn list_files_name_the_bad_line() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("l.txt");
        std::fs::write(
            &f,
            "# tor exits\n198.51.100.0/24\n203.0.113.9 # one host\nnot-an-ip\n",
        )
        .unwrap();
        let e = read_list(&f).unwrap_err();
        assert!(
            e.ends_with("l.txt:4: `not-an-ip` is not an address or CIDR"),
            "{e}"
        );
        std::fs::write(&f, "198.51.100.0/24\n203.0.113.9\n").unwrap();
        assert_eq!(read_list(&f).unwrap().len(), 2);
    }
}
