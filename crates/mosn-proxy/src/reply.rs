//! Responses the proxy writes itself: errors, direct responses, redirects.

use bytes::{BufMut, Bytes, BytesMut};
use h2::server::SendResponse;
use http::StatusCode;
use http::header::{HeaderName, HeaderValue};
use mosn_protocol::http1::encode::reason;

/// A complete response with a text body. `close` says the connection ends after it; an
/// HTTP/1.0 client (`http10`) is told when it does not.
pub fn local_reply(
    status: u16,
    body: &str,
    close: bool,
    http10: bool,
    extra: &[(&str, &str)],
    dst: &mut BytesMut,
) {
    dst.put_slice(format!("HTTP/1.1 {status} {}\r\n", reason(status)).as_bytes());
    for (name, value) in extra {
        dst.put_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    if !body.is_empty() {
        dst.put_slice(b"Content-Type: text/plain; charset=utf-8\r\n");
    }
    dst.put_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    if close {
        dst.put_slice(b"Connection: close\r\n");
    } else if http10 {
        dst.put_slice(b"Connection: keep-alive\r\n");
    }
    dst.put_slice(b"\r\n");
    dst.put_slice(body.as_bytes());
}

/// An answer the proxy gives itself, with the response flag that explains it in access logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Local {
    pub status: u16,
    pub body: &'static str,
    pub flag: Option<&'static str>,
}

impl Local {
    pub const NO_ROUTE: Local = Local::new(404, "no route\n", "NR");
    pub const NO_CLUSTER: Local = Local::new(503, "cluster not found\n", "NC");
    pub const NO_HOST: Local = Local::new(503, "no healthy upstream\n", "UH");
    pub const CONNECT_FAILED: Local = Local::new(503, "upstream connect failed\n", "UF");
    pub const OVERFLOW: Local = Local::new(503, "upstream overflow\n", "UO");
    pub const TIMEOUT: Local = Local::new(504, "upstream request timeout\n", "UT");
    pub const UPSTREAM_CLOSED: Local = Local::new(502, "upstream connection closed\n", "UC");
    pub const BAD_UPSTREAM: Local = Local::new(502, "invalid upstream response\n", "UR");
    pub const TOO_LARGE: Local = Local::new(413, "request body too large\n", "RE");
    pub const BAD_BODY: Local = Local::new(400, "malformed request body\n", "DPE");

    const fn new(status: u16, body: &'static str, flag: &'static str) -> Local {
        Local {
            status,
            body,
            flag: Some(flag),
        }
    }
}

/// The proxy's own response on an HTTP/2 stream. It cannot fail in a way anyone could be told
/// of: a client that reset the stream is gone.
pub fn h2_local_reply(
    respond: &mut SendResponse<Bytes>,
    status: u16,
    body: &str,
    extra: &[(&str, &str)],
) {
    let mut response = http::Response::new(());
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    for (name, value) in extra {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.append(name, value);
        }
    }
    if !body.is_empty() {
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    }
    if let Ok(mut send) = respond.send_response(response, body.is_empty())
        && !body.is_empty()
    {
        let _ = send.send_data(Bytes::copy_from_slice(body.as_bytes()), true);
    }
}
