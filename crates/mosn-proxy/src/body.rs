//! Moving a body from one side to the other, chunk by chunk through a bounded buffer, decoding
//! its framing on the way in and writing the framing of the way out.

use std::io;
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use futures_util::FutureExt;
use mosn_protocol::http1::chunked::{ChunkedDecoder, Piece, encode_chunk, encode_end};
use mosn_protocol::http1::{BodyKind, Error, Headers, Limits};

/// Where bytes come from: what is buffered, and a way to read more (`Ok(0)`: end of stream).
pub trait Source {
    fn buffered(&mut self) -> &mut BytesMut;
    fn fill(&mut self) -> impl Future<Output = io::Result<usize>> + Send;
}

/// Where bytes go.
pub trait Sink: Send {
    fn send(&mut self, data: &mut BytesMut) -> impl Future<Output = io::Result<()>> + Send;

    /// Sends the last bytes of the body. A sink whose framing marks the body's end (an HTTP/2
    /// stream's END_STREAM) can mark it on them, instead of in a frame of its own.
    fn send_last(&mut self, data: &mut BytesMut) -> impl Future<Output = io::Result<()>> + Send {
        self.send(data)
    }

    /// Sends a piece of the body that came whole (an HTTP/2 DATA frame's payload), as its last
    /// bytes when `last`. A sink that keeps what it sends takes the piece itself, without a
    /// copy; by default its bytes go through `outgoing`, which the caller clears.
    fn send_piece(
        &mut self,
        piece: Bytes,
        last: bool,
        outgoing: &mut BytesMut,
    ) -> impl Future<Output = io::Result<()>> + Send {
        async move {
            outgoing.extend_from_slice(&piece);
            match last {
                true => self.send_last(outgoing).await,
                false => self.send(outgoing).await,
            }
        }
    }

    /// The trailer fields of a chunked body, when they are not written out as chunks.
    fn trailers(&mut self, _trailers: Headers) {}

    /// Whether the bytes given to `send` are still held once it returns (queued to be written
    /// later, as HTTP/2 frames are).
    fn keeps_sent_bytes(&self) -> bool {
        false
    }
}

/// A sink that sends `prefix` (a response head) with the first bytes of the body: one write
/// where there would be two. [`WithPrefix::finish`] sends it alone when there was no body.
pub struct WithPrefix<'a, D> {
    pub prefix: Option<BytesMut>,
    pub sink: &'a mut D,
}

/// Above this, joining the body to the head costs more (a copy) than the write it saves.
const JOIN_LIMIT: usize = 4 * 1024;

/// From this size, a piece of a body is passed on without a copy even to a sink that keeps it.
const PASS_THROUGH_MIN: usize = 16 * 1024;

impl<D: Sink> Sink for WithPrefix<'_, D> {
    async fn send(&mut self, data: &mut BytesMut) -> io::Result<()> {
        match self.prefix.take() {
            Some(mut prefix) if data.len() <= JOIN_LIMIT => {
                prefix.extend_from_slice(data);
                self.sink.send(&mut prefix).await
            }
            Some(mut prefix) => {
                self.sink.send(&mut prefix).await?;
                self.sink.send(data).await
            }
            None => self.sink.send(data).await,
        }
    }

    fn trailers(&mut self, trailers: Headers) {
        self.sink.trailers(trailers);
    }

    fn keeps_sent_bytes(&self) -> bool {
        self.sink.keeps_sent_bytes()
    }
}

impl<D: Sink> WithPrefix<'_, D> {
    pub async fn finish(&mut self) -> io::Result<()> {
        match self.prefix.take() {
            Some(mut prefix) => self.sink.send(&mut prefix).await,
            None => Ok(()),
        }
    }
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
    /// Nothing moved for the idle timeout.
    Idle,
    Protocol(Error),
    TooLarge,
}

/// Moves the body and returns its size; `limit` (0: none) caps it, and a read or write that
/// waits longer than `idle` ends it. Nothing is buffered beyond one read.
pub async fn forward<S: Source, D: Sink>(
    idle: Duration,
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
        // Whether `outgoing` is a piece of the source's buffer, to let go once sent so that
        // the source can use that space again.
        let mut passed_through = false;
        // Whether the source must be read before anything else can be done.
        let mut need_more = true;
        match kind {
            BodyKind::Length(_) | BodyKind::UntilClose => {
                let buf = source.buffered();
                let take = remaining.min(buf.len() as u64) as usize;
                // The bytes go on as they came, without a copy; but a small piece that the sink
                // keeps after sending is copied, so that it does not hold the source's whole
                // buffer while it waits to be written. (Nothing to take shares nothing.)
                let pass = take >= PASS_THROUGH_MIN || (take > 0 && !sink.keeps_sent_bytes());
                if out == Out::Raw && pass {
                    outgoing = buf.split_to(take);
                    passed_through = true;
                } else {
                    put(out, &buf[..take], &mut outgoing);
                    buf.advance(take);
                }
                remaining -= take as u64;
                total += take as u64;
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
                            match out {
                                Out::Chunked => encode_end(&trailers, &mut outgoing),
                                Out::Raw => sink.trailers(trailers),
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
            send(idle, sink, &mut outgoing, ended).await?;
            match passed_through {
                true => outgoing = BytesMut::new(),
                false => outgoing.clear(),
            }
        }
        if ended {
            return Ok(total);
        }
        if !need_more {
            continue;
        }
        match timed(idle, source.fill(), BodyError::Read).await? {
            0 if kind == BodyKind::UntilClose => {
                if out == Out::Chunked {
                    encode_end(&Default::default(), &mut outgoing);
                    send(idle, sink, &mut outgoing, true).await?;
                }
                return Ok(total);
            }
            0 => return Err(BodyError::Truncated),
            _ => {}
        }
    }
}

/// Sends `data` to `sink`, as the body's last bytes when `last`, waiting at most `idle`.
pub(crate) async fn send<D: Sink>(
    idle: Duration,
    sink: &mut D,
    data: &mut BytesMut,
    last: bool,
) -> Result<(), BodyError> {
    match last {
        true => timed(idle, sink.send_last(data), BodyError::Write).await,
        false => timed(idle, sink.send(data), BodyError::Write).await,
    }
}

/// `op`, or `failed` if it fails, or `Idle` if it takes longer than `idle`.
pub(crate) fn timed<T>(
    idle: Duration,
    op: impl Future<Output = io::Result<T>>,
    failed: BodyError,
) -> impl Future<Output = Result<T, BodyError>> {
    crate::deadline::within(idle, op).map(|outcome| match outcome {
        Some(Ok(value)) => Ok(value),
        Some(Err(_)) => Err(failed),
        None => Err(BodyError::Idle),
    })
}

pub(crate) fn put(out: Out, data: &[u8], outgoing: &mut BytesMut) {
    match out {
        Out::Raw => outgoing.extend_from_slice(data),
        Out::Chunked => encode_chunk(data, outgoing),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes from memory, handed out `step` at a time.
    struct Memory {
        rest: Vec<u8>,
        step: usize,
        buf: BytesMut,
    }

    impl Source for Memory {
        fn buffered(&mut self) -> &mut BytesMut {
            &mut self.buf
        }
        async fn fill(&mut self) -> io::Result<usize> {
            let n = self.step.min(self.rest.len());
            self.buf.extend_from_slice(&self.rest[..n]);
            self.rest.drain(..n);
            Ok(n)
        }
    }

    #[derive(Default)]
    struct Collect {
        out: Vec<u8>,
        trailers: Option<Headers>,
        /// Says it keeps what it is sent, as an HTTP/2 stream does.
        keeps: bool,
    }

    impl Sink for Collect {
        async fn send(&mut self, data: &mut BytesMut) -> io::Result<()> {
            self.out.extend_from_slice(data);
            Ok(())
        }
        fn trailers(&mut self, trailers: Headers) {
            self.trailers = Some(trailers);
        }
        fn keeps_sent_bytes(&self) -> bool {
            self.keeps
        }
    }

    const CHUNKED: &[u8] = b"5\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: 42\r\n\r\nNEXT";

    async fn run(
        kind: BodyKind,
        input: &[u8],
        out: Out,
        limit: u64,
    ) -> (Result<u64, BodyError>, Collect, BytesMut) {
        run_in_steps(3, false, kind, input, out, limit).await
    }

    async fn run_in_steps(
        step: usize,
        keeps: bool,
        kind: BodyKind,
        input: &[u8],
        out: Out,
        limit: u64,
    ) -> (Result<u64, BodyError>, Collect, BytesMut) {
        let mut source = Memory {
            rest: input.to_vec(),
            step,
            buf: BytesMut::new(),
        };
        let mut sink = Collect {
            keeps,
            ..Collect::default()
        };
        let idle = Duration::from_secs(5);
        let result = forward(
            idle,
            kind,
            &mut source,
            &mut sink,
            out,
            limit,
            &Limits::default(),
        )
        .await;
        (result, sink, source.buf)
    }

    #[tokio::test]
    async fn chunked_bodies_keep_their_trailers_both_ways() {
        let (size, raw, left) = run(BodyKind::Chunked, CHUNKED, Out::Raw, 0).await;
        assert_eq!(size.unwrap(), 11);
        assert_eq!(raw.out, b"hello world");
        assert_eq!(raw.trailers.unwrap().get("x-checksum"), Some(&b"42"[..]));
        assert!(
            b"NEXT".starts_with(&left),
            "bytes after the body stay for the next message: {left:?}"
        );
        let (_, chunked, _) = run(BodyKind::Chunked, CHUNKED, Out::Chunked, 0).await;
        let text = String::from_utf8(chunked.out).unwrap();
        assert!(text.ends_with("0\r\nX-Checksum: 42\r\n\r\n"), "{text:?}");
        assert!(chunked.trailers.is_none());
    }

    #[tokio::test]
    async fn lengths_limits_and_truncation() {
        let (size, sink, left) = run(BodyKind::Length(5), b"helloEXTRA", Out::Raw, 0).await;
        assert_eq!((size.unwrap(), &sink.out[..]), (5, &b"hello"[..]));
        assert!(
            b"EXTRA".starts_with(&left),
            "only the body is taken: {left:?}"
        );
        let (too_large, _, _) = run(BodyKind::Length(10), b"0123456789", Out::Raw, 4).await;
        assert!(matches!(too_large, Err(BodyError::TooLarge)));
        let (cut, _, _) = run(BodyKind::Length(10), b"01234", Out::Raw, 0).await;
        assert!(matches!(cut, Err(BodyError::Truncated)));
        let (until_close, sink, _) = run(BodyKind::UntilClose, b"all of it", Out::Chunked, 0).await;
        assert_eq!(until_close.unwrap(), 9);
        assert_eq!(
            sink.out, b"3\r\nall\r\n3\r\n of\r\n3\r\n it\r\n0\r\n\r\n",
            "a chunk per read"
        );
    }

    #[tokio::test]
    async fn bodies_passed_on_or_copied_arrive_alike() {
        let body: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
        let input = [&body[..], b"NEXT"].concat();
        for (step, keeps) in [(PASS_THROUGH_MIN + 7, true), (1000, true), (1000, false)] {
            let kind = BodyKind::Length(body.len() as u64);
            let (size, sink, left) = run_in_steps(step, keeps, kind, &input, Out::Raw, 0).await;
            assert_eq!(size.unwrap(), body.len() as u64);
            assert!(sink.out == body, "reads of {step} bytes, kept: {keeps}");
            assert!(b"NEXT".starts_with(&left), "{left:?}");
        }
    }
}
