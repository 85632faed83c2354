//! A connection as a byte stream (`AsyncRead` + `AsyncWrite`) for a codec that drives its own
//! reads and writes, as `h2` does: what it reads has passed the connection's read filters, and
//! what it writes passes the write filters on its way out. With no filters it is the socket.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::connection::Connection;
use crate::filter::{FilterStatus, HOLD_LIMIT, held_too_much};

pub struct FilteredIo {
    connection: Connection,
    /// Let through by the read filters (or read before the codec took over), not yet taken.
    readable: BytesMut,
    /// Read, but held back by a read filter until more comes.
    held_in: BytesMut,
    /// Written, but held back by a write filter until more comes.
    held_out: BytesMut,
    /// Let through by the write filters, not yet taken by the socket.
    unsent: BytesMut,
}

impl FilteredIo {
    /// Reads start with the bytes read before the hand-over ([`Connection::early`] and
    /// [`Connection::held`]).
    pub fn new(mut connection: Connection) -> FilteredIo {
        FilteredIo {
            readable: std::mem::take(&mut connection.early),
            held_in: std::mem::take(&mut connection.held),
            connection,
            held_out: BytesMut::new(),
            unsent: BytesMut::new(),
        }
    }

    /// Writes what the write filters let through; `Ready` once the socket has taken all of it.
    fn poll_send_unsent(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.unsent.is_empty() {
            let sent = ready!(Pin::new(&mut self.connection.stream).poll_write(cx, &self.unsent))?;
            if sent == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.unsent.advance(sent);
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncRead for FilteredIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        loop {
            if !this.readable.is_empty() {
                let n = this.readable.len().min(buf.remaining());
                buf.put_slice(&this.readable[..n]);
                this.readable.advance(n);
                return Poll::Ready(Ok(()));
            }
            if this.connection.read_filters.is_empty() {
                return Pin::new(&mut this.connection.stream).poll_read(cx, buf);
            }
            if this.held_in.len() >= HOLD_LIMIT {
                return Poll::Ready(Err(held_too_much()));
            }
            // Read into the caller's room, then take the bytes back out for the filters.
            let before = buf.filled().len();
            ready!(Pin::new(&mut this.connection.stream).poll_read(cx, buf))?;
            let end_of_stream = buf.filled().len() == before;
            this.held_in.extend_from_slice(&buf.filled()[before..]);
            buf.set_filled(before);
            let filters = &mut this.connection.read_filters;
            if filters.on_data(&mut this.held_in, end_of_stream) == FilterStatus::Continue {
                this.readable = this.held_in.split();
            }
            if end_of_stream && this.readable.is_empty() {
                return Poll::Ready(Ok(()));
            }
        }
    }
}

impl AsyncWrite for FilteredIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.connection.write_filters.is_empty() && this.unsent.is_empty() {
            return Pin::new(&mut this.connection.stream).poll_write(cx, data);
        }
        // One write's worth at a time waits here: the next waits for the socket to take it.
        ready!(this.poll_send_unsent(cx))?;
        if this.held_out.len() >= HOLD_LIMIT {
            return Poll::Ready(Err(held_too_much()));
        }
        this.held_out.extend_from_slice(data);
        let filters = &mut this.connection.write_filters;
        if filters.on_write(&mut this.held_out) == FilterStatus::Continue {
            this.unsent = this.held_out.split();
        }
        // Sending starts now; what the socket does not take yet goes with the next write or
        // flush.
        if let Poll::Ready(Err(err)) = this.poll_send_unsent(cx) {
            return Poll::Ready(Err(err));
        }
        Poll::Ready(Ok(data.len()))
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.connection.write_filters.is_empty() && self.unsent.is_empty() {
            return Pin::new(&mut self.connection.stream).poll_write_vectored(cx, bufs);
        }
        let first = bufs
            .iter()
            .find(|b| !b.is_empty())
            .map_or(&[][..], |b| &**b);
        self.poll_write(cx, first)
    }

    fn is_write_vectored(&self) -> bool {
        self.connection.write_filters.is_empty() && self.connection.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_send_unsent(cx))?;
        Pin::new(&mut self.connection.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_send_unsent(cx))?;
        Pin::new(&mut self.connection.stream).poll_shutdown(cx)
    }
}
