//! The client side of a proxied connection: reads through the network read filters into a
//! buffer the HTTP/1 parser works on, and writes through the write filters.

use std::io;

use bytes::BytesMut;
use mosn_net::{Connection, FilterStatus};

/// Read size: MOSN's default connection buffer.
pub const READ_SIZE: usize = 16 * 1024;

pub struct Downstream {
    pub connection: Connection,
    /// Bytes received and not yet consumed (a pipelined request may wait here).
    pub buf: BytesMut,
    scratch: BytesMut,
}

impl Downstream {
    pub fn new(connection: Connection) -> Downstream {
        Downstream {
            connection,
            buf: BytesMut::with_capacity(READ_SIZE),
            scratch: BytesMut::new(),
        }
    }

    /// Reads more into `buf`; `Ok(0)` is end of stream. Read filters see the new bytes first;
    /// bytes one of them holds back reach `buf` with the next read.
    pub async fn read(&mut self) -> io::Result<usize> {
        let connection = &mut self.connection;
        if connection.read_filters.is_empty() {
            self.buf.reserve(READ_SIZE);
            return connection.stream.read_buf(&mut self.buf).await;
        }
        self.scratch.reserve(READ_SIZE);
        let n = connection.stream.read_buf(&mut self.scratch).await?;
        if connection.read_filters.on_data(&mut self.scratch, n == 0) == FilterStatus::Continue {
            self.buf.extend_from_slice(&self.scratch);
            self.scratch.clear();
        }
        Ok(n)
    }

    pub async fn write(&mut self, data: &mut BytesMut) -> io::Result<()> {
        let connection = &mut self.connection;
        if !connection.write_filters.is_empty()
            && connection.write_filters.on_write(data) == FilterStatus::Stop
        {
            return Ok(());
        }
        connection.stream.write_all(data).await
    }
}
