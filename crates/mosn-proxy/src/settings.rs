//! The proxy filter's config, read into what its HTTP/1 and HTTP/2 streams need.

use std::time::Duration;

use mosn_config::Diagnostics;
use mosn_config::diagnostics::join;
use mosn_config::model::ProxyConfig;
use mosn_protocol::detect::Protocol;
use mosn_protocol::http1::Limits;
use mosn_protocol::http2;
use serde_json::{Map, Value};

/// How long a client may take to send a whole request head once it has started (slowloris).
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// A wait that never ends in practice (a century), where an API wants a duration.
const NEVER: Duration = Duration::from_secs(100 * 365 * 86_400);

/// How long the client connection may stay silent, as a duration (no limit is a century).
pub fn idle_timeout(connection: &mosn_net::Connection) -> Duration {
    connection.idle_limit().unwrap_or(NEVER)
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// The protocols clients may speak; more than one means detection from the first bytes.
    pub downstream: Vec<Protocol>,
    /// The protocol spoken to upstreams; `None`: the client's.
    pub upstream: Option<Protocol>,
    pub limits: Limits,
    /// 0: no limit, as in MOSN.
    pub max_request_body_size: u64,
    pub header_timeout: Duration,
    pub http2: http2::Settings,
}

const SUPPORTED: &str = "Http1, Http2 and Auto";

/// A protocol name as MOSN registers it; `Auto` is both HTTP versions.
fn protocols(name: &str) -> Option<&'static [Protocol]> {
    match name {
        "Http1" => Some(&[Protocol::Http1]),
        "Http2" => Some(&[Protocol::Http2]),
        "Auto" => Some(&[Protocol::Http1, Protocol::Http2]),
        _ => None,
    }
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
    pub fn new(config: &ProxyConfig, path: &str, diags: &mut Diagnostics) -> Option<Settings> {
        let downstream = downstream_protocols(&config.downstream_protocol, path, diags);
        let upstream = match config.upstream_protocol.as_str() {
            "" | "Auto" => Ok(None),
            name => match protocols(name) {
                Some([single]) => Ok(Some(*single)),
                _ => {
                    diags.error(
                        join(path, "upstream_protocol"),
                        format!(
                            "protocol {name:?} is not supported (supported: Http1, Http2, Auto)"
                        ),
                    );
                    Err(())
                }
            },
        };
        let extend = config.extend_config.as_ref().and_then(Value::as_object);
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
        let http2 = http2_settings(section(extend, "Http2"), path, diags)?;
        Some(Settings {
            downstream: downstream?,
            upstream: upstream.ok()?,
            limits,
            max_request_body_size: number(http1, "max_request_body_size"),
            header_timeout,
            http2,
        })
    }
}

/// `downstream_protocol`: one name, or a comma list of them (detected among).
fn downstream_protocols(names: &str, path: &str, diags: &mut Diagnostics) -> Option<Vec<Protocol>> {
    let path = join(path, "downstream_protocol");
    if names.is_empty() {
        diags.error(path, format!("must be set (supported: {SUPPORTED})"));
        return None;
    }
    let mut found = Vec::new();
    for name in names.split(',').map(str::trim) {
        let Some(list) = protocols(name) else {
            diags.error(
                &path,
                format!("protocol {name:?} is not supported yet (supported: {SUPPORTED})"),
            );
            return None;
        };
        for protocol in list {
            if !found.contains(protocol) {
                found.push(*protocol);
            }
        }
    }
    Some(found)
}

/// The HTTP/2 keys of `extend_config` (Envoy's names for them; MOSN has none), each checked.
fn http2_settings(
    section: Option<&Map<String, Value>>,
    path: &str,
    diags: &mut Diagnostics,
) -> Option<http2::Settings> {
    let mut settings = http2::Settings::default();
    let keys: [(&str, &mut u32, u32); 3] = [
        (
            "initial_stream_window_size",
            &mut settings.initial_stream_window_size,
            65_535,
        ),
        (
            "initial_connection_window_size",
            &mut settings.initial_connection_window_size,
            65_535,
        ),
        (
            "max_concurrent_streams",
            &mut settings.max_concurrent_streams,
            1,
        ),
    ];
    let mut ok = true;
    for (key, slot, min) in keys {
        let Some(value) = section.and_then(|s| s.get(key)) else {
            continue;
        };
        match value.as_u64().and_then(|n| u32::try_from(n).ok()) {
            Some(n) if n >= min && n <= MAX_WINDOW => *slot = n,
            _ => {
                diags.error(
                    join(path, &format!("extend_config.{key}")),
                    format!("must be a number from {min} to {MAX_WINDOW}"),
                );
                ok = false;
            }
        }
    }
    ok.then_some(settings)
}

/// The largest HTTP/2 window (RFC 9113 section 6.9.1).
const MAX_WINDOW: u32 = (1 << 31) - 1;
