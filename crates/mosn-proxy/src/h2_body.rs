//! Bodies over HTTP/2: DATA frames read from a stream (releasing flow-control window only once
//! the bytes have moved on, so a slow reader slows the sender), and a sink that writes DATA
//! frames within the peer's window.

use std::future::poll_fn;
use std::io;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use h2::{RecvStream, SendStream};
use mosn_protocol::http1::Headers;
use mosn_protocol::http1::chunked::encode_end;
use mosn_protocol::http2::convert::{headers_from_map, headers_to_map};

use crate::body::{BodyError, Out, Sink, put, send, timed};

/// Moves the DATA frames of `recv`, then its trailers, into `sink`; returns the body's size.
pub async fn forward_frames<D: Sink>(
    idle: Duration,
    recv: &mut RecvStream,
    sink: &mut D,
    out: Out,
    limit: u64,
) -> Result<u64, BodyError> {
    let mut total: u64 = 0;
    let mut outgoing = BytesMut::new();
    loop {
        let frame = tokio::time::timeout(idle, recv.data())
            .await
            .map_err(|_| BodyError::Idle)?;
        let data = match frame {
            Some(Ok(data)) => data,
            Some(Err(_)) => return Err(BodyError::Read),
            None => break,
        };
        total += data.len() as u64;
        if limit > 0 && total > limit {
            return Err(BodyError::TooLarge);
        }
        let size = data.len();
        // The stream's end, with no trailers to come, can ride on its last bytes.
        let last = recv.is_end_stream();
        match out {
            Out::Raw => {
                let sent = sink.send_piece(data, last, &mut outgoing);
                timed(idle, sent, BodyError::Write).await?;
            }
            Out::Chunked => {
                put(out, &data, &mut outgoing);
                send(idle, sink, &mut outgoing, last).await?;
            }
        }
        outgoing.clear();
        let _ = recv.flow_control().release_capacity(size);
    }
    let trailers = match tokio::time::timeout(idle, recv.trailers()).await {
        Ok(Ok(trailers)) => trailers.map(|map| headers_from_map(&map)),
        Ok(Err(_)) => return Err(BodyError::Read),
        Err(_) => return Err(BodyError::Idle),
    };
    match out {
        Out::Chunked => {
            encode_end(&trailers.unwrap_or_default(), &mut outgoing);
            send(idle, sink, &mut outgoing, true).await?;
        }
        Out::Raw => {
            if let Some(trailers) = trailers {
                sink.trailers(trailers);
            }
        }
    }
    Ok(total)
}

/// Writes a body as DATA frames on `stream`, each within the window the peer gave; the stream
/// ends with [`H2Sink::end`].
///
/// A peer that resets the stream with NO_ERROR has answered in full and wants no more of the
/// body (RFC 9113 section 8.1): the rest is dropped, which is not a failure.
pub struct H2Sink<'a> {
    pub stream: &'a mut SendStream<bytes::Bytes>,
    trailers: Option<Headers>,
    /// The peer said it needs no more.
    done_early: bool,
    /// The last DATA frame sent carried END_STREAM.
    ended: bool,
}

impl<'a> H2Sink<'a> {
    pub fn new(stream: &'a mut SendStream<bytes::Bytes>) -> Self {
        H2Sink {
            stream,
            trailers: None,
            done_early: false,
            ended: false,
        }
    }

    /// Ends the stream, if its last DATA frame did not: with the trailers, when the body had
    /// some.
    pub fn end(mut self) -> io::Result<()> {
        if self.done_early || self.ended {
            return Ok(());
        }
        let ended = match self.trailers.take() {
            Some(trailers) => self.stream.send_trailers(headers_to_map(&trailers)),
            None => self.stream.send_data(bytes::Bytes::new(), true),
        };
        ended.or_else(|err| self.unless_peer_is_done(io::Error::other(err)))
    }

    /// `Ok` in place of `err` when the peer reset the stream with NO_ERROR: nothing more is
    /// sent then.
    fn unless_peer_is_done(&mut self, err: io::Error) -> io::Result<()> {
        let mut cx = Context::from_waker(Waker::noop());
        if let Poll::Ready(Ok(h2::Reason::NO_ERROR)) = self.stream.poll_reset(&mut cx) {
            self.done_early = true;
            return Ok(());
        }
        Err(err)
    }

    /// `data` as DATA frames, each within the window the peer gave; the last one with
    /// END_STREAM when `last`.
    async fn send_frames(&mut self, mut data: Bytes, last: bool) -> io::Result<()> {
        while !data.is_empty() && !self.done_early {
            self.stream.reserve_capacity(data.len());
            let granted = match poll_fn(|cx| self.stream.poll_capacity(cx)).await {
                Some(Ok(granted)) => granted,
                Some(Err(err)) => {
                    self.unless_peer_is_done(io::Error::other(err))?;
                    continue;
                }
                // The stream can send no more.
                None => {
                    self.unless_peer_is_done(io::ErrorKind::BrokenPipe.into())?;
                    continue;
                }
            };
            if granted == 0 {
                continue;
            }
            let piece = data.split_to(granted.min(data.len()));
            let end = last && data.is_empty();
            match self.stream.send_data(piece, end) {
                Ok(()) => self.ended = end,
                Err(err) => self.unless_peer_is_done(io::Error::other(err))?,
            }
        }
        Ok(())
    }
}

impl Sink for H2Sink<'_> {
    /// `h2` queues the frames and writes them when the connection is next driven.
    fn keeps_sent_bytes(&self) -> bool {
        true
    }

    async fn send(&mut self, data: &mut BytesMut) -> io::Result<()> {
        self.send_frames(data.split().freeze(), false).await
    }

    /// Without trailers to follow, the last DATA frame ends the stream: one frame fewer.
    async fn send_last(&mut self, data: &mut BytesMut) -> io::Result<()> {
        let last = self.trailers.is_none();
        self.send_frames(data.split().freeze(), last).await
    }

    /// The piece goes on as it is, without a copy.
    async fn send_piece(&mut self, piece: Bytes, last: bool, _: &mut BytesMut) -> io::Result<()> {
        let last = last && self.trailers.is_none();
        self.send_frames(piece, last).await
    }

    /// An empty trailer section (a chunked body's last chunk has none) is no trailers: HTTP/2
    /// forbids an empty HEADERS frame.
    fn trailers(&mut self, trailers: Headers) {
        if !trailers.is_empty() {
            self.trailers = Some(trailers);
        }
    }
}
