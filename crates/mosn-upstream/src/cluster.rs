//! A cluster: its hosts, its load balancer, and connecting to one of its hosts.

use std::sync::Arc;
use std::time::Duration;

use mosn_config::Diagnostics;
use mosn_config::address::UpstreamAddress;
use mosn_config::diagnostics::join;
use mosn_config::model;
use mosn_net::Stream;

use crate::host::{Host, HostStats};
use crate::lb::{LbContext, LoadBalancer, for_lb_type};
use crate::resources::Resources;

pub struct Cluster {
    pub name: String,
    pub hosts: Vec<Arc<Host>>,
    pub connect_timeout: Duration,
    /// Requests a pooled HTTP/1 connection carries before it is closed.
    pub max_request_per_conn: u32,
    /// How long a pooled connection may stay idle; `None`: no limit.
    pub idle_timeout: Option<Duration>,
    pub resources: Resources,
    lb: Box<dyn LoadBalancer>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("cluster {0:?} has no host")]
    NoHost(String),
    #[error("connect to {host} failed: {reason}")]
    Failed { host: String, reason: String },
}

impl Cluster {
    /// Builds a cluster from validated config (validation reported the hosts whose address does
    /// not parse; they are left out here).
    pub fn from_config(config: &model::Cluster, path: &str, diags: &mut Diagnostics) -> Cluster {
        let strict_dns = config.kind.eq_ignore_ascii_case("STRICT_DNS");
        let hosts: Vec<Arc<Host>> = config
            .hosts
            .iter()
            .filter_map(|host| Host::from_config(host, strict_dns).ok())
            .map(Arc::new)
            .collect();
        let (lb, implemented) = for_lb_type(config.lb_type(), &hosts);
        if !implemented && mosn_config::LB_TYPES.contains(&config.lb_type()) {
            diags.warn(
                join(path, "lb_type"),
                format!(
                    "{} is not supported yet, using LB_ROUNDROBIN",
                    config.lb_type()
                ),
            );
        }
        Cluster {
            name: config.name.clone(),
            hosts,
            connect_timeout: config.connect_timeout(),
            max_request_per_conn: config.max_request_per_conn(),
            idle_timeout: config
                .idle_timeout
                .map(|d| d.get())
                .filter(|d| !d.is_zero()),
            resources: Resources::new(&config.circuit_breakers),
            lb,
        }
    }

    /// A host chosen by the load balancer, avoiding `tried` while untried hosts remain.
    pub fn choose_host(&self, tried: &[usize], context: &LbContext) -> Option<usize> {
        let count = self.hosts.len();
        let mut pick = self.lb.choose(&self.hosts, context)?;
        for _ in 0..count {
            if !tried.contains(&pick) {
                return Some(pick);
            }
            pick = (pick + 1) % count;
        }
        Some(pick)
    }

    /// Connects to a host, trying the next one on failure, `attempts` times in all.
    pub async fn connect(&self, attempts: u32) -> Result<(Stream, Arc<Host>), ConnectError> {
        let mut tried = Vec::new();
        let mut last_error = ConnectError::NoHost(self.name.clone());
        for _ in 0..attempts.max(1) {
            let Some(pick) = self.choose_host(&tried, &LbContext::default()) else {
                break;
            };
            tried.push(pick);
            let host = &self.hosts[pick];
            match self.connect_host(host).await {
                Ok(stream) => {
                    HostStats::count(&host.stats.connections_total);
                    return Ok((stream, Arc::clone(host)));
                }
                Err(reason) => {
                    HostStats::count(&host.stats.connect_failures);
                    tracing::debug!(cluster = %self.name, host = %host.address, "connect failed: {reason}");
                    last_error = ConnectError::Failed {
                        host: host.address.to_string(),
                        reason,
                    };
                }
            }
        }
        Err(last_error)
    }

    /// Connects to `host` within the cluster's connect timeout.
    pub async fn connect_host(&self, host: &Host) -> Result<Stream, String> {
        let attempt = async {
            match &host.address {
                UpstreamAddress::Ip(addr) => Stream::connect(*addr).await,
                UpstreamAddress::Unix(path) => Stream::connect_unix(path).await,
                UpstreamAddress::Name { name, port } => {
                    let mut found = tokio::net::lookup_host((name.as_str(), *port)).await?;
                    let addr = found
                        .next()
                        .ok_or_else(|| std::io::Error::other(format!("{name} has no address")))?;
                    Stream::connect(addr).await
                }
            }
        };
        match tokio::time::timeout(self.connect_timeout, attempt).await {
            Ok(result) => result.map_err(|err| err.to_string()),
            Err(_) => Err(format!("timed out after {:?}", self.connect_timeout)),
        }
    }
}
