//! An HTTP/2 client connection: each stream is an exchange of its own, run by the task that
//! drives the connection. A stream's progress and the connection's reads and writes happen in
//! the same poll: no task is spawned per stream, and a frame a stream queues is written
//! without waking another task. A graceful stop sends GOAWAY and lets the open streams finish;
//! so does a connection left without streams for its idle timeout.
//!
//! A client that resets most of its streams before they are answered is cut off with GOAWAY
//! ENHANCE_YOUR_CALM: each such stream has already cost an upstream request, and the reset
//! frees its slot for the next one (rapid reset, CVE-2023-44487, paced so that each stream is
//! accepted before its reset arrives). `h2` itself refuses resets of streams not yet accepted.

use std::panic::AssertUnwindSafe;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, StreamExt};
use mosn_net::filtered_io::FilteredIo;
use mosn_protocol::http1::{BodyKind, framing};
use mosn_protocol::http2::convert;
use mosn_protocol::http2::gather::Gathered;
use mosn_protocol::http2::keepalive::unanswered_ping;

use crate::Shared;
use crate::client::{Client, H2Client};
use crate::downstream::Downstream;
use crate::exchange::Exchange;
use crate::reply::h2_local_reply;
use crate::settings::idle_timeout;

pub async fn serve(shared: Arc<Shared>, down: Downstream) {
    let shared = &*shared;
    let connection = down.into_connection();
    let info = Arc::new(connection.info.clone());
    let drain = connection.drain.clone();
    let idle = idle_timeout(&connection);
    let io = Gathered::new(FilteredIo::new(connection));
    let handshake = shared.settings.http2.server().handshake::<_, Bytes>(io);
    let mut h2 = match tokio::time::timeout(shared.settings.header_timeout, handshake).await {
        Ok(Ok(h2)) => h2,
        Ok(Err(err)) => {
            tracing::debug!(connection = info.id, "HTTP/2 handshake failed: {err}");
            return;
        }
        Err(_) => return,
    };
    let mut streams = FuturesUnordered::new();
    let early_resets = Arc::new(AtomicUsize::new(0));
    let mut accepted = 0usize;
    let mut closing = false;
    let dead_peer = unanswered_ping(h2.ping_pong(), shared.settings.http2.keepalive);
    let mut dead_peer = pin!(dead_peer);
    let mut drain_signal = drain.clone();
    let mut draining = pin!(async move { drain_signal.signaled().await });
    // One timer for the connection's life, checked every `idle` (not one per stream): idle
    // means no stream open, and none begun or ended since the last check. A client still there
    // one more timeout after GOAWAY, with no stream left, is dropped.
    let mut idle_check = pin!(tokio::time::sleep(idle));
    let mut activity = 0usize;
    let mut activity_at_check = 0usize;
    loop {
        let next = tokio::select! {
            // Streams first: the frames they queue go out as the connection is driven below.
            biased;
            Some(()) = streams.next(), if !streams.is_empty() => {
                activity += 1;
                continue;
            }
            next = h2.accept() => next,
            () = &mut dead_peer => {
                tracing::info!(
                    connection = info.id,
                    remote = %info.remote,
                    "HTTP/2 client did not answer a PING in time: connection closed"
                );
                return;
            }
            () = &mut draining, if !closing => {
                closing = true;
                h2.graceful_shutdown();
                continue;
            }
            () = &mut idle_check => {
                if closing && streams.is_empty() {
                    // GOAWAY went out at least one timeout ago and the client has not ended
                    // the connection (nor answered the PING that confirms the GOAWAY).
                    tracing::debug!(connection = info.id, "HTTP/2 client kept its connection after GOAWAY: closed");
                    break;
                }
                if !closing && streams.is_empty() && activity == activity_at_check {
                    closing = true;
                    h2.graceful_shutdown();
                }
                activity_at_check = activity;
                idle_check.as_mut().reset(tokio::time::Instant::now() + idle);
                continue;
            }
        };
        let (request, mut respond) = match next {
            Some(Ok(stream)) => stream,
            Some(Err(err)) => {
                tracing::debug!(connection = info.id, "HTTP/2 connection ended: {err}");
                break;
            }
            None => break,
        };
        accepted += 1;
        activity += 1;
        if !closing && resets_too_many(early_resets.load(Ordering::Relaxed), accepted) {
            tracing::warn!(
                connection = info.id,
                remote = %info.remote,
                "HTTP/2 client reset most of its {accepted} streams before their answer: \
                 GOAWAY ENHANCE_YOUR_CALM"
            );
            closing = true;
            h2.abrupt_shutdown(h2::Reason::ENHANCE_YOUR_CALM);
            continue;
        }
        let (parts, body) = request.into_parts();
        let head = convert::request_head(&parts);
        // Without a length, END_STREAM ends the body: chunked, to an HTTP/1.1 upstream.
        let kind = match (body.is_end_stream(), framing::request_body(&head)) {
            (true, _) => BodyKind::Empty,
            (false, Ok(BodyKind::Length(length))) => BodyKind::Length(length),
            (false, Ok(_)) => BodyKind::Chunked,
            (false, Err(err)) => {
                h2_local_reply(&mut respond, err.status(), "", &[]);
                continue;
            }
        };
        let limit = shared.settings.max_request_body_size;
        if limit > 0 && matches!(kind, BodyKind::Length(n) if n > limit) {
            h2_local_reply(&mut respond, 413, "", &[]);
            continue;
        }
        let client = H2Client {
            info: Arc::clone(&info),
            drain: drain.clone(),
            idle,
            body,
            respond,
            early_resets: Arc::clone(&early_resets),
        };
        let id = info.id;
        // Boxed: each move of the exchange's future on the way into `streams` would copy it.
        let exchange = Exchange::boxed(shared, Client::H2(client), head, kind);
        // A bug that panics in one exchange ends that stream (reset), not the connection.
        streams.push(
            AssertUnwindSafe(exchange)
                .catch_unwind()
                .map(move |result| {
                    if result.is_err() {
                        tracing::error!(connection = id, "an HTTP/2 stream's exchange panicked");
                    }
                }),
        );
    }
    // The connection is gone: what the open streams still do fails at once, and is logged.
    while streams.next().await.is_some() {}
}

/// Early resets a connection may make before their share of its streams counts.
const EARLY_RESETS_ALLOWED: usize = 100;

/// Whether a client has reset more than half of its streams before their answer, past the
/// allowance that lets ordinary cancellation (a browser leaving a page) through.
fn resets_too_many(early_resets: usize, accepted: usize) -> bool {
    early_resets > EARLY_RESETS_ALLOWED && early_resets * 2 > accepted
}
