//! A connection as `h2` writes to it, with its writes gathered so that a pass of the
//! connection sends once.
//!
//! h2 writes (and flushes) whenever it has queued a DATA frame whose payload it does not copy
//! into its own buffer (256 bytes or more), which would make each such frame a system call of
//! its own. Those writes are kept in an outbox, and a flush right after one is put off: h2 may
//! queue more frames, and it ends every pass of the connection with a flush, after which the
//! outbox goes out in one send. The task is woken so that a pass ending on such a write is
//! followed by one that flushes. A connection whose own writes gather (TLS records) is written
//! to as it is.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

pub struct Gathered<T> {
    io: T,
    /// Bytes h2 has written that have not gone to `io` yet.
    outbox: BytesMut,
    /// The last write carried a DATA payload of its own (h2 passed more than one slice).
    payload_written: bool,
}

/// Above this, the outbox is sent before more is gathered.
const OUTBOX_LIMIT: usize = 64 * 1024;

/// An outbox that grew larger than this is let go once sent, so that a connection between
/// bursts holds little.
const OUTBOX_KEPT: usize = 16 * 1024;

impl<T: AsyncWrite + Unpin> Gathered<T> {
    pub fn new(io: T) -> Gathered<T> {
        Gathered {
            io,
            outbox: BytesMut::new(),
            payload_written: false,
        }
    }

    /// Sends the outbox; `Ready` once it is empty.
    fn poll_send_outbox(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.outbox.is_empty() {
            let sent = ready!(Pin::new(&mut self.io).poll_write(cx, &self.outbox))?;
            if sent == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.outbox.advance(sent);
        }
        if self.outbox.capacity() > OUTBOX_KEPT {
            self.outbox = BytesMut::new();
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Gathered<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Gathered<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored(cx, &[io::IoSlice::new(data)])
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let slices = bufs.iter().filter(|b| !b.is_empty()).count();
        // A lone write with nothing gathered before it goes as it is.
        if !this.io.is_write_vectored() || (slices <= 1 && this.outbox.is_empty()) {
            this.payload_written = false;
            return Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        }
        if this.outbox.len() >= OUTBOX_LIMIT {
            ready!(this.poll_send_outbox(cx))?;
        }
        if this.outbox.is_empty() {
            // Room for a whole pass at once: growing by doubling would copy it over and over.
            this.outbox.reserve(OUTBOX_LIMIT);
        }
        let mut taken = 0;
        for buf in bufs {
            this.outbox.extend_from_slice(buf);
            taken += buf.len();
        }
        this.payload_written = slices > 1;
        Poll::Ready(Ok(taken))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.payload_written && !this.outbox.is_empty() {
            // h2 may queue more frames in this pass; its next pass flushes with nothing new.
            this.payload_written = false;
            cx.waker().wake_by_ref();
            return Poll::Ready(Ok(()));
        }
        ready!(this.poll_send_outbox(cx))?;
        Pin::new(&mut this.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_send_outbox(cx))?;
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    use super::*;

    /// A socket stand-in that records each write it takes.
    #[derive(Default)]
    struct Recorder {
        writes: Vec<Vec<u8>>,
    }

    impl AsyncWrite for Recorder {
        fn poll_write(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            data: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.writes.push(data.to_vec());
            Poll::Ready(Ok(data.len()))
        }

        fn poll_write_vectored(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            bufs: &[io::IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            let joined: Vec<u8> = bufs.iter().flat_map(|b| b.iter().copied()).collect();
            let n = joined.len();
            self.writes.push(joined);
            Poll::Ready(Ok(n))
        }

        fn is_write_vectored(&self) -> bool {
            true
        }

        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }

        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    struct CountWakes(AtomicUsize);

    impl Wake for CountWakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The writes and flushes h2 makes in a pass with two large DATA frames and a small frame
    /// after them: one send, at the flush that follows no new payload.
    #[test]
    fn a_pass_of_payload_writes_goes_out_in_one_send() {
        let wakes = Arc::new(CountWakes(AtomicUsize::new(0)));
        let waker = Arc::clone(&wakes).into();
        let mut cx = Context::from_waker(&waker);
        let mut io = Gathered::new(Recorder::default());
        // A write of `bufs` as h2 makes it, and the flush after it.
        let write = |io: &mut Gathered<Recorder>, cx: &mut Context<'_>, bufs: &[&[u8]]| {
            let slices: Vec<io::IoSlice> = bufs.iter().map(|b| io::IoSlice::new(b)).collect();
            let written = Pin::new(&mut *io).poll_write_vectored(cx, &slices);
            assert!(matches!(written, Poll::Ready(Ok(n)) if n == bufs.concat().len()));
            assert!(Pin::new(io).poll_flush(cx).is_ready());
        };
        write(&mut io, &mut cx, &[b"head1", &[1; 300]]);
        write(&mut io, &mut cx, &[b"head2", &[2; 300]]);
        assert!(io.io.writes.is_empty(), "both kept: h2 may write more");
        write(&mut io, &mut cx, &[b"small"]);
        assert_eq!(io.io.writes.len(), 1, "sent at the pass's last flush");
        let expected = [&b"head1"[..], &[1; 300], b"head2", &[2; 300], b"small"].concat();
        assert_eq!(io.io.writes[0], expected);
        assert_eq!(
            wakes.0.load(Ordering::Relaxed),
            2,
            "a wake per put-off flush"
        );
        // A pass ending on a payload: its flush is put off, and the next pass's sends it.
        write(&mut io, &mut cx, &[b"head3", &[3; 300]]);
        assert_eq!(io.io.writes.len(), 1);
        assert!(Pin::new(&mut io).poll_flush(&mut cx).is_ready());
        assert_eq!(io.io.writes.len(), 2);
        // A lone small write with nothing kept goes straight through.
        write(&mut io, &mut cx, &[b"ping"]);
        assert_eq!(io.io.writes[2], b"ping");
    }
}
