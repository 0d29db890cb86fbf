use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::time::Instant;

use portcullis_core::{Identity, RequestId};

use super::*;

/// Time the test moves by hand.
#[derive(Default)]
struct ManualClock(AtomicI64);

impl Clock for ManualClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// An inner method driven by the request: `x-test` says what happens (`ok`, `bad`, `down`,
/// `idp-401`, `wait-bad`; absent: no credential), `x-key` is the claimed (and, for `bad`, real) credential id.
struct Fake {
    id: GuardId,
    calls: AtomicUsize,
    own: bool,
}

impl Fake {
    fn new(id: &'static str) -> Arc<Self> {
        Arc::new(Self {
            id: GuardId(id),
            calls: AtomicUsize::new(0),
            own: false,
        })
    }
}

fn header<'a>(req: &'a http::request::Parts, name: &str) -> Option<&'a str> {
    req.headers.get(name).and_then(|v| v.to_str().ok())
}

impl Guard for Fake {
    fn id(&self) -> GuardId {
        self.id
    }

    fn phases(&self) -> &'static [Phase] {
        &[Phase::Request]
    }

    fn on_request(&self, cx: &mut RequestCx, req: &mut http::request::Parts) -> Step {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let key = header(req, "x-key").map(str::to_string);
        let deny = |reason| Step::Deny(Denial::new(ProblemType::Unauthorized, reason, self.id));
        match header(req, "x-test").unwrap_or("missing") {
            "ok" => {
                cx.identity = Some(Identity {
                    consumer_id: "c".into(),
                    method: "api_key",
                    credential_id: key,
                    ..Identity::default()
                });
                Step::Continue
            }
            "bad" => {
                // Only ids starting with `k` exist in this fake store.
                if let Some(k) = key.filter(|k| k.starts_with('k')) {
                    cx.extensions.insert(FailedCredential(k));
                }
                deny("api_key_wrong_secret")
            }
            "down" => Step::Deny(Denial::new(
                ProblemType::ServiceUnavailable,
                "introspection_unavailable",
                self.id,
            )),
            "idp-401" => deny("introspection_unavailable"),
            "wait-bad" => {
                let id = self.id;
                Step::Wait(Box::pin(async move {
                    let resume: Resume = Box::new(move |_cx: &mut RequestCx| {
                        Step::Deny(Denial::new(
                            ProblemType::Unauthorized,
                            "jwt_bad_signature",
                            id,
                        ))
                    });
                    resume
                }))
            }
            _ => deny("api_key_missing"),
        }
    }
}

impl Credential for Fake {
    fn presented(&self, _cx: &RequestCx, req: &http::request::Parts) -> bool {
        req.headers.contains_key("x-test")
    }

    fn strip(&self, _req: &mut http::request::Parts) {}

    fn challenge(&self) -> HeaderValue {
        HeaderValue::from_static("Fake")
    }

    fn claimed_id(&self, req: &http::request::Parts) -> Option<String> {
        header(req, "x-key").map(str::to_string)
    }

    fn counts_own_failures(&self) -> bool {
        self.own
    }
}

fn spec() -> LockoutSpec {
    LockoutSpec {
        max_failures: 3,
        max_failures_per_ip: 5,
        ..LockoutSpec::default()
    }
}

struct Setup {
    guard: FailureLockout,
    inner: Arc<Fake>,
    lockout: Arc<Lockout>,
    clock: Arc<ManualClock>,
}

fn setup_with(inner: Arc<Fake>) -> Setup {
    let lockout = Arc::new(Lockout::default());
    let clock = Arc::new(ManualClock(AtomicI64::new(1_000)));
    let guard = FailureLockout::new(
        inner.clone(),
        vec![inner.clone()],
        "r1",
        &spec(),
        lockout.clone(),
    )
    .with_clock(clock.clone());
    Setup {
        guard,
        inner,
        lockout,
        clock,
    }
}

fn setup() -> Setup {
    setup_with(Fake::new("api_key"))
}

/// Runs the guard's request phase to its final step, as the chain does.
fn run(g: &FailureLockout, ip: &str, test: Option<&str>, key: Option<&str>) -> Step {
    let ip: IpAddr = ip.parse().unwrap();
    let mut cx = RequestCx::new(
        RequestId::generate(),
        SocketAddr::new(ip, 40_000),
        Instant::now(),
    );
    let mut b = http::Request::builder().uri("/x");
    if let Some(t) = test {
        b = b.header("x-test", t);
    }
    if let Some(k) = key {
        b = b.header("x-key", k);
    }
    let (mut parts, ()) = b.body(()).unwrap().into_parts();
    let mut step = g.on_request(&mut cx, &mut parts);
    while let Step::Wait(w) = step {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let resume = rt.block_on(w);
        step = resume(&mut cx);
    }
    step
}

fn status(step: &Step) -> u16 {
    match step {
        Step::Deny(d) => d.status.as_u16(),
        Step::Continue => 200,
        other => panic!("unexpected {other:?}"),
    }
}

fn retry_after(step: &Step) -> Option<i64> {
    match step {
        Step::Deny(d) => d
            .headers
            .iter()
            .find(|(n, _)| n == RETRY_AFTER)
            .and_then(|(_, v)| v.to_str().ok()?.parse().ok()),
        _ => None,
    }
}

#[test]
fn ip_keys_ipv4_by_address_and_ipv6_by_slash_64() {
    assert_eq!(ip_key("203.0.113.7".parse().unwrap()), "ip:203.0.113.7");
    assert_eq!(
        ip_key("2001:db8:1:2:aaaa::1".parse().unwrap()),
        ip_key("2001:db8:1:2:ffff:1:2:3".parse().unwrap())
    );
    assert_eq!(
        ip_key("2001:db8:1:2::1".parse().unwrap()),
        "ip:2001:db8:1:2::/64"
    );
    assert_ne!(
        ip_key("2001:db8:1:2::1".parse().unwrap()),
        ip_key("2001:db8:1:3::1".parse().unwrap())
    );
    assert_eq!(
        ip_key("::ffff:203.0.113.7".parse().unwrap()),
        "ip:203.0.113.7"
    );
}

#[test]
fn an_address_is_locked_after_its_failures_and_refused_before_verifying() {
    let s = setup();
    for _ in 0..4 {
        assert_eq!(status(&run(&s.guard, "192.0.2.1", Some("bad"), None)), 401);
    }
    // The fifth failure locks; it is still answered with the generic 401.
    assert_eq!(status(&run(&s.guard, "192.0.2.1", Some("bad"), None)), 401);
    let calls = s.inner.calls.load(Ordering::SeqCst);
    // Even a valid credential is refused now, with Retry-After, and never verified.
    let step = run(&s.guard, "192.0.2.1", Some("ok"), Some("k1"));
    assert_eq!(status(&step), 429);
    assert_eq!(retry_after(&step), Some(60));
    assert_eq!(s.inner.calls.load(Ordering::SeqCst), calls);
    // Another address is unaffected.
    assert_eq!(
        status(&run(&s.guard, "192.0.2.2", Some("ok"), Some("k1"))),
        200
    );
    // The lock ends on time; the next one doubles.
    s.clock.0.store(1_060, Ordering::SeqCst);
    assert_eq!(
        status(&run(&s.guard, "192.0.2.1", Some("ok"), Some("k1"))),
        200
    );
    for _ in 0..5 {
        run(&s.guard, "192.0.2.1", Some("bad"), None);
    }
    assert_eq!(
        retry_after(&run(&s.guard, "192.0.2.1", Some("ok"), None)),
        Some(120)
    );
}

#[test]
fn ipv6_clients_share_their_slash_64() {
    let s = setup();
    for i in 0..5 {
        run(&s.guard, &format!("2001:db8::{i}"), Some("bad"), None);
    }
    assert_eq!(
        status(&run(&s.guard, "2001:db8::ffff", Some("ok"), None)),
        429
    );
    assert_eq!(
        status(&run(&s.guard, "2001:db8:0:1::1", Some("ok"), None)),
        200
    );
}

#[test]
fn reasons_that_are_not_guesses_do_not_count() {
    let s = setup();
    for _ in 0..20 {
        // No credential at all, the identity provider down (503, or 401 when configured so).
        assert_eq!(status(&run(&s.guard, "192.0.2.1", None, None)), 401);
        assert_eq!(status(&run(&s.guard, "192.0.2.1", Some("down"), None)), 503);
        assert_eq!(
            status(&run(&s.guard, "192.0.2.1", Some("idp-401"), None)),
            401
        );
    }
    assert!(s.lockout.is_empty());
    assert_eq!(status(&run(&s.guard, "192.0.2.1", Some("ok"), None)), 200);
}

#[test]
fn asynchronous_failures_count() {
    let s = setup_with(Fake::new("jwt"));
    for _ in 0..5 {
        assert_eq!(
            status(&run(&s.guard, "192.0.2.1", Some("wait-bad"), None)),
            401
        );
    }
    assert_eq!(status(&run(&s.guard, "192.0.2.1", Some("ok"), None)), 429);
}

#[test]
fn a_real_credential_is_locked_from_every_address_and_invented_ids_are_not_tracked() {
    let s = setup();
    // Three wrong secrets for the real key k1, from three addresses.
    for i in 1..=3 {
        assert_eq!(
            status(&run(
                &s.guard,
                &format!("192.0.2.{i}"),
                Some("bad"),
                Some("k1")
            )),
            401
        );
    }
    let step = run(&s.guard, "198.51.100.9", Some("ok"), Some("k1"));
    assert_eq!(status(&step), 429);
    assert_eq!(retry_after(&step), Some(60));
    // Another key from the same address works.
    assert_eq!(
        status(&run(&s.guard, "198.51.100.9", Some("ok"), Some("k2"))),
        200
    );
    // Failures without the marker (an id that does not exist) add address keys only.
    let before = s.lockout.len();
    for i in 0..3 {
        run(
            &s.guard,
            "198.51.100.10",
            Some("bad"),
            Some(&format!("x{i}")),
        );
    }
    assert_eq!(
        s.lockout.len(),
        before + 1,
        "only the address key was added"
    );
}

#[test]
fn success_resets_the_credential_but_not_the_address() {
    let s = setup();
    for _ in 0..2 {
        run(&s.guard, "192.0.2.1", Some("bad"), Some("k1"));
    }
    for _ in 0..2 {
        run(&s.guard, "192.0.2.1", Some("bad"), Some("k9"));
    }
    // A success with k1 forgets k1's two failures ...
    assert_eq!(
        status(&run(&s.guard, "192.0.2.1", Some("ok"), Some("k1"))),
        200
    );
    assert_eq!(s.lockout.retry_after("cred:k1", 1_000), None);
    run(&s.guard, "192.0.2.2", Some("bad"), Some("k1"));
    run(&s.guard, "192.0.2.2", Some("bad"), Some("k1"));
    assert_eq!(
        status(&run(&s.guard, "192.0.2.2", Some("ok"), Some("k1"))),
        200,
        "k1 starts again from zero"
    );
    // ... but the address keeps its four: one more failure locks it.
    run(&s.guard, "192.0.2.1", Some("bad"), None);
    assert_eq!(
        status(&run(&s.guard, "192.0.2.1", Some("ok"), Some("k1"))),
        429
    );
}

#[test]
fn methods_counting_their_own_failures_are_not_counted_twice() {
    let inner = Arc::new(Fake {
        id: GuardId("basic"),
        calls: AtomicUsize::new(0),
        own: true,
    });
    let s = setup_with(inner);
    for _ in 0..10 {
        run(&s.guard, "192.0.2.1", Some("bad"), Some("k1"));
    }
    assert!(s.lockout.is_empty());
    // But the shared address lock (set by Basic itself) is honoured.
    let p = LockoutPolicy::per_ip(&spec());
    for _ in 0..5 {
        s.lockout
            .record_failure(&p, &ip_key("192.0.2.1".parse().unwrap()), 1_000);
    }
    assert_eq!(status(&run(&s.guard, "192.0.2.1", Some("ok"), None)), 429);
}
