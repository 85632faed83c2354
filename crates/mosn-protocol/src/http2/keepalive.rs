//! PING keepalive: a connection whose peer stops answering PINGs is dead (a host frozen or
//! cut off without a FIN or RST), and is dropped instead of holding its streams until their
//! timeouts.

use std::time::Duration;

use h2::{Ping, PingPong};

/// `connection_keepalive`: a PING every `interval`, to be answered within `timeout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keepalive {
    pub interval: Duration,
    pub timeout: Duration,
}

/// Resolves when the peer has let a PING go unanswered for `timeout`. Never resolves without a
/// keepalive, or once the connection has ended (its own ending is reported where it is
/// driven).
pub async fn unanswered_ping(ping_pong: Option<PingPong>, keepalive: Option<Keepalive>) {
    let (Some(mut ping_pong), Some(keepalive)) = (ping_pong, keepalive) else {
        return std::future::pending().await;
    };
    loop {
        tokio::time::sleep(keepalive.interval).await;
        match tokio::time::timeout(keepalive.timeout, ping_pong.ping(Ping::opaque())).await {
            Ok(Ok(_pong)) => {}
            Ok(Err(_connection_ended)) => return std::future::pending().await,
            Err(_timed_out) => return,
        }
    }
}
