//! The upstream side of an exchange: a connection from the host's pool (HTTP/1) or a stream on
//! one of its multiplexed connections (HTTP/2); the request sent on it; the response head.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use h2::client::ResponseFuture;
use h2::{RecvStream, SendStream};
use mosn_net::Stream;
use mosn_net::tls::AppProtocol;
use mosn_protocol::detect::Protocol;
use mosn_protocol::grpc;
use mosn_protocol::http1::encode::encode_request_head;
use mosn_protocol::http1::head::parse_response;
use mosn_protocol::http1::{BodyKind, RequestHead, ResponseHead};
use mosn_protocol::http2::convert;
use mosn_upstream::http1_pool::Pooled;
use mosn_upstream::http2_pool::{Http2Connection, Http2Stream};
use mosn_upstream::resources::ConnectionSlots;
use mosn_upstream::{Cluster, Host};

use super::filters::client_body_into;
use super::{Exchange, Stop};
use crate::body::{self, BodyError, Out, Sink, Source};
use crate::client::Client;
use crate::h2_body::{H2Sink, forward_frames};
use crate::replay::Keeping;
use crate::reply::Local;

/// Read size on upstream connections.
const UPSTREAM_READ_SIZE: usize = 64 * 1024;

pub(super) enum Upstream {
    H1(H1Upstream),
    H2(H2Upstream),
}

/// An HTTP/1 upstream connection, with the bytes read from it and not yet used.
pub(super) struct H1Upstream {
    pub stream: Stream,
    slots: ConnectionSlots,
    pub buf: BytesMut,
    served: u32,
    /// Taken from the pool: it may have been closed by the server in the meantime.
    reused: bool,
}

/// One HTTP/2 stream to the upstream: the request body goes out on `send`, the response comes
/// back on `response`, then its body on `recv`.
pub(super) struct H2Upstream {
    lease: Http2Stream,
    send: Option<SendStream<Bytes>>,
    response: Option<ResponseFuture>,
    pub recv: Option<RecvStream>,
}

impl Source for H1Upstream {
    fn buffered(&mut self) -> &mut BytesMut {
        &mut self.buf
    }

    /// Upstream reads are large: response bodies are most of what moves.
    async fn fill(&mut self) -> io::Result<usize> {
        self.stream
            .read_reserving(&mut self.buf, UPSTREAM_READ_SIZE)
            .await
    }
}

impl Sink for H1Upstream {
    async fn send(&mut self, data: &mut BytesMut) -> io::Result<()> {
        self.stream.write_all(data).await
    }
}

pub(super) enum WaitError {
    /// A reused pooled connection closed before answering, or the upstream refused the stream
    /// before processing it: the request may go again.
    StalePooled,
    Stop(Stop),
}

enum ResponseError {
    /// The upstream closed before sending anything.
    Closed,
    Malformed,
}

/// Moves the response body from the upstream into `sink`, whatever protocol brings it.
pub(super) async fn upstream_body_into<D: Sink>(
    upstream: &mut Upstream,
    idle: Duration,
    kind: BodyKind,
    sink: &mut D,
    out: Out,
    limits: &mosn_protocol::http1::Limits,
) -> Result<u64, BodyError> {
    match upstream {
        Upstream::H1(h1) => body::forward(idle, kind, h1, sink, out, 0, limits).await,
        Upstream::H2(h2) => match &mut h2.recv {
            Some(recv) => forward_frames(idle, recv, sink, out, 0).await,
            None => Ok(0),
        },
    }
}

/// Opens a connection to `host`, within the cluster's and the host's connection limits.
async fn connect(
    cluster: &Cluster,
    host: &Arc<Host>,
    protocol: AppProtocol,
) -> Result<(Stream, ConnectionSlots), Stop> {
    let resources = &cluster.resources;
    let overflow = || Stop::Reply(Local::OVERFLOW);
    let slots = ConnectionSlots::new(
        resources.connections.acquire().ok_or_else(overflow)?,
        host.connections.acquire().ok_or_else(overflow)?,
    );
    let _pending = resources
        .pending_requests
        .acquire()
        .ok_or(Stop::Reply(Local::OVERFLOW))?;
    // Boxed: a connect (a TLS handshake, a name lookup) is large and rare next to a pooled
    // connection, and every exchange's future would carry its size otherwise.
    let stream = Box::pin(cluster.connect_host(host, protocol))
        .await
        .map_err(|reason| {
            tracing::debug!(host = %host.address, "upstream connect failed: {reason}");
            // A failed connect counts as a very slow answer for peak EWMA.
            host.latency.observe(cluster.connect_timeout);
            Stop::Reply(Local::CONNECT_FAILED)
        })?;
    Ok((stream, slots))
}

/// A new HTTP/2 connection to the host.
async fn h2_connect(
    cluster: &Cluster,
    host: &Arc<Host>,
    settings: &mosn_protocol::http2::Settings,
) -> Result<Arc<Http2Connection>, Stop> {
    let (stream, slots) = connect(cluster, host, AppProtocol::Http2).await?;
    Box::pin(Http2Connection::handshake(stream, slots, settings))
        .await
        .map_err(|err| {
            tracing::debug!(host = %host.address, "HTTP/2 handshake failed: {err}");
            Stop::Reply(Local::CONNECT_FAILED)
        })
}

/// Opens a stream for `head` on an HTTP/2 connection to the chosen host: a pooled one with
/// room (or a new one shared at once), or with `fresh` a new one on which this stream goes
/// first, since a server that takes only a few streams per connection takes the first.
async fn open_h2_stream(
    cluster: &Cluster,
    host: &Arc<Host>,
    settings: &mosn_protocol::http2::Settings,
    head: &RequestHead,
    end_of_stream: bool,
    mut fresh: bool,
) -> Result<H2Upstream, Stop> {
    let pool = &host.http2_pool;
    let (lease, response, send) = loop {
        let request = convert::request(head, cluster.scheme(host)).map_err(|err| {
            tracing::debug!("request cannot go over HTTP/2: {err}");
            Stop::Reply(Local::BAD_UPSTREAM)
        })?;
        let lease = match fresh {
            true => Http2Stream::first_on(h2_connect(cluster, host, settings).await?),
            false => {
                pool.take_or_connect(cluster.idle_timeout, async || {
                    h2_connect(cluster, host, settings).await
                })
                .await?
            }
        };
        let ready = lease.send.clone().ready().await;
        match ready.and_then(|mut send| send.send_request(request, end_of_stream)) {
            Ok((response, send)) => {
                if fresh {
                    pool.share(&lease);
                }
                break (lease, response, send);
            }
            Err(err) => {
                tracing::debug!("upstream HTTP/2 stream failed to open: {err}");
                if fresh {
                    return Err(Stop::Reply(Local::CONNECT_FAILED));
                }
                // A connection the peer is closing (GOAWAY) refuses new streams: once more,
                // on a fresh one.
                lease.retire();
                fresh = true;
            }
        }
    };
    Ok(H2Upstream {
        lease,
        send: Some(send),
        response: Some(response),
        recv: None,
    })
}

impl Exchange<'_> {
    /// A pooled HTTP/1 connection that is still open, or a new one.
    async fn h1_upstream(&mut self) -> Result<&mut H1Upstream, Stop> {
        if self.upstream.is_none() {
            let (Some(cluster), Some(host)) = (&self.cluster, &self.host) else {
                return Err(Stop::Close);
            };
            let pooled = match self.stale_retried {
                true => None,
                false => host.http1_pool.take(cluster.idle_timeout),
            };
            let reused = pooled.is_some();
            let Pooled {
                stream,
                served,
                slots,
            } = match pooled {
                Some(pooled) => pooled,
                None => {
                    let (stream, slots) = connect(cluster, host, AppProtocol::Http1).await?;
                    Pooled {
                        stream,
                        served: 0,
                        slots,
                    }
                }
            };
            if self.logging() {
                self.record.upstream_local = stream.local_addr().ok().map(|a| a.to_string());
            }
            self.upstream = Some(Upstream::H1(H1Upstream {
                stream,
                slots,
                buf: BytesMut::new(),
                served,
                reused,
            }));
        }
        match self.upstream.as_mut() {
            Some(Upstream::H1(h1)) => Ok(h1),
            _ => Err(Stop::Close),
        }
    }

    pub(super) async fn send_request_head(&mut self) -> Result<(), Stop> {
        let mut head = self.upstream_request_head();
        head.headers.remove("expect");
        let mirror_now = !std::mem::replace(&mut self.mirrored, true) && self.mirror_chosen;
        if self.cluster.as_ref().is_some_and(|c| c.tracks_latency()) {
            self.try_started = Some(std::time::Instant::now());
        }
        if self.upstream_protocol == Protocol::Http2 {
            if mirror_now {
                let mut mirror_head = BytesMut::with_capacity(1024);
                encode_request_head(&head, &mut mirror_head);
                self.send_mirror(&head.method, &mirror_head);
            }
            let (Some(cluster), Some(host)) = (&self.cluster, &self.host) else {
                return Err(Stop::Close);
            };
            let settings = &self.shared.settings.http2;
            let end_of_stream = self.outgoing_body_kind() == BodyKind::Empty;
            let stream = open_h2_stream(
                cluster,
                host,
                settings,
                &head,
                end_of_stream,
                self.stale_retried,
            )
            .await?;
            self.upstream = Some(Upstream::H2(stream));
            return self.continue_if_expected().await;
        }
        let mut out = BytesMut::with_capacity(1024);
        encode_request_head(&head, &mut out);
        if mirror_now {
            self.send_mirror(&head.method, &out);
        }
        let upstream = self.h1_upstream().await?;
        upstream
            .stream
            .write_all(&out)
            .await
            .map_err(|_| Stop::Reply(Local::CONNECT_FAILED))?;
        self.continue_if_expected().await
    }

    pub(super) async fn send_request_body(&mut self) -> Result<(), Stop> {
        let mut upstream = self.upstream.take().ok_or(Stop::Close)?;
        let result = self.request_body_to(&mut upstream).await;
        self.upstream = Some(upstream);
        result
    }

    async fn request_body_to(&mut self, upstream: &mut Upstream) -> Result<(), Stop> {
        let upstream_closed = |_| Stop::Reply(Local::UPSTREAM_CLOSED);
        match upstream {
            Upstream::H1(h1) => {
                if let Some(body) = self.buffered_wire() {
                    return h1.stream.write_all(&body).await.map_err(upstream_closed);
                }
                if self.body == BodyKind::Empty {
                    return Ok(());
                }
                let out = match self.body {
                    BodyKind::Chunked => Out::Chunked,
                    _ => Out::Raw,
                };
                self.body_started = true;
                let limit = self.shared.settings.max_request_body_size;
                let result = client_body_into(self, h1, out, limit).await;
                self.request_body_sent(result)
            }
            Upstream::H2(h2) => {
                let Some(mut send) = h2.send.take() else {
                    return Ok(());
                };
                if self.outgoing_body_kind() == BodyKind::Empty {
                    return Ok(()); // the head ended the stream
                }
                let mut sink = H2Sink::new(&mut send);
                if let Some(body) = self.buffered_body.as_ref() {
                    sink.send(&mut body.clone())
                        .await
                        .map_err(upstream_closed)?;
                    if !self.buffered_trailers.is_empty() {
                        sink.trailers(self.buffered_trailers.clone());
                    }
                    return sink.end().map_err(upstream_closed);
                }
                self.body_started = true;
                let limit = self.shared.settings.max_request_body_size;
                let mut keeping = Keeping::new(&mut sink);
                let result = client_body_into(self, &mut keeping, Out::Raw, limit).await;
                self.sent_body = keeping.kept.take();
                self.request_body_sent(result)?;
                sink.end().map_err(upstream_closed)
            }
        }
    }

    fn request_body_sent(&mut self, result: Result<u64, BodyError>) -> Result<(), Stop> {
        self.body_consumed = true;
        match result {
            Ok(size) => {
                self.record.bytes_received = size;
                Ok(())
            }
            Err(err) => Err(self.request_body_failed(err)),
        }
    }

    /// How long to wait for the response head: the route's timeout, or the retry policy's per
    /// try, shortened by a gRPC client's own deadline.
    fn response_timeout(&self) -> Duration {
        let route_timeout = self
            .forward
            .map_or(mosn_router::DEFAULT_TIMEOUT, |f| f.timeout);
        let timeout = self
            .retry_policy()
            .and_then(|p| p.per_try_timeout)
            .unwrap_or(route_timeout);
        match grpc::timeout(&self.head.headers) {
            Some(deadline) => timeout.min(deadline),
            None => timeout,
        }
    }

    pub(super) async fn wait_response_head(&mut self) -> Result<(), WaitError> {
        let timeout = self.response_timeout();
        let limits = self.shared.settings.limits;
        let upgrade = self.upgrade.is_some();
        let upstream = self.upstream.as_mut().ok_or(WaitError::Stop(Stop::Close))?;
        let reading = read_response_head(upstream, &limits, upgrade);
        let result = match &mut self.client {
            // An HTTP/1 client's going away shows on its connection, not here.
            Client::H1(down) => {
                let at = tokio::time::Instant::now() + timeout;
                down.response_deadline.run(at, reading).await.ok_or(())
            }
            Client::H2(stream) => tokio::select! {
                result = tokio::time::timeout(timeout, reading) => result.map_err(|_| ()),
                () = crate::client::reset_before_answer(stream) => {
                    // Dropping the upstream stream resets it (CANCEL) and frees its window.
                    tracing::debug!("the client reset its stream: upstream stream cancelled");
                    return Err(WaitError::Stop(Stop::Close));
                }
            },
        };
        // A try that timed out took at least that long. Counting it keeps a host that never
        // answers from looking like one not measured yet (LB_PEAK_EWMA).
        if matches!(result, Ok(Ok(_)) | Err(_))
            && let (Some(host), Some(sent)) = (&self.host, self.try_started)
        {
            host.latency.observe(sent.elapsed());
        }
        if let Ok(Ok(head)) = result {
            self.record.response_received = self.elapsed_for_log();
            self.record.status = head.status;
            self.response = Some(head);
            return Ok(());
        }
        let reused = matches!(&self.upstream, Some(Upstream::H1(h1)) if h1.reused);
        self.upstream = None;
        Err(match result {
            Ok(Err(WaitFailure::Refused)) => WaitError::StalePooled,
            Ok(Err(WaitFailure::Response(ResponseError::Closed))) if reused => {
                WaitError::StalePooled
            }
            Ok(Err(WaitFailure::Response(ResponseError::Closed))) => {
                WaitError::Stop(Stop::Reply(Local::UPSTREAM_CLOSED))
            }
            Err(_) => WaitError::Stop(Stop::Reply(Local::TIMEOUT)),
            _ => WaitError::Stop(Stop::Reply(Local::BAD_UPSTREAM)),
        })
    }

    /// Puts an HTTP/1 connection back in the pool when its exchange ended cleanly; an HTTP/2
    /// stream gives its place on the connection back.
    pub(super) fn release_upstream(&mut self) {
        let (Some(Upstream::H1(upstream)), Some(host), Some(cluster)) =
            (self.upstream.take(), &self.host, &self.cluster)
        else {
            return;
        };
        let served = upstream.served + 1;
        if upstream.buf.is_empty() && served < cluster.max_request_per_conn {
            host.http1_pool.put(Pooled {
                stream: upstream.stream,
                served,
                slots: upstream.slots,
            });
        }
    }
}

enum WaitFailure {
    Response(ResponseError),
    /// HTTP/2 REFUSED_STREAM: the upstream did not process the request.
    Refused,
}

/// Reads the response head; interim responses (100 Continue) are the proxy's business, not the
/// client's, except the 101 that answers the client's upgrade.
async fn read_response_head(
    upstream: &mut Upstream,
    limits: &mosn_protocol::http1::Limits,
    upgrade: bool,
) -> Result<ResponseHead, WaitFailure> {
    let h1 = match upstream {
        Upstream::H1(h1) => h1,
        Upstream::H2(h2) => {
            let response = h2
                .response
                .take()
                .ok_or(WaitFailure::Response(ResponseError::Closed))?;
            return match response.await {
                Ok(response) => {
                    let (parts, recv) = response.into_parts();
                    h2.recv = Some(recv);
                    Ok(convert::response_head(&parts))
                }
                // Refused, or above the last stream a GOAWAY lets finish: not processed.
                Err(err)
                    if err.reason() == Some(h2::Reason::REFUSED_STREAM)
                        || (err.is_go_away() && err.is_remote()) =>
                {
                    h2.lease.retire();
                    Err(WaitFailure::Refused)
                }
                Err(err) => {
                    tracing::debug!("upstream HTTP/2 stream failed: {err}");
                    Err(WaitFailure::Response(ResponseError::Closed))
                }
            };
        }
    };
    loop {
        match parse_response(&mut h1.buf, limits) {
            Ok(Some(head))
                if (100..200).contains(&head.status) && !(head.status == 101 && upgrade) =>
            {
                continue;
            }
            Ok(Some(head)) => return Ok(head),
            Ok(None) => {}
            Err(_) => return Err(WaitFailure::Response(ResponseError::Malformed)),
        }
        match h1.fill().await {
            Ok(0) | Err(_) if h1.buf.is_empty() => {
                return Err(WaitFailure::Response(ResponseError::Closed));
            }
            Ok(0) | Err(_) => return Err(WaitFailure::Response(ResponseError::Malformed)),
            Ok(_) => {}
        }
    }
}
