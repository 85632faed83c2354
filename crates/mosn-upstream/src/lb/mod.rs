//! Load balancers, chosen by MOSN's `lb_type` name.

mod least;
mod maglev;
mod round_robin;

use std::sync::Arc;

use crate::host::Host;

pub use least::{Cost, PowerOfTwo};
pub use maglev::Maglev;
pub use round_robin::{Random, RoundRobin, WeightedRoundRobin};

/// What a balancer may know of the request.
#[derive(Debug, Clone, Copy, Default)]
pub struct LbContext {
    /// The hash of what the route's `hash_policy` names (a header, a cookie, the source IP).
    pub hash: Option<u64>,
}

/// Picks the index of one of `hosts`.
pub trait LoadBalancer: Send + Sync {
    fn choose(&self, hosts: &[Arc<Host>], context: &LbContext) -> Option<usize>;
}

/// The balancer for `lb_type` over `hosts`, and whether this build implements that name
/// (others run as round robin).
pub fn for_lb_type(lb_type: &str, hosts: &[Arc<Host>]) -> (Box<dyn LoadBalancer>, bool) {
    match lb_type {
        "LB_ROUNDROBIN" | "LB_REQUEST_ROUNDROBIN" => (Box::new(RoundRobin::default()), true),
        "LB_RANDOM" => (Box::new(Random), true),
        "LB_WEIGHTED_ROUNDROBIN" => (Box::new(WeightedRoundRobin::default()), true),
        "LB_LEAST_REQUEST" => (Box::new(PowerOfTwo(Cost::ActiveRequests)), true),
        "LB_LEAST_CONNECTION" => (Box::new(PowerOfTwo(Cost::ActiveConnections)), true),
        "LB_PEAK_EWMA" => (Box::new(PowerOfTwo(Cost::PeakEwma)), true),
        "LB_MAGLEV" => (Box::new(Maglev::new(hosts)), true),
        _ => (Box::new(RoundRobin::default()), false),
    }
}

/// FNV-1a: a small, stable hash for balancing keys (the same key gives the same host across
/// restarts and builds).
pub fn hash_key(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
pub(crate) fn test_hosts(weights: &[u32]) -> Vec<Arc<Host>> {
    weights
        .iter()
        .enumerate()
        .map(|(i, weight)| {
            let config = mosn_config::model::Host {
                address: format!("10.0.0.{}:80", i + 1),
                weight: *weight,
                ..Default::default()
            };
            Arc::new(Host::from_config(&config, false).unwrap())
        })
        .collect()
}
