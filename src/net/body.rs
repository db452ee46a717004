//! A request body that must arrive in full by a deadline.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

/// The body of a request that must be received within `timeout` of its
/// headers. Past the deadline it yields an error (the handler answers, and
/// the connection layer marks the answer 408) and sets `late`. The deadline
/// is total, not per read: a client trickling a byte a second is cut off too.
pub struct DeadlineBody<B> {
    inner: B,
    deadline: Pin<Box<tokio::time::Sleep>>,
    timeout: Duration,
    late: Arc<AtomicBool>,
    done: bool,
}

#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {0:?} (--body-timeout)")]
pub struct BodyTimeout(Duration);

impl<B> DeadlineBody<B> {
    pub fn new(inner: B, timeout: Duration, late: Arc<AtomicBool>) -> Self {
        DeadlineBody {
            inner,
            deadline: Box::pin(tokio::time::sleep(timeout)),
            timeout,
            late,
            done: false,
        }
    }
}

impl<B> Body for DeadlineBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.done {
            return Poll::Ready(None);
        }
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(None) => {
                self.done = true;
                Poll::Ready(None)
            }
            Poll::Ready(Some(frame)) => Poll::Ready(Some(frame.map_err(Into::into))),
            Poll::Pending => match self.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    self.done = true;
                    self.late.store(true, Ordering::Relaxed);
                    Poll::Ready(Some(Err(Box::new(BodyTimeout(self.timeout)))))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt as _;

    /// A body that yields one frame per `gap`, `n` frames in all.
    fn trickle(n: usize, gap: Duration) -> impl Body<Data = Bytes, Error = std::io::Error> + Unpin {
        let frames = futures::stream::unfold(0usize, move |i| async move {
            if i == n {
                return None;
            }
            tokio::time::sleep(gap).await;
            Some((Ok(Frame::data(Bytes::from_static(b"x"))), i + 1))
        });
        http_body_util::StreamBody::new(Box::pin(frames))
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_that_arrives_in_time_is_whole() {
        let late = Arc::new(AtomicBool::new(false));
        let body = DeadlineBody::new(
            trickle(5, Duration::from_secs(1)),
            Duration::from_secs(10),
            Arc::clone(&late),
        );
        let bytes = body.collect().await.unwrap().to_bytes();
        assert_eq!(&bytes[..], b"xxxxx");
        assert!(!late.load(Ordering::Relaxed));
    }

    #[tokio::test(start_paused = true)]
    async fn a_trickled_body_is_cut_off_at_the_deadline_though_each_byte_comes_quickly() {
        let late = Arc::new(AtomicBool::new(false));
        // a byte a second for a minute: never silent for long, still too slow in total
        let body = DeadlineBody::new(
            trickle(60, Duration::from_secs(1)),
            Duration::from_secs(10),
            Arc::clone(&late),
        );
        let started = tokio::time::Instant::now();
        let e = body.collect().await.unwrap_err();
        assert_eq!(
            e.to_string(),
            "the request body did not arrive within 10s (--body-timeout)"
        );
        assert_eq!(started.elapsed(), Duration::from_secs(10));
        assert!(late.load(Ordering::Relaxed));
    }
}
