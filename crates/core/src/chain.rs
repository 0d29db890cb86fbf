//! A route's compiled chain of guards, and the one runner that walks it phase by phase.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::{Decision, Denial, Guard, Phase, RequestCx, Step};

/// Whether a guard's denials are enforced or only recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum GuardMode {
    /// A `Deny` ends the request.
    #[default]
    Enforce,
    /// A `Deny` is recorded as `would_deny` and the request goes on (for tuning).
    DetectOnly,
}

/// One guard in a chain.
#[derive(Clone)]
pub struct ChainEntry {
    /// The guard.
    pub guard: Arc<dyn Guard>,
    /// Enforce or detect only.
    pub mode: GuardMode,
}

impl ChainEntry {
    /// An enforcing entry.
    pub fn enforce(guard: Arc<dyn Guard>) -> Self {
        Self {
            guard,
            mode: GuardMode::Enforce,
        }
    }
}

/// What happened to a request, given to `on_log`.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    /// The status sent to the client.
    pub status: u16,
    /// Response body bytes sent.
    pub bytes_out: u64,
    /// Time spent waiting for the upstream, if it was called.
    pub upstream: Option<Duration>,
    /// Total time in the gateway.
    pub total: Duration,
}

/// The guards of one route for one config version, ordered by declaration and indexed by
/// phase so that a phase no guard implements costs nothing.
#[derive(Clone, Default)]
pub struct Chain {
    entries: Vec<ChainEntry>,
    request: Vec<usize>,
    body: Vec<usize>,
    response: Vec<usize>,
    response_body: Vec<usize>,
    log: Vec<usize>,
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.entries.iter().map(|e| e.guard.id().as_str()))
            .finish()
    }
}

/// Statistics of a phase run, for metrics: how long the chain slept for throttling.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RequestRun {
    /// Total delay imposed by throttling guards.
    pub delayed: Duration,
}

impl Chain {
    /// Builds a chain from entries in the order they must run.
    pub fn new(entries: Vec<ChainEntry>) -> Self {
        let mut chain = Self {
            entries,
            ..Self::default()
        };
        for (i, e) in chain.entries.iter().enumerate() {
            for phase in e.guard.phases() {
                match phase {
                    Phase::Request => chain.request.push(i),
                    Phase::Body => chain.body.push(i),
                    Phase::Response => chain.response.push(i),
                    Phase::ResponseBody => chain.response_body.push(i),
                    Phase::Log => chain.log.push(i),
                }
            }
        }
        chain
    }

    /// The entries, in order.
    pub fn entries(&self) -> &[ChainEntry] {
        &self.entries
    }

    /// Some guard inspects the request body, so it must be buffered.
    pub fn wants_body(&self) -> bool {
        !self.body.is_empty()
    }

    /// Some guard inspects the response body, so it must be buffered.
    pub fn wants_response_body(&self) -> bool {
        !self.response_body.is_empty()
    }

    /// Runs the request phase. `Err` is the denial that ends the request.
    pub async fn on_request(
        &self,
        cx: &mut RequestCx,
        req: &mut http::request::Parts,
    ) -> Result<RequestRun, Denial> {
        let mut run = RequestRun::default();
        for &i in &self.request {
            let Some(e) = self.entries.get(i) else {
                continue;
            };
            let step = e.guard.on_request(cx, req);
            settle(cx, e, step, &mut run).await?;
        }
        Ok(run)
    }

    /// Runs the body phase over the buffered body.
    pub async fn on_body(
        &self,
        cx: &mut RequestCx,
        req: &http::request::Parts,
        body: &Bytes,
    ) -> Result<RequestRun, Denial> {
        let mut run = RequestRun::default();
        for &i in &self.body {
            let Some(e) = self.entries.get(i) else {
                continue;
            };
            let step = e.guard.on_body(cx, req, body);
            settle(cx, e, step, &mut run).await?;
        }
        Ok(run)
    }

    /// Runs the response phase. `Err` replaces the response with the denial's problem.
    pub async fn on_response(
        &self,
        cx: &mut RequestCx,
        resp: &mut http::response::Parts,
    ) -> Result<(), Denial> {
        let mut run = RequestRun::default();
        for &i in &self.response {
            let Some(e) = self.entries.get(i) else {
                continue;
            };
            let step = e.guard.on_response(cx, resp);
            settle(cx, e, step, &mut run).await?;
        }
        Ok(())
    }

    /// Runs the response-body phase over the buffered response body.
    pub async fn on_response_body(
        &self,
        cx: &mut RequestCx,
        resp: &http::response::Parts,
        body: &mut Bytes,
    ) -> Result<(), Denial> {
        let mut run = RequestRun::default();
        for &i in &self.response_body {
            let Some(e) = self.entries.get(i) else {
                continue;
            };
            let step = e.guard.on_response_body(cx, resp, body);
            settle(cx, e, step, &mut run).await?;
        }
        Ok(())
    }

    /// Runs the log phase.
    pub fn on_log(&self, cx: &RequestCx, outcome: &Outcome) {
        for &i in &self.log {
            if let Some(e) = self.entries.get(i) {
                e.guard.on_log(cx, outcome);
            }
        }
    }
}

/// Drives one guard's step to a final continue or deny: sleeps on `Delay`, awaits `Wait` and
/// applies its resumption, and turns a detect-only denial into a recorded `would_deny`.
async fn settle(
    cx: &mut RequestCx,
    entry: &ChainEntry,
    mut step: Step,
    run: &mut RequestRun,
) -> Result<(), Denial> {
    loop {
        match step {
            Step::Continue => return Ok(()),
            Step::Delay(d) => {
                cx.decision = Some(Decision {
                    guard: entry.guard.id(),
                    verdict: "delay",
                    reason: "throttled",
                });
                run.delayed += d;
                tokio::time::sleep(d).await;
                return Ok(());
            }
            Step::Wait(fut) => {
                let resume = fut.await;
                step = resume(cx);
            }
            Step::Deny(denial) => {
                return match entry.mode {
                    GuardMode::Enforce => {
                        cx.decision = Some(Decision {
                            guard: denial.guard,
                            verdict: "deny",
                            reason: denial.reason,
                        });
                        Err(denial)
                    }
                    GuardMode::DetectOnly => {
                        cx.would_deny.push(Decision {
                            guard: denial.guard,
                            verdict: "would_deny",
                            reason: denial.reason,
                        });
                        Ok(())
                    }
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{GuardId, ProblemType, RequestId};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Instant;

    struct Counting {
        id: &'static str,
        calls: AtomicUsize,
        deny: bool,
    }

    impl Guard for Counting {
        fn id(&self) -> GuardId {
            GuardId(self.id)
        }
        fn phases(&self) -> &'static [Phase] {
            &[Phase::Request]
        }
        fn on_request(&self, _cx: &mut RequestCx, _req: &mut http::request::Parts) -> Step {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if self.deny {
                Step::Deny(Denial::new(
                    ProblemType::Forbidden,
                    "test",
                    GuardId(self.id),
                ))
            } else {
                Step::Continue
            }
        }
    }

    /// Sets the identity after "I/O", proving `Wait` + `Resume` can write the context.
    struct Async;
    impl Guard for Async {
        fn id(&self) -> GuardId {
            GuardId("async")
        }
        fn phases(&self) -> &'static [Phase] {
            &[Phase::Request]
        }
        fn on_request(&self, _cx: &mut RequestCx, _req: &mut http::request::Parts) -> Step {
            Step::Wait(Box::pin(async {
                tokio::task::yield_now().await;
                let resume: crate::Resume = Box::new(|cx: &mut RequestCx| {
                    cx.identity = Some(crate::Identity {
                        consumer_id: "alice".into(),
                        method: "test",
                        ..Default::default()
                    });
                    Step::Continue
                });
                resume
            }))
        }
    }

    struct Slow(Duration);
    impl Guard for Slow {
        fn id(&self) -> GuardId {
            GuardId("slow")
        }
        fn phases(&self) -> &'static [Phase] {
            &[Phase::Request]
        }
        fn on_request(&self, _cx: &mut RequestCx, _req: &mut http::request::Parts) -> Step {
            Step::Delay(self.0)
        }
    }

    fn cx() -> RequestCx {
        RequestCx::new(
            RequestId::generate(),
            "127.0.0.1:1".parse().unwrap(),
            Instant::now(),
        )
    }

    fn parts() -> http::request::Parts {
        http::Request::new(()).into_parts().0
    }

    fn counting(id: &'static str, deny: bool) -> Arc<Counting> {
        Arc::new(Counting {
            id,
            calls: AtomicUsize::new(0),
            deny,
        })
    }

    #[tokio::test]
    async fn first_denial_stops_the_chain() {
        let a = counting("a", false);
        let b = counting("b", true);
        let c = counting("c", false);
        let chain = Chain::new(vec![
            ChainEntry::enforce(a.clone()),
            ChainEntry::enforce(b.clone()),
            ChainEntry::enforce(c.clone()),
        ]);
        let mut cx = cx();
        let err = chain.on_request(&mut cx, &mut parts()).await.unwrap_err();
        assert_eq!(err.guard, GuardId("b"));
        assert_eq!(cx.decision.unwrap().verdict, "deny");
        assert_eq!(a.calls.load(Ordering::SeqCst), 1);
        assert_eq!(c.calls.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn detect_only_records_and_continues() {
        let b = counting("b", true);
        let c = counting("c", false);
        let chain = Chain::new(vec![
            ChainEntry {
                guard: b,
                mode: GuardMode::DetectOnly,
            },
            ChainEntry::enforce(c.clone()),
        ]);
        let mut cx = cx();
        chain.on_request(&mut cx, &mut parts()).await.unwrap();
        assert_eq!(cx.would_deny.len(), 1);
        assert_eq!(cx.would_deny[0].verdict, "would_deny");
        assert!(cx.decision.is_none());
        assert_eq!(c.calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn wait_resumes_into_the_context() {
        let chain = Chain::new(vec![ChainEntry::enforce(Arc::new(Async))]);
        let mut cx = cx();
        chain.on_request(&mut cx, &mut parts()).await.unwrap();
        assert_eq!(cx.identity.unwrap().consumer_id, "alice");
    }

    #[tokio::test(start_paused = true)]
    async fn delay_sleeps_and_is_recorded() {
        let chain = Chain::new(vec![ChainEntry::enforce(Arc::new(Slow(
            Duration::from_millis(250),
        )))]);
        let mut cx = cx();
        let before = tokio::time::Instant::now();
        let run = chain.on_request(&mut cx, &mut parts()).await.unwrap();
        assert_eq!(run.delayed, Duration::from_millis(250));
        assert!(before.elapsed() >= Duration::from_millis(250));
        assert_eq!(cx.decision.unwrap().verdict, "delay");
    }

    #[test]
    fn phases_index_only_implementing_guards() {
        let chain = Chain::new(vec![ChainEntry::enforce(counting("a", false))]);
        assert!(!chain.wants_body());
        assert!(!chain.wants_response_body());
    }
}
