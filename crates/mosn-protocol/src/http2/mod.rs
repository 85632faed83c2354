//! HTTP/2, on the `h2` crate: the settings we run it with, and the mapping between its
//! messages and the heads the rest of the proxy works on (`http1::RequestHead`/`ResponseHead`,
//! with `Version::Http2`).

pub mod convert;
pub mod gather;
pub mod keepalive;
pub mod settings;

pub use keepalive::Keepalive;
pub use settings::Settings;
