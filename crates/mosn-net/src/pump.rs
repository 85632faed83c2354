//! Copies bytes one way between two streams through a bounded buffer: a chunk is written out
//! before the next is read, so a slow reader slows the writer down (backpressure), and memory
//! per direction never exceeds the buffer.

use std::io;

use crate::filter::{FilterStatus, held_too_much};
use crate::idle::Activity;
use crate::stream::Stream;
use bytes::BytesMut;

/// Size of each direction's buffer, MOSN's default connection buffer limit.
pub const BUFFER_SIZE: usize = 16 * 1024;

/// Bytes read from a pump's source before it started.
#[derive(Default)]
pub struct Early {
    pub passed: BytesMut,
    pub held: BytesMut,
}

/// Pumps `from` into `to` until `from` ends, then half-closes `to`. `filter` sees every chunk
/// (and `true` at end of stream); data it stops is held until more arrives. A filter that
/// holds a full buffer ends the pump with an error rather than letting it grow.
///
/// `early` is what was read from `from` before: its `passed` bytes went through the filter
/// already and go first; its `held` bytes are what the filter held back, and it sees them
/// again with the next bytes read.
pub async fn pump(
    from: &Stream,
    to: &Stream,
    activity: &Activity,
    early: Early,
    mut filter: impl FnMut(&mut BytesMut, bool) -> FilterStatus,
) -> io::Result<()> {
    if !early.passed.is_empty() {
        to.write_all(&early.passed).await?;
    }
    let mut buf = early.held;
    loop {
        if buf.len() >= BUFFER_SIZE {
            return Err(held_too_much());
        }
        buf.reserve(BUFFER_SIZE - buf.len());
        let n = from.read_buf(&mut buf).await?;
        activity.touch();
        let end_of_stream = n == 0;
        if filter(&mut buf, end_of_stream) == FilterStatus::Continue && !buf.is_empty() {
            to.write_all(&buf).await?;
            buf.clear();
        }
        if end_of_stream {
            return to.shutdown_write();
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    /// A connected pair: our `Stream` end and the peer's.
    async fn pair() -> (Stream, tokio::net::TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let ours = Stream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (theirs, _) = listener.accept().await.unwrap();
        (ours, theirs)
    }

    #[tokio::test]
    async fn bytes_passed_before_go_first_unfiltered_and_held_ones_are_filtered_again() {
        let (from, mut client) = pair().await;
        let (to, mut server) = pair().await;
        // Holds lines back until whole, then upper-cases them.
        let shout_lines = |data: &mut BytesMut, end: bool| {
            if !data.ends_with(b"\n") && !end {
                return FilterStatus::Stop;
            }
            data.make_ascii_uppercase();
            FilterStatus::Continue
        };
        let early = Early {
            passed: BytesMut::from(&b"passed\n"[..]),
            held: BytesMut::from(&b"hel"[..]),
        };
        let pumping = tokio::spawn(async move {
            pump(&from, &to, &Activity::default(), early, shout_lines).await
        });
        client.write_all(b"lo\n").await.unwrap();
        client.shutdown().await.unwrap();
        let mut received = Vec::new();
        server.read_to_end(&mut received).await.unwrap();
        pumping.await.unwrap().unwrap();
        assert_eq!(received, b"passed\nHELLO\n");
    }
}
