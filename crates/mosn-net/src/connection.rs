//! One accepted downstream connection, as its terminal filter receives it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::BytesMut;

use crate::drain::Drain;
use crate::filter::{ReadFilterChain, WriteFilterChain};
use crate::stats::ActiveConnection;
use crate::stream::{Address, Stream};

static NEXT_CONNECTION_ID: AtomicU64 = AtomicU64::new(1);

/// MOSN's idle timeout for downstream connections when the listener does not set one.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// What is known of a connection; listener filters may change it (an original destination).
#[derive(Debug, Clone)]
pub struct ConnectionInfo {
    pub id: u64,
    pub listener: Arc<str>,
    pub local: Address,
    pub remote: Address,
}

impl ConnectionInfo {
    pub fn new(listener: Arc<str>, local: Address, remote: Address) -> Self {
        let id = NEXT_CONNECTION_ID.fetch_add(1, Ordering::Relaxed);
        ConnectionInfo {
            id,
            listener,
            local,
            remote,
        }
    }
}

pub struct Connection {
    pub info: ConnectionInfo,
    pub stream: Stream,
    /// Bytes read off `stream` before the connection was handed on (from the proxy's protocol
    /// detection to its HTTP/2 codec, or to the `tcp_proxy` of `fallback_for_unknown_protocol`)
    /// that the read filters have let through: they come first, and are not filtered again.
    pub early: BytesMut,
    /// Bytes read before the hand-over that a read filter holds back: the filters see them
    /// again, in front of the next bytes read.
    pub held: BytesMut,
    pub read_filters: ReadFilterChain,
    pub write_filters: WriteFilterChain,
    /// The listener's `connection_idle_timeout`.
    pub idle_timeout: Option<Duration>,
    /// Signalled when the server starts a graceful stop.
    pub drain: Drain,
    pub(crate) _active: ActiveConnection,
}

impl Connection {
    /// How long the connection may stay silent: the listener's `connection_idle_timeout`, or
    /// MOSN's 90 s when unset; `None` (no limit) for an explicit `"0s"`, as in MOSN.
    pub fn idle_limit(&self) -> Option<Duration> {
        idle_limit(self.idle_timeout)
    }
}

/// The idle limit of a listener whose `connection_idle_timeout` is `configured`.
pub(crate) fn idle_limit(configured: Option<Duration>) -> Option<Duration> {
    match configured {
        Some(timeout) if timeout.is_zero() => None,
        Some(timeout) => Some(timeout),
        None => Some(DEFAULT_IDLE_TIMEOUT),
    }
}
