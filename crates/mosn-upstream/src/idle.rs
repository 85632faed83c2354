//! Pooled connections idle past their cluster's `idle_timeout` are closed as they wait, as
//! MOSN's idle checker closes them, and not only when their pool is next used: a host that is
//! sent no more requests keeps no connections open.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::MissedTickBehavior;

use crate::cluster::Cluster;

impl Cluster {
    /// Closes the pooled connections that have idled past `idle_timeout`, looking every half of
    /// it, forever; returns at once for a cluster without one. Run it as a task.
    pub async fn close_idle_connections(self: Arc<Self>) {
        let Some(limit) = self.idle_timeout else {
            return;
        };
        let mut check = tokio::time::interval((limit / 2).max(Duration::from_millis(1)));
        check.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            check.tick().await;
            for host in &self.hosts().hosts {
                host.http1_pool.close_expired(limit);
                host.http2_pool.close_expired(limit);
            }
        }
    }
}
