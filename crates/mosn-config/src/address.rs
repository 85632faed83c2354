//! Addresses as MOSN writes them, parsed once for validation and for the runtime.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

use crate::model::{CidrRange, Listener, SocketAddress};

/// Where a listener listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenAddress {
    Tcp(SocketAddr),
    Unix(PathBuf),
    Udp(SocketAddr),
}

impl Listener {
    /// Parses `address` according to `network` (`tcp` when empty).
    pub fn listen_address(&self) -> Result<ListenAddress, String> {
        match self.network.to_ascii_lowercase().as_str() {
            "" | "tcp" => resolve_listen_addr(&self.address).map(ListenAddress::Tcp),
            "udp" => resolve_listen_addr(&self.address).map(ListenAddress::Udp),
            "unix" if self.address.is_empty() => {
                Err("a unix listener needs a socket path".to_string())
            }
            "unix" => Ok(ListenAddress::Unix(PathBuf::from(&self.address))),
            other => Err(format!(
                "unknown network {other:?} (expected tcp, unix or udp)"
            )),
        }
    }
}

/// Parses `ip:port` (`[v6]:port` for IPv6).
pub fn parse_socket_addr(text: &str) -> Result<SocketAddr, String> {
    text.parse().map_err(|_| {
        format!("invalid address {text:?}: expected ip:port, such as \"127.0.0.1:2045\"")
    })
}

/// A listen address as MOSN takes it: `ip:port`, `:port` (every interface) or `name:port`
/// (looked up now, as MOSN does at load).
pub fn resolve_listen_addr(text: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = text.parse() {
        return Ok(addr);
    }
    if let Some(port) = text.strip_prefix(':') {
        let port = port
            .parse()
            .map_err(|_| format!("invalid port in {text:?}"))?;
        return Ok(SocketAddr::new(IpAddr::from([0, 0, 0, 0]), port));
    }
    let (host, port) = parse_host_port(text)
        .map_err(|_| format!("invalid address {text:?}: expected ip:port, :port or host:port"))?;
    let found = (host.as_str(), port)
        .to_socket_addrs()
        .map_err(|err| format!("cannot resolve {text:?}: {err}"))?;
    let mut found: Vec<SocketAddr> = found.collect();
    found.sort_by_key(|addr| addr.is_ipv6()); // IPv4 first, as Go's resolver prefers
    found
        .first()
        .copied()
        .ok_or_else(|| format!("{text:?} resolves to no address"))
}

/// Where an upstream host is, as `hosts[].address` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpstreamAddress {
    Ip(SocketAddr),
    /// A DNS name, looked up when connecting.
    Name {
        name: String,
        port: u16,
    },
    Unix(PathBuf),
}

impl std::fmt::Display for UpstreamAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UpstreamAddress::Ip(addr) => write!(f, "{addr}"),
            UpstreamAddress::Name { name, port } => write!(f, "{name}:{port}"),
            UpstreamAddress::Unix(path) => write!(f, "unix:{}", path.display()),
        }
    }
}

/// Parses `ip:port`, `name:port` or `unix:/path`; `default_port` (80 for STRICT_DNS, as in
/// MOSN) allows a bare name.
pub fn parse_upstream_address(
    text: &str,
    default_port: Option<u16>,
) -> Result<UpstreamAddress, String> {
    if let Some(path) = text.strip_prefix("unix:") {
        return match path {
            "" => Err(format!(
                "invalid address {text:?}: no socket path after unix:"
            )),
            path => Ok(UpstreamAddress::Unix(PathBuf::from(path))),
        };
    }
    if let Ok(addr) = text.parse() {
        return Ok(UpstreamAddress::Ip(addr));
    }
    let (name, port) = match (parse_host_port(text), default_port) {
        (Ok(pair), _) => pair,
        (Err(_), Some(port)) if !text.is_empty() && !text.contains(':') => (text.to_string(), port),
        (Err(problem), _) => return Err(problem),
    };
    Ok(match name.parse() {
        Ok(ip) => UpstreamAddress::Ip(SocketAddr::new(ip, port)),
        Err(_) => UpstreamAddress::Name { name, port },
    })
}

/// Splits `host:port` where host may be a DNS name.
pub fn parse_host_port(text: &str) -> Result<(String, u16), String> {
    let invalid = || format!("invalid address {text:?}: expected host:port");
    let (host, port) = text.rsplit_once(':').ok_or_else(invalid)?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(invalid());
    }
    Ok((host.to_string(), port.parse().map_err(|_| invalid())?))
}

impl SocketAddress {
    /// The admin address: an IP (IPv6 with or without brackets) or a name looked up now; empty
    /// means 127.0.0.1, never every interface.
    pub fn socket_addr(&self) -> Result<SocketAddr, String> {
        let host = match self.address.trim_start_matches('[').trim_end_matches(']') {
            "" => crate::defaults::ADMIN_ADDRESS,
            host => host,
        };
        match host.parse::<IpAddr>() {
            Ok(ip) => Ok(SocketAddr::new(ip, self.port_value)),
            Err(_) => resolve_listen_addr(&format!("{host}:{}", self.port_value)),
        }
    }
}

impl CidrRange {
    /// The network address and prefix length, checked.
    pub fn parse(&self) -> Result<(IpAddr, u32), String> {
        let ip: IpAddr = self
            .address
            .parse()
            .map_err(|_| format!("invalid ip address {:?}", self.address))?;
        let max = if ip.is_ipv4() { 32 } else { 128 };
        if self.length > max {
            return Err(format!("prefix length {} is over {max}", self.length));
        }
        Ok((ip, self.length))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_addresses_take_mosn_forms() {
        assert_eq!(
            resolve_listen_addr("127.0.0.1:80"),
            Ok("127.0.0.1:80".parse().unwrap())
        );
        assert_eq!(
            resolve_listen_addr(":2045"),
            Ok("0.0.0.0:2045".parse().unwrap())
        );
        assert_eq!(
            resolve_listen_addr("localhost:2045").map(|a| a.port()),
            Ok(2045)
        );
        assert!(resolve_listen_addr("nowhere.invalid:1").is_err());
        assert!(resolve_listen_addr("127.0.0.1").is_err());
    }

    #[test]
    fn upstream_addresses_take_ips_names_and_unix_paths() {
        let ip = |text: &str| UpstreamAddress::Ip(text.parse().unwrap());
        assert_eq!(
            parse_upstream_address("10.0.0.1:80", None),
            Ok(ip("10.0.0.1:80"))
        );
        let name = UpstreamAddress::Name {
            name: "svc.local".into(),
            port: 8080,
        };
        assert_eq!(parse_upstream_address("svc.local:8080", None), Ok(name));
        let name = UpstreamAddress::Name {
            name: "svc.local".into(),
            port: 80,
        };
        assert_eq!(parse_upstream_address("svc.local", Some(80)), Ok(name));
        assert!(parse_upstream_address("svc.local", None).is_err());
        assert_eq!(
            parse_upstream_address("unix:/tmp/s.sock", None),
            Ok(UpstreamAddress::Unix("/tmp/s.sock".into()))
        );
        assert!(parse_upstream_address("unix:", None).is_err());
        assert!(parse_upstream_address("10.0.0.1", None).is_err());
    }

    #[test]
    fn host_port_accepts_names_and_v6() {
        assert_eq!(
            parse_host_port("example.com:80"),
            Ok(("example.com".into(), 80))
        );
        assert_eq!(parse_host_port("[::1]:80"), Ok(("::1".into(), 80)));
        assert!(parse_host_port("example.com").is_err());
        assert!(parse_host_port(":80").is_err());
        assert!(parse_host_port("a:99999").is_err());
    }
}

/// Parses MOSN's port lists: `"80,8000-9000"`. Empty means no restriction.
pub fn parse_port_ranges(text: &str) -> Result<Vec<(u16, u16)>, String> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    text.split(',')
        .map(|item| {
            let item = item.trim();
            let invalid = || format!("invalid port range {item:?}: expected a port or min-max");
            let (min, max) = item.split_once('-').unwrap_or((item, item));
            let min: u16 = min.trim().parse().map_err(|_| invalid())?;
            let max: u16 = max.trim().parse().map_err(|_| invalid())?;
            if min > max {
                return Err(invalid());
            }
            Ok((min, max))
        })
        .collect()
}

#[cfg(test)]
mod port_tests {
    use super::parse_port_ranges;

    #[test]
    fn port_lists_parse_and_refuse_garbage() {
        assert_eq!(
            parse_port_ranges("80, 8000-9000"),
            Ok(vec![(80, 80), (8000, 9000)])
        );
        assert_eq!(parse_port_ranges(""), Ok(vec![]));
        for bad in ["x", "9000-80", "1-", "70000"] {
            assert!(parse_port_ranges(bad).is_err(), "{bad}");
        }
    }
}

impl std::fmt::Display for ListenAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ListenAddress::Tcp(addr) => write!(f, "{addr}"),
            ListenAddress::Udp(addr) => write!(f, "udp {addr}"),
            ListenAddress::Unix(path) => write!(f, "unix {}", path.display()),
        }
    }
}
