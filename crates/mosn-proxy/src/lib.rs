//! The `proxy` network filter: HTTP/1.1 and HTTP/2 requests from clients walk MOSN's phases to
//! an upstream host chosen by the router and the cluster's load balancer, and the responses
//! come back.

pub mod access_log;
mod body;
mod client;
mod downstream;
mod exchange;
mod h2_body;
mod mirror;
mod phase;
mod reply;
mod serve;
mod serve_h2;
mod settings;
pub mod stream_filter;
mod tunnel;

use std::sync::Arc;

use mosn_config::Diagnostics;
use mosn_config::decode::decode;
use mosn_config::diagnostics::join;
use mosn_config::model::ProxyConfig;
use mosn_net::filter::BoxFuture;
use mosn_net::{ChainBuilder, Connection, NetworkFilterFactory, TerminalFilter};
use mosn_router::{RouteTable, Routers};
use mosn_upstream::ClusterManager;
use serde_json::{Map, Value};

use access_log::AccessLog;
pub use settings::Settings;
use stream_filter::StreamFilterFactory;

pub const NAME: &str = "proxy";

/// What every connection of one `proxy` filter shares.
pub struct Shared {
    pub table: Arc<RouteTable>,
    pub clusters: Arc<ClusterManager>,
    pub settings: Settings,
    /// The listener's `stream_filters`, in order.
    pub stream_filters: Vec<Arc<dyn StreamFilterFactory>>,
    /// The listener's access logs.
    pub access_logs: Vec<Arc<AccessLog>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionNext {
    KeepAlive,
    Close,
}

struct ProxyFilter(Arc<Shared>);

impl TerminalFilter for ProxyFilter {
    fn serve(&self, connection: Connection) -> BoxFuture {
        let shared = Arc::clone(&self.0);
        Box::pin(serve::serve(shared, connection))
    }
}

impl NetworkFilterFactory for ProxyFilter {
    fn add_to_chain(&self, chain: &mut ChainBuilder) {
        chain.terminate(Arc::new(ProxyFilter(Arc::clone(&self.0))));
    }
}

/// Builds the filter from its config at `path`.
pub fn build(
    config: &Map<String, Value>,
    routers: &Routers,
    clusters: &Arc<ClusterManager>,
    stream_filters: &[Arc<dyn StreamFilterFactory>],
    access_logs: &[Arc<AccessLog>],
    path: &str,
    diags: &mut Diagnostics,
) -> Option<Arc<dyn NetworkFilterFactory>> {
    let config: ProxyConfig = decode(&Value::Object(config.clone()), path, diags)?;
    let settings = Settings::new(&config, path, diags)?;
    let Some(table) = routers.get(&config.router_config_name) else {
        let name = &config.router_config_name;
        diags.error(
            join(path, "router_config_name"),
            format!("router {name:?} does not exist in servers[].routers"),
        );
        return None;
    };
    Some(Arc::new(ProxyFilter(Arc::new(Shared {
        table,
        clusters: Arc::clone(clusters),
        settings,
        stream_filters: stream_filters.to_vec(),
        access_logs: access_logs.to_vec(),
    }))))
}
