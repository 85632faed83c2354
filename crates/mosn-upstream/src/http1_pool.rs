//! Idle HTTP/1 connections kept per host for reuse. A connection is checked before it is handed
//! out: one the server has closed (or that holds bytes nobody asked for) is dropped, never used
//! (MOSN issue #2368).

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use mosn_net::Stream;

use crate::resources::ConnectionSlots;

/// Idle connections kept per host at most; more are closed. As many as a busy host has in
/// use at once: a lower cap (it was 64) makes a proxy carrying more concurrent requests close
/// and reopen connections all the time (about 1,700 a second, each left in TIME-WAIT, under
/// h2load's 320 streams in flight).
const MAX_IDLE: usize = 1024;

#[derive(Default)]
pub struct Http1Pool {
    idle: Mutex<Vec<Idle>>,
}

struct Idle {
    stream: Stream,
    slots: ConnectionSlots,
    since: Instant,
    /// Requests this connection has carried.
    served: u32,
}

/// A connection taken from the pool, or a new one, with the requests it carried before.
pub struct Pooled {
    pub stream: Stream,
    pub slots: ConnectionSlots,
    pub served: u32,
}

impl Http1Pool {
    /// An idle connection that is still open and not older than `idle_timeout`.
    pub fn take(&self, idle_timeout: Option<Duration>) -> Option<Pooled> {
        let mut idle = self.idle();
        if let Some(limit) = idle_timeout {
            close_expired(&mut idle, limit);
        }
        while let Some(candidate) = idle.pop() {
            if candidate.stream.is_idle_and_open() {
                return Some(Pooled {
                    stream: candidate.stream,
                    slots: candidate.slots,
                    served: candidate.served,
                });
            }
        }
        None
    }

    /// Closes the connections idle for `limit` or longer.
    pub fn close_expired(&self, limit: Duration) {
        close_expired(&mut self.idle(), limit);
    }

    /// Returns a connection whose last exchange ended cleanly.
    pub fn put(&self, pooled: Pooled) {
        let mut idle = self.idle();
        if idle.len() < MAX_IDLE {
            idle.push(Idle {
                stream: pooled.stream,
                slots: pooled.slots,
                since: Instant::now(),
                served: pooled.served,
            });
        }
    }

    fn idle(&self) -> MutexGuard<'_, Vec<Idle>> {
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Expired connections close, wherever they are in the stack, and give their slots back.
fn close_expired(idle: &mut Vec<Idle>, limit: Duration) {
    idle.retain(|c| c.since.elapsed() < limit);
}
