//! The cluster manager: every cluster by name, swapped atomically when config changes.

use std::collections::HashMap;
use std::sync::Arc;

use arc_swap::ArcSwap;
use mosn_config::Diagnostics;
use mosn_config::diagnostics::index;
use mosn_config::model::ClusterManagerConfig;
use mosn_net::tls::ClientContext;

use crate::cluster::Cluster;

pub struct ClusterManager {
    clusters: ArcSwap<HashMap<String, Arc<Cluster>>>,
}

impl ClusterManager {
    pub fn from_config(config: &ClusterManagerConfig, diags: &mut Diagnostics) -> ClusterManager {
        let shared_tls = config
            .tls_context
            .as_ref()
            .filter(|tls| tls.status)
            .and_then(|tls| ClientContext::from_config(tls, "cluster_manager.tls_context", diags))
            .map(Arc::new);
        let clusters = config
            .clusters
            .iter()
            .enumerate()
            .map(|(i, cluster)| {
                let path = index("cluster_manager.clusters", i);
                let built = Cluster::from_config(cluster, &path, shared_tls.as_ref(), diags);
                (cluster.name.clone(), Arc::new(built))
            })
            .collect();
        ClusterManager {
            clusters: ArcSwap::from_pointee(clusters),
        }
    }

    pub fn get(&self, name: &str) -> Option<Arc<Cluster>> {
        self.clusters.load().get(name).cloned()
    }

    /// Every cluster now.
    pub fn all(&self) -> Vec<Arc<Cluster>> {
        self.clusters.load().values().cloned().collect()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.clusters.load().contains_key(name)
    }
}
