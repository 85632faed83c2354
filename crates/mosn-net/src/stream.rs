//! A connected byte stream, TCP or Unix, plain or TLS, usable from two directions at once
//! through `&self`.
//!
//! It sits on the raw socket so that a short read can mark the socket drained, as nginx and
//! haproxy do: the next read then waits for the next readiness edge instead of spending a
//! `recv` that can only answer EAGAIN. That saves one syscall per chunk in each direction.

use std::io;
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{AsRawFd, FromRawFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use bytes::BytesMut;
use socket2::{Domain, SockAddr, Socket, Type};
use tokio::io::unix::AsyncFd;

use crate::tls::session::Session;

/// An address at one end of a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    Ip(SocketAddr),
    Unix(Option<PathBuf>),
}

impl Address {
    pub fn ip(&self) -> Option<SocketAddr> {
        match self {
            Address::Ip(addr) => Some(*addr),
            Address::Unix(_) => None,
        }
    }

    pub(crate) fn from_sockaddr(addr: SockAddr) -> Address {
        match addr.as_socket() {
            Some(ip) => Address::Ip(ip),
            None => Address::Unix(addr.as_pathname().map(Into::into)),
        }
    }
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Address::Ip(addr) => write!(f, "{addr}"),
            Address::Unix(Some(path)) => write!(f, "unix:{}", path.display()),
            Address::Unix(None) => f.write_str("unix:@"),
        }
    }
}

pub struct Stream {
    fd: AsyncFd<Socket>,
    /// The TLS session, once a handshake has begun on the stream.
    tls: Option<Box<Session>>,
    /// Where the socket is on the way to TCP_NODELAY: [`UNSENT`], [`SENT_ONCE`] or
    /// [`NODELAY`].
    nodelay: AtomicU8,
    /// An accepted connection not read yet whose first bytes are there: its first read tries
    /// the socket before waiting for readiness, which would cost a poll of the task and an
    /// epoll round (and, over HTTP/1, arm the header timer for nothing).
    unread: AtomicBool,
}

/// An accepted TCP connection gets TCP_NODELAY before its second send, not when accepted, as
/// nginx does for keep-alive connections. A first send never waits for Nagle's algorithm (no
/// data is unacknowledged before it), so a connection that sends once, such as a response with
/// `Connection: close`, is spared the system call.
const UNSENT: u8 = 0;
const SENT_ONCE: u8 = 1;
/// TCP_NODELAY is set, or the socket is not TCP.
const NODELAY: u8 = 2;

impl Stream {
    /// Wraps a connected, non-blocking socket that has TCP_NODELAY set if it is TCP. Must be
    /// called inside a tokio runtime.
    pub fn from_socket(socket: Socket) -> io::Result<Stream> {
        Self::new(socket, NODELAY, false)
    }

    /// Wraps a TCP connection just accepted: TCP_NODELAY is set before its second send. When
    /// its client's first bytes are known to be there (`data_waiting`, the listener deferred
    /// the accept), its first read does not wait for readiness.
    pub fn accepted_tcp(socket: Socket, data_waiting: bool) -> io::Result<Stream> {
        Self::new(socket, UNSENT, data_waiting)
    }

    fn new(socket: Socket, nodelay: u8, unread: bool) -> io::Result<Stream> {
        Ok(Stream {
            fd: register(socket)?,
            tls: None,
            nodelay: AtomicU8::new(nodelay),
            unread: AtomicBool::new(unread),
        })
    }

    /// Sends on the plain socket with `send`, setting TCP_NODELAY first when this is the second
    /// send of an accepted connection.
    pub(crate) fn send_plain(
        &self,
        send: impl FnOnce(&Socket) -> io::Result<usize>,
    ) -> io::Result<usize> {
        let socket = self.fd.get_ref();
        let state = self.nodelay.load(Ordering::Relaxed);
        if state == SENT_ONCE {
            self.set_nodelay(socket)?;
        }
        let sent = send(socket)?;
        if state == UNSENT && sent > 0 {
            self.nodelay.store(SENT_ONCE, Ordering::Relaxed);
        }
        Ok(sent)
    }

    fn set_nodelay(&self, socket: &Socket) -> io::Result<()> {
        socket.set_tcp_nodelay(true)?;
        self.nodelay.store(NODELAY, Ordering::Relaxed);
        Ok(())
    }

    pub(crate) fn fd(&self) -> &AsyncFd<Socket> {
        &self.fd
    }

    /// The stream with a TLS session over it, whose handshake is then run to its end.
    pub(crate) async fn start_tls(self, session: Session) -> io::Result<Stream> {
        // A handshake sends several flights, each of which must leave at once.
        if self.nodelay.load(Ordering::Relaxed) != NODELAY {
            self.set_nodelay(self.fd.get_ref())?;
        }
        let stream = Stream {
            fd: self.fd,
            tls: Some(Box::new(session)),
            nodelay: self.nodelay,
            unread: AtomicBool::new(false),
        };
        if let Some(session) = stream.tls_session() {
            stream.finish_handshake(session).await?;
        }
        Ok(stream)
    }

    pub(crate) fn tls_session(&self) -> Option<&Session> {
        self.tls.as_deref()
    }

    /// The application protocol a TLS handshake agreed by ALPN; `None` on a plain stream.
    pub fn alpn(&self) -> Option<Vec<u8>> {
        self.tls.as_ref()?.alpn()
    }

    /// Connects to `addr` without blocking the thread.
    pub async fn connect(addr: SocketAddr) -> io::Result<Stream> {
        let socket = Socket::new(
            Domain::for_address(addr),
            Type::STREAM.nonblocking().cloexec(),
            None,
        )?;
        socket.set_tcp_nodelay(true)?;
        Self::finish_connect(socket, &addr.into()).await
    }

    /// Connects to a Unix socket without blocking the thread.
    pub async fn connect_unix(path: &Path) -> io::Result<Stream> {
        let socket = Socket::new(Domain::UNIX, Type::STREAM.nonblocking().cloexec(), None)?;
        Self::finish_connect(socket, &SockAddr::unix(path)?).await
    }

    async fn finish_connect(socket: Socket, addr: &SockAddr) -> io::Result<Stream> {
        let pending = match socket.connect(addr) {
            Ok(()) => false,
            Err(err) if matches!(err.raw_os_error(), Some(libc::EINPROGRESS | libc::EAGAIN)) => {
                true
            }
            Err(err) => return Err(err),
        };
        let stream = Stream::from_socket(socket)?;
        if pending {
            // Writable means the handshake ended; SO_ERROR says how.
            let _ready = stream.fd.writable().await?;
            if let Some(err) = stream.fd.get_ref().take_error()? {
                return Err(err);
            }
        }
        Ok(stream)
    }

    /// Reads what is available into the spare capacity of `buf` (which must have some);
    /// `Ok(0)` is end of stream.
    pub async fn read_buf(&self, buf: &mut BytesMut) -> io::Result<usize> {
        self.read_reserving(buf, 0).await
    }

    /// Like [`Stream::read_buf`], but makes room for `chunk` bytes only once the socket is
    /// readable: a connection waiting for its next request holds no buffer.
    pub async fn read_reserving(&self, buf: &mut BytesMut, chunk: usize) -> io::Result<usize> {
        if let Some(session) = &self.tls {
            return self.read_tls(session, buf, chunk).await;
        }
        if self.unread.swap(false, Ordering::Relaxed) {
            buf.reserve(chunk);
            match recv_into(self.fd.get_ref(), buf) {
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                read => return read,
            }
        }
        loop {
            let mut guard = self.fd.readable().await?;
            buf.reserve(chunk);
            let spare = buf.capacity() - buf.len();
            match guard.try_io(|fd| recv_into(fd.get_ref(), buf)) {
                Ok(Ok(n)) => {
                    if n > 0 && n < spare {
                        // A short read drained the socket: the next data brings a new edge.
                        guard.clear_ready();
                    }
                    return Ok(n);
                }
                Ok(Err(err)) => return Err(err),
                Err(_would_block) => continue,
            }
        }
    }

    /// Writes all of `data`, waiting for the socket to take it (the backpressure point).
    pub async fn write_all(&self, mut data: &[u8]) -> io::Result<()> {
        if let Some(session) = &self.tls {
            return self.write_tls(session, data).await;
        }
        while !data.is_empty() {
            // Try at once: a socket is writable far more often than not.
            match self.send_plain(|socket| socket.send(data)) {
                Ok(n) => {
                    data = &data[n..];
                    continue;
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                Err(err) => return Err(err),
            }
            let mut guard = self.fd.writable().await?;
            if let Ok(sent) = guard.try_io(|_| self.send_plain(|socket| socket.send(data))) {
                data = &data[sent?..];
            }
        }
        Ok(())
    }

    /// Whether an idle connection can carry another request: the peer has not closed it and has
    /// sent nothing unasked. Looks without blocking and without consuming anything.
    ///
    /// The runtime already knows whether anything arrived since the last read drained the socket
    /// (an end of stream is readable too); only then is the socket asked, so the common case
    /// costs no syscall. A close that lands after this look is caught by the caller's retry.
    pub fn is_idle_and_open(&self) -> bool {
        let mut context = std::task::Context::from_waker(std::task::Waker::noop());
        if let Some(session) = &self.tls {
            // Records may have come unasked (a TLS 1.3 session ticket); they are taken in, and
            // only plaintext or an end of stream says no.
            return self.poll_plaintext(session, &mut context).is_pending();
        }
        let std::task::Poll::Ready(Ok(mut guard)) = self.fd.poll_read_ready(&mut context) else {
            return true; // nothing has happened on it
        };
        let mut probe = [std::mem::MaybeUninit::<u8>::uninit(); 1];
        match self.fd.get_ref().peek(&mut probe) {
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                guard.clear_ready();
                true
            }
            _ => false, // 0: closed; more: bytes nobody asked for
        }
    }

    /// The first byte the peer sent, left unread, once there is one; `None` if it closed first.
    pub async fn peek_first(&self) -> io::Result<Option<u8>> {
        loop {
            let mut guard = self.fd.readable().await?;
            let mut byte = [std::mem::MaybeUninit::<u8>::uninit(); 1];
            if let Ok(peeked) = guard.try_io(|fd| fd.get_ref().peek(&mut byte)) {
                // SAFETY: peek initialised the byte when it returned 1.
                return Ok((peeked? == 1).then(|| unsafe { byte[0].assume_init() }));
            }
        }
    }

    /// Half-closes the write side: the peer reads end of stream, and may go on sending. A TLS
    /// stream sends close_notify first when the socket takes it at once.
    pub fn shutdown_write(&self) -> io::Result<()> {
        if let Some(session) = &self.tls {
            session.close_now(self.fd.get_ref());
        }
        match self.fd.get_ref().shutdown(Shutdown::Write) {
            // The peer is gone already: nothing left to tell it.
            Err(err) if err.kind() == io::ErrorKind::NotConnected => Ok(()),
            other => other,
        }
    }

    pub fn local_addr(&self) -> io::Result<Address> {
        self.fd.get_ref().local_addr().map(Address::from_sockaddr)
    }

    pub fn peer_addr(&self) -> io::Result<Address> {
        self.fd.get_ref().peer_addr().map(Address::from_sockaddr)
    }
}

fn recv_into(socket: &Socket, buf: &mut BytesMut) -> io::Result<usize> {
    let n = socket.recv(buf.spare_capacity_mut())?;
    // SAFETY: recv initialised the first n bytes of the spare capacity.
    unsafe { buf.set_len(buf.len() + n) };
    Ok(n)
}

/// Registers a socket with the current runtime's reactor.
pub(crate) fn register(socket: Socket) -> io::Result<AsyncFd<Socket>> {
    // SAFETY: a `Socket` owns its descriptor, keeps the same one for its whole life and closes
    // it only when dropped, which happens after the `AsyncFd` that owns it deregisters.
    unsafe { AsyncFd::register(socket) }.map_err(|err| io::Error::other(err.to_string()))
}

/// Accepts one connection from a listening socket, non-blocking and close-on-exec, with the
/// address of its peer.
pub(crate) fn accept(listener: &Socket) -> io::Result<(Socket, Address)> {
    // SAFETY: accept4 writes at most `len` bytes of the peer's address into the storage
    // socket2 hands over, and sets `len`; the returned descriptor is ours to own.
    let (fd, peer) = unsafe {
        SockAddr::try_init(|storage, len| {
            let flags = libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
            match libc::accept4(listener.as_raw_fd(), storage.cast(), len, flags) {
                fd if fd < 0 => Err(io::Error::last_os_error()),
                fd => Ok(fd),
            }
        })?
    };
    // SAFETY: fd is a new, valid descriptor that nothing else owns.
    let socket = unsafe { Socket::from_raw_fd(fd) };
    Ok((socket, Address::from_sockaddr(peer)))
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[tokio::test]
    async fn an_accepted_connection_gets_nodelay_before_its_second_send() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (accepted, _) = listener.accept().unwrap();
        accepted.set_nonblocking(true).unwrap();
        let stream = Stream::accepted_tcp(Socket::from(accepted), false).unwrap();
        let nodelay = |stream: &Stream| stream.fd.get_ref().tcp_nodelay().unwrap();
        assert!(!nodelay(&stream));
        stream.write_all(b"one").await.unwrap();
        assert!(!nodelay(&stream), "a first send cannot wait for Nagle");
        stream.write_all(b"two").await.unwrap();
        assert!(nodelay(&stream), "set before the second send");
        let mut received = [0u8; 6];
        client.read_exact(&mut received).unwrap();
        assert_eq!(&received, b"onetwo");
    }
}
