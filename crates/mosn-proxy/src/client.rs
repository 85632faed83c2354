//! The client side of one exchange: an HTTP/1 connection (one request at a time), or one
//! stream of an HTTP/2 connection.

use std::future::poll_fn;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use h2::RecvStream;
use h2::server::SendResponse;
use mosn_net::ConnectionInfo;
use mosn_net::drain::Drain;

use crate::downstream::Downstream;
use crate::settings::idle_timeout;

pub enum Client<'a> {
    H1(&'a mut Downstream),
    H2(H2Client),
}

/// One HTTP/2 stream of a client connection: its request body and the handle its response
/// goes out on.
pub struct H2Client {
    /// The connection's, shared by its streams.
    pub info: Arc<ConnectionInfo>,
    pub drain: Drain,
    pub idle: Duration,
    pub body: RecvStream,
    pub respond: SendResponse<Bytes>,
    /// The connection's count of streams its client reset before their answer began.
    pub early_resets: Arc<AtomicUsize>,
}

impl Client<'_> {
    pub fn info(&self) -> &ConnectionInfo {
        match self {
            Client::H1(down) => &down.connection.info,
            Client::H2(stream) => &stream.info,
        }
    }

    pub fn is_draining(&self) -> bool {
        match self {
            Client::H1(down) => down.connection.drain.is_draining(),
            Client::H2(stream) => stream.drain.is_draining(),
        }
    }

    /// How long a read or a write may wait before the exchange gives up.
    pub fn idle(&self) -> Duration {
        match self {
            Client::H1(down) => idle_timeout(&down.connection),
            Client::H2(stream) => stream.idle,
        }
    }
}

/// Resolves when an HTTP/2 client resets its stream (or its connection is gone), and counts
/// the reset as an early one. (An HTTP/1 client's going away shows on its next read or write.)
pub async fn reset_before_answer(stream: &mut H2Client) {
    let _ = poll_fn(|cx| stream.respond.poll_reset(cx)).await;
    stream.early_resets.fetch_add(1, Ordering::Relaxed);
}
