//! Checks that need the whole decoded tree: addresses, names that refer to each other,
//! settings that exclude each other. Every problem names its JSON path.

use std::collections::HashSet;

use crate::address::{ListenAddress, parse_upstream_address};
use crate::defaults::{HOST_WEIGHT_MAX, HOST_WEIGHT_MIN, STRICT_DNS_PORT};
use crate::diagnostics::{Diagnostics, Severity, index, join};
use crate::model::{Cluster, FilterChain, Listener, MosnConfig, Processor, RouterConfiguration};

/// Cluster types MOSN knows; all but STRICT_DNS behave as SIMPLE here.
const CLUSTER_TYPES: &[&str] = &[
    "SIMPLE",
    "STRICT_DNS",
    "STATIC",
    "DYNAMIC",
    "EDS",
    "ORIGINAL_DST",
];

/// `lb_type` values MOSN knows. Unknown ones fall back to round robin, as in MOSN.
pub const LB_TYPES: &[&str] = &[
    "LB_ROUNDROBIN",
    "LB_RANDOM",
    "LB_WEIGHTED_ROUNDROBIN",
    "LB_ORIGINAL_DST",
    "LB_LEAST_REQUEST",
    "LB_MAGLEV",
    "LB_REQUEST_ROUNDROBIN",
    "LB_LEAST_CONNECTION",
    "LB_PEAK_EWMA",
];

/// The cluster names a config defines, which routes refer to.
type Clusters<'a> = HashSet<&'a str>;

/// Log levels MOSN's config accepts (uppercase only).
pub const LOG_LEVELS: &[&str] = &["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];

pub fn validate(config: &MosnConfig, diags: &mut Diagnostics) {
    match config.servers.len() {
        0 => diags.error(
            "servers",
            "no server found: a config needs exactly one server",
        ),
        1 => {}
        _ => diags.error("servers", "only one server is supported (as in MOSN)"),
    }
    for (key, present) in [
        ("dynamic_resources", config.dynamic_resources.is_some()),
        ("static_resources", config.static_resources.is_some()),
    ] {
        if present {
            diags.warn(key, "xDS is not supported yet: ignored");
        }
    }
    let clusters = unique_names(
        config
            .cluster_manager
            .clusters
            .iter()
            .map(|c| c.name.as_str()),
        "cluster_manager.clusters",
        "name",
        Severity::Warning,
        diags,
    );
    for (i, server) in config.servers.iter().enumerate() {
        let path = format!("servers[{i}].routers");
        unique_names(
            server.routers.iter().map(|r| r.router_config_name.as_str()),
            &path,
            "router_config_name",
            Severity::Warning,
            diags,
        );
    }

    for (i, cluster) in config.cluster_manager.clusters.iter().enumerate() {
        validate_cluster(cluster, &index("cluster_manager.clusters", i), diags);
    }
    for (i, server) in config.servers.iter().enumerate() {
        let server_path = index("servers", i);
        if let Processor::Unparsed(text) = &server.processor {
            diags.warn(
                join(&server_path, "processor"),
                format!(
                    "{text:?} is neither a number nor \"auto\": one worker per CPU, as MOSN does"
                ),
            );
        }
        if !server.default_log_level.is_empty()
            && !LOG_LEVELS.contains(&server.default_log_level.as_str())
        {
            diags.warn(
                join(&server_path, "default_log_level"),
                format!("unknown log level {:?} (expected one of {LOG_LEVELS:?}): using INFO, as MOSN does", server.default_log_level),
            );
        }
        let listeners = server
            .listeners
            .iter()
            .map(|l| l.name.as_str())
            .filter(|n| !n.is_empty());
        unique_names(
            listeners,
            &join(&server_path, "listeners"),
            "name",
            Severity::Error,
            diags,
        );
        for (j, listener) in server.listeners.iter().enumerate() {
            validate_listener(listener, &index(&join(&server_path, "listeners"), j), diags);
        }
        for (j, router) in server.routers.iter().enumerate() {
            validate_router(
                router,
                &index(&join(&server_path, "routers"), j),
                &clusters,
                diags,
            );
        }
    }
    if let Some(admin) = &config.admin
        && let Err(problem) = admin.address.socket_address.socket_addr()
    {
        diags.error("admin.address.socket_address.address", problem);
    }
}

/// Reports empty names (an error) and repeated ones (at `repeated` severity: MOSN lets a later
/// cluster or router replace an earlier one); returns the set of names.
fn unique_names<'a>(
    names: impl Iterator<Item = &'a str>,
    list_path: &str,
    key: &str,
    repeated: Severity,
    diags: &mut Diagnostics,
) -> HashSet<&'a str> {
    let mut seen = HashSet::new();
    for (i, name) in names.enumerate() {
        let path = join(&index(list_path, i), key);
        if name.is_empty() {
            diags.error(path, "must not be empty");
        } else if !seen.insert(name) {
            match repeated {
                Severity::Error => diags.error(path, format!("{name:?} is defined twice")),
                Severity::Warning => diags.warn(
                    path,
                    format!("{name:?} is defined twice: the later one wins, as in MOSN"),
                ),
            }
        }
    }
    seen
}

fn validate_cluster(cluster: &Cluster, path: &str, diags: &mut Diagnostics) {
    let kind = cluster.kind.to_ascii_uppercase();
    if !kind.is_empty() && !CLUSTER_TYPES.contains(&kind.as_str()) {
        diags.warn(
            join(path, "type"),
            format!("unknown cluster type {:?}, read as SIMPLE", cluster.kind),
        );
    }
    if !cluster.lb_type.is_empty() && !LB_TYPES.contains(&cluster.lb_type.as_str()) {
        diags.warn(
            join(path, "lb_type"),
            format!("unknown lb_type {:?}, using LB_ROUNDROBIN", cluster.lb_type),
        );
    }
    let default_port = (kind == "STRICT_DNS").then_some(STRICT_DNS_PORT);
    for (i, host) in cluster.hosts.iter().enumerate() {
        let host_path = index(&join(path, "hosts"), i);
        if let Err(problem) = parse_upstream_address(&host.address, default_port) {
            diags.error(join(&host_path, "address"), problem);
        }
        if host.weight != 0 && !(HOST_WEIGHT_MIN..=HOST_WEIGHT_MAX).contains(&host.weight) {
            diags.warn(
                join(&host_path, "weight"),
                format!(
                    "weight {} is outside 1..=128, clamped to {}",
                    host.weight,
                    host.effective_weight()
                ),
            );
        }
    }
}

fn validate_listener(listener: &Listener, path: &str, diags: &mut Diagnostics) {
    match listener.listen_address() {
        Err(problem) => diags.error(join(path, "address"), problem),
        Ok(ListenAddress::Udp(_)) => diags.warn(
            join(path, "network"),
            "udp listeners are not supported yet; this listener is skipped",
        ),
        Ok(_) => {}
    }
    if listener.filter_chains.len() != 1 {
        let found = listener.filter_chains.len();
        diags.error(
            join(path, "filter_chains"),
            format!("a listener needs exactly one filter chain (as in MOSN), found {found}"),
        );
    }
    if !listener.bind_port {
        diags.warn(
            join(path, "bind_port"),
            "false: this listener is not bound (as in MOSN, it would only take connections \
             redirected by use_original_dst, which is not supported yet)",
        );
    }
    for (i, chain) in listener.filter_chains.iter().enumerate() {
        validate_filter_chain(chain, &index(&join(path, "filter_chains"), i), diags);
    }
}

fn validate_filter_chain(chain: &FilterChain, path: &str, diags: &mut Diagnostics) {
    if chain.tls_context.is_some() && !chain.tls_context_set.is_empty() {
        diags.error(
            path,
            "tls_context and tls_context_set are both set: use one of them",
        );
    }
}

fn validate_router(
    router: &RouterConfiguration,
    path: &str,
    clusters: &Clusters,
    diags: &mut Diagnostics,
) {
    for (i, vhost) in router.virtual_hosts.iter().enumerate() {
        let vhost_path = index(&join(path, "virtual_hosts"), i);
        for (j, route) in vhost.routers.iter().enumerate() {
            let route_path = index(&join(&vhost_path, "routers"), j);
            if route.route.is_none() && route.redirect.is_none() && route.direct_response.is_none()
            {
                diags.warn(
                    &route_path,
                    "no route, redirect or direct_response: this route is skipped",
                );
            }
            if let Some(mirror) = &route.request_mirror_policies {
                let mirror_path = join(&join(&route_path, "request_mirror_policies"), "cluster");
                check_cluster_ref(&mirror.cluster, &mirror_path, clusters, diags);
            }
            let Some(action) = &route.route else { continue };
            let action_path = join(&route_path, "route");
            check_cluster_ref(
                &action.cluster_name,
                &join(&action_path, "cluster_name"),
                clusters,
                diags,
            );
            for (k, weighted) in action.weighted_clusters.iter().enumerate() {
                let cluster_path = join(
                    &index(&join(&action_path, "weighted_clusters"), k),
                    "cluster.name",
                );
                check_cluster_ref(&weighted.cluster.name, &cluster_path, clusters, diags);
            }
        }
    }
}

fn check_cluster_ref(name: &str, path: &str, clusters: &Clusters, diags: &mut Diagnostics) {
    if !name.is_empty() && !clusters.contains(name) {
        diags.error(
            path,
            format!("cluster {name:?} does not exist in cluster_manager.clusters"),
        );
    }
}
