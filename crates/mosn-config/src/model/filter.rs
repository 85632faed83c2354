use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::decode::list;
use crate::duration::Nanoseconds;

/// A filter as listed in a chain: `{"type": NAME, "config": {...}}`. Its config is read by
/// the filter registered under `type`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Filter {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub config: Map<String, Value>,
}

/// The `tcp_proxy` network filter's config.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TcpProxyConfig {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub stat_prefix: String,
    /// Set: every connection goes to this cluster and `routes` are not looked at (as in MOSN).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cluster: String,
    /// A Go `time.Duration` in MOSN: integer nanoseconds (a Go string is taken too).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_timeout: Option<Nanoseconds>,
    pub max_connect_attempts: u32,
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "list")]
    pub routes: Vec<TcpRoute>,
}

/// A `tcp_proxy` route: connections from `SourceAddrs`/`SourcePort` to
/// `DestinationAddrs`/`DestinationPort` go to `cluster`. MOSN's keys here are Go field names
/// (no JSON tags); the snake_case spellings are accepted too. An empty list matches anything
/// (MOSN matches nothing then, so a route must list all four there).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TcpRoute {
    #[serde(rename = "Cluster", alias = "cluster")]
    pub cluster: String,
    #[serde(
        rename = "SourceAddrs",
        alias = "source_addrs",
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "list"
    )]
    pub source_addrs: Vec<CidrRange>,
    #[serde(
        rename = "DestinationAddrs",
        alias = "destination_addrs",
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "list"
    )]
    pub destination_addrs: Vec<CidrRange>,
    /// Ports and ranges: `"80,8000-9000"`.
    #[serde(
        rename = "SourcePort",
        alias = "source_port",
        skip_serializing_if = "String::is_empty"
    )]
    pub source_port: String,
    #[serde(
        rename = "DestinationPort",
        alias = "destination_port",
        skip_serializing_if = "String::is_empty"
    )]
    pub destination_port: String,
}

/// `{"Address": "10.0.0.0", "Length": 8}` (Go field names; any case).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CidrRange {
    #[serde(rename = "Address")]
    pub address: String,
    #[serde(rename = "Length")]
    pub length: u32,
}

/// The `proxy` network filter's config (the HTTP and RPC proxy).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProxyConfig {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    pub downstream_protocol: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub upstream_protocol: String,
    pub fallback_for_unknown_protocol: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub router_config_name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub router_handler_name: String,
    pub validate_clusters: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extend_config: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency_num: Option<u32>,
}

/// `access_logs[]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AccessLog {
    pub log_path: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub log_format: String,
}
