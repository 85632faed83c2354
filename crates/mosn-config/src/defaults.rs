//! MOSN's defaults, in one place, and the accessors that apply them.

use std::time::Duration;

use crate::model::{Cluster, Host, ServerConfig};

pub const GRACEFUL_TIMEOUT: Duration = Duration::from_secs(30);
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
pub const CONN_BUFFER_LIMIT_BYTES: u32 = 16 * 1024;
pub const LOG_LEVEL: &str = "INFO";
pub const ADMIN_ADDRESS: &str = "127.0.0.1";
pub const HOST_WEIGHT_MIN: u32 = 1;
pub const HOST_WEIGHT_MAX: u32 = 128;
pub const LB_TYPE: &str = "LB_ROUNDROBIN";
/// The port of a STRICT_DNS host written without one.
pub const STRICT_DNS_PORT: u16 = 80;

impl ServerConfig {
    pub fn graceful_timeout(&self) -> Duration {
        self.graceful_timeout.map_or(GRACEFUL_TIMEOUT, |d| d.get())
    }

    pub fn log_level(&self) -> &str {
        if self.default_log_level.is_empty() {
            LOG_LEVEL
        } else {
            &self.default_log_level
        }
    }
}

impl Cluster {
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
            .map(|d| d.get())
            .filter(|d| !d.is_zero())
            .unwrap_or(CONNECT_TIMEOUT)
    }

    /// Requests an upstream HTTP/1 connection carries before it is closed; without the key (or
    /// with 0) there is no limit. MOSN fills in 1024 but never reads the key, so its
    /// connections are reused for as long as they stay open; Envoy's default is no limit too.
    pub fn max_request_per_conn(&self) -> u32 {
        self.max_request_per_conn
            .filter(|n| *n > 0)
            .unwrap_or(u32::MAX)
    }

    pub fn conn_buffer_limit_bytes(&self) -> u32 {
        self.conn_buffer_limit_bytes
            .filter(|n| *n > 0)
            .unwrap_or(CONN_BUFFER_LIMIT_BYTES)
    }

    pub fn lb_type(&self) -> &str {
        if self.lb_type.is_empty() {
            LB_TYPE
        } else {
            &self.lb_type
        }
    }
}

impl Host {
    /// The weight, clamped into MOSN's range 1..=128.
    pub fn effective_weight(&self) -> u32 {
        self.weight.clamp(HOST_WEIGHT_MIN, HOST_WEIGHT_MAX)
    }
}
