//! The client side of a proxied connection: reads through the network read filters into a
//! buffer the HTTP/1 parser works on, and writes through the write filters.

use std::io;

use bytes::BytesMut;
use mosn_net::filter::{HOLD_LIMIT, held_too_much};
use mosn_net::{Connection, FilterStatus};
use tokio::time::Instant;

use crate::body::{Sink, Source};
use crate::deadline::Deadline;

/// Read size: MOSN's default connection buffer.
pub const READ_SIZE: usize = 16 * 1024;

pub struct Downstream {
    pub connection: Connection,
    /// Bytes received and not yet consumed (a pipelined request may wait here).
    pub buf: BytesMut,
    /// Read, and held back by a read filter until more comes.
    scratch: BytesMut,
    /// Written, and held back by a write filter until the next write.
    held_out: BytesMut,
    /// For the waits between requests and within a head.
    head_deadline: Deadline,
    /// For the waits of its requests' responses.
    pub response_deadline: Deadline,
}

impl Downstream {
    /// Starts with the bytes a filter before this one read off the connection, if any.
    pub fn new(mut connection: Connection) -> Downstream {
        Downstream {
            buf: std::mem::take(&mut connection.early),
            scratch: std::mem::take(&mut connection.held),
            connection,
            held_out: BytesMut::new(),
            head_deadline: Deadline::default(),
            response_deadline: Deadline::default(),
        }
    }

    /// Reads more into `buf`; `Ok(0)` is end of stream. Read filters see the new bytes first;
    /// bytes one of them holds back reach `buf` with the next read.
    pub async fn read(&mut self) -> io::Result<usize> {
        read_into(&mut self.connection, &mut self.buf, &mut self.scratch).await
    }

    /// [`Downstream::read`], or `None` if `at` passes first (a request head's wait).
    pub async fn read_before(&mut self, at: Instant) -> Option<io::Result<usize>> {
        let read = read_into(&mut self.connection, &mut self.buf, &mut self.scratch);
        self.head_deadline.run(at, read).await
    }

    /// Gives back the buffers' memory (read, and held by filters) when they hold nothing: for
    /// a connection about to wait for its next request.
    pub fn release_buffers(&mut self) {
        for buf in [&mut self.buf, &mut self.scratch, &mut self.held_out] {
            if buf.is_empty() {
                *buf = BytesMut::new();
            }
        }
    }

    /// The connection, for a codec or filter that takes it over, with the bytes read from it
    /// that no one has used yet.
    pub fn into_connection(mut self) -> Connection {
        self.connection.early = self.buf;
        self.connection.held = self.scratch;
        self.connection
    }

    /// Writes `data` through the write filters; bytes one of them holds back go out in front
    /// of the next write they let through.
    pub async fn write(&mut self, data: &mut BytesMut) -> io::Result<()> {
        let connection = &mut self.connection;
        if connection.write_filters.is_empty() {
            return connection.stream.write_all(data).await;
        }
        if self.held_out.len() >= HOLD_LIMIT {
            return Err(held_too_much());
        }
        self.held_out.extend_from_slice(data);
        if connection.write_filters.on_write(&mut self.held_out) == FilterStatus::Stop {
            return Ok(());
        }
        let written = connection.stream.write_all(&self.held_out).await;
        self.held_out.clear();
        written
    }
}

/// Reads more into `buf`, through the read filters (by way of `scratch`) when there are any.
async fn read_into(
    connection: &mut Connection,
    buf: &mut BytesMut,
    scratch: &mut BytesMut,
) -> io::Result<usize> {
    if connection.read_filters.is_empty() {
        return connection.stream.read_reserving(buf, READ_SIZE).await;
    }
    if scratch.len() >= HOLD_LIMIT {
        return Err(held_too_much());
    }
    let n = connection.stream.read_reserving(scratch, READ_SIZE).await?;
    if connection.read_filters.on_data(scratch, n == 0) == FilterStatus::Continue {
        buf.extend_from_slice(scratch);
        scratch.clear();
    }
    Ok(n)
}

impl Source for Downstream {
    fn buffered(&mut self) -> &mut BytesMut {
        &mut self.buf
    }

    async fn fill(&mut self) -> io::Result<usize> {
        self.read().await
    }
}

impl Sink for Downstream {
    async fn send(&mut self, data: &mut BytesMut) -> io::Result<()> {
        self.write(data).await
    }
}
