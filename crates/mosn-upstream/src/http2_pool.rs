//! Multiplexed HTTP/2 connections per host. A request takes a stream on an open connection
//! that has room under the peer's SETTINGS_MAX_CONCURRENT_STREAMS; when none has, one new
//! connection is opened (one at a time per host, so a burst does not open a connection per
//! request). A connection that fails takes only its own streams with it.
//!
//! A new connection's first stream goes out at once, as Envoy's does, but other requests
//! share the connection only once the peer's SETTINGS have said how many streams it takes:
//! before them, a burst would all go to it and queue behind a limit nobody knew.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use h2::client::SendRequest;
use mosn_net::Stream;
use mosn_protocol::http2::Settings;
use mosn_protocol::http2::gather::Gathered;
use mosn_protocol::http2::keepalive::unanswered_ping;

use crate::resources::ConnectionSlots;

#[derive(Default)]
pub struct Http2Pool {
    open: Mutex<Vec<Arc<Http2Connection>>>,
    connecting: tokio::sync::Mutex<()>,
}

pub struct Http2Connection {
    send: SendRequest<Bytes>,
    streams: AtomicUsize,
    /// Set when the connection takes no new streams: its task ended (the peer went away or the
    /// connection failed), or the peer said GOAWAY.
    closed: Arc<AtomicBool>,
    last_used: Mutex<Instant>,
    _slots: ConnectionSlots,
}

/// One stream's hold on a connection; the connection's count goes down when it is dropped.
pub struct Http2Stream {
    pub send: SendRequest<Bytes>,
    connection: Arc<Http2Connection>,
}

impl Http2Stream {
    /// The first stream of a connection not shared yet (see `Http2Pool::share`).
    pub fn first_on(connection: Arc<Http2Connection>) -> Http2Stream {
        lease(&connection)
    }

    /// Takes the connection out of use for new streams (the peer sent GOAWAY, or refused to
    /// open a stream); the streams open on it go on.
    pub fn retire(&self) {
        self.connection.closed.store(true, Ordering::Relaxed);
    }
}

impl Drop for Http2Stream {
    fn drop(&mut self) {
        self.connection.streams.fetch_sub(1, Ordering::Relaxed);
        *lock(&self.connection.last_used) = Instant::now();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Http2Connection {
    /// Runs the HTTP/2 handshake on a connected stream and starts the task that drives the
    /// connection.
    pub async fn handshake(
        stream: Stream,
        slots: ConnectionSlots,
        settings: &Settings,
    ) -> Result<Arc<Http2Connection>, h2::Error> {
        let peer = stream
            .peer_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        let (send, mut connection) = settings
            .client()
            .initial_max_send_streams(LIMIT_NOT_YET_KNOWN)
            .handshake::<_, Bytes>(Gathered::new(stream))
            .await?;
        let dead_peer = unanswered_ping(connection.ping_pong(), settings.keepalive);
        let closed = Arc::new(AtomicBool::new(false));
        let done = Arc::clone(&closed);
        tokio::spawn(async move {
            tokio::select! {
                result = connection => if let Err(err) = result {
                    tracing::debug!(%peer, "upstream HTTP/2 connection ended: {err}");
                },
                () = dead_peer => tracing::warn!(
                    %peer,
                    "upstream HTTP/2 connection did not answer a PING in time: dropped"
                ),
            }
            done.store(true, Ordering::Relaxed);
        });
        Ok(Arc::new(Http2Connection {
            send,
            streams: AtomicUsize::new(0),
            closed,
            last_used: Mutex::new(Instant::now()),
            _slots: slots,
        }))
    }

    /// Whether the connection has had no stream for `limit` or longer.
    fn idle_for(&self, limit: Duration) -> bool {
        self.streams.load(Ordering::Relaxed) == 0 && lock(&self.last_used).elapsed() >= limit
    }

    fn has_room(&self) -> bool {
        let limit = self.send.current_max_send_streams();
        !self.closed.load(Ordering::Relaxed)
            && limit != LIMIT_NOT_YET_KNOWN
            && self.streams.load(Ordering::Relaxed) < limit
    }
}

/// A new connection's stream limit until the peer's SETTINGS come: no limit in effect, but a
/// value those SETTINGS cannot leave in place (they carry a u32, or nothing, which h2 takes as
/// `usize::MAX`), so the pool can tell that they have not come yet.
const LIMIT_NOT_YET_KNOWN: usize = usize::MAX - 1;

/// A new stream's hold on `connection`.
fn lease(connection: &Arc<Http2Connection>) -> Http2Stream {
    connection.streams.fetch_add(1, Ordering::Relaxed);
    Http2Stream {
        send: connection.send.clone(),
        connection: Arc::clone(connection),
    }
}

impl Http2Pool {
    /// A stream on an open connection with room, if there is one. Connections that closed, and
    /// those idle (no stream) for longer than `idle_timeout`, are let go on the way.
    pub fn take(&self, idle_timeout: Option<Duration>) -> Option<Http2Stream> {
        let mut open = lock(&self.open);
        open.retain(|c| {
            !c.closed.load(Ordering::Relaxed)
                && !idle_timeout.is_some_and(|limit| c.idle_for(limit))
        });
        open.iter().find(|c| c.has_room()).map(lease)
    }

    /// Lets go of the connections without a stream for `limit` or longer: each closes once the
    /// last hold on it is gone.
    pub fn close_expired(&self, limit: Duration) {
        lock(&self.open).retain(|c| !c.idle_for(limit));
    }

    /// Lets other requests use the connection `stream` is on, once `stream` has gone first.
    pub fn share(&self, stream: &Http2Stream) {
        lock(&self.open).push(Arc::clone(&stream.connection));
    }

    /// A stream on a connection with room, opening one with `connect` when none has.
    pub async fn take_or_connect<E>(
        &self,
        idle_timeout: Option<Duration>,
        connect: impl AsyncFnOnce() -> Result<Arc<Http2Connection>, E>,
    ) -> Result<Http2Stream, E> {
        if let Some(stream) = self.take(idle_timeout) {
            return Ok(stream);
        }
        let _one_at_a_time = self.connecting.lock().await;
        if let Some(stream) = self.take(idle_timeout) {
            return Ok(stream);
        }
        let connection = connect().await?;
        lock(&self.open).push(Arc::clone(&connection));
        Ok(lease(&connection))
    }
}
