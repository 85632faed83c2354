//! The proxy filter's config, read into what its HTTP/1, HTTP/2 and RPC streams need.

use std::sync::Arc;
use std::time::Duration;

use mosn_config::Diagnostics;
use mosn_config::diagnostics::join;
use mosn_config::model::ProxyConfig;
use mosn_protocol::detect::Protocol;
use mosn_protocol::http1::Limits;
use mosn_protocol::http2;

use crate::http2_settings;
use mosn_protocol::xprotocol::{self, Codec, Registry};
use serde_json::{Map, Value};

/// How long a client may take to send a whole request head once it has started (slowloris).
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// A wait that never ends in practice (a century), where an API wants a duration.
const NEVER: Duration = Duration::from_secs(100 * 365 * 86_400);

/// How long the client connection may stay silent, as a duration (no limit is a century).
pub fn idle_timeout(connection: &mosn_net::Connection) -> Duration {
    connection.idle_limit().unwrap_or(NEVER)
}

/// A protocol a client may speak.
#[derive(Clone)]
pub enum Speaks {
    Http(Protocol),
    Rpc(Arc<dyn Codec>),
}

impl std::fmt::Debug for Speaks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Speaks::Http(protocol) => write!(f, "{protocol:?}"),
            Speaks::Rpc(codec) => f.write_str(codec.name()),
        }
    }
}

impl PartialEq for Speaks {
    fn eq(&self, other: &Speaks) -> bool {
        match (self, other) {
            (Speaks::Http(a), Speaks::Http(b)) => a == b,
            (Speaks::Rpc(a), Speaks::Rpc(b)) => a.name() == b.name(),
            _ => false,
        }
    }
}

/// What RPC connections need beyond the codec.
#[derive(Debug, Clone)]
pub struct RpcSettings {
    /// The largest frame read from a client.
    pub max_frame: usize,
    /// Send bolt's goaway to clients on a graceful stop (`enable_bolt_goaway`, as in MOSN).
    pub goaway: bool,
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// The protocols clients may speak; more than one means detection from the first bytes.
    pub downstream: Vec<Speaks>,
    /// The HTTP version spoken to upstreams; `None`: the client's. RPC requests always go
    /// upstream in the client's protocol.
    pub upstream: Option<Protocol>,
    pub limits: Limits,
    /// 0: no limit, as in MOSN.
    pub max_request_body_size: u64,
    pub header_timeout: Duration,
    pub http2: http2::Settings,
    pub rpc: RpcSettings,
    /// `fallback_for_unknown_protocol`: a client speaking none of `downstream` is handed to
    /// the terminal filter after the proxy (a `tcp_proxy`), instead of being closed.
    pub fallback: bool,
}

/// The protocols a name stands for, as MOSN registers them: an HTTP version, an RPC codec,
/// or `Auto`, every one of them.
fn protocols(name: &str, codecs: &Registry) -> Option<Vec<Speaks>> {
    let rpc = |name: &str| codecs.get(name).map(Speaks::Rpc);
    match name {
        "Http1" => Some(vec![Speaks::Http(Protocol::Http1)]),
        "Http2" => Some(vec![Speaks::Http(Protocol::Http2)]),
        "Auto" => {
            let http = [Protocol::Http1, Protocol::Http2].map(Speaks::Http);
            Some(
                http.into_iter()
                    .chain(codecs.names().filter_map(rpc))
                    .collect(),
            )
        }
        _ => rpc(name).map(|speaks| vec![speaks]),
    }
}

fn supported(codecs: &Registry) -> String {
    let mut names = vec!["Http1", "Http2", "Auto"];
    names.extend(codecs.names());
    names.join(", ")
}

/// The section of `extend_config` for `protocol` (MOSN keys it by protocol name), or the
/// flat form.
fn section<'a>(
    extend: Option<&'a Map<String, Value>>,
    protocol: &str,
) -> Option<&'a Map<String, Value>> {
    extend
        .and_then(|e| {
            e.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(protocol))
                .map(|(_, v)| v)
        })
        .and_then(Value::as_object)
        .or(extend)
}

impl Settings {
    /// Reads the protocols and `extend_config` (flat, or under the protocol name, as MOSN
    /// takes both).
    pub fn new(
        config: &ProxyConfig,
        codecs: &Registry,
        path: &str,
        diags: &mut Diagnostics,
    ) -> Option<Settings> {
        let extend = config.extend_config.as_ref().and_then(Value::as_object);
        let downstream = downstream_protocols(config, extend, codecs, path, diags);
        let upstream = upstream_protocol(&config.upstream_protocol, downstream.as_deref(), codecs)
            .map_err(|problem| diags.error(join(path, "upstream_protocol"), problem));
        let http1 = section(extend, "Http1");
        let number = |section: Option<&Map<String, Value>>, key: &str| {
            section
                .and_then(|h| h.get(key))
                .and_then(Value::as_u64)
                .unwrap_or(0)
        };
        // Our key (MOSN has none): how long a started request head may take to arrive.
        let header_timeout = match http1
            .and_then(|h| h.get("header_read_timeout"))
            .and_then(Value::as_str)
        {
            Some(text) => match mosn_config::duration::parse(text) {
                Ok(timeout) if !timeout.is_zero() => timeout,
                Ok(_) => HEADER_TIMEOUT,
                Err(problem) => {
                    diags.error(join(path, "extend_config.header_read_timeout"), problem);
                    return None;
                }
            },
            None => HEADER_TIMEOUT,
        };
        let mut limits = Limits::default();
        if let Some(size) = usize::try_from(number(http1, "max_header_size"))
            .ok()
            .filter(|n| *n > 0)
        {
            limits.max_head = size;
        }
        let http2 = http2_settings::read(section(extend, "Http2"), path, diags)?;
        let rpc = RpcSettings {
            max_frame: match number(extend, "max_frame_size") {
                0 => xprotocol::DEFAULT_MAX_FRAME,
                size => usize::try_from(size).unwrap_or(usize::MAX),
            },
            goaway: section(extend, "bolt")
                .and_then(|bolt| bolt.get("enable_bolt_goaway"))
                .and_then(Value::as_bool)
                .unwrap_or(false),
        };
        Some(Settings {
            downstream: downstream?,
            upstream: upstream.ok()?,
            limits,
            max_request_body_size: number(http1, "max_request_body_size"),
            header_timeout,
            http2,
            rpc,
            fallback: config.fallback_for_unknown_protocol,
        })
    }
}

/// `downstream_protocol`: one name, or a comma list of them (detected among). MOSN's legacy
/// `"X"` names its protocol in `extend_config.sub_protocol`.
fn downstream_protocols(
    config: &ProxyConfig,
    extend: Option<&Map<String, Value>>,
    codecs: &Registry,
    path: &str,
    diags: &mut Diagnostics,
) -> Option<Vec<Speaks>> {
    let path = join(path, "downstream_protocol");
    let mut names = config.downstream_protocol.as_str();
    if names == "X" {
        names = extend
            .and_then(|e| e.get("sub_protocol"))
            .and_then(Value::as_str)
            .unwrap_or_default();
    }
    if names.is_empty() {
        diags.error(
            path,
            format!("must be set (supported: {})", supported(codecs)),
        );
        return None;
    }
    let mut found = Vec::new();
    for name in names.split(',').map(str::trim) {
        let Some(list) = protocols(name, codecs) else {
            diags.error(
                &path,
                format!(
                    "protocol {name:?} is not supported yet (supported: {})",
                    supported(codecs)
                ),
            );
            return None;
        };
        for protocol in list {
            if !found.contains(&protocol) {
                found.push(protocol);
            }
        }
    }
    Some(found)
}

/// `upstream_protocol`: an HTTP version, or nothing (the client's). An RPC protocol goes
/// upstream as it came, so naming one is only accepted when clients speak it.
fn upstream_protocol(
    name: &str,
    downstream: Option<&[Speaks]>,
    codecs: &Registry,
) -> Result<Option<Protocol>, String> {
    match (name, protocols(name, codecs).as_deref()) {
        ("" | "Auto", _) => Ok(None),
        (_, Some([Speaks::Http(protocol)])) => Ok(Some(*protocol)),
        (_, Some([rpc @ Speaks::Rpc(_)])) if downstream.is_none_or(|d| d.contains(rpc)) => Ok(None),
        (_, Some([Speaks::Rpc(_)])) => Err(format!(
            "protocol {name:?} is not a downstream protocol: RPC requests are not translated"
        )),
        _ => Err(format!(
            "protocol {name:?} is not supported (supported: {})",
            supported(codecs)
        )),
    }
}
