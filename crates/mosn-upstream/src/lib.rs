//! The upstream side: clusters of hosts, load balancers, and connections to hosts.

pub mod cluster;
mod dns;
pub mod ewma;
pub mod host;
pub mod http1_pool;
pub mod http2_pool;
mod idle;
pub mod lb;
pub mod manager;
pub mod resources;
pub mod rpc_pool;

pub use cluster::{Cluster, ConnectError};
pub use host::Host;
pub use manager::ClusterManager;
