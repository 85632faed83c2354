//! Built-in filters, registered under MOSN's type names.

pub mod network;
pub mod stream;

use std::sync::Arc;

use mosn_proxy::access_log::AccessLog;
use mosn_proxy::stream_filter::StreamFilterFactory;
use mosn_router::Routers;
use mosn_upstream::ClusterManager;

/// What filters may use when they are built from config.
pub struct FilterContext {
    pub clusters: Arc<ClusterManager>,
    pub routers: Arc<Routers>,
    /// The stream filters of the listener being built, for the `proxy` filter.
    pub stream_filters: Vec<Arc<dyn StreamFilterFactory>>,
    /// The access logs of the listener being built.
    pub access_logs: Vec<Arc<AccessLog>>,
}
