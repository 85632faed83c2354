//! Binding listener sockets, and the accept loop that hands connections to the filter chain.

use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use mosn_config::address::ListenAddress;
use socket2::{Domain, Socket, Type};
use tokio::io::unix::AsyncFd;

use crate::connection::{Connection, ConnectionInfo};
use crate::drain::Drain;
use crate::filter::{FilterChainFactory, FilterStatus, ListenerFilter};
use crate::stats::ListenerStats;
use crate::stream::{Address, Stream, accept, register};
use crate::tls::ListenerTls;

const BACKLOG: i32 = 1024;

/// Everything a listener needs to serve its connections.
pub struct ListenerSpec {
    pub name: Arc<str>,
    pub address: ListenAddress,
    pub reuseport: bool,
    pub listener_filters: Vec<Arc<dyn ListenerFilter>>,
    pub chain: FilterChainFactory,
    pub idle_timeout: Option<Duration>,
    pub stats: Arc<ListenerStats>,
    /// TLS on the listener's connections (MOSN's `tls_context` of its filter chain).
    pub tls: Option<Arc<ListenerTls>>,
    /// Whether a TCP connection is accepted only once its client has sent something
    /// (TCP_DEFER_ACCEPT), for a filter chain that waits for the client's bytes anyway.
    pub defer_accept: bool,
}

/// A bound socket, listening once [`BoundSocket::listen`] is called, not yet tied to a runtime.
pub struct BoundSocket {
    socket: Socket,
    tcp: bool,
}

impl BoundSocket {
    /// Binds, without listening yet. `reuseport` lets several sockets share the address.
    pub fn bind(address: &ListenAddress, reuseport: bool) -> io::Result<BoundSocket> {
        let (socket, tcp) = match address {
            ListenAddress::Tcp(addr) => {
                let socket = Socket::new(Domain::for_address(*addr), Type::STREAM, None)?;
                socket.set_reuse_address(true)?;
                socket.set_reuse_port(reuseport)?;
                socket.bind(&(*addr).into())?;
                (socket, true)
            }
            ListenAddress::Unix(path) => {
                remove_stale_socket(path)?;
                let socket = Socket::new(Domain::UNIX, Type::STREAM, None)?;
                socket.bind(&socket2::SockAddr::unix(path)?)?;
                (socket, false)
            }
            ListenAddress::Udp(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "udp listeners are not supported",
                ));
            }
        };
        socket.set_nonblocking(true)?;
        Ok(BoundSocket { socket, tcp })
    }

    /// Has the kernel hand over a TCP connection only once the client has sent something (or
    /// after about a second), as nginx's `deferred` and haproxy's `defer-accept` do. The
    /// connection's first read then finds its bytes, and a client that connects and sends
    /// nothing costs no task. Nothing changes on a Unix socket.
    pub fn defer_accept(&self) -> io::Result<()> {
        if !self.tcp {
            return Ok(());
        }
        let seconds: libc::c_int = 1;
        // SAFETY: the option's value is a c_int, passed by pointer with its size, and the
        // descriptor is the socket's own for the duration of the call.
        let set = unsafe {
            libc::setsockopt(
                self.socket.as_raw_fd(),
                libc::IPPROTO_TCP,
                libc::TCP_DEFER_ACCEPT,
                (&raw const seconds).cast(),
                size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if set != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Starts taking connections into the backlog.
    pub fn listen(&self) -> io::Result<()> {
        self.socket.listen(BACKLOG)
    }

    pub fn local_addr(&self) -> io::Result<Address> {
        self.socket.local_addr().map(Address::from_sockaddr)
    }

    pub fn is_tcp(&self) -> bool {
        self.tcp
    }

    /// The socket as the standard library's listener, for a server of its own (the admin API).
    /// Only for a socket bound to a TCP address.
    pub fn into_tcp_listener(self) -> std::net::TcpListener {
        self.socket.into()
    }

    /// Another handle on the same socket, for another worker.
    pub fn try_clone(&self) -> io::Result<BoundSocket> {
        Ok(BoundSocket {
            socket: self.socket.try_clone()?,
            tcp: self.tcp,
        })
    }
}

/// A socket file left by a process that is gone is removed; one in use, or a file that is not
/// a socket, is an error (never delete what a mistyped path points at).
fn remove_stale_socket(path: &Path) -> io::Result<()> {
    let Ok(metadata) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    if !metadata.file_type().is_socket() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "the path exists and is not a socket",
        ));
    }
    match std::os::unix::net::UnixStream::connect(path) {
        Ok(_) => Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            "a process is listening on this socket",
        )),
        Err(_) => std::fs::remove_file(path),
    }
}

/// A listening socket registered with the runtime.
struct AcceptSocket {
    fd: AsyncFd<Socket>,
    tcp: bool,
    /// Connections come with data waiting (the listener defers its accepts).
    deferred: bool,
    /// The local address of every connection accepted, when the listener's own address says
    /// it: a Unix path, or an IP address that is not a wildcard (`0.0.0.0`, `::`).
    local: Option<Address>,
}

/// A connection just accepted: the stream, and the peer's and our addresses.
struct Accepted {
    stream: Stream,
    remote: Address,
    local: Address,
}

impl AcceptSocket {
    fn register(bound: BoundSocket, deferred: bool) -> io::Result<AcceptSocket> {
        let BoundSocket { socket, tcp } = bound;
        let local = socket
            .local_addr()
            .map(Address::from_sockaddr)
            .ok()
            .filter(|address| address.ip().is_none_or(|ip| !ip.ip().is_unspecified()));
        Ok(AcceptSocket {
            fd: register(socket)?,
            tcp,
            deferred,
            local,
        })
    }

    /// The next connection. Its addresses cost no system call but where the listener's
    /// address is a wildcard (the local address then depends on the connection).
    async fn accept(&self) -> io::Result<Accepted> {
        loop {
            let mut guard = self.fd.readable().await?;
            if let Ok(accepted) = guard.try_io(|fd| accept(fd.get_ref())) {
                let (socket, remote) = accepted?;
                let stream = if self.tcp {
                    Stream::accepted_tcp(socket, self.deferred)?
                } else {
                    Stream::from_socket(socket)?
                };
                let local = match &self.local {
                    Some(local) => local.clone(),
                    None => stream.local_addr()?,
                };
                return Ok(Accepted {
                    stream,
                    remote,
                    local,
                });
            }
        }
    }
}

/// Accepts connections until draining starts; each connection runs in its own task on the
/// current runtime. Must be called inside a tokio runtime.
pub async fn serve(socket: BoundSocket, spec: Arc<ListenerSpec>, drain: Drain) -> io::Result<()> {
    let socket = AcceptSocket::register(socket, spec.defer_accept)?;
    // One wait on the signal for the listener's life, not one per connection accepted.
    let mut signal = drain.clone();
    let mut draining = pin!(signal.signaled());
    loop {
        tokio::select! {
            biased;
            () = &mut draining => return Ok(()),
            accepted = socket.accept() => match accepted {
                Ok(accepted) => {
                    tokio::spawn(handle(accepted, Arc::clone(&spec), drain.clone()));
                }
                Err(err) => {
                    tracing::warn!(listener = %spec.name, "accept failed: {err}");
                    // Out of descriptors or memory: give the connections in flight time to end.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
}

async fn handle(accepted: Accepted, spec: Arc<ListenerSpec>, drain: Drain) {
    let active = spec.stats.open();
    let Accepted {
        stream,
        remote,
        local,
    } = accepted;
    let mut info = ConnectionInfo::new(Arc::clone(&spec.name), local, remote);
    for filter in &spec.listener_filters {
        if filter.on_accept(&mut info, &stream) == FilterStatus::Stop {
            tracing::debug!(listener = %spec.name, connection = info.id, "closed by a listener filter");
            return;
        }
    }
    let stream = match &spec.tls {
        Some(tls) => {
            let wait = crate::connection::idle_limit(spec.idle_timeout).unwrap_or(Duration::MAX);
            // Boxed: the handshake's state is large, and would make every connection's task
            // (TLS or not) that large to create and tear down.
            match Box::pin(tls.secure(stream, &spec.name, &info.remote, wait, &spec.stats)).await {
                Some(stream) => stream,
                None => return,
            }
        }
        None => stream,
    };
    let chain = spec.chain.build();
    let Some(terminal) = chain.terminal else {
        tracing::debug!(listener = %spec.name, connection = info.id, "no terminal network filter: closed");
        return;
    };
    let connection = Connection {
        info,
        stream,
        early: BytesMut::new(),
        held: BytesMut::new(),
        read_filters: chain.read,
        write_filters: chain.write,
        idle_timeout: spec.idle_timeout,
        drain,
        _active: active,
    };
    terminal.serve(connection).await;
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[tokio::test]
    async fn a_deferred_listener_hands_over_a_connection_once_its_client_has_sent() {
        let address = ListenAddress::Tcp("127.0.0.1:0".parse().unwrap());
        let bound = BoundSocket::bind(&address, false).unwrap();
        bound.defer_accept().unwrap();
        bound.listen().unwrap();
        let port = bound.local_addr().unwrap().ip().unwrap().port();
        let listener = AcceptSocket::register(bound, true).unwrap();
        let mut client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let early = accept(listener.fd.get_ref()).map(|_| ());
        assert_eq!(
            early.unwrap_err().kind(),
            io::ErrorKind::WouldBlock,
            "connected, but nothing sent yet"
        );
        client.write_all(b"GET / HTTP/1.1\r\n").unwrap();
        let wait = Duration::from_secs(10);
        let accepted = tokio::time::timeout(wait, listener.accept()).await;
        let accepted = accepted.expect("accepted once data came").unwrap();
        let mut buf = BytesMut::new();
        let read = accepted.stream.read_reserving(&mut buf, 64).await.unwrap();
        assert_eq!(&buf[..read], b"GET / HTTP/1.1\r\n");
    }
}
