//! `tcp_proxy`: each downstream connection gets an upstream connection to a host of the routed
//! cluster, and bytes flow both ways until both sides have closed or the connection idles out.

mod route;

use std::sync::Arc;
use std::time::Duration;

use mosn_config::Diagnostics;
use mosn_config::decode::decode;
use mosn_config::diagnostics::{index, join};
use mosn_config::model::TcpProxyConfig;
use mosn_net::filter::BoxFuture;
use mosn_net::idle::Activity;
use mosn_net::pump::{Early, pump};
use mosn_net::{ChainBuilder, Connection, NetworkFilterFactory, Stream, TerminalFilter};
use mosn_upstream::ClusterManager;
use serde_json::{Map, Value};

use crate::FilterContext;
pub use route::Routes;

pub const NAME: &str = "tcp_proxy";

/// MOSN tries up to this many hosts when `max_connect_attempts` is not set.
const DEFAULT_CONNECT_ATTEMPTS: u32 = 3;

pub struct TcpProxy {
    routes: Routes,
    /// Set and non-zero: it wins over the listener's `connection_idle_timeout`.
    idle_timeout: Option<Duration>,
    /// `None`: one per host of the cluster, at most [`DEFAULT_CONNECT_ATTEMPTS`].
    connect_attempts: Option<u32>,
    clusters: Arc<ClusterManager>,
}

/// The registry's builder for `tcp_proxy`.
pub fn build(
    config: &Map<String, Value>,
    context: &FilterContext,
    path: &str,
    diags: &mut Diagnostics,
) -> Option<Arc<dyn NetworkFilterFactory>> {
    let config: TcpProxyConfig = decode(&Value::Object(config.clone()), path, diags)?;
    let routes = Routes::new(&config, path, diags)?;
    // The clusters connections can go to: `cluster` when set (routes are ignored then), else
    // each route's.
    let targets: Vec<(&str, String)> = if config.cluster.is_empty() {
        let route_path = |i| join(&index(&join(path, "routes"), i), "Cluster");
        config
            .routes
            .iter()
            .enumerate()
            .map(|(i, r)| (r.cluster.as_str(), route_path(i)))
            .collect()
    } else {
        vec![(config.cluster.as_str(), join(path, "cluster"))]
    };
    let before = diags.items().len();
    for (name, at) in targets
        .into_iter()
        .filter(|(name, _)| !context.clusters.contains(name))
    {
        diags.error(
            at,
            format!("cluster {name:?} does not exist in cluster_manager.clusters"),
        );
    }
    if diags.items().len() > before {
        return None;
    }
    let proxy = TcpProxy {
        routes,
        idle_timeout: config.idle_timeout.map(|d| d.0).filter(|d| !d.is_zero()),
        connect_attempts: Some(config.max_connect_attempts).filter(|n| *n > 0),
        clusters: Arc::clone(&context.clusters),
    };
    Some(Arc::new(TcpProxyFactory(Arc::new(proxy))))
}

struct TcpProxyFactory(Arc<TcpProxy>);

impl NetworkFilterFactory for TcpProxyFactory {
    fn add_to_chain(&self, chain: &mut ChainBuilder) {
        chain.terminate(Arc::clone(&self.0) as Arc<dyn TerminalFilter>);
    }
}

impl TerminalFilter for TcpProxy {
    fn serve(&self, connection: Connection) -> BoxFuture {
        let routes_cluster = self
            .routes
            .cluster_for(connection.info.remote.ip(), connection.info.local.ip())
            .and_then(|name| {
                self.clusters
                    .get(name)
                    .ok_or(name)
                    .map_err(|name| log_missing(name, &connection))
                    .ok()
            });
        let idle_timeout = self.idle_timeout.or(connection.idle_limit());
        let attempts = self.connect_attempts;
        Box::pin(async move {
            let Some(cluster) = routes_cluster else {
                tracing::warn!(
                    connection = connection.info.id,
                    "tcp_proxy: no route for this connection, closed"
                );
                return;
            };
            let attempts = attempts.unwrap_or_else(|| {
                (cluster.hosts().hosts.len() as u32).clamp(1, DEFAULT_CONNECT_ATTEMPTS)
            });
            let upstream = match cluster.connect(attempts).await {
                Ok((stream, _host)) => stream,
                Err(err) => {
                    tracing::warn!(connection = connection.info.id, cluster = %cluster.name, "tcp_proxy: {err}");
                    return;
                }
            };
            relay(connection, upstream, idle_timeout).await;
        })
    }
}

fn log_missing(name: &str, connection: &Connection) {
    tracing::warn!(
        connection = connection.info.id,
        "tcp_proxy: cluster {name:?} does not exist"
    );
}

/// Copies both ways until both directions have ended, one fails, or nothing moves for
/// `idle_timeout`. Half-close passes through: each end of stream becomes a write shutdown.
async fn relay(connection: Connection, upstream: Stream, idle_timeout: Option<Duration>) {
    let Connection {
        info,
        stream: downstream,
        early,
        held,
        mut read_filters,
        mut write_filters,
        ..
    } = connection;
    let activity = Activity::default();
    let early = Early {
        passed: early,
        held,
    };
    let down_to_up = pump(&downstream, &upstream, &activity, early, |data, end| {
        read_filters.on_data(data, end)
    });
    let up_to_down = pump(
        &upstream,
        &downstream,
        &activity,
        Early::default(),
        |data, _| write_filters.on_write(data),
    );
    tokio::select! {
        result = async { tokio::try_join!(down_to_up, up_to_down) } => {
            if let Err(err) = result {
                tracing::debug!(connection = info.id, "tcp_proxy: closed on error: {err}");
            }
        }
        () = activity.idle(idle_timeout) => {
            tracing::debug!(connection = info.id, "tcp_proxy: idle for {idle_timeout:?}, closed");
        }
    }
}
