//! Dubbo (all integers big-endian): a 16-byte header, magic 0xDABB | flag | status |
//! request id u64 | body length u32, then the body. Flag bit 7 marks a request, bit 6 a
//! two-way one, bit 5 an event (heartbeat); bits 0-4 are the serialization (2 = hessian2).
//!
//! A hessian2 request body is the dubbo version, service path, service version, method,
//! parameter types, the arguments and the attachments map; the proxy reads them into routing
//! headers (`dubbo`, `service`, `version`, `method`, and each string attachment, `interface`
//! overriding `service`), skipping the arguments.

use std::time::Duration;

use bytes::{BufMut, BytesMut};

use super::hessian::{Reader, write_string};
use super::{Codec, Detection, Error, Failure, Frame, Kind};

const MAGIC: [u8; 2] = [0xda, 0xbb];
const HEADER_LEN: usize = 16;
const FLAG_REQUEST: u8 = 0x80;
const FLAG_TWO_WAY: u8 = 0x40;
const FLAG_EVENT: u8 = 0x20;
const SERIALIZATION_MASK: u8 = 0x1f;
const HESSIAN2: u8 = 2;
/// Hessian's null: the body of a heartbeat and of its reply.
const NULL: u8 = b'N';

/// Response statuses.
pub mod status {
    pub const OK: u32 = 20;
    pub const CLIENT_TIMEOUT: u32 = 30;
    pub const SERVER_TIMEOUT: u32 = 31;
    pub const BAD_REQUEST: u32 = 40;
    pub const SERVICE_NOT_FOUND: u32 = 60;
    pub const SERVICE_ERROR: u32 = 70;
    pub const THREADPOOL_EXHAUSTED: u32 = 100;
}

pub struct Dubbo;

fn frame(flag: u8, status: u32, id: u64, body: &[u8]) -> BytesMut {
    let mut out = BytesMut::with_capacity(HEADER_LEN + body.len());
    out.put_slice(&MAGIC);
    out.put_u8(flag);
    out.put_u8(status as u8);
    out.put_u64(id);
    out.put_u32(body.len() as u32);
    out.put_slice(body);
    out
}

/// An error response to the request with `id`: the status, and a message as the body.
fn error_response(id: u64, status: u32, message: &str) -> BytesMut {
    let mut body = Vec::new();
    write_string(&mut body, message);
    frame(HESSIAN2, status, id, &body)
}

/// How many arguments a parameter-types descriptor such as `Ljava/lang/String;[II` names.
fn argument_count(descriptor: &str) -> usize {
    let mut count = 0;
    let mut chars = descriptor.chars();
    while let Some(c) = chars.next() {
        match c {
            '[' => continue,
            'L' => {
                chars.by_ref().find(|c| *c == ';');
            }
            _ => {}
        }
        count += 1;
    }
    count
}

/// The routing headers of a hessian2 request body; `None` when it cannot be read.
fn request_headers(body: &[u8]) -> Option<Vec<(String, String)>> {
    let mut reader = Reader::new(body);
    let mut headers = Vec::with_capacity(8);
    for name in ["dubbo", "service", "version", "method"] {
        headers.push((name.to_string(), reader.string()?));
    }
    let descriptor = reader.string()?;
    for _ in 0..argument_count(&descriptor) {
        reader.skip()?;
    }
    let attachments = reader.string_map()?;
    if let Some((_, interface)) = attachments.iter().find(|(k, _)| k == "interface") {
        headers[1].1 = interface.clone();
    }
    headers.extend(attachments);
    Some(headers)
}

impl Codec for Dubbo {
    fn name(&self) -> &'static str {
        "dubbo"
    }

    fn detect(&self, start: &[u8]) -> Detection {
        match start.len() {
            0 => Detection::NeedMore,
            1 if start[0] == MAGIC[0] => Detection::NeedMore,
            _ if start.starts_with(&MAGIC) => Detection::Yes,
            _ => Detection::No,
        }
    }

    fn decode(&self, buf: &mut BytesMut, max_frame: usize) -> Result<Option<Frame>, Error> {
        let magic_seen = buf.len().min(2);
        if buf[..magic_seen] != MAGIC[..magic_seen] {
            return Err(Error::new("not a dubbo frame (bad magic)"));
        }
        if buf.len() < HEADER_LEN {
            return Ok(None);
        }
        let flag = buf[2];
        let id = u64::from_be_bytes(buf[4..12].try_into().expect("8 bytes"));
        let body_len = u32::from_be_bytes(buf[12..16].try_into().expect("4 bytes")) as usize;
        let request = flag & FLAG_REQUEST != 0;
        let refuse = |problem: String| Error {
            problem,
            reply: request.then(|| error_response(id, status::BAD_REQUEST, "400|bad request")),
        };
        let frame_len = HEADER_LEN.saturating_add(body_len);
        if frame_len > max_frame {
            return Err(refuse(format!(
                "dubbo frame of {frame_len} bytes is over the limit of {max_frame}"
            )));
        }
        if buf.len() < frame_len {
            return Ok(None);
        }
        let raw = buf.split_to(frame_len).freeze();
        let event = flag & FLAG_EVENT != 0;
        let kind = match (request, event, flag & FLAG_TWO_WAY != 0) {
            (true, true, _) => Kind::Heartbeat,
            (true, false, true) => Kind::Request,
            (true, false, false) => Kind::Oneway,
            (false, true, _) => Kind::HeartbeatReply,
            (false, false, _) => Kind::Response,
        };
        let mut headers = Vec::new();
        if request && !event && flag & SERIALIZATION_MASK == HESSIAN2 {
            headers = request_headers(&raw[HEADER_LEN..])
                .ok_or_else(|| refuse("unreadable dubbo request body".into()))?;
        }
        let timeout = headers
            .iter()
            .find(|(k, _)| k == "timeout")
            .and_then(|(_, v)| v.parse().ok())
            .filter(|ms| *ms > 0)
            .map(Duration::from_millis);
        Ok(Some(Frame {
            kind,
            request_id: id,
            status: u32::from(raw[3]),
            timeout,
            headers,
            raw,
        }))
    }

    fn write_with_id(&self, frame: &[u8], id: u64, out: &mut BytesMut) {
        let at = out.len();
        out.extend_from_slice(frame);
        out[at + 4..at + 12].copy_from_slice(&id.to_be_bytes());
    }

    fn max_request_id(&self) -> u64 {
        u64::MAX
    }

    fn hijack(&self, request: &Frame, failure: Failure) -> BytesMut {
        let code = failure.http_status();
        let status = self.status_for_http(code);
        error_response(
            request.request_id,
            status,
            &format!("{code}|{}", failure.reason()),
        )
    }

    fn heartbeat(&self, id: u64) -> Option<BytesMut> {
        let flag = FLAG_REQUEST | FLAG_TWO_WAY | FLAG_EVENT | HESSIAN2;
        Some(frame(flag, 0, id, &[NULL]))
    }

    fn heartbeat_reply(&self, request: &Frame) -> BytesMut {
        let serialization = request.raw[2] & SERIALIZATION_MASK;
        frame(
            FLAG_EVENT | serialization,
            status::OK,
            request.request_id,
            &[NULL],
        )
    }

    fn status_for_http(&self, code: u16) -> u32 {
        match code {
            200 => status::OK,
            400 => status::BAD_REQUEST,
            404 | 502 => status::SERVICE_NOT_FOUND,
            503 => status::THREADPOOL_EXHAUSTED,
            504 => status::CLIENT_TIMEOUT,
            _ => status::SERVICE_ERROR,
        }
    }

    fn http_status(&self, status: u32) -> u16 {
        match status {
            status::OK => 200,
            status::CLIENT_TIMEOUT | status::SERVER_TIMEOUT => 504,
            status::BAD_REQUEST => 400,
            status::SERVICE_NOT_FOUND => 404,
            status::THREADPOOL_EXHAUSTED => 503,
            _ => 500,
        }
    }
}

#[cfg(test)]
mod tests;
