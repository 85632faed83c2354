//! The `proxy` network filter: HTTP/1.1 and HTTP/2 requests from clients walk MOSN's phases to
//! an upstream host chosen by the router and the cluster's load balancer, and the responses
//! come back. RPC frames (bolt, dubbo, ...) take the same router and clusters, many at once on
//! one connection.

pub mod access_log;
mod body;
mod client;
mod deadline;
mod downstream;
mod exchange;
mod h2_body;
mod http2_settings;
mod mirror;
mod phase;
mod replay;
mod reply;
mod rpc_call;
mod serve;
mod serve_h2;
mod serve_rpc;
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
use mosn_protocol::detect::Protocol;
use mosn_protocol::xprotocol::Registry;
use mosn_router::{RouteTable, Routers};
use mosn_upstream::ClusterManager;
use serde_json::{Map, Value};

use access_log::AccessLog;
pub use settings::Settings;
use settings::Speaks;
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

struct ProxyFilter {
    shared: Arc<Shared>,
    /// Where clients of an unknown protocol go (`fallback_for_unknown_protocol`).
    fallback: Option<Arc<dyn TerminalFilter>>,
}

impl TerminalFilter for ProxyFilter {
    fn serve(&self, connection: Connection) -> BoxFuture {
        let shared = Arc::clone(&self.shared);
        Box::pin(serve::serve(shared, connection, self.fallback.clone()))
    }

    fn followed_by(&self, next: Arc<dyn TerminalFilter>) -> Option<Arc<dyn TerminalFilter>> {
        self.shared.settings.fallback.then(|| {
            Arc::new(ProxyFilter {
                shared: Arc::clone(&self.shared),
                fallback: Some(next),
            }) as Arc<dyn TerminalFilter>
        })
    }

    /// Every protocol the proxy speaks starts with the client's request, and telling them
    /// apart (`Auto`, with or without a fallback) waits for the client's first bytes.
    fn client_speaks_first(&self) -> bool {
        true
    }

    fn alpn(&self) -> Vec<Vec<u8>> {
        let speaks = |protocol| {
            let wanted = Speaks::Http(protocol);
            self.shared.settings.downstream.contains(&wanted)
        };
        [
            (Protocol::Http2, b"h2".as_slice()),
            (Protocol::Http1, b"http/1.1"),
        ]
        .into_iter()
        .filter(|(protocol, _)| speaks(*protocol))
        .map(|(_, name)| name.to_vec())
        .collect()
    }
}

/// Adds the one `ProxyFilter` of a listener to each connection's chain.
struct ProxyFactory(Arc<ProxyFilter>);

impl NetworkFilterFactory for ProxyFactory {
    fn add_to_chain(&self, chain: &mut ChainBuilder) {
        chain.terminate(Arc::clone(&self.0) as Arc<dyn TerminalFilter>);
    }
}

/// What filters may use when they are built from config.
pub struct FilterContext {
    pub clusters: Arc<ClusterManager>,
    pub routers: Arc<Routers>,
    /// The stream filters of the listener being built, for the `proxy` filter.
    pub stream_filters: Vec<Arc<dyn StreamFilterFactory>>,
    /// The access logs of the listener being built.
    pub access_logs: Vec<Arc<AccessLog>>,
    /// The RPC codecs `proxy` filters may speak, by protocol name.
    pub codecs: Arc<Registry>,
}

/// Builds the filter from its config at `path`.
pub fn build(
    config: &Map<String, Value>,
    context: &FilterContext,
    path: &str,
    diags: &mut Diagnostics,
) -> Option<Arc<dyn NetworkFilterFactory>> {
    let config: ProxyConfig = decode(&Value::Object(config.clone()), path, diags)?;
    let settings = Settings::new(&config, &context.codecs, path, diags)?;
    let Some(table) = context.routers.get(&config.router_config_name) else {
        let name = &config.router_config_name;
        diags.error(
            join(path, "router_config_name"),
            format!("router {name:?} does not exist in servers[].routers"),
        );
        return None;
    };
    let shared = Arc::new(Shared {
        table,
        clusters: Arc::clone(&context.clusters),
        settings,
        stream_filters: context.stream_filters.clone(),
        access_logs: context.access_logs.clone(),
    });
    Some(Arc::new(ProxyFactory(Arc::new(ProxyFilter {
        shared,
        fallback: None,
    }))))
}
