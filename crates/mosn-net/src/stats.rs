//! Per-listener connection counters.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct ListenerStats {
    connections_total: AtomicU64,
    connections_active: AtomicU64,
}

impl ListenerStats {
    pub fn connections_total(&self) -> u64 {
        self.connections_total.load(Ordering::Relaxed)
    }

    pub fn connections_active(&self) -> u64 {
        self.connections_active.load(Ordering::Relaxed)
    }

    /// Counts a new connection; it stays active until the returned guard drops.
    pub fn open(self: &Arc<Self>) -> ActiveConnection {
        self.connections_total.fetch_add(1, Ordering::Relaxed);
        self.connections_active.fetch_add(1, Ordering::Relaxed);
        ActiveConnection(Arc::clone(self))
    }
}

pub struct ActiveConnection(Arc<ListenerStats>);

impl Drop for ActiveConnection {
    fn drop(&mut self) {
        self.0.connections_active.fetch_sub(1, Ordering::Relaxed);
    }
}
