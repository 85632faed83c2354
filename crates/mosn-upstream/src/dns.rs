//! STRICT_DNS clusters: each configured name is looked up every `dns_refresh_rate`, and every
//! address it has becomes a host. Hosts whose address stays keep their pools and counters.

use std::net::SocketAddr;
use std::sync::Arc;

use mosn_config::address::UpstreamAddress;

use crate::cluster::Cluster;
use crate::host::Host;

impl Cluster {
    /// Looks the names up now and puts the hosts found in place. A name that does not resolve
    /// keeps its previous hosts.
    pub async fn refresh_dns(&self) {
        let current = self.hosts();
        let mut hosts: Vec<Arc<Host>> = Vec::new();
        for config in &self.configured {
            let Ok(template) = Host::from_config(config, true) else {
                continue;
            };
            let UpstreamAddress::Name { name, port } = &template.address else {
                hosts.push(keep_or(&current.hosts, template));
                continue;
            };
            match tokio::net::lookup_host((name.as_str(), *port)).await {
                Ok(found) => {
                    let mut found: Vec<SocketAddr> = found.collect();
                    found.sort();
                    found.dedup();
                    for addr in found {
                        let Ok(mut host) = Host::from_config(config, true) else {
                            continue;
                        };
                        host.address = UpstreamAddress::Ip(addr);
                        hosts.push(keep_or(&current.hosts, host));
                    }
                }
                Err(err) => {
                    tracing::warn!(cluster = %self.name, "STRICT_DNS: cannot resolve {name}: {err}; keeping its hosts");
                    hosts.extend(
                        current
                            .hosts
                            .iter()
                            .filter(|h| h.config_address == template.config_address)
                            .cloned(),
                    );
                }
            }
        }
        let unchanged = hosts.len() == current.hosts.len()
            && hosts
                .iter()
                .zip(&current.hosts)
                .all(|(a, b)| Arc::ptr_eq(a, b));
        if !unchanged {
            tracing::info!(cluster = %self.name, hosts = hosts.len(), "STRICT_DNS: hosts changed");
            self.replace_hosts(hosts);
        }
    }

    /// Refreshes forever at the cluster's rate; returns at once for clusters that are not
    /// STRICT_DNS. Run it as a task.
    pub async fn keep_dns_fresh(self: Arc<Self>) {
        let Some(rate) = self.dns_refresh_rate else {
            return;
        };
        loop {
            self.refresh_dns().await;
            tokio::time::sleep(rate).await;
        }
    }
}

/// The current host with the same address and origin, or `fresh`.
fn keep_or(current: &[Arc<Host>], fresh: Host) -> Arc<Host> {
    current
        .iter()
        .find(|h| h.address == fresh.address && h.config_address == fresh.config_address)
        .cloned()
        .unwrap_or_else(|| Arc::new(fresh))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mosn_config::Diagnostics;
    use mosn_config::model;

    fn cluster(hosts: &[&str]) -> Cluster {
        let config = model::Cluster {
            name: "dns".into(),
            kind: "STRICT_DNS".into(),
            hosts: hosts
                .iter()
                .map(|a| model::Host {
                    address: a.to_string(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        };
        Cluster::from_config(&config, "c", None, &mut Diagnostics::default())
    }

    #[tokio::test]
    async fn names_become_their_addresses_and_unchanged_hosts_are_kept() {
        let cluster = cluster(&["localhost:8080", "127.0.0.2:80", "localhost"]);
        cluster.refresh_dns().await;
        let first = cluster.hosts();
        let addresses: Vec<String> = first.hosts.iter().map(|h| h.address.to_string()).collect();
        assert!(
            addresses.contains(&"127.0.0.1:8080".to_string()),
            "{addresses:?}"
        );
        assert!(
            addresses.contains(&"127.0.0.2:80".to_string()),
            "{addresses:?}"
        );
        assert!(
            addresses.contains(&"127.0.0.1:80".to_string()),
            "a name without a port gets 80: {addresses:?}"
        );
        cluster.refresh_dns().await;
        let second = cluster.hosts();
        assert!(
            first
                .hosts
                .iter()
                .zip(&second.hosts)
                .all(|(a, b)| Arc::ptr_eq(a, b)),
            "hosts were rebuilt"
        );
    }

    #[tokio::test]
    async fn a_name_that_does_not_resolve_keeps_its_hosts() {
        let cluster = cluster(&["does-not-exist.invalid:80"]);
        let before = cluster.hosts();
        cluster.refresh_dns().await;
        assert!(Arc::ptr_eq(&before.hosts[0], &cluster.hosts().hosts[0]));
    }
}
