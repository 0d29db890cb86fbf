//! IP allow / deny lists.

use std::net::IpAddr;

use portcullis_config::{Cidr, IpPolicySpec, cidr::canonical};
use portcullis_core::{Denial, Guard, GuardId, Phase, ProblemType, RequestCx, Step};

const ID: GuardId = GuardId("ip_policy");

/// One allow/deny pair. A deny match refuses; a non-empty allow list refuses every address
/// outside it. Lists are short in practice (a handful of CIDRs), where a linear scan over
/// a flat array beats a trie; large reputation lists belong to the abuse-control tiers.
#[derive(Clone, Debug, Default)]
pub struct IpList {
    allow: Vec<Cidr>,
    deny: Vec<Cidr>,
}

impl IpList {
    /// Compiles a policy block.
    pub fn compile(spec: &IpPolicySpec) -> Self {
        Self {
            allow: spec.allow.clone(),
            deny: spec.deny.clone(),
        }
    }

    /// Nothing configured: everything passes.
    pub fn is_empty(&self) -> bool {
        self.allow.is_empty() && self.deny.is_empty()
    }

    /// Whether the address may pass this list.
    pub fn admits(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        if self.deny.iter().any(|c| c.contains(ip)) {
            return false;
        }
        self.allow.is_empty() || self.allow.iter().any(|c| c.contains(ip))
    }
}

/// Refuses requests whose client address the global or the route's lists do not admit.
/// The client address is the one resolved through trusted proxies, so a proxy chain cannot
/// be used to hide from (or sneak past) the lists.
#[derive(Debug)]
pub struct IpPolicyGuard {
    global: IpList,
    route: IpList,
}

impl IpPolicyGuard {
    /// Compiles the guard; `None` when neither list has entries (the route skips it).
    pub fn compile(global: &IpPolicySpec, route: &IpPolicySpec) -> Option<Self> {
        let guard = Self {
            global: IpList::compile(global),
            route: IpList::compile(route),
        };
        (!guard.global.is_empty() || !guard.route.is_empty()).then_some(guard)
    }
}

impl Guard for IpPolicyGuard {
    fn id(&self) -> GuardId {
        ID
    }

    fn phases(&self) -> &'static [Phase] {
        &[Phase::Request]
    }

    fn on_request(&self, cx: &mut RequestCx, _req: &mut http::request::Parts) -> Step {
        let ip = cx.client_ip.0;
        if !self.global.admits(ip) {
            return Step::Deny(Denial::new(ProblemType::Forbidden, "ip_denied_global", ID));
        }
        if !self.route.admits(ip) {
            return Step::Deny(Denial::new(ProblemType::Forbidden, "ip_denied_route", ID));
        }
        Step::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portcullis_core::{ClientIp, RequestId};
    use std::time::Instant;

    fn spec(allow: &[&str], deny: &[&str]) -> IpPolicySpec {
        IpPolicySpec {
            allow: allow.iter().map(|s| s.parse().unwrap()).collect(),
            deny: deny.iter().map(|s| s.parse().unwrap()).collect(),
        }
    }

    fn run(guard: &IpPolicyGuard, ip: &str) -> Option<&'static str> {
        let mut cx = RequestCx::new(
            RequestId::generate(),
            "127.0.0.1:9".parse().unwrap(),
            Instant::now(),
        );
        cx.client_ip = ClientIp(ip.parse().unwrap());
        let mut parts = http::Request::new(()).into_parts().0;
        match guard.on_request(&mut cx, &mut parts) {
            Step::Deny(d) => {
                assert_eq!(d.status, http::StatusCode::FORBIDDEN);
                Some(d.reason)
            }
            Step::Continue => None,
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn route_allow_list_admits_only_its_networks() {
        let g = IpPolicyGuard::compile(
            &spec(&[], &[]),
            &spec(&["10.0.0.0/8", "2001:db8::/32"], &[]),
        )
        .unwrap();
        assert_eq!(run(&g, "10.1.2.3"), None);
        assert_eq!(run(&g, "2001:db8::1"), None);
        assert_eq!(run(&g, "::ffff:10.9.9.9"), None);
        assert_eq!(run(&g, "127.0.0.1"), Some("ip_denied_route"));
        assert_eq!(run(&g, "2001:db9::1"), Some("ip_denied_route"));
    }

    #[test]
    fn deny_wins_over_allow_and_global_runs_first() {
        let g = IpPolicyGuard::compile(
            &spec(&[], &["192.0.2.0/24"]),
            &spec(&["192.0.0.0/8"], &["198.51.100.7"]),
        )
        .unwrap();
        assert_eq!(run(&g, "192.0.2.1"), Some("ip_denied_global"));
        assert_eq!(run(&g, "192.1.1.1"), None);
        assert_eq!(run(&g, "198.51.100.7"), Some("ip_denied_route"));
    }

    #[test]
    fn empty_policies_compile_to_nothing() {
        assert!(IpPolicyGuard::compile(&spec(&[], &[]), &spec(&[], &[])).is_none());
    }
}
