//! `Stream` as tokio's `AsyncRead`/`AsyncWrite`, for codecs that drive the connection
//! themselves (the `h2` crate). Reads and writes go straight to the socket, or through the TLS
//! session, as [`Stream::read_buf`] and [`Stream::write_all`] do.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::Stream;

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if let Some(session) = self.tls_session() {
            let ready = ready!(self.poll_plaintext(session, cx))?;
            if ready == 0 {
                return Poll::Ready(Ok(()));
            }
            let room = buf.initialize_unfilled_to(ready.min(buf.remaining()));
            let read = io::Read::read(&mut session.reader(), room)?;
            buf.advance(read);
            return Poll::Ready(Ok(()));
        }
        loop {
            let mut guard = ready!(self.fd().poll_read_ready(cx))?;
            // SAFETY: recv only writes into the buffer; the bytes it reports are initialised.
            let unfilled = unsafe { buf.unfilled_mut() };
            let room = unfilled.len();
            match guard.try_io(|fd| fd.get_ref().recv(unfilled)) {
                Ok(Ok(n)) => {
                    if n > 0 && n < room {
                        // A short read drained the socket: the next data brings a new edge, so
                        // the next read waits for it instead of failing with EAGAIN first.
                        guard.clear_ready();
                    }
                    // SAFETY: recv initialised the first n bytes of the unfilled part.
                    unsafe { buf.assume_init(n) };
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Ok(Err(err)) => return Poll::Ready(Err(err)),
                Err(_would_block) => continue,
            }
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        if let Some(session) = self.tls_session() {
            return self.poll_write_tls(session, cx, data);
        }
        loop {
            let mut guard = ready!(self.fd().poll_write_ready(cx))?;
            match guard.try_io(|_| self.send_plain(|socket| socket.send(data))) {
                Ok(result) => return Poll::Ready(result),
                Err(_would_block) => continue,
            }
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if let Some(session) = self.tls_session() {
            let first = bufs
                .iter()
                .find(|b| !b.is_empty())
                .map_or(&[][..], |b| &b[..]);
            return self.poll_write_tls(session, cx, first);
        }
        loop {
            let mut guard = ready!(self.fd().poll_write_ready(cx))?;
            match guard.try_io(|_| self.send_plain(|socket| socket.send_vectored(bufs))) {
                Ok(result) => return Poll::Ready(result),
                Err(_would_block) => continue,
            }
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.tls_session().is_none()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.tls_session() {
            Some(session) => self.poll_flush_tls(session, cx),
            None => Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(session) = self.tls_session() {
            ready!(self.poll_flush_tls(session, cx))?;
        }
        Poll::Ready(self.shutdown_write())
    }
}
