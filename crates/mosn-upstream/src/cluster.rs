//! A cluster: its hosts, its load balancer, and connecting to one of its hosts.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use mosn_config::Diagnostics;
use mosn_config::address::UpstreamAddress;
use mosn_config::diagnostics::join;
use mosn_config::model;
use mosn_net::Stream;
use mosn_net::stats::ClusterStats;
use mosn_net::tls::{AppProtocol, ClientContext};

use crate::host::Host;
use crate::lb::{LbContext, LoadBalancer, for_lb_type};
use crate::resources::Resources;
use crate::rpc_pool::Keepalive;

/// The hosts of a cluster at one moment, with the balancer built over them. Replaced whole when
/// the hosts change (a DNS refresh); readers take no lock.
pub struct HostSet {
    pub hosts: Vec<Arc<Host>>,
    lb: Box<dyn LoadBalancer>,
}

pub struct Cluster {
    pub name: String,
    host_set: ArcSwap<HostSet>,
    lb_type: String,
    /// The hosts as configured (STRICT_DNS re-resolves their names).
    pub(crate) configured: Vec<model::Host>,
    pub(crate) dns_refresh_rate: Option<Duration>,
    pub connect_timeout: Duration,
    /// Requests a pooled HTTP/1 connection carries before it is closed (`u32::MAX`: no limit).
    pub max_request_per_conn: u32,
    /// How long a pooled connection may stay idle; `None`: no limit.
    pub idle_timeout: Option<Duration>,
    pub resources: Resources,
    /// Heartbeats on idle RPC connections (`keepalive`).
    pub keepalive: Keepalive,
    /// Upstream TLS, for every host without `tls_disable`.
    pub tls: Option<Arc<ClientContext>>,
    pub stats: Arc<ClusterStats>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("cluster {0:?} has no host")]
    NoHost(String),
    #[error("connect to {host} failed: {reason}")]
    Failed { host: String, reason: String },
}

/// `keepalive`'s interval and timeout over MOSN's defaults (a zero keeps the default).
fn keepalive(config: Option<&model::Keepalive>) -> Keepalive {
    let mut keepalive = Keepalive::default();
    let set = |slot: &mut Duration, value: Option<mosn_config::duration::GoDuration>| {
        if let Some(value) = value.map(|d| d.get()).filter(|d| !d.is_zero()) {
            *slot = value;
        }
    };
    if let Some(config) = config {
        set(&mut keepalive.interval, config.interval);
        set(&mut keepalive.timeout, config.timeout);
    }
    keepalive
}

/// MOSN's STRICT_DNS refresh interval when `dns_refresh_rate` is not set.
const DNS_REFRESH_RATE: Duration = Duration::from_secs(5);

impl Cluster {
    /// Builds a cluster from validated config (validation reported the hosts whose address does
    /// not parse; they are left out here).
    /// `shared_tls` is the cluster manager's TLS, for a cluster with `cluster_manager_tls`.
    pub fn from_config(
        config: &model::Cluster,
        path: &str,
        shared_tls: Option<&Arc<ClientContext>>,
        diags: &mut Diagnostics,
    ) -> Cluster {
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
        let refresh = config
            .dns_refresh_rate
            .map(|d| d.get())
            .filter(|d| !d.is_zero())
            .unwrap_or(DNS_REFRESH_RATE);
        Cluster {
            name: config.name.clone(),
            host_set: ArcSwap::from_pointee(HostSet { hosts, lb }),
            lb_type: config.lb_type().to_string(),
            configured: config.hosts.clone(),
            dns_refresh_rate: strict_dns.then_some(refresh),
            connect_timeout: config.connect_timeout(),
            max_request_per_conn: config.max_request_per_conn(),
            idle_timeout: config
                .idle_timeout
                .map(|d| d.get())
                .filter(|d| !d.is_zero()),
            resources: Resources::new(&config.circuit_breakers),
            keepalive: keepalive(config.keepalive.as_ref()),
            tls: tls(config, path, shared_tls, diags),
            stats: Arc::default(),
        }
    }

    /// The URL scheme of requests to `host`: `https` when its connections use TLS.
    pub fn scheme(&self, host: &Host) -> &'static str {
        match self.tls.is_some() && !host.tls_disable {
            true => "https",
            false => "http",
        }
    }

    /// Whether its balancer uses response latency (LB_PEAK_EWMA), which is then measured.
    pub fn tracks_latency(&self) -> bool {
        self.lb_type == "LB_PEAK_EWMA"
    }

    /// The hosts now.
    pub fn hosts(&self) -> Arc<HostSet> {
        self.host_set.load_full()
    }

    /// Puts a new set of hosts in place, with a balancer built over them.
    pub(crate) fn replace_hosts(&self, hosts: Vec<Arc<Host>>) {
        let (lb, _) = for_lb_type(&self.lb_type, &hosts);
        self.host_set.store(Arc::new(HostSet { hosts, lb }));
    }

    /// A host chosen by the load balancer, avoiding `tried` while untried hosts remain.
    pub fn choose_host(&self, tried: &[Arc<Host>], context: &LbContext) -> Option<Arc<Host>> {
        let set = self.host_set.load();
        let count = set.hosts.len();
        let mut pick = set.lb.choose(&set.hosts, context)?;
        for _ in 0..count {
            if !tried.iter().any(|t| Arc::ptr_eq(t, &set.hosts[pick])) {
                break;
            }
            pick = (pick + 1) % count;
        }
        Some(Arc::clone(&set.hosts[pick]))
    }

    /// Connects to a host, trying the next one on failure, `attempts` times in all.
    pub async fn connect(&self, attempts: u32) -> Result<(Stream, Arc<Host>), ConnectError> {
        let mut tried = Vec::new();
        let mut last_error = ConnectError::NoHost(self.name.clone());
        for _ in 0..attempts.max(1) {
            let Some(host) = self.choose_host(&tried, &LbContext::default()) else {
                break;
            };
            tried.push(Arc::clone(&host));
            match self.connect_host(&host, AppProtocol::Unnamed).await {
                Ok(stream) => {
                    return Ok((stream, host));
                }
                Err(reason) => {
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

    /// Connects to `host` within the cluster's connect timeout, then runs the TLS handshake
    /// (offering `protocol` by ALPN) if the host uses TLS.
    pub async fn connect_host(&self, host: &Host, protocol: AppProtocol) -> Result<Stream, String> {
        let attempt = async {
            match &host.address {
                UpstreamAddress::Ip(addr) => Stream::connect(*addr).await,
                UpstreamAddress::Unix(path) => Stream::connect_unix(path).await,
                UpstreamAddress::Name { name, port } => {
                    let found = tokio::net::lookup_host((name.as_str(), *port)).await?;
                    connect_first(found).await.map_err(|err| {
                        err.unwrap_or_else(|| io::Error::other(format!("{name} has no address")))
                    })
                }
            }
        };
        let stream = match tokio::time::timeout(self.connect_timeout, attempt).await {
            Ok(result) => result.map_err(|err| err.to_string())?,
            Err(_) => return Err(format!("timed out after {:?}", self.connect_timeout)),
        };
        match &self.tls {
            Some(tls) if !host.tls_disable => self.handshake(tls, stream, host, protocol).await,
            _ => Ok(stream),
        }
    }

    async fn handshake(
        &self,
        tls: &ClientContext,
        stream: Stream,
        host: &Host,
        protocol: AppProtocol,
    ) -> Result<Stream, String> {
        match tls.connect(stream, host.tls_name.clone(), protocol).await {
            Ok(stream) => {
                self.stats.tls.handshakes.add();
                Ok(stream)
            }
            Err(err) => {
                self.stats.tls.handshake_failures.add();
                tracing::warn!(cluster = %self.name, host = %host.address, "upstream TLS handshake failed: {err}");
                Err(format!("TLS handshake failed: {err}"))
            }
        }
    }
}

/// The cluster's TLS: the cluster manager's under `cluster_manager_tls` (the cluster's own
/// `tls_context` is then ignored, as in MOSN), else its own `tls_context` if `status` is set.
/// Never plaintext in place of a TLS that fails to build: that is an error.
fn tls(
    config: &model::Cluster,
    path: &str,
    shared_tls: Option<&Arc<ClientContext>>,
    diags: &mut Diagnostics,
) -> Option<Arc<ClientContext>> {
    let own = config.tls_context.as_ref();
    let own_path = join(path, "tls_context");
    if config.cluster_manager_tls == Some(true) {
        if own.is_some_and(|tls| tls.status) {
            diags.warn(
                own_path,
                "ignored: cluster_manager_tls uses cluster_manager.tls_context instead",
            );
        }
        if shared_tls.is_none() {
            diags.error(
                join(path, "cluster_manager_tls"),
                "cluster_manager.tls_context is not enabled (status true)",
            );
        }
        return shared_tls.cloned();
    }
    let own = own?;
    if !own.status {
        if !own.ca_cert.is_empty() || !own.server_name.is_empty() || own.insecure_skip {
            diags.warn(
                own_path,
                "status is not true: TLS is off for this cluster, as in MOSN",
            );
        }
        return None;
    }
    ClientContext::from_config(own, &own_path, diags).map(Arc::new)
}

/// The first of `addrs` that takes the connection, tried in turn, as Go's dialer tries a name's
/// addresses: `localhost` may resolve to `::1` first, and a server listening on 127.0.0.1 only
/// must still be reached (MOSN reaches it). The last error when none does; `None` when there
/// was no address.
async fn connect_first(
    addrs: impl Iterator<Item = SocketAddr>,
) -> Result<Stream, Option<io::Error>> {
    let mut last = None;
    for addr in addrs {
        match Stream::connect(addr).await {
            Ok(stream) => return Ok(stream),
            Err(err) => last = Some(err),
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn each_address_is_tried_until_one_connects() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let open = listener.local_addr().unwrap();
        // A port that was just free: nothing listens there.
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let stream = connect_first([closed, open].into_iter()).await.unwrap();
        assert!(matches!(stream.peer_addr().unwrap(), mosn_net::Address::Ip(peer) if peer == open));
        let refused = connect_first([closed].into_iter()).await.err().unwrap();
        assert_eq!(refused.unwrap().kind(), io::ErrorKind::ConnectionRefused);
        assert!(
            connect_first(std::iter::empty())
                .await
                .err()
                .unwrap()
                .is_none()
        );
    }
}
