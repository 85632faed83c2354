//! The HTTP/2 keys of the proxy's `extend_config` (under `Http2`, or flat), with Envoy's names
//! for them (MOSN has none), each checked.

use std::time::Duration;

use mosn_config::Diagnostics;
use mosn_config::diagnostics::join;
use mosn_protocol::http2::{Keepalive, Settings};
use serde_json::{Map, Value};

/// The largest HTTP/2 window (RFC 9113 section 6.9.1).
const MAX_WINDOW: u32 = (1 << 31) - 1;

/// The settings `section` names over the defaults; `None` (each problem reported at its path)
/// when a value is out of range.
pub fn read(
    section: Option<&Map<String, Value>>,
    path: &str,
    diags: &mut Diagnostics,
) -> Option<Settings> {
    let mut settings = Settings::default();
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
    if let Some(value) = section.and_then(|s| s.get("connection_keepalive")) {
        let path = join(path, "extend_config.connection_keepalive");
        match keepalive(value, &path, diags) {
            Some(keepalive) => settings.keepalive = Some(keepalive),
            None => ok = false,
        }
    }
    ok.then_some(settings)
}

/// `connection_keepalive`: `{"interval": "30s", "timeout": "5s"}`, both required and above
/// zero, as Envoy has them.
fn keepalive(value: &Value, path: &str, diags: &mut Diagnostics) -> Option<Keepalive> {
    let Some(object) = value.as_object() else {
        diags.error(path, "must be an object with `interval` and `timeout`");
        return None;
    };
    let mut duration = |key: &str| -> Option<Duration> {
        let problem = match object.get(key).map(|v| v.as_str()) {
            None => "is required".to_string(),
            Some(None) => "must be a duration string such as \"30s\"".to_string(),
            Some(Some(text)) => match mosn_config::duration::parse(text) {
                Ok(duration) if !duration.is_zero() => return Some(duration),
                Ok(_) => "must be above zero".to_string(),
                Err(problem) => problem,
            },
        };
        diags.error(join(path, key), problem);
        None
    };
    let interval = duration("interval");
    let timeout = duration("timeout");
    Some(Keepalive {
        interval: interval?,
        timeout: timeout?,
    })
}
