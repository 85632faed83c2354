//! Network filters: `tcp_proxy` and `proxy`; MOSN's other names are known and reported as not
//! built yet.

pub mod tcp_proxy;

use mosn_net::NetworkFilterFactory;
use mosn_net::registry::Registry;

use crate::FilterContext;

pub type NetworkFilterRegistry = Registry<dyn NetworkFilterFactory, FilterContext>;

/// MOSN's network filter names this build does not have yet.
const NOT_YET_SUPPORTED: &[&str] = &[
    "udp_proxy",
    "fault_inject",
    "grpc",
    "tunnel",
    "connection_manager",
];

/// The registry with every built-in network filter.
pub fn registry() -> NetworkFilterRegistry {
    let mut registry = Registry::new("network filter", NOT_YET_SUPPORTED);
    registry.register(tcp_proxy::NAME, Box::new(tcp_proxy::build));
    registry.register(mosn_proxy::NAME, Box::new(mosn_proxy::build));
    registry
}
