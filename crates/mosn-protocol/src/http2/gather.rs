//! A connection as `h2` writes to it, with its writes put off to the end of the worker's round
//! of tasks, so that a pass of the connection sends once and a worker's connections send
//! together.
//!
//! h2 writes (and flushes) at the end of every pass of a connection, and also whenever it has
//! queued a DATA frame whose payload it does not copy into its own buffer (256 bytes or more).
//! Writes are kept in an outbox, and the first flush after a write is put off: the task wakes
//! itself, which puts it behind the tasks the worker already has to run, and its next pass
//! flushes with nothing new, which sends the outbox.
//!
//! Putting the send off matters more than the system calls it saves. A worker that sends as it
//! goes wakes its peer (h2load, a client's event loop, an upstream server) once for every few
//! answers; one that sends at the end of its round lets the peer find all of them in one
//! wake-up. On a VM, waking a process on another CPU costs the sender about 10 µs in the
//! kernel, which is the size of a whole small request. With h2load and an HTTP/1.1 upstream,
//! h2load's context switches fell from 0.10 to 0.01 per request, and the proxy's CPU per
//! request by 13% (docs/benchmarks.md, fifth set).
//!
//! Over TLS the outbox also makes one record of what would have been a record per write.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

pub struct Gathered<T> {
    io: T,
    /// Bytes h2 has written that have not gone to `io` yet.
    outbox: BytesMut,
    /// h2 has written since its last flush, which is to be put off.
    written_since_flush: bool,
}

/// Above this, the outbox is sent before more is gathered.
const OUTBOX_LIMIT: usize = 64 * 1024;

impl<T: AsyncWrite + Unpin> Gathered<T> {
    pub fn new(io: T) -> Gathered<T> {
        Gathered {
            io,
            outbox: BytesMut::new(),
            written_since_flush: false,
        }
    }

    /// Sends the outbox; `Ready` once it is empty. The outbox is let go then: a connection
    /// between passes holds none (an idle one would otherwise keep its last pass's size).
    fn poll_send_outbox(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.outbox.is_empty() {
            let sent = ready!(Pin::new(&mut self.io).poll_write(cx, &self.outbox))?;
            if sent == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.outbox.advance(sent);
        }
        self.outbox = BytesMut::new();
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
        if this.outbox.len() >= OUTBOX_LIMIT {
            ready!(this.poll_send_outbox(cx))?;
        }
        let length: usize = bufs.iter().map(|b| b.len()).sum();
        if bufs.len() > 1 && this.outbox.capacity() < OUTBOX_LIMIT {
            // A DATA payload of its own, so likely more to come: room for a whole pass at once,
            // as growing by doubling would copy it over and over.
            this.outbox.reserve(OUTBOX_LIMIT.max(length));
        }
        for buf in bufs {
            this.outbox.extend_from_slice(buf);
        }
        this.written_since_flush = true;
        Poll::Ready(Ok(length))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.written_since_flush {
            // h2 may write more in this pass; the pass after the tasks already queued flushes
            // with nothing new, and sends.
            this.written_since_flush = false;
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
    /// after them, then in the next pass: one send, at the flush that follows no new write.
    #[test]
    fn a_pass_of_writes_goes_out_in_one_send_at_the_next_pass() {
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
        write(&mut io, &mut cx, &[b"small"]);
        assert!(io.io.writes.is_empty(), "all kept: h2 may write more");
        assert_eq!(
            wakes.0.load(Ordering::Relaxed),
            3,
            "a wake per put-off flush"
        );
        // The next pass flushes with nothing new.
        assert!(Pin::new(&mut io).poll_flush(&mut cx).is_ready());
        assert_eq!(io.io.writes.len(), 1);
        let expected = [&b"head1"[..], &[1; 300], b"head2", &[2; 300], b"small"].concat();
        assert_eq!(io.io.writes[0], expected);
        // A lone small write is put off the same way.
        write(&mut io, &mut cx, &[b"ping"]);
        assert_eq!(io.io.writes.len(), 1);
        assert!(Pin::new(&mut io).poll_flush(&mut cx).is_ready());
        assert_eq!(io.io.writes[1], b"ping");
        assert_eq!(wakes.0.load(Ordering::Relaxed), 4);
    }
}
