//! The proxy filter's config, read into what the HTTP/1 streams need.

use std::time::Duration;

use mosn_config::Diagnostics;
use mosn_config::diagnostics::join;
use mosn_config::model::ProxyConfig;
use mosn_protocol::http1::Limits;
use serde_json::Value;

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
    pub limits: Limits,
    /// 0: no limit, as in MOSN.
    pub max_request_body_size: u64,
    pub header_timeout: Duration,
}

const SUPPORTED: &[&str] = &["Http1"];

impl Settings {
    /// Reads `extend_config` (flat, or under the protocol name, as MOSN takes both) and checks
    /// the protocols.
    pub fn new(config: &ProxyConfig, path: &str, diags: &mut Diagnostics) -> Option<Settings> {
        let mut ok = true;
        if config.downstream_protocol.is_empty() {
            diags.error(
                join(path, "downstream_protocol"),
                format!("must be set (supported: {SUPPORTED:?})"),
            );
            ok = false;
        }
        for (key, protocol) in [
            ("downstream_protocol", &config.downstream_protocol),
            ("upstream_protocol", &config.upstream_protocol),
        ] {
            if !protocol.is_empty() && !SUPPORTED.contains(&protocol.as_str()) {
                diags.error(
                    join(path, key),
                    format!(
                        "protocol {protocol:?} is not supported yet (supported: {SUPPORTED:?})"
                    ),
                );
                ok = false;
            }
        }
        let extend = config.extend_config.as_ref().and_then(Value::as_object);
        let http1 = extend
            .and_then(|e| {
                e.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("http1"))
                    .map(|(_, v)| v)
            })
            .and_then(Value::as_object)
            .or(extend);
        let number = |key: &str| {
            http1
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
        if let Some(size) = usize::try_from(number("max_header_size"))
            .ok()
            .filter(|n| *n > 0)
        {
            limits.max_head = size;
        }
        ok.then_some(Settings {
            limits,
            max_request_body_size: number("max_request_body_size"),
            header_timeout,
        })
    }
}
