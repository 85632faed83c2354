//! The chunked transfer coding: an incremental decoder that never holds more than one size
//! line or trailer block, and the encoder.

use bytes::{BufMut, Bytes, BytesMut};

use super::error::Error;
use super::head::{Limits, parse_fields};
use super::headers::Headers;

/// A chunk-size line longer than this is refused (extensions included).
const MAX_SIZE_LINE: usize = 1024;

#[derive(Debug, PartialEq, Eq)]
pub enum Piece {
    Data(Bytes),
    /// The end of the body, with its trailer fields (often none).
    End(Headers),
}

#[derive(Debug, Default)]
pub struct ChunkedDecoder {
    state: State,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum State {
    #[default]
    Size,
    Data(u64),
    DataEnd,
    Trailers,
    Done,
}

impl ChunkedDecoder {
    /// Takes the next piece from the front of `buf`; `Ok(None)` means more bytes are needed.
    pub fn decode(&mut self, buf: &mut BytesMut, limits: &Limits) -> Result<Option<Piece>, Error> {
        loop {
            match self.state {
                State::Size => {
                    let Some(line_end) = buf.iter().position(|b| *b == b'\n') else {
                        if buf.len() > MAX_SIZE_LINE {
                            return Err(Error::Chunked("chunk-size line too long"));
                        }
                        return Ok(None);
                    };
                    let line = buf.split_to(line_end + 1);
                    let size = chunk_size(&line)?;
                    self.state = if size == 0 {
                        State::Trailers
                    } else {
                        State::Data(size)
                    };
                }
                State::Data(remaining) => {
                    if buf.is_empty() {
                        return Ok(None);
                    }
                    let take = remaining.min(buf.len() as u64) as usize;
                    let data = buf.split_to(take).freeze();
                    self.state = match remaining - take as u64 {
                        0 => State::DataEnd,
                        left => State::Data(left),
                    };
                    return Ok(Some(Piece::Data(data)));
                }
                State::DataEnd => {
                    if buf.len() < 2 {
                        return Ok(None);
                    }
                    if &buf[..2] != b"\r\n" {
                        return Err(Error::Chunked("chunk data not followed by CRLF"));
                    }
                    let _ = buf.split_to(2);
                    self.state = State::Size;
                }
                State::Trailers => {
                    let Some(trailers) = parse_fields(buf, limits)
                        .map_err(|_| Error::Chunked("invalid trailer section"))?
                    else {
                        return Ok(None);
                    };
                    self.state = State::Done;
                    return Ok(Some(Piece::End(trailers)));
                }
                State::Done => return Ok(None),
            }
        }
    }
}

/// Checks the first chunk-size line of a body if it has arrived whole: a request whose body
/// starts malformed can be refused before anything goes upstream.
pub fn check_first_size_line(buf: &[u8]) -> Result<(), Error> {
    match buf.iter().position(|b| *b == b'\n') {
        Some(end) => chunk_size(&buf[..=end]).map(drop),
        None if buf.len() > MAX_SIZE_LINE => Err(Error::Chunked("chunk-size line too long")),
        None => Ok(()),
    }
}

/// `1*HEXDIG [ chunk-ext ] CRLF`, with optional whitespace only before `;`.
fn chunk_size(line: &[u8]) -> Result<u64, Error> {
    let line = line
        .strip_suffix(b"\r\n")
        .ok_or(Error::Chunked("chunk-size line without CRLF"))?;
    if line.len() > MAX_SIZE_LINE {
        return Err(Error::Chunked("chunk-size line too long"));
    }
    let digits_end = line
        .iter()
        .position(|b| !b.is_ascii_hexdigit())
        .unwrap_or(line.len());
    let (digits, rest) = line.split_at(digits_end);
    if digits.is_empty() || digits.len() > 15 {
        return Err(Error::Chunked("invalid chunk size"));
    }
    let rest = rest.trim_ascii_start();
    if !rest.is_empty()
        && (rest[0] != b';' || rest.iter().any(|b| b.is_ascii_control() && *b != b'\t'))
    {
        return Err(Error::Chunked("invalid chunk extension"));
    }
    let text = std::str::from_utf8(digits).map_err(|_| Error::Chunked("invalid chunk size"))?;
    u64::from_str_radix(text, 16).map_err(|_| Error::Chunked("invalid chunk size"))
}

/// Writes one chunk (nothing for empty data: an empty chunk would end the body).
pub fn encode_chunk(data: &[u8], dst: &mut BytesMut) {
    if data.is_empty() {
        return;
    }
    dst.reserve(data.len() + 20);
    put_hex(data.len(), dst);
    dst.put_slice(b"\r\n");
    dst.put_slice(data);
    dst.put_slice(b"\r\n");
}

/// `n` in lowercase hex digits, without leading zeros.
fn put_hex(n: usize, dst: &mut BytesMut) {
    let digits = (usize::BITS - n.leading_zeros()).div_ceil(4).max(1);
    for i in (0..digits).rev() {
        dst.put_u8(b"0123456789abcdef"[(n >> (i * 4)) & 0xf]);
    }
}

/// Writes the last chunk and the trailer fields.
pub fn encode_end(trailers: &Headers, dst: &mut BytesMut) {
    dst.put_slice(b"0\r\n");
    trailers.write_lines(dst);
    dst.put_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(input: &[u8], split: usize) -> Result<(Vec<u8>, Headers), Error> {
        let mut decoder = ChunkedDecoder::default();
        let mut buf = BytesMut::new();
        let mut body = Vec::new();
        for piece in input.chunks(split.max(1)) {
            buf.extend_from_slice(piece);
            while let Some(piece) = decoder.decode(&mut buf, &Limits::default())? {
                match piece {
                    Piece::Data(data) => body.extend_from_slice(&data),
                    Piece::End(trailers) => return Ok((body, trailers)),
                }
            }
        }
        Err(Error::Chunked("unfinished"))
    }

    #[test]
    fn decodes_in_any_split_with_extensions_and_trailers() {
        let input = b"5;name=value\r\nhello\r\n6 ; x\r\n world\r\n0\r\nExpires: never\r\n\r\n";
        for split in [1, 2, 3, 7, 100] {
            let (body, trailers) = decode_all(input, split).unwrap();
            assert_eq!(body, b"hello world");
            assert_eq!(trailers.get("expires"), Some(&b"never"[..]));
        }
    }

    #[test]
    fn refuses_bad_chunks() {
        let cases: [&[u8]; 8] = [
            b"x\r\n",
            b" 5\r\nhello\r\n0\r\n\r\n",
            b"5\r\nhelloXX0\r\n\r\n",
            b"5\nhello\r\n0\r\n\r\n",
            b"-5\r\n",
            b"fffffffffffffffff\r\n",
            b"5 5\r\nhello\r\n",
            b"5;a\rb\r\nhello\r\n",
        ];
        for input in cases {
            let result = decode_all(input, 100);
            assert!(
                matches!(result, Err(Error::Chunked(_))),
                "{:?} gave {result:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn a_size_line_that_never_ends_is_refused_early() {
        let mut decoder = ChunkedDecoder::default();
        let mut buf = BytesMut::from(&[b'1'; MAX_SIZE_LINE + 1][..]);
        assert!(decoder.decode(&mut buf, &Limits::default()).is_err());
    }

    #[test]
    fn encoding_round_trips() {
        let mut out = BytesMut::new();
        encode_chunk(b"hello", &mut out);
        encode_chunk(b"", &mut out);
        encode_chunk(b" world", &mut out);
        let mut trailers = Headers::default();
        trailers.push("Grpc-Status", "0");
        encode_end(&trailers, &mut out);
        let (body, got) = decode_all(&out, 3).unwrap();
        assert_eq!(body, b"hello world");
        assert_eq!(got, trailers);
    }

    #[test]
    fn chunk_sizes_are_lowercase_hex() {
        for (n, line) in [
            (1, "1"),
            (15, "f"),
            (16, "10"),
            (4096, "1000"),
            (65_535, "ffff"),
        ] {
            let mut out = BytesMut::new();
            encode_chunk(&vec![b'x'; n], &mut out);
            assert!(out.starts_with(format!("{line}\r\n").as_bytes()), "{n}");
        }
    }
}
