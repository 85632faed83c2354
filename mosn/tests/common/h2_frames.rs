//! Raw HTTP/2 frames, for the tests that play a misbehaving peer: no real client sends a
//! rapid-reset or CONTINUATION flood, so these bytes are written by hand (RFC 9113 section 4).

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

pub const HEADERS: u8 = 1;
pub const RST_STREAM: u8 = 3;
pub const SETTINGS: u8 = 4;
pub const PING: u8 = 6;
pub const GOAWAY: u8 = 7;
pub const CONTINUATION: u8 = 9;

pub const END_STREAM: u8 = 0x1;
pub const END_HEADERS: u8 = 0x4;

/// Error codes (RFC 9113 section 7).
pub const CANCEL: u32 = 0x8;
pub const ENHANCE_YOUR_CALM: u32 = 0xb;

pub fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let length = payload.len() as u32;
    let mut frame = length.to_be_bytes()[1..].to_vec();
    frame.extend([kind, flags]);
    frame.extend(stream.to_be_bytes());
    frame.extend(payload);
    frame
}

/// An HPACK block for `GET path` to 127.0.0.1: `:method GET`, `:scheme http` and `:path` from
/// the static table (`/` indexed, any other path as a literal), `:authority` as a literal.
pub fn get_block(path: &str) -> Vec<u8> {
    let mut block = vec![0x82, 0x86];
    if path == "/" {
        block.push(0x84);
    } else {
        block.push(0x04); // literal without indexing, name :path
        literal(&mut block, path.as_bytes());
    }
    block.push(0x01); // literal without indexing, name :authority
    literal(&mut block, b"127.0.0.1");
    block
}

/// An HPACK string literal, not Huffman coded (lengths below 127 only).
pub fn literal(block: &mut Vec<u8>, text: &[u8]) {
    assert!(text.len() < 127);
    block.push(text.len() as u8);
    block.extend(text);
}

/// A connection that has sent the preface and an empty SETTINGS.
pub fn connect(port: u16) -> TcpStream {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.write_all(PREFACE).unwrap();
    stream.write_all(&frame(SETTINGS, 0, 0, &[])).unwrap();
    stream
}

/// How a peer's connection ended, as seen by reading every frame it sent.
#[derive(Debug, Default)]
pub struct Ending {
    /// The error code of the GOAWAY received, if any.
    pub goaway: Option<u32>,
    /// Whether the connection was closed by the peer (EOF or reset) within the time given.
    pub closed: bool,
    /// Stream ids whose HEADERS came back.
    pub answered: Vec<u32>,
}

/// Reads frames until the peer closes, or `limit` passes.
pub fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> Ending {
    let deadline = Instant::now() + limit;
    let mut ending = Ending::default();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16384];
    loop {
        while buf.len() >= 9 {
            let length = u32::from_be_bytes([0, buf[0], buf[1], buf[2]]) as usize;
            if buf.len() < 9 + length {
                break;
            }
            let id = u32::from_be_bytes([buf[5], buf[6], buf[7], buf[8]]) & 0x7fff_ffff;
            match buf[3] {
                GOAWAY if length >= 8 => {
                    ending.goaway = Some(u32::from_be_bytes([buf[13], buf[14], buf[15], buf[16]]))
                }
                HEADERS => ending.answered.push(id),
                _ => {}
            }
            buf.drain(..9 + length);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return ending;
        }
        stream.set_read_timeout(Some(left)).unwrap();
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend(&chunk[..n]),
            Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return ending;
            }
            Err(_) => break,
        }
    }
    ending.closed = true;
    ending
}
