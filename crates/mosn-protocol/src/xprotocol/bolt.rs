//! SOFA bolt, versions 1 and 2 (all integers big-endian).
//!
//! v1 request: proto 0x01 | type | cmdcode u16 | ver2 | id u32 | codec | timeout i32 |
//! classLen u16 | headerLen u16 | contentLen u32 (22 bytes), then class, header map, content;
//! a response has status u16 in place of the timeout (20 bytes). v2 puts a `ver1` byte after
//! the proto byte (0x02) and a switch byte after the codec; switch bit 0 appends a CRC32 of
//! the whole frame. Either codec reads both versions, as MOSN's bolt does, and answers a frame
//! in its own version.

use std::time::Duration;

use bytes::{BufMut, BytesMut};

use super::{Codec, Detection, Error, Failure, Frame, Kind, header_map};

/// Where the fields of one bolt version are.
struct Layout {
    proto: u8,
    /// The byte after the proto byte in v2 (`ver1`); absent in v1.
    has_ver1: bool,
    /// The switch byte after the codec byte (v2).
    has_switch: bool,
}

impl Layout {
    const fn shift(&self) -> usize {
        self.has_ver1 as usize
    }
    fn type_at(&self) -> usize {
        1 + self.shift()
    }
    fn cmdcode_at(&self) -> usize {
        2 + self.shift()
    }
    fn id_at(&self) -> usize {
        5 + self.shift()
    }
    fn codec_at(&self) -> usize {
        9 + self.shift()
    }
    /// Where the timeout (requests) or status (responses) starts.
    fn fixed_at(&self) -> usize {
        10 + self.shift() + self.has_switch as usize
    }
    fn header_len(&self, response: bool) -> usize {
        self.fixed_at() + if response { 2 } else { 4 } + 8
    }
}

const V1: Layout = Layout {
    proto: 0x01,
    has_ver1: false,
    has_switch: false,
};
const V2: Layout = Layout {
    proto: 0x02,
    has_ver1: true,
    has_switch: true,
};

const TYPE_RESPONSE: u8 = 0;
const TYPE_REQUEST: u8 = 1;
const TYPE_ONEWAY: u8 = 2;

const CMD_HEARTBEAT: u16 = 0;
const CMD_RESPONSE: u16 = 2;
const CMD_GOAWAY: u16 = 100;

const HESSIAN2: u8 = 1;
const SWITCH_CRC: u8 = 0x01;
const CRC_LEN: usize = 4;

/// Response statuses.
pub mod status {
    pub const SUCCESS: u32 = 0;
    pub const SERVER_EXCEPTION: u32 = 2;
    pub const UNKNOWN: u32 = 3;
    pub const THREADPOOL_BUSY: u32 = 4;
    pub const NO_PROCESSOR: u32 = 6;
    pub const TIMEOUT: u32 = 7;
    pub const CODEC_EXCEPTION: u32 = 9;
    pub const CONNECTION_CLOSED: u32 = 0x10;
}

/// The bolt codec of one version: `bolt` (v1) or `boltv2`.
pub struct Bolt {
    name: &'static str,
    layout: &'static Layout,
}

pub const BOLT: Bolt = Bolt {
    name: "bolt",
    layout: &V1,
};
pub const BOLTV2: Bolt = Bolt {
    name: "boltv2",
    layout: &V2,
};

fn layout_of(proto: u8) -> Option<&'static Layout> {
    match proto {
        0x01 => Some(&V1),
        0x02 => Some(&V2),
        _ => None,
    }
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([bytes[at], bytes[at + 1]])
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// The error for a frame the proxy refuses to read: a codec-exception response when it is
/// a request (its header was read), nothing for a response.
fn refusal(header: &[u8], response: bool, problem: String) -> Error {
    let reply =
        (!response).then(|| Header::response_to(header, CMD_RESPONSE, status::CODEC_EXCEPTION));
    Error { problem, reply }
}

fn has_crc(layout: &Layout, bytes: &[u8]) -> bool {
    layout.has_switch && bytes[layout.codec_at() + 1] & SWITCH_CRC != 0
}

/// The fields every frame this codec writes is built from.
struct Header<'a> {
    layout: &'a Layout,
    ver1: u8,
    frame_type: u8,
    cmdcode: u16,
    id: u32,
    codec: u8,
    crc: bool,
    /// The timeout of a request, the status of a response.
    timeout_or_status: u32,
}

impl Header<'_> {
    /// A frame with no class, header map or content.
    fn encode(&self) -> BytesMut {
        let layout = self.layout;
        let response = self.frame_type == TYPE_RESPONSE;
        let mut out = BytesMut::with_capacity(layout.header_len(response) + CRC_LEN);
        out.put_u8(layout.proto);
        if layout.has_ver1 {
            out.put_u8(self.ver1);
        }
        out.put_u8(self.frame_type);
        out.put_u16(self.cmdcode);
        out.put_u8(1); // ver2
        out.put_u32(self.id);
        out.put_u8(self.codec);
        if layout.has_switch {
            out.put_u8(if self.crc { SWITCH_CRC } else { 0 });
        }
        match response {
            true => out.put_u16(self.timeout_or_status as u16),
            false => out.put_u32(self.timeout_or_status),
        }
        out.put_bytes(0, 8); // class, header and content lengths
        if self.crc {
            let crc = crc32fast::hash(&out);
            out.put_u32(crc);
        }
        out
    }

    /// A response to `request`, in its version and with its codec and CRC choice.
    fn response_to(request: &[u8], cmdcode: u16, status: u32) -> BytesMut {
        let layout = layout_of(request[0]).unwrap_or(&V1);
        Header {
            layout,
            ver1: if layout.has_ver1 { request[1] } else { 0 },
            frame_type: TYPE_RESPONSE,
            cmdcode,
            id: u32_at(request, layout.id_at()),
            codec: request[layout.codec_at()],
            crc: has_crc(layout, request),
            timeout_or_status: status,
        }
        .encode()
    }
}

impl Bolt {
    fn request(&self, cmdcode: u16, id: u32, timeout: i32) -> BytesMut {
        Header {
            layout: self.layout,
            ver1: 1,
            frame_type: TYPE_REQUEST,
            cmdcode,
            id,
            codec: HESSIAN2,
            crc: false,
            timeout_or_status: timeout as u32,
        }
        .encode()
    }
}

impl Codec for Bolt {
    fn name(&self) -> &'static str {
        self.name
    }

    fn detect(&self, start: &[u8]) -> Detection {
        match start.first() {
            None => Detection::NeedMore,
            Some(proto) if *proto == self.layout.proto => Detection::Yes,
            Some(_) => Detection::No,
        }
    }

    fn decode(&self, buf: &mut BytesMut, max_frame: usize) -> Result<Option<Frame>, Error> {
        let Some(&proto) = buf.first() else {
            return Ok(None);
        };
        let layout = layout_of(proto)
            .ok_or_else(|| Error::new(format!("unknown bolt proto {proto:#04x}")))?;
        if buf.len() <= layout.type_at() {
            return Ok(None);
        }
        let frame_type = buf[layout.type_at()];
        if !matches!(frame_type, TYPE_RESPONSE | TYPE_REQUEST | TYPE_ONEWAY) {
            return Err(Error::new(format!("unknown bolt frame type {frame_type}")));
        }
        let response = frame_type == TYPE_RESPONSE;
        let header_len = layout.header_len(response);
        if buf.len() < header_len {
            return Ok(None);
        }
        let lengths = header_len - 8;
        let class_len = usize::from(u16_at(buf, lengths));
        let map_len = usize::from(u16_at(buf, lengths + 2));
        let content_len = u32_at(buf, lengths + 4) as usize;
        let crc = if has_crc(layout, buf) { CRC_LEN } else { 0 };
        let frame_len = header_len + class_len + map_len + content_len + crc;
        if frame_len > max_frame {
            return Err(refusal(
                buf,
                response,
                format!("bolt frame of {frame_len} bytes is over the limit of {max_frame}"),
            ));
        }
        if buf.len() < frame_len {
            return Ok(None);
        }
        let raw = buf.split_to(frame_len).freeze();
        if crc > 0 {
            let body = frame_len - CRC_LEN;
            if crc32fast::hash(&raw[..body]) != u32_at(&raw, body) {
                return Err(refusal(&raw, response, "bolt frame CRC mismatch".into()));
            }
        }
        let map_at = header_len + class_len;
        let Some(headers) = header_map::decode(&raw[map_at..map_at + map_len]) else {
            return Err(refusal(&raw, response, "malformed bolt header map".into()));
        };
        let cmdcode = u16_at(&raw, layout.cmdcode_at());
        let kind = match (cmdcode, frame_type) {
            (CMD_HEARTBEAT, TYPE_RESPONSE) => Kind::HeartbeatReply,
            (CMD_HEARTBEAT, _) => Kind::Heartbeat,
            (CMD_GOAWAY, _) => Kind::Goaway,
            (_, TYPE_RESPONSE) => Kind::Response,
            (_, TYPE_ONEWAY) => Kind::Oneway,
            _ => Kind::Request,
        };
        let fixed = layout.fixed_at();
        let (status, timeout) = match response {
            true => (u32::from(u16_at(&raw, fixed)), None),
            false => {
                let millis = u32_at(&raw, fixed) as i32;
                let timeout = u64::try_from(millis).ok().filter(|ms| *ms > 0);
                (0, timeout.map(Duration::from_millis))
            }
        };
        Ok(Some(Frame {
            kind,
            request_id: u64::from(u32_at(&raw, layout.id_at())),
            status,
            timeout,
            headers,
            raw,
        }))
    }

    fn write_with_id(&self, frame: &[u8], id: u64, out: &mut BytesMut) {
        let at = out.len();
        out.extend_from_slice(frame);
        let frame = &mut out[at..];
        let Some(layout) = frame.first().and_then(|proto| layout_of(*proto)) else {
            return;
        };
        let at = layout.id_at();
        frame[at..at + 4].copy_from_slice(&(id as u32).to_be_bytes());
        if has_crc(layout, frame) {
            let body = frame.len() - CRC_LEN;
            let crc = crc32fast::hash(&frame[..body]);
            frame[body..].copy_from_slice(&crc.to_be_bytes());
        }
    }

    fn max_request_id(&self) -> u64 {
        u64::from(u32::MAX)
    }

    fn hijack(&self, request: &Frame, failure: Failure) -> BytesMut {
        let status = self.status_for_http(failure.http_status());
        Header::response_to(&request.raw, CMD_RESPONSE, status)
    }

    fn heartbeat(&self, id: u64) -> Option<BytesMut> {
        Some(self.request(CMD_HEARTBEAT, id as u32, -1))
    }

    fn heartbeat_reply(&self, request: &Frame) -> BytesMut {
        Header::response_to(&request.raw, CMD_HEARTBEAT, status::SUCCESS)
    }

    fn goaway(&self) -> Option<BytesMut> {
        Some(self.request(CMD_GOAWAY, 0, 0))
    }

    fn status_for_http(&self, code: u16) -> u32 {
        match code {
            200 => status::SUCCESS,
            400 => status::CODEC_EXCEPTION,
            403 => status::SERVER_EXCEPTION,
            404 | 502 => status::NO_PROCESSOR,
            503 => status::THREADPOOL_BUSY,
            504 => status::TIMEOUT,
            _ => status::UNKNOWN,
        }
    }

    fn http_status(&self, status: u32) -> u16 {
        match status {
            status::SUCCESS => 200,
            status::THREADPOOL_BUSY => 503,
            status::TIMEOUT => 504,
            status::CONNECTION_CLOSED => 502,
            _ => 500,
        }
    }
}

#[cfg(test)]
mod tests;
