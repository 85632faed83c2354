//! Access log formats: text with MOSN's `%variable%` placeholders, compiled once.

use std::fmt::Write;
use std::time::Duration;

use mosn_protocol::http1::{Headers, RequestHead, ResponseHead, Version};

use super::record::Record;
use super::time::format_start_time;

/// MOSN's default format.
pub const DEFAULT_FORMAT: &str = "%start_time% %trace_id%  %connection_id% %upstream_connection_id% \
%request_received_duration% %response_received_duration% %bytes_sent% %bytes_received% %protocol% \
%response_code% %duration% %response_flag% %response_code% %upstream_local_address% \
%downstream_local_address% %downstream_remote_address% %upstream_host%";

#[derive(Debug, Clone, PartialEq, Eq)]
enum Variable {
    StartTime,
    RequestReceivedDuration,
    ResponseReceivedDuration,
    RequestFinishedDuration,
    Duration,
    BytesSent,
    BytesReceived,
    Protocol,
    ResponseCode,
    ResponseFlag,
    UpstreamLocalAddress,
    DownstreamLocalAddress,
    DownstreamRemoteAddress,
    UpstreamHost,
    UpstreamCluster,
    ConnectionId,
    ListenerName,
    ListenerPort,
    RequestHeader(String),
    ResponseHeader(String),
    /// A name this build does not know: printed as `-`, as MOSN does.
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Text(String),
    Var(Variable),
}

#[derive(Debug, Clone)]
pub struct Format(Vec<Segment>);

impl Format {
    pub fn parse(format: &str) -> Format {
        let mut segments = Vec::new();
        let mut rest = format;
        while let Some(start) = rest.find('%') {
            let Some(len) = rest[start + 1..].find('%') else {
                break;
            };
            if start > 0 {
                segments.push(Segment::Text(rest[..start].to_string()));
            }
            segments.push(Segment::Var(variable(&rest[start + 1..start + 1 + len])));
            rest = &rest[start + len + 2..];
        }
        if !rest.is_empty() {
            segments.push(Segment::Text(rest.to_string()));
        }
        Format(segments)
    }

    pub fn render(
        &self,
        record: &Record,
        request: &RequestHead,
        response: Option<&ResponseHead>,
        out: &mut String,
    ) {
        for segment in &self.0 {
            match segment {
                Segment::Text(text) => out.push_str(text),
                Segment::Var(var) => render_var(var, record, request, response, out),
            }
        }
    }
}

fn variable(name: &str) -> Variable {
    if let Some(header) = name.strip_prefix("request_header_") {
        return Variable::RequestHeader(header.to_string());
    }
    if let Some(header) = name.strip_prefix("response_header_") {
        return Variable::ResponseHeader(header.to_string());
    }
    match name {
        "start_time" => Variable::StartTime,
        "request_received_duration" => Variable::RequestReceivedDuration,
        "response_received_duration" => Variable::ResponseReceivedDuration,
        "request_finished_duration" => Variable::RequestFinishedDuration,
        "duration" => Variable::Duration,
        "bytes_sent" => Variable::BytesSent,
        "bytes_received" => Variable::BytesReceived,
        "protocol" => Variable::Protocol,
        "response_code" => Variable::ResponseCode,
        "response_flag" | "response_flags" => Variable::ResponseFlag,
        "upstream_local_address" => Variable::UpstreamLocalAddress,
        "downstream_local_address" => Variable::DownstreamLocalAddress,
        "downstream_remote_address" => Variable::DownstreamRemoteAddress,
        "upstream_host" => Variable::UpstreamHost,
        "upstream_cluster" => Variable::UpstreamCluster,
        "connection_id" => Variable::ConnectionId,
        "listener_name" => Variable::ListenerName,
        "listener_port" => Variable::ListenerPort,
        _ => Variable::Unknown,
    }
}

fn dash_or(value: Option<&str>, out: &mut String) {
    out.push_str(value.filter(|v| !v.is_empty()).unwrap_or("-"));
}

fn duration(value: Option<Duration>, out: &mut String) {
    match value {
        Some(d) => out.push_str(&mosn_config::duration::format(d)),
        None => out.push('-'),
    }
}

fn header<'a>(headers: &'a Headers, name: &str) -> Option<&'a str> {
    headers.get_str(name)
}

fn render_var(
    var: &Variable,
    record: &Record,
    request: &RequestHead,
    response: Option<&ResponseHead>,
    out: &mut String,
) {
    match var {
        Variable::StartTime => out.push_str(&format_start_time(record.start)),
        Variable::RequestReceivedDuration => duration(record.request_received, out),
        Variable::ResponseReceivedDuration => duration(record.response_received, out),
        Variable::RequestFinishedDuration | Variable::Duration => duration(record.finished, out),
        Variable::BytesSent => {
            let _ = write!(out, "{}", record.bytes_sent);
        }
        Variable::BytesReceived => {
            let _ = write!(out, "{}", record.bytes_received);
        }
        Variable::Protocol => out.push_str(match request.version {
            Version::Http2 => "Http2",
            Version::Http10 | Version::Http11 => "Http1",
        }),
        Variable::ResponseCode => match record.status {
            0 => out.push('-'),
            status => {
                let _ = write!(out, "{status}");
            }
        },
        Variable::ResponseFlag => dash_or(record.flag, out),
        Variable::UpstreamLocalAddress => dash_or(record.upstream_local.as_deref(), out),
        Variable::DownstreamLocalAddress => dash_or(Some(&record.downstream_local), out),
        Variable::DownstreamRemoteAddress => dash_or(Some(&record.downstream_remote), out),
        Variable::UpstreamHost => dash_or(record.upstream_host.as_deref(), out),
        Variable::UpstreamCluster => dash_or(record.upstream_cluster.as_deref(), out),
        Variable::ConnectionId => {
            let _ = write!(out, "{}", record.connection_id);
        }
        Variable::ListenerName => dash_or(Some(&record.listener), out),
        Variable::ListenerPort => dash_or(record.downstream_local.rsplit(':').next(), out),
        Variable::RequestHeader(name) => dash_or(header(&request.headers, name), out),
        Variable::ResponseHeader(name) => {
            dash_or(response.and_then(|r| header(&r.headers, name)), out)
        }
        Variable::Unknown => out.push('-'),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_text_and_variables() {
        let format = Format::parse("[%response_code%] %request_header_X-Id% %nonsense% 100%");
        assert_eq!(
            format.0,
            [
                Segment::Text("[".into()),
                Segment::Var(Variable::ResponseCode),
                Segment::Text("] ".into()),
                Segment::Var(Variable::RequestHeader("X-Id".into())),
                Segment::Text(" ".into()),
                Segment::Var(Variable::Unknown),
                Segment::Text(" 100%".into()),
            ]
        );
    }
}
