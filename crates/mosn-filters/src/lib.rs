//! Built-in filters, registered under MOSN's type names.

pub mod network;
pub mod stream;

pub use mosn_protocol::xprotocol::Registry as Codecs;
pub use mosn_proxy::FilterContext;
