//! Writing heads: the start line, then the fields in their order and case.

use bytes::{BufMut, BytesMut};

use super::head::{RequestHead, ResponseHead, Version};

fn version(version: Version) -> &'static [u8] {
    match version {
        Version::Http10 => b"HTTP/1.0",
        // An HTTP/2 head written out as HTTP/1 is written as the newest HTTP/1.
        Version::Http11 | Version::Http2 => b"HTTP/1.1",
    }
}

pub fn encode_request_head(head: &RequestHead, dst: &mut BytesMut) {
    dst.put_slice(&head.method);
    dst.put_u8(b' ');
    dst.put_slice(&head.target);
    dst.put_u8(b' ');
    dst.put_slice(version(head.version));
    dst.put_slice(b"\r\n");
    head.headers.write_lines(dst);
    dst.put_slice(b"\r\n");
}

pub fn encode_response_head(head: &ResponseHead, dst: &mut BytesMut) {
    dst.put_slice(version(head.version));
    dst.put_u8(b' ');
    dst.put_slice(itoa::Buffer::new().format(head.status).as_bytes());
    dst.put_u8(b' ');
    dst.put_slice(&head.reason);
    dst.put_slice(b"\r\n");
    head.headers.write_lines(dst);
    dst.put_slice(b"\r\n");
}

/// The standard reason phrase of a status, for responses the proxy writes itself.
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Content Too Large",
        414 => "URI Too Long",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}
