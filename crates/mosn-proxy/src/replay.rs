//! The first bytes of a request body, kept as they go to an HTTP/2 upstream, so that a
//! stream the upstream did not process (past a GOAWAY's last stream, or REFUSED_STREAM) can
//! go again, body and all. Over HTTP/2 a piece is a `Bytes` that h2 keeps anyway: keeping it
//! here is a reference, not a copy, and the body still streams.

use std::io;

use bytes::{Bytes, BytesMut};
use mosn_protocol::http1::Headers;

use crate::body::Sink;

/// A body up to this size is kept; a longer one cannot go again.
const KEPT_LIMIT: usize = 64 * 1024;

/// A body as it was sent: its pieces and trailers.
#[derive(Default)]
pub struct SentBody {
    pieces: Vec<Bytes>,
    size: usize,
    trailers: Headers,
}

impl SentBody {
    /// The body whole, to be sent again.
    pub fn into_parts(self) -> (BytesMut, Headers) {
        let mut body = BytesMut::with_capacity(self.size);
        self.pieces
            .iter()
            .for_each(|piece| body.extend_from_slice(piece));
        (body, self.trailers)
    }
}

/// `sink`, keeping what goes through it while it fits in [`KEPT_LIMIT`].
pub struct Keeping<'a, D> {
    pub sink: &'a mut D,
    /// `None` once the body has outgrown the limit.
    pub kept: Option<SentBody>,
}

impl<'a, D: Sink> Keeping<'a, D> {
    pub fn new(sink: &'a mut D) -> Self {
        Keeping {
            sink,
            kept: Some(SentBody::default()),
        }
    }

    fn keep(&mut self, piece: &Bytes) {
        let Some(kept) = &mut self.kept else { return };
        kept.size += piece.len();
        match kept.size <= KEPT_LIMIT {
            true => kept.pieces.push(piece.clone()),
            false => self.kept = None,
        }
    }
}

impl<D: Sink> Sink for Keeping<'_, D> {
    async fn send(&mut self, data: &mut BytesMut) -> io::Result<()> {
        self.send_piece(data.split().freeze(), false, data).await
    }

    async fn send_last(&mut self, data: &mut BytesMut) -> io::Result<()> {
        self.send_piece(data.split().freeze(), true, data).await
    }

    async fn send_piece(
        &mut self,
        piece: Bytes,
        last: bool,
        outgoing: &mut BytesMut,
    ) -> io::Result<()> {
        self.keep(&piece);
        self.sink.send_piece(piece, last, outgoing).await
    }

    fn trailers(&mut self, trailers: Headers) {
        if let Some(kept) = &mut self.kept {
            kept.trailers = trailers.clone();
        }
        self.sink.trailers(trailers);
    }

    fn keeps_sent_bytes(&self) -> bool {
        self.sink.keeps_sent_bytes()
    }
}
