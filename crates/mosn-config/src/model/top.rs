use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{ClusterManagerConfig, ServerConfig};
use crate::decode::list;

/// The whole file: `mosn start -c FILE` reads one of these.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MosnConfig {
    #[serde(deserialize_with = "list")]
    pub servers: Vec<ServerConfig>,
    pub cluster_manager: ClusterManagerConfig,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin: Option<AdminConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pprof: Option<PprofConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracing: Option<TracingConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics: Option<MetricsConfig>,
    pub disable_upgrade: bool,
    pub inherit_old_mosnconfig: bool,
    /// Path of the pid file.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub pid: String,
    /// Directory of the hot-upgrade Unix sockets; by default the config file's directory.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub uds_dir: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dynamic_resources: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub static_resources: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plugin: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub third_part_codec: Option<Value>,
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "list")]
    pub extends: Vec<ExtendConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wasm_global_plugins: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub close_graceful: Option<bool>,
}

/// `admin`: `{"address": {"socket_address": {"address": ..., "port_value": ...}}}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AdminConfig {
    pub address: AdminAddress,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AdminAddress {
    pub socket_address: SocketAddress,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SocketAddress {
    pub address: String,
    pub port_value: u16,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PprofConfig {
    pub debug: bool,
    pub port_value: u16,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TracingConfig {
    pub enable: bool,
    pub tracer: String,
    pub driver: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MetricsConfig {
    #[serde(deserialize_with = "list")]
    pub sinks: Vec<MetricsSink>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stats_matcher: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shm_zone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shm_size: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flush_mosn: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lazy_flush: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MetricsSink {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<Value>,
}

/// `extends[]`: a typed block for an extension (`{"type": ..., "config": ...}`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExtendConfig {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<Value>,
}
