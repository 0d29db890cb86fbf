//! Response bodies, with the in-flight accounting released when the body ends or is dropped.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::combinators::BoxBody;

/// Boxed error of upstream bodies.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The body of an upstream response (`Send + Sync`, so the gateway can wrap it again).
pub type ResponseBody = BoxBody<Bytes, BoxError>;

/// Decrements counters when dropped.
pub(crate) struct InFlight(pub(crate) Vec<Arc<AtomicUsize>>);

impl InFlight {
    pub(crate) fn enter(counters: Vec<Arc<AtomicUsize>>) -> Self {
        for c in &counters {
            c.fetch_add(1, Ordering::SeqCst);
        }
        Self(counters)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        for c in &self.0 {
            c.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// A body that holds an [`InFlight`] guard until it ends.
pub(crate) struct Tracked<B> {
    pub(crate) inner: B,
    pub(crate) guard: Option<InFlight>,
}

impl<B> Body for Tracked<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        match polled {
            Poll::Ready(None) => {
                this.guard = None;
                Poll::Ready(None)
            }
            Poll::Ready(Some(Err(e))) => {
                this.guard = None;
                Poll::Ready(Some(Err(e.into())))
            }
            Poll::Ready(Some(Ok(f))) => Poll::Ready(Some(Ok(f))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
