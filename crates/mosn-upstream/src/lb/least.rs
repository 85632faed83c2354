//! Balancers that look at load: two hosts are drawn at random and the less loaded one wins
//! ("power of two choices"), by active requests, active connections, or peak EWMA latency.

use std::sync::Arc;

use super::{LbContext, LoadBalancer};
use crate::host::Host;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cost {
    ActiveRequests,
    ActiveConnections,
    /// Latency (peak-sensitive moving average) times the requests in flight plus one.
    PeakEwma,
}

impl Cost {
    fn of(self, host: &Host) -> f64 {
        match self {
            Cost::ActiveRequests => f64::from(host.requests.in_use()),
            Cost::ActiveConnections => f64::from(host.connections.in_use()),
            Cost::PeakEwma => host.latency.get() * f64::from(host.requests.in_use() + 1),
        }
    }
}

pub struct PowerOfTwo(pub Cost);

impl LoadBalancer for PowerOfTwo {
    fn choose(&self, hosts: &[Arc<Host>], _: &LbContext) -> Option<usize> {
        match hosts.len() {
            0 => None,
            1 => Some(0),
            n => {
                let first = fastrand::usize(..n);
                let second = (first + 1 + fastrand::usize(..n - 1)) % n;
                // Weights scale the cost down: a host twice as heavy takes twice the load.
                let cost = |i: usize| self.0.of(&hosts[i]) / f64::from(hosts[i].weight.max(1));
                Some(if cost(second) < cost(first) {
                    second
                } else {
                    first
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lb::test_hosts;

    #[test]
    fn the_less_loaded_host_wins() {
        let hosts = test_hosts(&[1, 1]);
        let _busy: Vec<_> = (0..5)
            .map(|_| hosts[0].requests.acquire().unwrap())
            .collect();
        let lb = PowerOfTwo(Cost::ActiveRequests);
        for _ in 0..50 {
            assert_eq!(lb.choose(&hosts, &LbContext::default()), Some(1));
        }
        let _open: Vec<_> = (0..3)
            .map(|_| hosts[1].connections.acquire().unwrap())
            .collect();
        assert_eq!(
            PowerOfTwo(Cost::ActiveConnections).choose(&hosts, &LbContext::default()),
            Some(0)
        );
    }

    #[test]
    fn peak_ewma_prefers_the_faster_host() {
        let hosts = test_hosts(&[1, 1]);
        hosts[0]
            .latency
            .observe(std::time::Duration::from_millis(50));
        hosts[1]
            .latency
            .observe(std::time::Duration::from_millis(5));
        let lb = PowerOfTwo(Cost::PeakEwma);
        assert!((0..50).all(|_| lb.choose(&hosts, &LbContext::default()) == Some(1)));
    }
}
