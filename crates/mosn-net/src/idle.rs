//! Idle detection without a timer per read: IO paths record activity with one atomic store,
//! and one watcher sleeps until the last activity plus the timeout.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

pub struct Activity {
    start: Instant,
    last_millis: AtomicU64,
}

impl Default for Activity {
    fn default() -> Self {
        Activity {
            start: Instant::now(),
            last_millis: AtomicU64::new(0),
        }
    }
}

impl Activity {
    pub fn touch(&self) {
        let millis = self.start.elapsed().as_millis() as u64;
        self.last_millis.store(millis, Ordering::Relaxed);
    }

    /// Completes once nothing has touched this for `timeout`; never when `timeout` is `None`.
    pub async fn idle(&self, timeout: Option<Duration>) {
        let Some(timeout) = timeout.filter(|t| !t.is_zero()) else {
            return std::future::pending().await;
        };
        loop {
            let last = Duration::from_millis(self.last_millis.load(Ordering::Relaxed));
            let deadline = self.start + last + timeout;
            if Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep_until(deadline).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn idle_waits_for_the_last_touch_plus_the_timeout() {
        let activity = Activity::default();
        let timeout = Some(Duration::from_secs(10));
        tokio::time::advance(Duration::from_secs(6)).await;
        activity.touch();
        let started = Instant::now();
        activity.idle(timeout).await;
        assert_eq!(started.elapsed().as_secs(), 10);
    }
}
