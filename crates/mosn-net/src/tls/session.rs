//! TLS on a [`Stream`]: the rustls connection state between the socket and the stream's
//! readers and writers.
//!
//! A stream is read and written at once from two tasks through `&self`, so the rustls state sits
//! under a lock taken only between awaits, never across one. Records go to the socket in the
//! order rustls made them, whichever side sends them: each `write_tls` runs under the lock.
//! Everything is written as poll functions, shared by the stream's own async methods and by
//! its `AsyncRead`/`AsyncWrite` (for the h2 codec).

use std::future::poll_fn;
use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll, ready};

use bytes::BytesMut;
use socket2::Socket;

use crate::stream::Stream;

pub(crate) struct Session {
    connection: Mutex<rustls::Connection>,
    /// The socket has reached its end.
    ended: AtomicBool,
}

/// A socket as rustls reads and writes it.
pub(crate) struct Io<'a>(pub(crate) &'a Socket);

impl Read for Io<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self.0).read(buf)
    }
}

impl Write for Io<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.send(buf)
    }

    /// Every record rustls has ready in one send: a handshake flight leaves as one segment,
    /// not one per record.
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        self.0.send_vectored(bufs)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

pub(crate) struct PlaintextReader<'a>(MutexGuard<'a, rustls::Connection>);

impl Read for PlaintextReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.reader().read(buf)
    }
}

pub(crate) fn invalid(err: rustls::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, err)
}

impl Session {
    pub(crate) fn new(connection: impl Into<rustls::Connection>) -> Session {
        Session {
            connection: Mutex::new(connection.into()),
            ended: AtomicBool::new(false),
        }
    }

    fn lock(&self) -> MutexGuard<'_, rustls::Connection> {
        // A panic while the lock was held left rustls in a state it checks itself.
        self.connection.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The plaintext ready to read, under the lock while the reader lives.
    pub(crate) fn reader(&self) -> PlaintextReader<'_> {
        PlaintextReader(self.lock())
    }

    /// Sends close_notify if the socket takes it without waiting.
    pub(crate) fn close_now(&self, socket: &Socket) {
        let mut connection = self.lock();
        connection.send_close_notify();
        let _ = connection.write_tls(&mut Io(socket));
    }

    pub(crate) fn alpn(&self) -> Option<Vec<u8>> {
        self.lock().alpn_protocol().map(<[u8]>::to_vec)
    }
}

impl Stream {
    /// Runs the handshake to its end: the peer's records read, ours written.
    pub(crate) async fn finish_handshake(&self, session: &Session) -> io::Result<()> {
        poll_fn(|cx| {
            loop {
                ready!(self.poll_flush_tls(session, cx))?;
                if !session.lock().is_handshaking() {
                    return Poll::Ready(Ok(()));
                }
                if !ready!(self.poll_read_records(session, cx))? {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the peer closed the connection during the TLS handshake",
                    )));
                }
                self.open_records(session)?;
            }
        })
        .await
    }

    /// Reads plaintext into `buf`, making room for `chunk` bytes once there is some to read.
    pub(crate) async fn read_tls(
        &self,
        session: &Session,
        buf: &mut BytesMut,
        chunk: usize,
    ) -> io::Result<usize> {
        let ready = poll_fn(|cx| self.poll_plaintext(session, cx)).await?;
        if ready == 0 {
            return Ok(0);
        }
        let start = buf.len();
        buf.reserve(chunk.max(1));
        let room = (buf.capacity() - start).min(ready);
        buf.resize(start + room, 0);
        let read = session.reader().read(&mut buf[start..]);
        buf.truncate(start + *read.as_ref().unwrap_or(&0));
        read
    }

    /// Encrypts and sends all of `data`.
    pub(crate) async fn write_tls(&self, session: &Session, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            let taken = poll_fn(|cx| self.poll_write_tls(session, cx, data)).await?;
            data = &data[taken..];
        }
        poll_fn(|cx| self.poll_flush_tls(session, cx)).await
    }

    /// How much plaintext is ready to read, once some is; 0 at the end of the stream, with
    /// close_notify or without (framing above tells a cut message from a whole one).
    pub(crate) fn poll_plaintext(
        &self,
        session: &Session,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<usize>> {
        loop {
            let (ready, closed) = self.open_records(session)?;
            if ready > 0 {
                return Poll::Ready(Ok(ready));
            }
            if closed || session.ended.load(Ordering::Relaxed) {
                return Poll::Ready(Ok(0));
            }
            // Answers the peer is owed (a key update, an alert) go out before waiting on it.
            ready!(self.poll_flush_tls(session, cx))?;
            ready!(self.poll_read_records(session, cx))?;
        }
    }

    /// Takes as much of `data` as rustls buffers, after sending what it held: what waits to be
    /// sent stays bounded by one write.
    pub(crate) fn poll_write_tls(
        &self,
        session: &Session,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_flush_tls(session, cx))?;
        let taken = session.lock().writer().write(data)?;
        match self.poll_flush_tls(session, cx) {
            Poll::Ready(Err(err)) => Poll::Ready(Err(err)),
            _ => Poll::Ready(Ok(taken)),
        }
    }

    /// Writes every record rustls has ready, waiting for the socket to take them.
    pub(crate) fn poll_flush_tls(
        &self,
        session: &Session,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            match session.lock().write_tls(&mut Io(self.fd().get_ref())) {
                Ok(0) => return Poll::Ready(Ok(())),
                Ok(_) => continue,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                Err(err) => return Poll::Ready(Err(err)),
            }
            let mut guard = ready!(self.fd().poll_write_ready(cx))?;
            guard.clear_ready();
        }
    }

    /// Reads what the socket has into rustls; `false` at the end of the stream.
    fn poll_read_records(&self, session: &Session, cx: &mut Context<'_>) -> Poll<io::Result<bool>> {
        let read = ready!(self.poll_read_socket(cx, |io| session.lock().read_tls(io)))?;
        if read == 0 {
            session.ended.store(true, Ordering::Relaxed);
        }
        Poll::Ready(Ok(read > 0))
    }

    /// Once the socket is readable, lets `read` read it; 0 at the end of the stream.
    pub(crate) fn poll_read_socket(
        &self,
        cx: &mut Context<'_>,
        mut read: impl FnMut(&mut dyn Read) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        loop {
            let mut guard = ready!(self.fd().poll_read_ready(cx))?;
            if let Ok(result) = guard.try_io(|fd| read(&mut Io(fd.get_ref()))) {
                return Poll::Ready(result);
            }
        }
    }

    /// Opens the records read so far: how much plaintext is ready, and whether the peer sent
    /// close_notify. A record that fails sends the peer its alert, if the socket takes it at
    /// once, before the error returns.
    fn open_records(&self, session: &Session) -> io::Result<(usize, bool)> {
        let mut connection = session.lock();
        match connection.process_new_packets() {
            Ok(state) => Ok((state.plaintext_bytes_to_read(), state.peer_has_closed())),
            Err(err) => {
                let _ = connection.write_tls(&mut Io(self.fd().get_ref()));
                Err(invalid(err))
            }
        }
    }
}
