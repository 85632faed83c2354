use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::TlsConfig;
use crate::decode::list;
use crate::duration::GoDuration;

/// `cluster_manager`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClusterManagerConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_context: Option<TlsConfig>,
    pub cluster_pool_enable: bool,
    #[serde(deserialize_with = "list")]
    pub clusters: Vec<Cluster>,
    /// A directory of cluster files, one cluster per file.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub clusters_configs: String,
}

/// `cluster_manager.clusters[]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Cluster {
    pub name: String,
    /// SIMPLE, STRICT_DNS; STATIC, DYNAMIC, EDS and ORIGINAL_DST behave as SIMPLE.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub sub_type: String,
    pub lb_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_request_per_conn: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conn_buffer_limit_bytes: Option<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "list")]
    pub circuit_breakers: Vec<CircuitBreaker>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health_check: Option<HealthCheck>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lb_subset_config: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_dst_lb_config: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_context: Option<TlsConfig>,
    #[serde(deserialize_with = "list")]
    pub hosts: Vec<Host>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect_timeout: Option<GoDuration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keepalive: Option<Keepalive>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_timeout: Option<GoDuration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lbconfig: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns_refresh_rate: Option<GoDuration>,
    pub respect_dns_ttl: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub dns_lookup_family: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns_resolvers: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slow_start: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_manager_tls: Option<bool>,
}

/// `hosts[]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Host {
    /// `ip:port`, or `name:port` for STRICT_DNS.
    pub address: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub hostname: String,
    /// 1..=128; 0 (unset) means 1.
    pub weight: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    pub tls_disable: bool,
}

/// `circuit_breakers[]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CircuitBreaker {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub priority: String,
    pub max_connections: u32,
    pub max_pending_requests: u32,
    pub max_requests: u32,
    pub max_retries: u32,
}

/// `health_check`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HealthCheck {
    pub protocol: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<GoDuration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<GoDuration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval_jitter: Option<GoDuration>,
    pub initial_delay_seconds: Option<GoDuration>,
    pub healthy_threshold: u32,
    pub unhealthy_threshold: u32,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub service_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check_config: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub common_callbacks: Option<Value>,
}

/// `keepalive` of upstream connections.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Keepalive {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<GoDuration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<GoDuration>,
}
