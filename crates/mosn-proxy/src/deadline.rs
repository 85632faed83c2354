//! A timer kept for a connection's life and moved forward for each wait, in place of a new
//! timer per wait: tokio moves a registered timer's deadline later without touching its timer
//! wheel, so the waits of a keep-alive connection cost no registration and removal each. And
//! a timeout that reads the clock only when its operation has to wait.

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::{Instant, Sleep};

/// Created on its first use: a connection handed to another codec never needs it.
#[derive(Default)]
pub struct Deadline(Option<Pin<Box<Sleep>>>);

impl Deadline {
    /// `op`'s output, or `None` if `at` passes first. The timer is armed only once `op` has
    /// to wait: a read whose bytes are already there costs no timer.
    pub async fn run<T>(&mut self, at: Instant, op: impl Future<Output = T>) -> Option<T> {
        let mut op = pin!(op);
        let mut armed = false;
        poll_fn(|cx| {
            if let Poll::Ready(value) = op.as_mut().poll(cx) {
                return Poll::Ready(Some(value));
            }
            let timer = match &mut self.0 {
                Some(timer) if armed => timer,
                Some(timer) => {
                    timer.as_mut().reset(at);
                    timer
                }
                None => self.0.insert(Box::pin(tokio::time::sleep_until(at))),
            };
            armed = true;
            timer.as_mut().poll(cx).map(|()| None)
        })
        .await
    }
}

pin_project_lite::pin_project! {
    /// `op`'s output, or `None` if it waits for longer than `limit`: [`within`].
    pub struct Within<F> {
        #[pin]
        op: F,
        #[pin]
        timer: Option<Sleep>,
        limit: Duration,
    }
}

/// `op`'s output, or `None` if it waits for longer than `limit`. Unlike `tokio::time::timeout`,
/// the clock is read only once `op` has to wait: an operation that is ready at once (most reads
/// and writes of a body) costs no clock read and no timer. A future of its own rather than an
/// `async fn`, which would move `op` into its state and again into a pinned local.
pub fn within<F: Future>(limit: Duration, op: F) -> Within<F> {
    Within {
        op,
        timer: None,
        limit,
    }
}

impl<F: Future> Future for Within<F> {
    type Output = Option<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let Poll::Ready(value) = this.op.poll(cx) {
            return Poll::Ready(Some(value));
        }
        if this.timer.is_none() {
            this.timer.set(Some(tokio::time::sleep(*this.limit)));
        }
        let timer = this.timer.as_pin_mut().expect("set above");
        timer.poll(cx).map(|()| None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn each_wait_gets_its_own_deadline() {
        let mut deadline = Deadline::default();
        let soon = Instant::now() + Duration::from_secs(1);
        assert_eq!(deadline.run(soon, async { 7 }).await, Some(7));
        let slow = tokio::time::sleep(Duration::from_secs(5));
        assert_eq!(
            deadline.run(soon, slow).await,
            None,
            "the deadline passes first"
        );
        // Later, an earlier deadline than the one that fired, and a later one.
        let at = Instant::now() + Duration::from_millis(10);
        assert_eq!(deadline.run(at, std::future::pending::<()>()).await, None);
        let late = Instant::now() + Duration::from_secs(60);
        let quick = tokio::time::sleep(Duration::from_secs(2));
        assert_eq!(deadline.run(late, quick).await, Some(()));
        assert_eq!(
            deadline
                .run(late - Duration::from_secs(50), std::future::pending::<()>())
                .await,
            None,
            "an earlier deadline than the last one still fires"
        );
        assert!(Instant::now() >= late - Duration::from_secs(50));
    }

    #[tokio::test(start_paused = true)]
    async fn within_counts_from_the_first_wait() {
        assert_eq!(within(Duration::ZERO, async { 7 }).await, Some(7));
        let quick = tokio::time::sleep(Duration::from_secs(1));
        assert_eq!(within(Duration::from_secs(2), quick).await, Some(()));
        let start = Instant::now();
        let slow = tokio::time::sleep(Duration::from_secs(5));
        assert_eq!(within(Duration::from_secs(2), slow).await, None);
        assert_eq!(Instant::now() - start, Duration::from_secs(2));
    }
}
