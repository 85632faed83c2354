//! Turns a validated config into the parts the server runs: the cluster manager and each
//! listener's spec with its filter chain. Binds nothing, so `mosn check` runs it too.

use std::path::Path;
use std::sync::Arc;

use mosn_config::address::ListenAddress;
use mosn_config::diagnostics::{index, join};
use mosn_config::model::Listener;
use mosn_config::{Diagnostics, MosnConfig};
use mosn_filters::network::NetworkFilterRegistry;
use mosn_filters::stream::StreamFilterRegistry;
use mosn_filters::{Codecs, FilterContext};
use mosn_net::listener::ListenerSpec;
use mosn_net::registry::Registry;
use mosn_net::stats::ListenerStats;
use mosn_net::tls::ListenerTls;
use mosn_net::{FilterChainFactory, ListenerFilter};
use mosn_proxy::access_log::AccessLog;
use mosn_router::Routers;
use mosn_upstream::ClusterManager;

type ListenerFilterRegistry = Registry<dyn ListenerFilter, FilterContext>;

pub struct Prepared {
    pub clusters: Arc<ClusterManager>,
    pub listeners: Vec<Arc<ListenerSpec>>,
    /// Every access log, for SIGUSR1 to reopen.
    pub access_logs: Vec<Arc<AccessLog>>,
}

/// What `prepare` is for: running (files are opened, in `logs`), or checking (nothing opened).
pub enum Purpose<'a> {
    Run { logs: &'a Path },
    Check,
}

pub fn prepare(config: &MosnConfig, purpose: &Purpose, diags: &mut Diagnostics) -> Prepared {
    let clusters = Arc::new(ClusterManager::from_config(&config.cluster_manager, diags));
    let router_configs = config.servers.iter().enumerate().flat_map(|(i, server)| {
        let routers = join(&index("servers", i), "routers");
        server
            .routers
            .iter()
            .enumerate()
            .map(move |(j, router)| (index(&routers, j), router))
    });
    let routers = Arc::new(Routers::new(router_configs, diags));
    let context = FilterContext {
        clusters: Arc::clone(&clusters),
        routers,
        stream_filters: Vec::new(),
        access_logs: Vec::new(),
        codecs: Arc::new(Codecs::default()),
    };
    let registries = Registries {
        network: mosn_filters::network::registry(),
        stream: mosn_filters::stream::registry(),
        listener: Registry::new("listener filter", &["original_dst"]),
    };
    let mut listeners = Vec::new();
    let mut access_logs = Vec::new();
    for (i, server) in config.servers.iter().enumerate() {
        for (j, listener) in server.listeners.iter().enumerate() {
            let path = index(&join(&index("servers", i), "listeners"), j);
            let logs = open_access_logs(listener, &path, purpose, diags);
            access_logs.extend(logs.iter().cloned());
            if let Some(spec) = listener_spec(listener, &path, &registries, &context, logs, diags) {
                listeners.push(Arc::new(spec));
            }
        }
    }
    Prepared {
        clusters,
        listeners,
        access_logs,
    }
}

/// Every filter registry, by kind.
struct Registries {
    network: NetworkFilterRegistry,
    stream: StreamFilterRegistry,
    listener: ListenerFilterRegistry,
}

fn listener_spec(
    listener: &Listener,
    path: &str,
    registries: &Registries,
    base: &FilterContext,
    access_logs: Vec<Arc<AccessLog>>,
    diags: &mut Diagnostics,
) -> Option<ListenerSpec> {
    let stream_filters = listener
        .stream_filters
        .iter()
        .enumerate()
        .filter_map(|(i, f)| {
            registries
                .stream
                .build(f, base, &index(&join(path, "stream_filters"), i), diags)
        })
        .collect();
    let context = &FilterContext {
        clusters: Arc::clone(&base.clusters),
        routers: Arc::clone(&base.routers),
        stream_filters,
        access_logs,
        codecs: Arc::clone(&base.codecs),
    };
    let listener_filters = listener
        .listener_filters
        .iter()
        .enumerate()
        .filter_map(|(i, f)| {
            registries.listener.build(
                f,
                context,
                &index(&join(path, "listener_filters"), i),
                diags,
            )
        })
        .collect();
    let chain_path = index(&join(path, "filter_chains"), 0);
    let chain = listener.filter_chains.first()?;
    let factories = chain
        .filters
        .iter()
        .enumerate()
        .filter_map(|(i, f)| {
            registries
                .network
                .build(f, context, &index(&join(&chain_path, "filters"), i), diags)
        })
        .collect();
    let network_chain = FilterChainFactory::new(factories);
    let tls = ListenerTls::from_config(
        &listener.name,
        chain,
        &chain_path,
        listener.inspector,
        network_chain.alpn(),
        diags,
    );
    if listener.inspector && tls.is_none() {
        diags.warn(
            join(path, "inspector"),
            "has no effect: the filter chain has no TLS context with status true",
        );
    }
    if !network_chain.serves_connections() {
        // MOSN accepts such a listener and closes every connection it gets: refuse it instead.
        diags.error(
            join(&chain_path, "filters"),
            "no filter here serves connections (tcp_proxy or proxy); those listed were skipped",
        );
    }
    // Validation has said why a listener without a usable address is left out; its filters
    // were still built above, so that their problems are reported too.
    let address = listener.listen_address().ok()?;
    if matches!(address, ListenAddress::Udp(_)) || !listener.bind_port {
        return None;
    }
    Some(ListenerSpec {
        name: listener.name.as_str().into(),
        address,
        reuseport: listener.reuseport,
        listener_filters,
        defer_accept: network_chain.client_speaks_first(),
        chain: network_chain,
        idle_timeout: listener.connection_idle_timeout.map(|d| d.get()),
        stats: Arc::new(ListenerStats::default()),
        tls: tls.map(Arc::new),
    })
}

/// Opens a listener's access logs; an empty `log_path` is `<logs>/<listener>_access.log`, as in
/// MOSN. A log that cannot be opened is an error: the process does not start.
fn open_access_logs(
    listener: &Listener,
    path: &str,
    purpose: &Purpose,
    diags: &mut Diagnostics,
) -> Vec<Arc<AccessLog>> {
    let Purpose::Run { logs } = purpose else {
        return Vec::new();
    };
    let mut opened = Vec::new();
    for (i, config) in listener.access_logs.iter().enumerate() {
        let file = match config.log_path.as_str() {
            "" => logs
                .join(format!("{}_access.log", listener.name))
                .display()
                .to_string(),
            given => given.to_string(),
        };
        match AccessLog::open(&file, &config.log_format) {
            Ok(log) => opened.push(Arc::new(log)),
            Err(err) => diags.error(
                join(&index(&join(path, "access_logs"), i), "log_path"),
                format!("cannot open {file}: {err}"),
            ),
        }
    }
    opened
}

#[cfg(test)]
mod tests {
    use mosn_config::{Format, parse_text};

    use super::*;

    fn listener(name: &str, port: u16, filters: &str) -> String {
        format!(
            r#"{{"name": "{name}", "address": "127.0.0.1:{port}", "bind_port": true,
                "filter_chains": [{{"filters": {filters}}}]}}"#
        )
    }

    #[test]
    fn only_listeners_whose_clients_speak_first_defer_their_accepts() {
        let proxy = r#"{"type": "proxy", "config": {"downstream_protocol": "Auto",
            "upstream_protocol": "Http1", "router_config_name": "r",
            "fallback_for_unknown_protocol": true}}"#;
        let tcp_proxy = r#"{"type": "tcp_proxy", "config": {"cluster": "c"}}"#;
        let listeners = [
            listener("http", 1, &format!("[{proxy}]")),
            listener("tcp", 2, &format!("[{tcp_proxy}]")),
            listener("mixed", 3, &format!("[{proxy}, {tcp_proxy}]")),
        ];
        let text = format!(
            r#"{{"servers": [{{"routers": [{{"router_config_name": "r"}}],
                "listeners": [{}]}}],
              "cluster_manager": {{"clusters": [{{"name": "c", "type": "SIMPLE",
                "lb_type": "LB_ROUNDROBIN", "hosts": [{{"address": "127.0.0.1:9"}}]}}]}}}}"#,
            listeners.join(",")
        );
        let config = parse_text(&text, Format::Json)
            .expect("a valid config")
            .config;
        let mut diags = Diagnostics::default();
        let prepared = prepare(&config, &Purpose::Check, &mut diags);
        assert!(!diags.has_errors(), "{:?}", diags.into_items());
        let deferred: Vec<(&str, bool)> = prepared
            .listeners
            .iter()
            .map(|spec| (&*spec.name, spec.defer_accept))
            .collect();
        // A tcp_proxy backend may speak first (SMTP, MySQL): its clients then wait for it.
        assert_eq!(deferred, [("http", true), ("tcp", false), ("mixed", true)]);
    }
}
