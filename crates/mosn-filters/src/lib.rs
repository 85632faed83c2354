//! Built-in filters, registered under MOSN's type names.

pub mod network;

use std::sync::Arc;

use mosn_router::Routers;
use mosn_upstream::ClusterManager;

/// What filters may use when they are built from config.
pub struct FilterContext {
    pub clusters: Arc<ClusterManager>,
    pub routers: Arc<Routers>,
}
