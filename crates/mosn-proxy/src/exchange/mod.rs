//! One request, walked through MOSN's phases: route it, choose a host, send it upstream, and
//! bring the response back. An error before the response head has gone out becomes the proxy's
//! own response (404 no route, 503 no host or no connection, 504 timeout, 502 bad upstream).
//!
//! The client speaks HTTP/1 or HTTP/2 ([`Client`]), and so does the upstream ([`Upstream`]);
//! the phases are the same for every pair.

mod filters;
mod request;
mod response;
mod route;
mod upstream;

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use h2::SendStream;
use mosn_protocol::detect::Protocol;
use mosn_protocol::http1::{BodyKind, Headers, RequestHead, ResponseHead, Version};
use mosn_router::{ForwardAction, RetryPolicy, RouteMatch};
use mosn_upstream::resources::Slot;
use mosn_upstream::{Cluster, Host};

use crate::access_log::Record;
use crate::body::Out;
use crate::client::Client;
use crate::phase::Phase;
use crate::replay::SentBody;
use crate::reply::Local;
use crate::stream_filter::{ReceivePhase, Reply, StreamFilterChain};
use crate::{ConnectionNext, Shared};

use upstream::{Upstream, WaitError};

/// Why an exchange stopped early.
enum Stop {
    /// Answer with this, then go on as the request allows.
    Reply(Local),
    /// The route answers itself: a direct response or a redirect.
    RouteAnswer,
    /// A stream filter answered.
    FilterReply,
    /// Nothing can be said any more (the response has started, or a side is gone): close.
    Close,
}

/// How much of a request body is held in memory for filters when the proxy sets no limit.
const BUFFERED_BODY_LIMIT: u64 = 4 * 1024 * 1024;

pub struct Exchange<'a> {
    shared: &'a Shared,
    client: Client<'a>,
    head: RequestHead,
    body: BodyKind,
    /// The protocol the upstream is spoken to in.
    upstream_protocol: Protocol,
    /// Whether the client's request lets the connection carry another one.
    keep_alive: bool,
    /// This request was drawn for the route's mirror share.
    mirror_chosen: bool,
    /// The mirror copy has been sent (once, whatever the retries).
    mirrored: bool,
    /// `100 Continue` has gone to the client.
    continue_sent: bool,
    /// The client asks to switch protocols (`Connection: Upgrade`, WebSocket for one).
    upgrade: Option<Bytes>,
    /// The upstream agreed (101): the connection is a byte tunnel now.
    tunnel: bool,
    route: Option<RouteMatch<'a>>,
    forward: Option<&'a ForwardAction>,
    cluster: Option<Arc<Cluster>>,
    host: Option<Arc<Host>>,
    upstream: Option<Upstream>,
    response: Option<ResponseHead>,
    /// The request body has been read off the client's connection.
    body_consumed: bool,
    /// Forwarding the request body has begun: from then on it cannot be sent again.
    body_started: bool,
    /// The request went again on a fresh connection because the upstream had not processed
    /// it: a pooled HTTP/1 connection found closed, or an HTTP/2 stream refused or cut by
    /// GOAWAY (on the fresh connection it goes first, which a server always takes).
    stale_retried: bool,
    /// Tries the retry policy has granted so far.
    retries: u32,
    /// The hosts of earlier tries, so that a retry goes elsewhere when it can.
    tried: Vec<Arc<Host>>,
    /// Circuit-breaker slots held for the whole exchange.
    request_slot: Option<Slot>,
    retry_slot: Option<Slot>,
    /// Counts this request against its current host (least request, peak EWMA).
    host_request: Option<Slot>,
    /// When the current try sent its request head.
    try_started: Option<std::time::Instant>,
    filters: StreamFilterChain,
    variables: HashMap<String, String>,
    filter_reply: Option<Reply>,
    /// The request body in memory: read whole for a stream filter or a mirror, or kept as it
    /// went to an HTTP/2 upstream, for a try that sends it again.
    buffered_body: Option<BytesMut>,
    /// The trailer fields of a buffered chunked body.
    buffered_trailers: Headers,
    /// A body streamed to an HTTP/2 upstream, kept to go again if the upstream did not
    /// process it.
    sent_body: Option<SentBody>,
    record: Record,
    /// The encoded response head, waiting to go out with the body (HTTP/1 clients).
    response_head: Option<BytesMut>,
    /// The stream the response body goes out on (HTTP/2 clients).
    response_stream: Option<SendStream<Bytes>>,
    /// How the response body is framed coming in and going out, and whether the upstream
    /// closes after it.
    response_body: Option<(BodyKind, Out, bool)>,
    /// The response framing needs the connection's close to end it.
    close_after: bool,
}

impl<'a> Exchange<'a> {
    pub fn new(shared: &'a Shared, client: Client<'a>, head: RequestHead, body: BodyKind) -> Self {
        let record = record_for(client.info(), !shared.access_logs.is_empty());
        let keep_alive = match head.version {
            Version::Http11 => !head.headers.has_token("connection", "close"),
            Version::Http10 => head.headers.has_token("connection", "keep-alive"),
            Version::Http2 => true,
        };
        let upgrade = match head.version {
            Version::Http11 if head.headers.has_token("connection", "upgrade") => {
                head.headers.get("upgrade").map(Bytes::copy_from_slice)
            }
            _ => None,
        };
        let client_protocol = match head.version {
            Version::Http2 => Protocol::Http2,
            Version::Http10 | Version::Http11 => Protocol::Http1,
        };
        Exchange {
            upstream_protocol: shared.settings.upstream.unwrap_or(client_protocol),
            upgrade,
            tunnel: false,
            mirror_chosen: false,
            mirrored: false,
            continue_sent: false,
            shared,
            client,
            head,
            body_consumed: body == BodyKind::Empty,
            body_started: false,
            body,
            keep_alive,
            route: None,
            forward: None,
            cluster: None,
            host: None,
            upstream: None,
            response: None,
            stale_retried: false,
            retries: 0,
            tried: Vec::new(),
            request_slot: None,
            retry_slot: None,
            host_request: None,
            try_started: None,
            filters: StreamFilterChain::build(&shared.stream_filters),
            variables: HashMap::new(),
            filter_reply: None,
            buffered_body: None,
            buffered_trailers: Headers::default(),
            sent_body: None,
            record,
            response_head: None,
            response_stream: None,
            response_body: None,
            close_after: false,
        }
    }

    /// An exchange for the request, ready to run, in a box of its own. The box is allocated
    /// before the future is made, so that the future is made in it: `Box::pin` of a made
    /// future copies all of it (about 3 KiB), though until first polled it holds only its
    /// arguments.
    pub fn boxed(
        shared: &'a Shared,
        client: Client<'a>,
        head: RequestHead,
        body: BodyKind,
    ) -> Pin<Box<impl Future<Output = ConnectionNext> + 'a>> {
        Box::into_pin(Box::write(Box::new_uninit(), async move {
            Exchange::new(shared, client, head, body).run().await
        }))
    }

    /// Serves the request and logs it; says whether the client connection can carry another.
    pub async fn run(&mut self) -> ConnectionNext {
        let next = self.walk().await;
        self.record.finished = self.elapsed_for_log();
        for log in &self.shared.access_logs {
            log.log(&self.record, &self.head, self.response.as_ref());
        }
        next
    }

    /// Walks the phases.
    async fn walk(&mut self) -> ConnectionNext {
        let mut phase = Phase::DownFilter;
        while phase != Phase::End {
            phase = match self.step(phase).await {
                Ok(next) => next,
                Err(Stop::Reply(local)) => {
                    self.record.flag = local.flag;
                    return self.reply(local.status, local.body, None).await;
                }
                Err(Stop::RouteAnswer) => return self.answer_route().await,
                Err(Stop::FilterReply) => {
                    let reply = self.filter_reply.take().unwrap_or(Reply {
                        status: 500,
                        body: String::new(),
                        flag: None,
                    });
                    self.record.flag = reply.flag;
                    return self.reply(reply.status, &reply.body, None).await;
                }
                Err(Stop::Close) => return ConnectionNext::Close,
            };
        }
        self.release_upstream();
        match self.keep_alive && !self.close_after {
            true => ConnectionNext::KeepAlive,
            false => ConnectionNext::Close,
        }
    }

    async fn step(&mut self, phase: Phase) -> Result<Phase, Stop> {
        Ok(match phase {
            Phase::DownFilter => {
                let wanted = self.filters.wants_request_body();
                self.buffer_body(wanted).await?;
                self.receive(ReceivePhase::BeforeRoute).await?;
                Phase::MatchRoute
            }
            Phase::MatchRoute => {
                self.match_route()?;
                Phase::DownFilterAfterRoute
            }
            Phase::DownFilterAfterRoute => {
                // A mirrored request needs its body twice: read it whole when it is small enough.
                self.mirror_chosen = self
                    .mirror()
                    .is_some_and(|m| fastrand::u32(0..100) < m.percent);
                let small = matches!(self.body, BodyKind::Length(n) if n <= BUFFERED_BODY_LIMIT);
                self.buffer_body(self.mirror_chosen && small).await?;
                self.receive(ReceivePhase::AfterRoute).await?;
                Phase::ChooseHost
            }
            Phase::ChooseHost => {
                self.choose_host()?;
                Phase::DownFilterAfterChooseHost
            }
            Phase::DownFilterAfterChooseHost => {
                self.receive(ReceivePhase::AfterChooseHost).await?;
                Phase::DownRecvHeader
            }
            Phase::DownRecvHeader => match self.send_request_head().await {
                Ok(()) => Phase::DownRecvData,
                Err(Stop::Reply(Local::CONNECT_FAILED)) if self.may_retry() => Phase::Retry,
                Err(stop) => return Err(stop),
            },
            Phase::DownRecvData => {
                self.send_request_body().await?;
                Phase::DownRecvTrailer
            }
            // Trailers travel with the body.
            Phase::DownRecvTrailer => {
                self.record.request_received = self.elapsed_for_log();
                Phase::WaitNotify
            }
            Phase::WaitNotify => match self.wait_response_head().await {
                Ok(()) if self.status_is_retried() && self.may_retry() => {
                    // The body of this response is never read: its connection goes.
                    self.response = None;
                    self.upstream = None;
                    Phase::Retry
                }
                Ok(()) => Phase::UpFilter,
                Err(WaitError::StalePooled) if !self.stale_retried && self.replayable() => {
                    // A pooled connection the server closed as we sent on it (or a stream it
                    // refused unprocessed): once more on a fresh one to the same host; this is
                    // not a retry of the policy's.
                    self.stale_retried = true;
                    Phase::DownRecvHeader
                }
                Err(WaitError::StalePooled) => return Err(Stop::Reply(Local::UPSTREAM_CLOSED)),
                Err(WaitError::Stop(Stop::Reply(_))) if self.may_retry() => Phase::Retry,
                Err(WaitError::Stop(stop)) => return Err(stop),
            },
            Phase::Retry => {
                self.retries += 1;
                self.upstream = None;
                Phase::ChooseHost
            }
            Phase::UpFilter => {
                self.send_filters().await;
                Phase::UpRecvHeader
            }
            Phase::UpRecvHeader => {
                self.send_response_head().await?;
                Phase::UpRecvData
            }
            Phase::UpRecvData => {
                self.send_response_body().await?;
                Phase::UpRecvTrailer
            }
            Phase::UpRecvTrailer => Phase::End,
            Phase::End => Phase::End,
        })
    }

    /// Whether an access log will print this request: log-only work is skipped otherwise.
    fn logging(&self) -> bool {
        !self.shared.access_logs.is_empty()
    }

    /// Time since the request began, when an access log will want it (a clock read saved
    /// otherwise).
    fn elapsed_for_log(&self) -> Option<std::time::Duration> {
        self.record.started.map(|started| started.elapsed())
    }

    /// A request can go again if nothing of its body was lost: it has none, all of it is in
    /// memory (or was kept as it went), or none of it has been read yet. A kept body becomes
    /// the buffered one, which the next try sends.
    fn replayable(&mut self) -> bool {
        if let Some(sent) = self.sent_body.take() {
            let (body, trailers) = sent.into_parts();
            self.buffered_body = Some(body);
            self.buffered_trailers = trailers;
        }
        self.body == BodyKind::Empty || self.buffered_body.is_some() || !self.body_started
    }

    fn retry_policy(&self) -> Option<&'a RetryPolicy> {
        self.forward.and_then(|f| f.retry.as_ref())
    }

    /// Whether a failed try may be followed by another: the policy has tries left, the request
    /// can be replayed, and the cluster's retry budget allows it.
    fn may_retry(&mut self) -> bool {
        let granted = self
            .retry_policy()
            .is_some_and(|p| self.retries < p.num_retries)
            && self.replayable();
        if !granted {
            return false;
        }
        if self.retry_slot.is_none() {
            self.retry_slot = self
                .cluster
                .as_ref()
                .and_then(|c| c.resources.retries.acquire());
        }
        self.retry_slot.is_some()
    }

    fn status_is_retried(&self) -> bool {
        let status = self.response.as_ref().map_or(0, |r| r.status);
        self.retry_policy()
            .is_some_and(|p| p.status_codes.contains(&status))
    }
}

/// The access log record; the addresses are formatted only when a log will print them.
fn record_for(info: &mosn_net::ConnectionInfo, logging: bool) -> Record {
    let addresses = logging.then(|| (info.local.to_string(), info.remote.to_string()));
    Record::new(info.id, std::sync::Arc::clone(&info.listener), addresses)
}
