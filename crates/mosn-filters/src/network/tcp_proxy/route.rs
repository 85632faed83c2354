//! Which cluster a `tcp_proxy` connection goes to.

use std::net::{IpAddr, SocketAddr};

use mosn_config::Diagnostics;
use mosn_config::address::parse_port_ranges;
use mosn_config::diagnostics::{index, join};
use mosn_config::model::{CidrRange, TcpProxyConfig, TcpRoute};

/// A CIDR range, matched on the leading `length` bits.
#[derive(Debug, Clone, Copy)]
struct Cidr {
    network: IpAddr,
    length: u32,
}

impl Cidr {
    fn contains(&self, ip: IpAddr) -> bool {
        let ip = match (self.network, ip) {
            (IpAddr::V4(_), IpAddr::V6(v6)) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            _ => ip,
        };
        match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                prefix_eq(u32::from(net).into(), u32::from(ip).into(), self.length, 32)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix_eq(u128::from(net), u128::from(ip), self.length, 128)
            }
            _ => false,
        }
    }
}

fn prefix_eq(a: u128, b: u128, length: u32, bits: u32) -> bool {
    let length = length.min(bits);
    if length == 0 {
        return true;
    }
    let shift = bits - length;
    (a >> shift) == (b >> shift)
}

#[derive(Debug)]
struct Route {
    cluster: String,
    sources: Vec<Cidr>,
    source_ports: Vec<(u16, u16)>,
    destinations: Vec<Cidr>,
    destination_ports: Vec<(u16, u16)>,
}

/// The routing part of a `tcp_proxy` config, compiled.
#[derive(Debug)]
pub struct Routes {
    /// Set: every connection goes there, routes are not looked at (as in MOSN).
    cluster: Option<String>,
    routes: Vec<Route>,
}

impl Routes {
    /// Compiles the config found at `path`; every problem is reported at its own path.
    pub fn new(config: &TcpProxyConfig, path: &str, diags: &mut Diagnostics) -> Option<Routes> {
        let cluster = Some(config.cluster.clone()).filter(|c| !c.is_empty());
        if cluster.is_some() && !config.routes.is_empty() {
            diags.warn(
                join(path, "routes"),
                "ignored: cluster is set, and it takes every connection (as in MOSN)",
            );
        }
        if cluster.is_none() && config.routes.is_empty() {
            diags.error(path, "tcp_proxy needs a cluster or routes");
        }
        let routes: Vec<Option<Route>> = config
            .routes
            .iter()
            .enumerate()
            .map(|(i, route)| compile(route, &index(&join(path, "routes"), i), diags))
            .collect();
        let routes = routes.into_iter().collect::<Option<Vec<_>>>()?;
        Some(Routes { cluster, routes })
    }

    /// The cluster for a connection from `remote` to `local`; `None` when no route matches.
    /// An empty list in a route matches anything.
    pub fn cluster_for(
        &self,
        remote: Option<SocketAddr>,
        local: Option<SocketAddr>,
    ) -> Option<&str> {
        if let Some(cluster) = &self.cluster {
            return Some(cluster);
        }
        self.routes
            .iter()
            .find(|r| {
                matches(&r.sources, &r.source_ports, remote)
                    && matches(&r.destinations, &r.destination_ports, local)
            })
            .map(|r| r.cluster.as_str())
    }
}

fn compile(route: &TcpRoute, path: &str, diags: &mut Diagnostics) -> Option<Route> {
    let before = diags.items().len();
    if route.cluster.is_empty() {
        diags.error(join(path, "Cluster"), "must not be empty");
    }
    let cidrs = |key: &str, ranges: &[CidrRange], diags: &mut Diagnostics| -> Vec<Cidr> {
        let parsed = ranges.iter().enumerate().map(|(i, range)| {
            range
                .parse()
                .map_err(|problem| diags.error(index(&join(path, key), i), problem))
                .ok()
        });
        parsed
            .flatten()
            .map(|(network, length)| Cidr { network, length })
            .collect()
    };
    let sources = cidrs("SourceAddrs", &route.source_addrs, diags);
    let destinations = cidrs("DestinationAddrs", &route.destination_addrs, diags);
    let mut ports = |key: &str, text: &str| {
        parse_port_ranges(text)
            .map_err(|problem| diags.error(join(path, key), problem))
            .unwrap_or_default()
    };
    let source_ports = ports("SourcePort", &route.source_port);
    let destination_ports = ports("DestinationPort", &route.destination_port);
    (diags.items().len() == before).then(|| Route {
        cluster: route.cluster.clone(),
        sources,
        source_ports,
        destinations,
        destination_ports,
    })
}

fn matches(cidrs: &[Cidr], ports: &[(u16, u16)], addr: Option<SocketAddr>) -> bool {
    if cidrs.is_empty() && ports.is_empty() {
        return true;
    }
    let Some(addr) = addr else { return false }; // unix sockets have no address to match
    let ip_ok = cidrs.is_empty() || cidrs.iter().any(|c| c.contains(addr.ip()));
    let port_ok = ports.is_empty()
        || ports
            .iter()
            .any(|(min, max)| (*min..=*max).contains(&addr.port()));
    ip_ok && port_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use mosn_config::model::CidrRange;

    fn route(cluster: &str, source: Option<(&str, u32)>, destination_port: &str) -> TcpRoute {
        TcpRoute {
            cluster: cluster.into(),
            source_addrs: source
                .map(|(address, length)| CidrRange {
                    address: address.into(),
                    length,
                })
                .into_iter()
                .collect(),
            destination_port: destination_port.into(),
            ..TcpRoute::default()
        }
    }

    #[test]
    fn every_bad_route_is_reported_at_its_path() {
        let mut bad = route("", Some(("10.0.0.300", 8)), "70000");
        bad.source_addrs.push(CidrRange {
            address: "10.0.0.0".into(),
            length: 33,
        });
        let config = TcpProxyConfig {
            routes: vec![route("ok", None, ""), bad],
            ..TcpProxyConfig::default()
        };
        let mut diags = Diagnostics::default();
        assert!(Routes::new(&config, "f", &mut diags).is_none());
        let paths: Vec<_> = diags.items().iter().map(|d| d.path.as_str()).collect();
        let want = [
            "f.routes[1].Cluster",
            "f.routes[1].SourceAddrs[0]",
            "f.routes[1].SourceAddrs[1]",
            "f.routes[1].DestinationPort",
        ];
        assert_eq!(paths, want);
    }

    fn addr(text: &str) -> Option<SocketAddr> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn the_first_matching_route_wins() {
        let config = TcpProxyConfig {
            routes: vec![
                route("lan", Some(("10.0.0.0", 8)), ""),
                route("web", None, "80,8000-8999"),
                route("rest", None, ""),
            ],
            ..TcpProxyConfig::default()
        };
        let routes = Routes::new(&config, "", &mut Diagnostics::default()).unwrap();
        assert_eq!(
            routes.cluster_for(addr("10.1.2.3:5000"), addr("127.0.0.1:22")),
            Some("lan")
        );
        assert_eq!(
            routes.cluster_for(addr("192.168.0.1:5000"), addr("127.0.0.1:8080")),
            Some("web")
        );
        assert_eq!(
            routes.cluster_for(addr("192.168.0.1:5000"), addr("127.0.0.1:9000")),
            Some("rest")
        );
        assert_eq!(
            routes.cluster_for(addr("[::ffff:10.0.0.9]:1"), addr("127.0.0.1:1")),
            Some("lan")
        );
    }

    #[test]
    fn cluster_takes_every_connection_and_no_match_is_none() {
        let mut config = TcpProxyConfig {
            cluster: "all".into(),
            routes: vec![route("lan", Some(("10.0.0.0", 8)), "")],
            ..TcpProxyConfig::default()
        };
        let routes = Routes::new(&config, "", &mut Diagnostics::default()).unwrap();
        assert_eq!(
            routes.cluster_for(addr("1.2.3.4:1"), addr("127.0.0.1:1")),
            Some("all")
        );
        config.cluster.clear();
        let routes = Routes::new(&config, "", &mut Diagnostics::default()).unwrap();
        assert_eq!(
            routes.cluster_for(addr("1.2.3.4:1"), addr("127.0.0.1:1")),
            None
        );
        assert_eq!(routes.cluster_for(None, None), None);
    }
}
