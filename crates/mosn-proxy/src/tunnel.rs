//! After `101 Switching Protocols` (WebSocket, for example) the connection is no longer HTTP:
//! bytes flow both ways as they come, until both sides have closed or nothing moves for the
//! idle timeout.

use std::time::Duration;

use bytes::BytesMut;
use mosn_net::idle::Activity;
use mosn_net::pump::{Early, pump};
use mosn_net::{FilterStatus, Stream};

/// Tunnels between the client and the upstream. `early` bytes arrived with the heads and go
/// first: from the client (`early.0`) and from the upstream (`early.1`).
pub async fn tunnel(client: &Stream, upstream: &Stream, early: (&[u8], &[u8]), idle: Duration) {
    let flushed = async {
        if !early.0.is_empty() {
            upstream.write_all(early.0).await?;
        }
        if !early.1.is_empty() {
            client.write_all(early.1).await?;
        }
        Ok::<_, std::io::Error>(())
    };
    if flushed.await.is_err() {
        return;
    }
    let activity = Activity::default();
    let pass = |_: &mut BytesMut, _: bool| FilterStatus::Continue;
    let both = async {
        tokio::try_join!(
            pump(client, upstream, &activity, Early::default(), pass),
            pump(upstream, client, &activity, Early::default(), pass)
        )
    };
    tokio::select! {
        _ = both => {}
        () = activity.idle(Some(idle)) => tracing::debug!("upgraded connection idle for {idle:?}, closed"),
    }
}
