//! The cluster manager: every cluster by name, as the config gave them.

use std::sync::Arc;

use mosn_config::Diagnostics;
use mosn_config::diagnostics::index;
use mosn_config::model::ClusterManagerConfig;
use mosn_net::tls::ClientContext;
use rustc_hash::FxHashMap;

use crate::cluster::Cluster;

pub struct ClusterManager {
    /// Looked up by name for every request. Every key comes from the config, so an unkeyed
    /// hash is safe: a name a client sends (`cluster_header`) can be looked up, never added.
    clusters: FxHashMap<String, Arc<Cluster>>,
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
        ClusterManager { clusters }
    }

    pub fn get(&self, name: &str) -> Option<Arc<Cluster>> {
        self.clusters.get(name).cloned()
    }

    /// Every cluster now.
    pub fn all(&self) -> Vec<Arc<Cluster>> {
        self.clusters.values().cloned().collect()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.clusters.contains_key(name)
    }
}
