//! Binding listener sockets, and the accept loop that hands connections to the filter chain.

use std::io;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;
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
    fn register(bound: BoundSocket) -> io::Result<AcceptSocket> {
        let BoundSocket { socket, tcp } = bound;
        let local = socket
            .local_addr()
            .map(Address::from_sockaddr)
            .ok()
            .filter(|address| address.ip().is_none_or(|ip| !ip.ip().is_unspecified()));
        Ok(AcceptSocket {
            fd: register(socket)?,
            tcp,
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
                    Stream::accepted_tcp(socket)?
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
pub async fn serve(
    socket: BoundSocket,
    spec: Arc<ListenerSpec>,
    mut drain: Drain,
) -> io::Result<()> {
    let socket = AcceptSocket::register(socket)?;
    loop {
        tokio::select! {
            biased;
            () = drain.signaled() => return Ok(()),
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
        read_filters: chain.read,
        write_filters: chain.write,
        idle_timeout: spec.idle_timeout,
        drain,
        _active: active,
    };
    terminal.serve(connection).await;
}
