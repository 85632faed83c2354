//! TLS with rustls (its ring provider): MOSN's `tls_context` read into rustls configs, the
//! handshakes, and the encrypted stream.

pub mod client;
pub mod listener;
mod options;
mod pem;
pub mod reload;
pub mod server;
pub(crate) mod session;

pub use client::{AppProtocol, ClientContext};
pub use listener::ListenerTls;
pub use reload::{CertificateWatcher, Reload};
pub use rustls::pki_types::ServerName;
pub use server::ServerContexts;

/// How long a handshake may take, either side (MOSN's read deadline during one).
const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);
