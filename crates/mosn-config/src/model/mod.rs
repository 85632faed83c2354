//! MOSN's v2 config tree, key by key. Keys whose feature comes later are parsed all the same,
//! so that `config_dump` shows them; `Value` holds the blocks whose shape belongs to a feature
//! not built yet.

mod cluster;
mod filter;
mod listener;
mod router;
mod server;
mod tls;
mod top;

pub use cluster::*;
pub use filter::*;
pub use listener::*;
pub use router::*;
pub use server::*;
pub use tls::*;
pub use top::*;

/// Header mutations as MOSN writes them: `{"header": {"key": k, "value": v}, "append": bool}`.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct HeaderValueOption {
    pub header: HeaderValue,
    pub append: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct HeaderValue {
    pub key: String,
    pub value: String,
}
