//! Listeners and connections: sockets, the listener-filter and network-filter chains, idle
//! detection, graceful draining, and the two IO runtime models.

pub mod connection;
pub mod drain;
pub mod filter;
pub mod filtered_io;
pub mod idle;
pub mod io_model;
pub mod listener;
pub mod pump;
pub mod registry;
pub mod stats;
pub mod stream;
mod stream_io;
pub mod tls;

pub use connection::{Connection, ConnectionInfo};
pub use filter::{
    ChainBuilder, FilterChainFactory, FilterStatus, ListenerFilter, NetworkFilterFactory,
    ReadFilter, TerminalFilter, WriteFilter,
};
pub use stream::{Address, Stream};
