//! Tars: a packet is its total length (a big-endian u32 that counts itself), then a struct in
//! the TARS encoding ([`encoding`]), a RequestPacket or a ResponsePacket:
//!
//! | tag | request        | response       |
//! |-----|----------------|----------------|
//! | 1   | iVersion       | iVersion       |
//! | 2   | cPacketType    | cPacketType    |
//! | 3   | iMessageType   | iRequestId     |
//! | 4   | iRequestId     | iMessageType   |
//! | 5   | sServantName   | iRet           |
//! | 6   | sFuncName      | sBuffer        |
//! | 7   | sBuffer        | status         |
//! | 8   | iTimeout (ms)  | sResultDesc    |
//! | 9   | context        | context        |
//! | 10  | status         |                |
//!
//! Field 5 tells them apart: a string in a request, an integer in a response. TUP (iVersion 2
//! and 3) answers with a RequestPacket instead, its return code in the `status` map (tag 10)
//! under `STATUS_RESULT_CODE`. The request id is an int32 written in as few bytes as it needs,
//! so a new id can change the packet's length and the packet is written out again around it.
//! Tars has no heartbeat or goaway frame.

mod encoding;

use std::time::Duration;

use bytes::{BufMut, BytesMut};

use super::{Codec, Detection, Error, Failure, Frame, Kind};
use encoding::{Field, Reader};

const LENGTH_LEN: usize = 4;
/// The first field's head: tag 1 (iVersion), a one-byte integer.
const VERSION_HEAD: u8 = 0x10;
const TARS_VERSION: i64 = 1;
/// TUP's two versions: 2 ("complex") and 3 ("simple").
const TUP_VERSIONS: [i64; 2] = [2, 3];
/// Where a TUP response carries its return code and its description.
const RESULT_CODE: &str = "STATUS_RESULT_CODE";
const RESULT_DESC: &str = "STATUS_RESULT_DESC";
/// cPacketType of a request that expects no response.
const ONEWAY: i64 = 1;
/// The fields the proxy reads are tags 1 to 10; later ones are skipped.
const TAGS: usize = 11;

/// Return codes (iRet), as the TARS frameworks define them.
pub mod status {
    pub const SUCCESS: i32 = 0;
    pub const DECODE_ERROR: i32 = -1;
    pub const NO_FUNCTION: i32 = -3;
    pub const NO_SERVANT: i32 = -4;
    pub const QUEUE_TIMEOUT: i32 = -6;
    pub const INVOKE_TIMEOUT: i32 = -7;
    pub const PROXY_CONNECT_ERROR: i32 = -8;
    pub const OVERLOAD: i32 = -9;
    pub const UNKNOWN_ERROR: i32 = -99;
}

pub struct Tars;

/// The fields of the packet in `frame` by tag, and whether they were all readable. They are
/// all read, whatever their order: nothing says a sender writes them by increasing tag.
fn fields(frame: &[u8]) -> ([Option<Field>; TAGS], bool) {
    let mut found = [None; TAGS];
    let mut reader = Reader::at(frame, LENGTH_LEN);
    while !reader.at_end() {
        let Some((tag, field)) = reader.field() else {
            return (found, false);
        };
        // A tag that comes again is skipped, as TARS readers do: they look for the first.
        if let Some(slot) = found.get_mut(usize::from(tag)) {
            slot.get_or_insert(field);
        }
    }
    (found, true)
}

/// Whether the packet is a RequestPacket (rather than a ResponsePacket), and its request id
/// field.
fn id_field(fields: &[Option<Field>; TAGS]) -> Option<(bool, Field)> {
    let request_packet = match fields[5]?.kind {
        encoding::STRING1 | encoding::STRING4 => true,
        kind if encoding::is_int(kind) => false,
        _ => return None,
    };
    let id = fields[if request_packet { 4 } else { 3 }]?;
    encoding::is_int(id.kind).then_some((request_packet, id))
}

/// The return code of a TUP response, from a RequestPacket's status map; `None` for a request.
fn tup_result(frame: &[u8], status: Option<Field>) -> Option<i32> {
    let status = encoding::string_map(frame, status?)?;
    let (_, code) = status.iter().find(|(key, _)| key == RESULT_CODE)?;
    Some(code.parse().unwrap_or(status::UNKNOWN_ERROR))
}

fn int(frame: &[u8], field: Option<Field>) -> Option<i64> {
    encoding::int(frame, field?)
}

/// A ResponsePacket answering request `id` with `ret` and a description.
fn response(version: i64, id: u64, ret: i32, description: &str) -> BytesMut {
    let mut out = BytesMut::with_capacity(32 + description.len());
    out.put_u32(0);
    encoding::put_int(&mut out, 1, version);
    encoding::put_int(&mut out, 2, 0);
    encoding::put_int(&mut out, 3, i64::from(id as u32 as i32));
    encoding::put_int(&mut out, 4, 0);
    encoding::put_int(&mut out, 5, i64::from(ret));
    encoding::put_bytes(&mut out, 6, &[]);
    encoding::put_string_map(&mut out, 7, &[]);
    encoding::put_string(&mut out, 8, description);
    set_length(&mut out, 0);
    out
}

/// TUP's answer to `request`: a RequestPacket with `ret` and the description in its status.
fn tup_response(request: &Frame, version: i64, ret: i32, description: &str) -> BytesMut {
    let mut out = BytesMut::with_capacity(64 + description.len());
    out.put_u32(0);
    encoding::put_int(&mut out, 1, version);
    encoding::put_int(&mut out, 2, 0);
    encoding::put_int(&mut out, 3, 0);
    encoding::put_int(&mut out, 4, i64::from(request.request_id as u32 as i32));
    encoding::put_string(&mut out, 5, request.header("service").unwrap_or_default());
    encoding::put_string(&mut out, 6, request.header("method").unwrap_or_default());
    // A TUP client reads sBuffer as a map of the call's named values, even for a failed call.
    let mut no_values = BytesMut::new();
    encoding::put_string_map(&mut no_values, 0, &[]);
    encoding::put_bytes(&mut out, 7, &no_values);
    encoding::put_int(&mut out, 8, 0);
    encoding::put_string_map(&mut out, 9, &[]);
    let code = ret.to_string();
    encoding::put_string_map(
        &mut out,
        10,
        &[(RESULT_CODE, &code), (RESULT_DESC, description)],
    );
    set_length(&mut out, 0);
    out
}

/// Writes the length of the packet that starts at `at` in `out` and runs to its end.
fn set_length(out: &mut BytesMut, at: usize) {
    let len = (out.len() - at) as u32;
    out[at..at + LENGTH_LEN].copy_from_slice(&len.to_be_bytes());
}

/// The answer to a request that cannot be read, when what has arrived of it says which
/// request it is.
fn refusal(prefix: &[u8], problem: String) -> Error {
    let (fields, _) = fields(prefix);
    let reply = match id_field(&fields) {
        Some((true, id)) => Some(response(
            int(prefix, fields[1]).unwrap_or(TARS_VERSION),
            encoding::int(prefix, id).unwrap_or(0) as u64,
            status::DECODE_ERROR,
            "400|bad request",
        )),
        _ => None,
    };
    Error { problem, reply }
}

/// The routing headers of a request: `service` and `method`, then its context.
fn request_headers(frame: &[u8], fields: &[Option<Field>; TAGS]) -> Option<Vec<(String, String)>> {
    let mut headers = vec![
        ("service".to_string(), encoding::string(frame, fields[5]?)?),
        ("method".to_string(), encoding::string(frame, fields[6]?)?),
    ];
    if let Some(context) = fields[9] {
        headers.extend(encoding::string_map(frame, context)?);
    }
    Some(headers)
}

impl Codec for Tars {
    fn name(&self) -> &'static str {
        "tars"
    }

    /// A length under 16 MiB, then iVersion 1 (TARS), 2 or 3 (TUP) as a one-byte field 1.
    fn detect(&self, start: &[u8]) -> Detection {
        let version = || i64::from(start[5]);
        if start.first().is_some_and(|b| *b != 0)
            || start.get(4).is_some_and(|b| *b != VERSION_HEAD)
        {
            Detection::No
        } else if start.len() < 6 {
            Detection::NeedMore
        } else if version() == TARS_VERSION || TUP_VERSIONS.contains(&version()) {
            Detection::Yes
        } else {
            Detection::No
        }
    }

    fn decode(&self, buf: &mut BytesMut, max_frame: usize) -> Result<Option<Frame>, Error> {
        if buf.len() < LENGTH_LEN {
            return Ok(None);
        }
        let len = u32::from_be_bytes(buf[..LENGTH_LEN].try_into().expect("4 bytes")) as usize;
        if len <= LENGTH_LEN {
            return Err(Error::new(format!("tars packet length {len} is too short")));
        }
        if len > max_frame {
            return Err(refusal(
                buf,
                format!("tars packet of {len} bytes is over the limit of {max_frame}"),
            ));
        }
        if buf.len() < len {
            return Ok(None);
        }
        let raw = buf.split_to(len).freeze();
        let unreadable = || refusal(&raw, "unreadable tars packet".into());
        let (fields, whole) = fields(&raw);
        let (request_packet, id) = id_field(&fields).filter(|_| whole).ok_or_else(unreadable)?;
        let request_id = u64::from(encoding::int(&raw, id).ok_or_else(unreadable)? as u32);
        let tup = int(&raw, fields[1]).is_some_and(|v| TUP_VERSIONS.contains(&v));
        let tup_result = request_packet
            .then(|| tup_result(&raw, fields[10]).filter(|_| tup))
            .flatten();
        let (kind, status, headers, timeout) = if let Some(ret) = tup_result {
            (Kind::Response, ret as u32, Vec::new(), None)
        } else if request_packet {
            let oneway = int(&raw, fields[2]) == Some(ONEWAY);
            let headers = request_headers(&raw, &fields).ok_or_else(unreadable)?;
            let timeout = int(&raw, fields[8])
                .filter(|ms| *ms > 0)
                .map(|ms| Duration::from_millis(ms as u64));
            let kind = if oneway { Kind::Oneway } else { Kind::Request };
            (kind, 0, headers, timeout)
        } else {
            let ret = int(&raw, fields[5]).ok_or_else(unreadable)?;
            (Kind::Response, ret as i32 as u32, Vec::new(), None)
        };
        Ok(Some(Frame {
            kind,
            request_id,
            status,
            timeout,
            headers,
            raw,
        }))
    }

    fn write_with_id(&self, frame: &[u8], id: u64, out: &mut BytesMut) {
        let (fields, _) = fields(frame);
        let Some((request_packet, field)) = id_field(&fields) else {
            out.extend_from_slice(frame);
            return;
        };
        let at = out.len();
        out.extend_from_slice(&frame[..field.start]);
        let tag = if request_packet { 4 } else { 3 };
        encoding::put_int(out, tag, i64::from(id as u32 as i32));
        out.extend_from_slice(&frame[field.end..]);
        set_length(out, at);
    }

    /// Ids are int32 on the wire; past `i32::MAX` they go on as negative numbers, as MOSN's do.
    fn max_request_id(&self) -> u64 {
        u64::from(u32::MAX)
    }

    fn hijack(&self, request: &Frame, failure: Failure) -> BytesMut {
        let code = failure.http_status();
        let (fields, _) = fields(&request.raw);
        let version = int(&request.raw, fields[1]).unwrap_or(TARS_VERSION);
        let ret = self.status_for_http(code) as i32;
        let description = format!("{code}|{}", failure.reason());
        if TUP_VERSIONS.contains(&version) {
            tup_response(request, version, ret, &description)
        } else {
            response(version, request.request_id, ret, &description)
        }
    }

    fn heartbeat(&self, _id: u64) -> Option<BytesMut> {
        None
    }

    /// Tars has no heartbeat frame, so this never answers one; it is a plain success.
    fn heartbeat_reply(&self, request: &Frame) -> BytesMut {
        response(TARS_VERSION, request.request_id, status::SUCCESS, "")
    }

    fn status_for_http(&self, code: u16) -> u32 {
        let ret = match code {
            200 => status::SUCCESS,
            400 => status::DECODE_ERROR,
            404 => status::NO_SERVANT,
            502 => status::PROXY_CONNECT_ERROR,
            503 => status::OVERLOAD,
            504 => status::INVOKE_TIMEOUT,
            _ => status::UNKNOWN_ERROR,
        };
        ret as u32
    }

    fn http_status(&self, status: u32) -> u16 {
        match status as i32 {
            status::SUCCESS => 200,
            status::DECODE_ERROR => 400,
            status::NO_SERVANT | status::NO_FUNCTION => 404,
            status::PROXY_CONNECT_ERROR => 502,
            status::OVERLOAD => 503,
            status::QUEUE_TIMEOUT | status::INVOKE_TIMEOUT => 504,
            _ => 500,
        }
    }
}

#[cfg(test)]
mod tests;
