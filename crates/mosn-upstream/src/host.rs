//! An upstream host and its counters.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use mosn_config::address::{parse_host_port, parse_socket_addr};
use mosn_config::model;
use serde_json::Value;

/// Where a host is: an address, or a DNS name looked up at each connect (STRICT_DNS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostAddress {
    Ip(SocketAddr),
    Dns { name: String, port: u16 },
}

impl std::fmt::Display for HostAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HostAddress::Ip(addr) => write!(f, "{addr}"),
            HostAddress::Dns { name, port } => write!(f, "{name}:{port}"),
        }
    }
}

impl HostAddress {
    pub async fn resolve(&self) -> io::Result<SocketAddr> {
        match self {
            HostAddress::Ip(addr) => Ok(*addr),
            HostAddress::Dns { name, port } => tokio::net::lookup_host((name.as_str(), *port))
                .await?
                .next()
                .ok_or_else(|| {
                    io::Error::new(io::ErrorKind::NotFound, format!("{name} has no address"))
                }),
        }
    }
}

#[derive(Debug)]
pub struct Host {
    pub address: HostAddress,
    pub hostname: String,
    pub weight: u32,
    pub metadata: Option<Value>,
    pub stats: HostStats,
}

#[derive(Debug, Default)]
pub struct HostStats {
    pub connections_total: AtomicU64,
    pub connect_failures: AtomicU64,
}

impl HostStats {
    pub fn count(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

impl Host {
    /// Builds a host from config that validation has checked.
    pub fn from_config(host: &model::Host, dns: bool) -> Result<Host, String> {
        let address = if dns {
            let (name, port) = parse_host_port(&host.address)?;
            match name.parse() {
                Ok(ip) => HostAddress::Ip(SocketAddr::new(ip, port)),
                Err(_) => HostAddress::Dns { name, port },
            }
        } else {
            HostAddress::Ip(parse_socket_addr(&host.address)?)
        };
        Ok(Host {
            address,
            hostname: host.hostname.clone(),
            weight: host.effective_weight(),
            metadata: host.metadata.clone(),
            stats: HostStats::default(),
        })
    }
}
