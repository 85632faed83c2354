//! A connected byte stream, TCP or Unix, usable from two directions at once through `&self`.

use std::io;
use std::net::{Shutdown, SocketAddr};
use std::path::PathBuf;

use bytes::BytesMut;
use tokio::net::{TcpStream, UnixStream};

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

pub enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Stream {
    /// Reads what is available into the spare capacity of `buf`; `Ok(0)` is end of stream.
    pub async fn read_buf(&self, buf: &mut BytesMut) -> io::Result<usize> {
        loop {
            let result = match self {
                Stream::Tcp(s) => {
                    s.readable().await?;
                    s.try_read_buf(buf)
                }
                Stream::Unix(s) => {
                    s.readable().await?;
                    s.try_read_buf(buf)
                }
            };
            match result {
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => continue,
                other => return other,
            }
        }
    }

    /// Writes all of `data`, waiting for the socket to take it (the backpressure point).
    pub async fn write_all(&self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            let result = match self {
                Stream::Tcp(s) => match s.try_write(data) {
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                        s.writable().await.map(|()| 0)
                    }
                    other => other,
                },
                Stream::Unix(s) => match s.try_write(data) {
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                        s.writable().await.map(|()| 0)
                    }
                    other => other,
                },
            };
            match result? {
                0 => continue,
                n => data = &data[n..],
            }
        }
        Ok(())
    }

    /// Half-closes the write side: the peer reads end of stream, and may go on sending.
    pub fn shutdown_write(&self) -> io::Result<()> {
        let result = match self {
            Stream::Tcp(s) => socket2::SockRef::from(s).shutdown(Shutdown::Write),
            Stream::Unix(s) => socket2::SockRef::from(s).shutdown(Shutdown::Write),
        };
        match result {
            // The peer is gone already: nothing left to tell it.
            Err(err) if err.kind() == io::ErrorKind::NotConnected => Ok(()),
            other => other,
        }
    }

    pub fn local_addr(&self) -> io::Result<Address> {
        match self {
            Stream::Tcp(s) => s.local_addr().map(Address::Ip),
            Stream::Unix(s) => s
                .local_addr()
                .map(|a| Address::Unix(a.as_pathname().map(Into::into))),
        }
    }

    pub fn peer_addr(&self) -> io::Result<Address> {
        match self {
            Stream::Tcp(s) => s.peer_addr().map(Address::Ip),
            Stream::Unix(s) => s
                .peer_addr()
                .map(|a| Address::Unix(a.as_pathname().map(Into::into))),
        }
    }
}
