//! Copies bytes one way between two streams through a bounded buffer: a chunk is written out
//! before the next is read, so a slow reader slows the writer down (backpressure), and memory
//! per direction never exceeds the buffer.

use std::io;

use crate::filter::FilterStatus;
use crate::idle::Activity;
use crate::stream::Stream;
use bytes::BytesMut;

/// Size of each direction's buffer, MOSN's default connection buffer limit.
pub const BUFFER_SIZE: usize = 16 * 1024;

/// Pumps `from` into `to` until `from` ends, then half-closes `to`, starting with `early`:
/// bytes already read from `from`. `filter` sees every chunk (and `true` at end of stream);
/// data it stops is held until more arrives. A filter that holds a full buffer ends the pump
/// with an error rather than letting it grow.
pub async fn pump(
    from: &Stream,
    to: &Stream,
    activity: &Activity,
    early: BytesMut,
    mut filter: impl FnMut(&mut BytesMut, bool) -> FilterStatus,
) -> io::Result<()> {
    let mut buf = early;
    if !buf.is_empty() && filter(&mut buf, false) == FilterStatus::Continue {
        to.write_all(&buf).await?;
        buf.clear();
    }
    loop {
        if buf.len() >= BUFFER_SIZE {
            return Err(io::Error::other("a filter held back a full buffer"));
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
