//! Circuit breakers: how many connections, pending requests, requests and retries a cluster may
//! have at once (`circuit_breakers`; 0 or unset is no limit). Each use holds a slot that is
//! given back when dropped.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use mosn_config::model::CircuitBreaker;

#[derive(Debug, Default)]
pub struct Limit {
    max: u32,
    used: AtomicU32,
}

/// A unit of a [`Limit`], held while in use.
#[derive(Debug)]
pub struct Slot(Arc<Limit>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.used.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Limit {
    fn new(max: u32) -> Arc<Limit> {
        Arc::new(Limit {
            max,
            used: AtomicU32::new(0),
        })
    }

    /// A slot, or `None` when the limit is reached.
    pub fn acquire(self: &Arc<Self>) -> Option<Slot> {
        let taken = self.used.fetch_add(1, Ordering::Relaxed);
        if self.max != 0 && taken >= self.max {
            self.used.fetch_sub(1, Ordering::Relaxed);
            return None;
        }
        Some(Slot(Arc::clone(self)))
    }

    pub fn in_use(&self) -> u32 {
        self.used.load(Ordering::Relaxed)
    }
}

/// A connection's slots: the cluster's `max_connections`, and the host's count.
#[derive(Debug)]
pub struct ConnectionSlots {
    _cluster: Slot,
    _host: Slot,
}

impl ConnectionSlots {
    pub fn new(cluster: Slot, host: Slot) -> ConnectionSlots {
        ConnectionSlots {
            _cluster: cluster,
            _host: host,
        }
    }
}

#[derive(Debug)]
pub struct Resources {
    pub connections: Arc<Limit>,
    pub pending_requests: Arc<Limit>,
    pub requests: Arc<Limit>,
    pub retries: Arc<Limit>,
}

impl Resources {
    /// From the first `circuit_breakers` entry (MOSN reads one priority).
    pub fn new(config: &[CircuitBreaker]) -> Resources {
        let first = config.first().cloned().unwrap_or_default();
        Resources {
            connections: Limit::new(first.max_connections),
            pending_requests: Limit::new(first.max_pending_requests),
            requests: Limit::new(first.max_requests),
            retries: Limit::new(first.max_retries),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_run_out_and_come_back() {
        let limit = Limit::new(2);
        let a = limit.acquire().unwrap();
        let _b = limit.acquire().unwrap();
        assert!(limit.acquire().is_none());
        drop(a);
        assert!(limit.acquire().is_some());
        let unlimited = Limit::new(0);
        let held: Vec<_> = (0..1000).map(|_| unlimited.acquire().unwrap()).collect();
        assert_eq!(unlimited.in_use(), 1000);
        drop(held);
        assert_eq!(unlimited.in_use(), 0);
    }
}
