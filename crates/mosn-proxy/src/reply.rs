//! Responses the proxy writes itself: errors, direct responses, redirects.

use bytes::{BufMut, BytesMut};
use mosn_protocol::http1::encode::reason;

/// A complete response with a text body.
pub fn local_reply(
    status: u16,
    body: &str,
    close: bool,
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
    }
    dst.put_slice(b"\r\n");
    dst.put_slice(body.as_bytes());
}
