use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::decode::list;
use crate::duration::GoDuration;

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
    /// The cluster used when no route matches.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cluster: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_timeout: Option<GoDuration>,
    pub max_connect_attempts: u32,
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "list")]
    pub routes: Vec<TcpRoute>,
}

/// A `tcp_proxy` route: connections from `source_addrs` to `destination_addrs` go to `cluster`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TcpRoute {
    pub cluster: String,
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "list")]
    pub source_addrs: Vec<CidrRange>,
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "list")]
    pub destination_addrs: Vec<CidrRange>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub source_ports: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub destination_ports: String,
}

/// `{"address": "10.0.0.0", "length": 8}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CidrRange {
    pub address: String,
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
