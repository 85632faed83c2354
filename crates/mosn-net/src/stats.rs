//! Counters of listeners and clusters, for the admin API.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A counter that only goes up.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    pub fn add(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

#[derive(Debug, Default)]
pub struct ListenerStats {
    connections_total: Counter,
    connections_active: AtomicU64,
    pub tls: TlsStats,
    /// Clients of an `inspector` listener served plaintext.
    pub tls_plaintext: Counter,
}

/// Handshakes of a listener (as server) or a cluster (as client).
#[derive(Debug, Default)]
pub struct TlsStats {
    pub handshakes: Counter,
    /// Failed, refused, cut short or timed out.
    pub handshake_failures: Counter,
}

/// A cluster's counters.
#[derive(Debug, Default)]
pub struct ClusterStats {
    pub tls: TlsStats,
}

impl ListenerStats {
    pub fn connections_total(&self) -> u64 {
        self.connections_total.get()
    }

    pub fn connections_active(&self) -> u64 {
        self.connections_active.load(Ordering::Relaxed)
    }

    /// Counts a new connection; it stays active until the returned guard drops.
    pub fn open(self: &Arc<Self>) -> ActiveConnection {
        self.connections_total.add();
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
