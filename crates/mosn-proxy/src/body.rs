//! Moving a body from one side to the other, chunk by chunk through a bounded buffer, decoding
//! its framing on the way in and writing the framing of the way out.

use std::io;

use bytes::BytesMut;
use mosn_protocol::http1::chunked::{ChunkedDecoder, Piece, encode_chunk, encode_end};
use mosn_protocol::http1::{BodyKind, Error, Limits};

/// Where bytes come from: what is buffered, and a way to read more (`Ok(0)`: end of stream).
pub trait Source {
    fn buffered(&mut self) -> &mut BytesMut;
    fn fill(&mut self) -> impl Future<Output = io::Result<usize>> + Send;
}

/// Where bytes go.
pub trait Sink {
    fn send(&mut self, data: &mut BytesMut) -> impl Future<Output = io::Result<()>> + Send;
}

/// How the body is framed on the way out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Out {
    /// As the bytes come: a Content-Length body, or one the connection's close ends.
    Raw,
    /// Re-framed as chunks.
    Chunked,
}

#[derive(Debug)]
pub enum BodyError {
    Read,
    /// The source ended before the body did.
    Truncated,
    Write,
    Protocol(Error),
    TooLarge,
}

/// Moves the body and returns its size; `limit` (0: none) caps it. Nothing is buffered beyond
/// one read.
pub async fn forward<S: Source, D: Sink>(
    kind: BodyKind,
    source: &mut S,
    sink: &mut D,
    out: Out,
    limit: u64,
    limits: &Limits,
) -> Result<u64, BodyError> {
    let mut total: u64 = 0;
    let mut outgoing = BytesMut::new();
    let mut decoder = ChunkedDecoder::default();
    let mut remaining = match kind {
        BodyKind::Empty => return Ok(0),
        BodyKind::Length(n) => n,
        BodyKind::Chunked | BodyKind::UntilClose => u64::MAX,
    };
    loop {
        let mut ended = false;
        // Whether the source must be read before anything else can be done.
        let mut need_more = true;
        match kind {
            BodyKind::Length(_) | BodyKind::UntilClose => {
                let buf = source.buffered();
                let take = remaining.min(buf.len() as u64) as usize;
                let data = buf.split_to(take);
                remaining -= take as u64;
                total += take as u64;
                put(out, &data, &mut outgoing);
                ended = remaining == 0;
            }
            BodyKind::Chunked => {
                while let Some(piece) = decoder
                    .decode(source.buffered(), limits)
                    .map_err(BodyError::Protocol)?
                {
                    match piece {
                        Piece::Data(data) => {
                            total += data.len() as u64;
                            put(out, &data, &mut outgoing);
                        }
                        Piece::End(trailers) => {
                            if out == Out::Chunked {
                                encode_end(&trailers, &mut outgoing);
                            }
                            ended = true;
                            break;
                        }
                    }
                    if outgoing.len() >= crate::downstream::READ_SIZE {
                        need_more = false; // write before decoding more: the buffer stays bounded
                        break;
                    }
                }
            }
            BodyKind::Empty => unreachable!("returned above"),
        }
        if limit > 0 && total > limit {
            return Err(BodyError::TooLarge);
        }
        if !outgoing.is_empty() {
            sink.send(&mut outgoing)
                .await
                .map_err(|_| BodyError::Write)?;
            outgoing.clear();
        }
        if ended {
            return Ok(total);
        }
        if !need_more {
            continue;
        }
        match source.fill().await.map_err(|_| BodyError::Read)? {
            0 if kind == BodyKind::UntilClose => {
                if out == Out::Chunked {
                    encode_end(&Default::default(), &mut outgoing);
                    sink.send(&mut outgoing)
                        .await
                        .map_err(|_| BodyError::Write)?;
                }
                return Ok(total);
            }
            0 => return Err(BodyError::Truncated),
            _ => {}
        }
    }
}

fn put(out: Out, data: &[u8], outgoing: &mut BytesMut) {
    match out {
        Out::Raw => outgoing.extend_from_slice(data),
        Out::Chunked => encode_chunk(data, outgoing),
    }
}
