//! Addresses as MOSN writes them, parsed once for validation and for the runtime.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use crate::model::{Listener, SocketAddress};

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
            "" | "tcp" => parse_socket_addr(&self.address).map(ListenAddress::Tcp),
            "udp" => parse_socket_addr(&self.address).map(ListenAddress::Udp),
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
    /// The admin address; an empty address means 127.0.0.1, never every interface.
    pub fn socket_addr(&self) -> Result<SocketAddr, String> {
        let ip = if self.address.is_empty() {
            crate::defaults::ADMIN_ADDRESS
        } else {
            &self.address
        };
        let ip: IpAddr = ip
            .parse()
            .map_err(|_| format!("invalid ip address {ip:?}"))?;
        Ok(SocketAddr::new(ip, self.port_value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
