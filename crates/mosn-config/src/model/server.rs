use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Listener, RouterConfiguration};
use crate::decode::list;
use crate::duration::GoDuration;

/// `servers[]`: one MOSN server with its listeners and routers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServerConfig {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub mosn_server_name: String,
    /// `stdout`, `stderr` or a file path; empty means `<base>/logs/mosn.log`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub default_log_path: String,
    /// TRACE, DEBUG, INFO, WARN, ERROR or FATAL; empty means INFO.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub default_log_level: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub global_log_roller: String,
    /// MOSN's raw-epoll mode; here it selects the thread-per-core IO model.
    pub use_netpoll_mode: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub graceful_timeout: Option<GoDuration>,
    pub processor: Processor,
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "list")]
    pub listeners: Vec<Listener>,
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "list")]
    pub routers: Vec<RouterConfiguration>,
    pub optimize_local_write: bool,
}

/// `processor`: a number of workers, or `"auto"` for one per CPU.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Processor {
    /// Not set: one per CPU, as MOSN does.
    #[default]
    Unset,
    Auto,
    Count(usize),
    /// A string that is neither a number nor "auto": one per CPU, with a warning, as in MOSN.
    Unparsed(String),
}

impl Processor {
    /// The number of workers this setting asks for on a machine with `cpus` CPUs.
    pub fn workers(&self, cpus: usize) -> usize {
        match self {
            Processor::Unset | Processor::Auto | Processor::Unparsed(_) | Processor::Count(0) => {
                cpus.max(1)
            }
            Processor::Count(n) => *n,
        }
    }
}

impl Serialize for Processor {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Processor::Unset => serializer.serialize_u64(0),
            Processor::Auto => serializer.serialize_str("auto"),
            Processor::Count(n) => serializer.serialize_u64(*n as u64),
            Processor::Unparsed(text) => serializer.serialize_str(text),
        }
    }
}

impl<'de> Deserialize<'de> for Processor {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ProcessorVisitor;
        impl Visitor<'_> for ProcessorVisitor {
            type Value = Processor;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number of workers or \"auto\"")
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Processor, E> {
                let n = usize::try_from(n).map_err(E::custom)?;
                Ok(if n == 0 {
                    Processor::Unset
                } else {
                    Processor::Count(n)
                })
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Processor, E> {
                Err(E::invalid_value(de::Unexpected::Signed(n), &self))
            }
            /// MOSN also takes a number written as a string.
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Processor, E> {
                if text.eq_ignore_ascii_case("auto") {
                    return Ok(Processor::Auto);
                }
                match text.trim().parse::<u64>() {
                    Ok(n) => self.visit_u64(n),
                    Err(_) => Ok(Processor::Unparsed(text.to_string())),
                }
            }
        }
        deserializer.deserialize_any(ProcessorVisitor)
    }
}
