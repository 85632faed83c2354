//! What the proxy needs to know of gRPC (HTTP/2 with trailers): telling a gRPC request, the
//! status codes it answers with when it answers itself, and `grpc-timeout`.

use std::time::Duration;

use crate::http1::Headers;

/// Whether the request is a gRPC call (`content-type: application/grpc`, `+proto` and so on).
pub fn is_grpc(headers: &Headers) -> bool {
    headers
        .get("content-type")
        .is_some_and(|t| t.len() >= 16 && t[..16].eq_ignore_ascii_case(b"application/grpc"))
}

/// gRPC status codes the proxy answers with.
pub mod code {
    pub const UNKNOWN: u8 = 2;
    pub const DEADLINE_EXCEEDED: u8 = 4;
    pub const RESOURCE_EXHAUSTED: u8 = 8;
    pub const UNIMPLEMENTED: u8 = 12;
    pub const INTERNAL: u8 = 13;
    pub const UNAVAILABLE: u8 = 14;
}

/// The gRPC status for an HTTP status the proxy would have answered with; a timeout (504) is
/// DEADLINE_EXCEEDED rather than the UNAVAILABLE of the gRPC HTTP mapping.
pub fn status_for_http(status: u16) -> u8 {
    match status {
        400 => code::INTERNAL,
        404 | 501 => code::UNIMPLEMENTED,
        413 | 429 => code::RESOURCE_EXHAUSTED,
        502 | 503 => code::UNAVAILABLE,
        504 | 408 => code::DEADLINE_EXCEEDED,
        _ => code::UNKNOWN,
    }
}

/// `grpc-timeout` (at most 8 digits, then a unit: H M S m u n), as a duration.
pub fn timeout(headers: &Headers) -> Option<Duration> {
    let value = headers.get("grpc-timeout")?;
    let (digits, unit) = value.split_at(value.len().checked_sub(1)?);
    if digits.is_empty() || digits.len() > 8 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let amount: u64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    Some(match unit {
        b"H" => Duration::from_secs(amount * 3600),
        b"M" => Duration::from_secs(amount * 60),
        b"S" => Duration::from_secs(amount),
        b"m" => Duration::from_millis(amount),
        b"u" => Duration::from_micros(amount),
        b"n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(name: &str, value: &str) -> Headers {
        let mut headers = Headers::default();
        headers.push(name, value);
        headers
    }

    #[test]
    fn timeouts_parse_every_unit_and_refuse_garbage() {
        let t = |v| timeout(&with("grpc-timeout", v));
        assert_eq!(t("100m"), Some(Duration::from_millis(100)));
        assert_eq!(t("2S"), Some(Duration::from_secs(2)));
        assert_eq!(t("1H"), Some(Duration::from_secs(3600)));
        assert_eq!(t("5n"), Some(Duration::from_nanos(5)));
        for bad in ["", "m", "100", "123456789S", "1x", "-1S", "1.5S"] {
            assert_eq!(t(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn grpc_requests_are_told_by_content_type() {
        assert!(is_grpc(&with("Content-Type", "application/grpc")));
        assert!(is_grpc(&with("content-type", "application/grpc+proto")));
        assert!(!is_grpc(&with("content-type", "application/json")));
        assert!(!is_grpc(&Headers::default()));
    }
}
