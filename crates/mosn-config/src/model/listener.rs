use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{AccessLog, Filter, TlsConfig};
use crate::decode::list;
use crate::duration::GoDuration;

/// `servers[].listeners[]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Listener {
    pub name: String,
    /// `ingress` or `egress`: a label, as in MOSN.
    #[serde(rename = "type", skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// `ip:port` for tcp and udp, a file path for unix.
    pub address: String,
    pub bind_port: bool,
    pub reuseport: bool,
    /// `tcp` (the default), `unix` or `udp`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub network: String,
    /// `"redirect"` or `"tproxy"`; anything else is off.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub use_original_dst: String,
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "list")]
    pub access_logs: Vec<AccessLog>,
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "list")]
    pub listener_filters: Vec<Filter>,
    #[serde(deserialize_with = "list")]
    pub filter_chains: Vec<FilterChain>,
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "list")]
    pub stream_filters: Vec<Filter>,
    pub inspector: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_idle_timeout: Option<GoDuration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_read_buffer_size: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_connection_buffer_limit_bytes: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handoff_restoreddestination_connections: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_dst: Option<Value>,
}

/// `filter_chains[]`: the network filters a connection goes through.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FilterChain {
    #[serde(rename = "match", skip_serializing_if = "String::is_empty")]
    pub filter_chain_match: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_context: Option<TlsConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "list")]
    pub tls_context_set: Vec<TlsConfig>,
    #[serde(deserialize_with = "list")]
    pub filters: Vec<Filter>,
}
