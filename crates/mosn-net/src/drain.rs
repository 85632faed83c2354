//! The graceful-stop signal: listeners stop accepting, connections finish what they do.
//!
//! A keep-alive connection waits for the signal between every two requests, so waiting again
//! must cost next to nothing. Each handle registers its task's waker once and keeps it
//! registered until the handle is dropped: a repeated wait is an atomic load and a waker
//! comparison, where a `Notify` or `watch` would lock, link and unlink a waiter each time.

use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

struct Signal {
    draining: AtomicBool,
    /// The wakers of handles that have waited, by key; each stays until its handle is dropped.
    /// A dropped handle's key is reused, so this holds as many entries as there were waiting
    /// handles at most at once (one per connection), 24 bytes each.
    waiting: Mutex<Slab>,
}

/// Wakers under reusable keys.
#[derive(Default)]
struct Slab {
    wakers: Vec<Option<Waker>>,
    free: Vec<usize>,
}

impl Slab {
    fn insert(&mut self, waker: Waker) -> usize {
        match self.free.pop() {
            Some(key) => {
                self.wakers[key] = Some(waker);
                key
            }
            None => {
                self.wakers.push(Some(waker));
                self.wakers.len() - 1
            }
        }
    }

    fn remove(&mut self, key: usize) {
        self.wakers[key] = None;
        self.free.push(key);
    }
}

impl Signal {
    fn waiting(&self) -> MutexGuard<'_, Slab> {
        // Nothing panics while holding the lock; a poisoned one holds consistent wakers.
        self.waiting
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Starts the drain; dropping it starts it too (the server is going down).
pub struct DrainTrigger(Arc<Signal>);

/// A handle on the signal. Clones wait on their own.
pub struct Drain {
    signal: Arc<Signal>,
    /// The waker this handle left in `waiting`, and its key there.
    registered: Option<(usize, Waker)>,
}

pub fn channel() -> (DrainTrigger, Drain) {
    let signal = Arc::new(Signal {
        draining: AtomicBool::new(false),
        waiting: Mutex::new(Slab::default()),
    });
    let drain = Drain {
        signal: Arc::clone(&signal),
        registered: None,
    };
    (DrainTrigger(signal), drain)
}

impl DrainTrigger {
    pub fn start(&self) {
        // Set before the wakers are taken: a handle registering after this sees it (the lock
        // orders the two), one registered before is woken.
        self.0.draining.store(true, Ordering::Release);
        for waker in self.0.waiting().wakers.iter().flatten() {
            waker.wake_by_ref();
        }
    }
}

impl Drop for DrainTrigger {
    fn drop(&mut self) {
        self.start();
    }
}

impl Drain {
    pub fn is_draining(&self) -> bool {
        self.signal.draining.load(Ordering::Acquire)
    }

    /// Completes once draining has started (at once if it has).
    pub async fn signaled(&mut self) {
        poll_fn(|cx| self.poll_signaled(cx)).await
    }

    fn poll_signaled(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.is_draining() {
            return Poll::Ready(());
        }
        match &self.registered {
            Some((_, waker)) if waker.will_wake(cx.waker()) => return Poll::Pending,
            _ => self.register(cx.waker()),
        }
        // Checked again: a start between the first check and the registration woke nobody.
        match self.is_draining() {
            true => Poll::Ready(()),
            false => Poll::Pending,
        }
    }

    fn register(&mut self, waker: &Waker) {
        let mut waiting = self.signal.waiting();
        let key = match self.registered.take() {
            Some((key, _)) => {
                waiting.wakers[key] = Some(waker.clone());
                key
            }
            None => waiting.insert(waker.clone()),
        };
        self.registered = Some((key, waker.clone()));
    }
}

impl Clone for Drain {
    fn clone(&self) -> Self {
        Drain {
            signal: Arc::clone(&self.signal),
            registered: None,
        }
    }
}

impl Drop for Drain {
    fn drop(&mut self) {
        if let Some((key, _)) = self.registered.take() {
            self.signal.waiting().remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::pin;
    use std::sync::atomic::AtomicUsize;
    use std::task::Wake;

    use super::*;

    /// A waker that counts its wakes.
    struct Counter(AtomicUsize);

    impl Wake for Counter {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn counter() -> (Arc<Counter>, Waker) {
        let counter = Arc::new(Counter(AtomicUsize::new(0)));
        (Arc::clone(&counter), Waker::from(counter))
    }

    fn poll_once(drain: &mut Drain, waker: &Waker) -> Poll<()> {
        let mut cx = Context::from_waker(waker);
        pin!(drain.signaled()).poll(&mut cx)
    }

    #[test]
    fn a_wait_repeated_by_the_same_task_registers_once_and_is_woken_by_the_start() {
        let (trigger, mut drain) = channel();
        let (count, waker) = counter();
        for _ in 0..3 {
            assert_eq!(poll_once(&mut drain, &waker), Poll::Pending);
        }
        assert_eq!(drain.signal.waiting().wakers.len(), 1);
        trigger.start();
        assert_eq!(count.0.load(Ordering::Relaxed), 1);
        assert!(drain.is_draining());
        assert_eq!(poll_once(&mut drain, &waker), Poll::Ready(()));
    }

    #[test]
    fn another_task_waiting_on_the_same_handle_replaces_the_waker() {
        let (trigger, mut drain) = channel();
        let (first, first_waker) = counter();
        let (second, second_waker) = counter();
        assert_eq!(poll_once(&mut drain, &first_waker), Poll::Pending);
        assert_eq!(poll_once(&mut drain, &second_waker), Poll::Pending);
        trigger.start();
        assert_eq!(first.0.load(Ordering::Relaxed), 0);
        assert_eq!(second.0.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn a_dropped_handle_leaves_its_key_for_the_next_one() {
        let (_trigger, drain) = channel();
        let (_, waker) = counter();
        let mut first = drain.clone();
        assert_eq!(poll_once(&mut first, &waker), Poll::Pending);
        drop(first);
        let mut second = drain.clone();
        assert_eq!(poll_once(&mut second, &waker), Poll::Pending);
        let waiting = drain.signal.waiting();
        assert_eq!(waiting.wakers.len(), 1);
        assert!(waiting.wakers[0].is_some());
    }

    #[test]
    fn dropping_the_trigger_starts_the_drain() {
        let (trigger, mut drain) = channel();
        let (count, waker) = counter();
        assert_eq!(poll_once(&mut drain, &waker), Poll::Pending);
        drop(trigger);
        assert_eq!(count.0.load(Ordering::Relaxed), 1);
        assert_eq!(poll_once(&mut drain.clone(), &waker), Poll::Ready(()));
    }
}
