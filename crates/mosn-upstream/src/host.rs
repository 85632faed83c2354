//! An upstream host and its counters.

use mosn_config::address::{UpstreamAddress, parse_upstream_address};
use mosn_config::defaults::STRICT_DNS_PORT;
use mosn_config::model;
use mosn_net::tls::ServerName;
use serde_json::Value;

use std::sync::Arc;

use crate::ewma::Ewma;
use crate::http1_pool::Http1Pool;
use crate::http2_pool::Http2Pool;
use crate::resources::Limit;
use crate::rpc_pool::RpcPool;

pub struct Host {
    pub address: UpstreamAddress,
    /// `address` as configured: a STRICT_DNS name gives several hosts with the same one.
    pub config_address: String,
    pub hostname: String,
    pub weight: u32,
    pub metadata: Option<Value>,
    pub http1_pool: Http1Pool,
    pub http2_pool: Http2Pool,
    pub rpc_pool: RpcPool,
    /// Requests in flight to this host (least request, peak EWMA).
    pub requests: Arc<Limit>,
    /// Connections open to this host (least connection).
    pub connections: Arc<Limit>,
    pub latency: Ewma,
    /// Plaintext even when the cluster has TLS.
    pub tls_disable: bool,
    /// The name its certificate must hold when the cluster sets no `server_name`: the DNS name
    /// it is configured with (kept once STRICT_DNS resolves it), else its IP address.
    pub tls_name: Option<ServerName<'static>>,
}

impl Host {
    /// Builds a host from config that validation has checked. A STRICT_DNS host may leave out
    /// its port (80).
    pub fn from_config(host: &model::Host, strict_dns: bool) -> Result<Host, String> {
        let default_port = strict_dns.then_some(STRICT_DNS_PORT);
        let address = parse_upstream_address(&host.address, default_port)?;
        let tls_name = match &address {
            UpstreamAddress::Ip(addr) => Some(ServerName::IpAddress(addr.ip().into())),
            UpstreamAddress::Name { name, .. } => ServerName::try_from(name.clone()).ok(),
            UpstreamAddress::Unix(_) => None,
        };
        Ok(Host {
            address,
            config_address: host.address.clone(),
            hostname: host.hostname.clone(),
            weight: host.effective_weight(),
            metadata: host.metadata.clone(),
            http1_pool: Http1Pool::default(),
            http2_pool: Http2Pool::default(),
            rpc_pool: RpcPool::default(),
            requests: Arc::new(Limit::default()),
            connections: Arc::new(Limit::default()),
            latency: Ewma::default(),
            tls_disable: host.tls_disable,
            tls_name,
        })
    }
}
