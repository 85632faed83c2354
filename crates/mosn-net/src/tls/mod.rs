//! TLS with rustls (its ring provider): MOSN's `tls_context` read into rustls configs, the
//! handshakes, and the encrypted stream.

pub mod listener;
mod options;
mod pem;
pub mod server;
pub(crate) mod session;

pub use listener::ListenerTls;
pub use server::ServerContexts;
