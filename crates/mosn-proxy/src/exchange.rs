//! One request, walked through MOSN's phases: route it, choose a host, send it upstream, and
//! bring the response back. An error before the response head has gone out becomes the proxy's
//! own response (404 no route, 503 no host or no connection, 504 timeout, 502 bad upstream).

use std::collections::HashMap;
use std::io;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use mosn_config::address::UpstreamAddress;
use mosn_net::Stream;
use mosn_protocol::http1::chunked::{encode_chunk, encode_end};
use mosn_protocol::http1::encode::{encode_request_head, encode_response_head};
use mosn_protocol::http1::head::parse_response;
use mosn_protocol::http1::hop::remove_hop_by_hop;
use mosn_protocol::http1::{BodyKind, Headers, RequestHead, ResponseHead, Version, framing};
use mosn_router::{Action, ForwardAction, HeaderMutations, Request, RetryPolicy, RouteMatch};
use mosn_upstream::http1_pool::Pooled;
use mosn_upstream::lb::{LbContext, hash_key};
use mosn_upstream::resources::{ConnectionSlots, Slot};
use mosn_upstream::{Cluster, Host};

use crate::access_log::Record;
use crate::body::{self, BodyError, Out, Sink, Source, WithPrefix};
use crate::downstream::Downstream;
use crate::phase::Phase;
use crate::reply::{Local, local_reply};
use crate::settings::idle_timeout;
use crate::stream_filter::{
    ReceivePhase, Reply, RequestState, ResponseState, StreamFilterChain, StreamStatus,
};
use crate::{ConnectionNext, Shared};

/// The upstream connection of an exchange, with the bytes read from it and not yet used.
struct Upstream {
    stream: Stream,
    slots: ConnectionSlots,
    buf: BytesMut,
    served: u32,
    /// Taken from the pool: it may have been closed by the server in the meantime.
    reused: bool,
}

impl Source for Upstream {
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

impl Sink for Upstream {
    async fn send(&mut self, data: &mut BytesMut) -> io::Result<()> {
        self.stream.write_all(data).await
    }
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

/// Read size on upstream connections.
const UPSTREAM_READ_SIZE: usize = 64 * 1024;

/// How much of a request body is held in memory for filters when the proxy sets no limit.
const BUFFERED_BODY_LIMIT: u64 = 4 * 1024 * 1024;

/// A sink that keeps the body, and its trailers, in memory.
#[derive(Default)]
struct Buffer {
    body: BytesMut,
    trailers: Headers,
}

impl Sink for Buffer {
    async fn send(&mut self, data: &mut BytesMut) -> io::Result<()> {
        self.body.extend_from_slice(data);
        Ok(())
    }

    fn trailers(&mut self, trailers: Headers) {
        self.trailers = trailers;
    }
}

struct RequestView<'a>(&'a RequestHead, &'a HashMap<String, String>);

impl Request for RequestView<'_> {
    fn path(&self) -> &str {
        std::str::from_utf8(self.0.path()).unwrap_or("")
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.0.headers.get_str(name)
    }

    fn variable(&self, name: &str) -> Option<String> {
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        match name {
            "x-mosn-method" => Some(text(&self.0.method)),
            "x-mosn-host" => self.0.headers.get("host").map(text),
            "x-mosn-path" => Some(text(self.0.path())),
            "x-mosn-querystring" => self.0.target.splitn(2, |b| *b == b'?').nth(1).map(text),
            _ => self.1.get(name).cloned(),
        }
    }
}

pub struct Exchange<'a> {
    shared: &'a Shared,
    down: &'a mut Downstream,
    head: RequestHead,
    body: BodyKind,
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
    /// The request went again on a fresh connection because a pooled one had been closed.
    stale_retried: bool,
    /// Tries the retry policy has granted so far.
    retries: u32,
    /// The hosts tried, so that a retry goes elsewhere when it can.
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
    /// The request body, read whole because a stream filter asked for it.
    buffered_body: Option<BytesMut>,
    /// The trailer fields of a buffered chunked body.
    buffered_trailers: Headers,
    record: Record,
    /// The encoded response head, waiting to go out with the body.
    response_head: Option<BytesMut>,
    /// How the response body is framed coming in and going out, and whether the upstream
    /// closes after it.
    response_body: Option<(BodyKind, Out, bool)>,
    /// The response framing needs the connection's close to end it.
    close_after: bool,
}

impl<'a> Exchange<'a> {
    pub fn new(
        shared: &'a Shared,
        down: &'a mut Downstream,
        head: RequestHead,
        body: BodyKind,
    ) -> Self {
        let record = record_for(&down.connection.info, !shared.access_logs.is_empty());
        let keep_alive = match head.version {
            Version::Http11 => !head.headers.has_token("connection", "close"),
            Version::Http10 => head.headers.has_token("connection", "keep-alive"),
        };
        let upgrade = match head.version {
            Version::Http11 if head.headers.has_token("connection", "upgrade") => {
                head.headers.get("upgrade").map(Bytes::copy_from_slice)
            }
            _ => None,
        };
        Exchange {
            upgrade,
            tunnel: false,
            mirror_chosen: false,
            mirrored: false,
            continue_sent: false,
            shared,
            down,
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
            record,
            response_head: None,
            response_body: None,
            close_after: false,
        }
    }

    /// Serves the request and logs it; says whether the client connection can carry another.
    pub async fn run(mut self) -> ConnectionNext {
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
                let host = host_of(&self.head);
                let table = &self.shared.table;
                let route = table
                    .route(host, &RequestView(&self.head, &self.variables))
                    .ok_or(Stop::Reply(Local::NO_ROUTE))?;
                self.route = Some(route);
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
            // Trailers travel with the chunked body.
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
                    // A pooled connection the server closed as we sent on it: once more on a
                    // fresh one to the same host; this is not a retry of the policy's.
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
        self.logging().then(|| self.record.started.elapsed())
    }

    /// A request can go again if nothing of its body was lost: it has none, all of it is in
    /// memory, or none of it has been read yet.
    fn replayable(&self) -> bool {
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

    /// Reads the whole request body when a receiver filter wants it, within the body limit.
    /// Reads the whole request body when `wanted`, within the body limit.
    async fn buffer_body(&mut self, wanted: bool) -> Result<(), Stop> {
        if self.body == BodyKind::Empty || self.buffered_body.is_some() || !wanted {
            return Ok(());
        }
        let settings = &self.shared.settings;
        let limit = match settings.max_request_body_size {
            0 => BUFFERED_BODY_LIMIT,
            limit => limit,
        };
        self.continue_if_expected().await?;
        let mut sink = Buffer::default();
        let idle = idle_timeout(&self.down.connection);
        let result = body::forward(
            idle,
            self.body,
            self.down,
            &mut sink,
            Out::Raw,
            limit,
            &settings.limits,
        )
        .await;
        self.body_consumed = true;
        match result {
            Ok(_) => {
                self.record.bytes_received = sink.body.len() as u64;
                self.buffered_body = Some(sink.body);
                self.buffered_trailers = sink.trailers;
                Ok(())
            }
            Err(err) => Err(self.request_body_failed(err)),
        }
    }

    /// Runs the receiver filters of `phase` in order, until one stops.
    async fn receive(&mut self, phase: ReceivePhase) -> Result<(), Stop> {
        let cluster = self.cluster.as_ref().map(|c| c.name.as_str());
        for filter in self
            .filters
            .receivers
            .iter_mut()
            .filter(|f| f.phase() == phase)
        {
            let buffered = self.buffered_body.is_some();
            let state = RequestState {
                head: &mut self.head,
                body: self.buffered_body.as_mut(),
                trailers: buffered.then_some(&mut self.buffered_trailers),
                variables: &mut self.variables,
                cluster,
                reply: &mut self.filter_reply,
            };
            let status = filter.on_receive(state).await;
            if self.filter_reply.is_some() {
                return Err(Stop::FilterReply);
            }
            if status == StreamStatus::Stop {
                break;
            }
        }
        Ok(())
    }

    /// Runs the sender filters on the response head.
    async fn send_filters(&mut self) {
        let Some(head) = self.response.as_mut() else {
            return;
        };
        for filter in self.filters.senders.iter_mut() {
            let state = ResponseState {
                request: &self.head,
                head,
                variables: &mut self.variables,
            };
            if filter.on_send(state).await == StreamStatus::Stop {
                break;
            }
        }
    }

    fn mirror(&self) -> Option<&'a mosn_router::Mirror> {
        match self.route.as_ref()?.action {
            Action::Forward(forward) => forward.mirror.as_ref(),
            _ => None,
        }
    }

    /// Sends a copy of the request to the mirror cluster, for the route's share of requests
    /// whose body is in memory (or that have none).
    fn send_mirror(&self, method: &Bytes, head: &[u8]) {
        let Some(mirror) = self.mirror().filter(|_| self.mirror_chosen) else {
            return;
        };
        let body = match (self.buffered_wire(), self.body) {
            (Some(body), _) => body,
            (None, BodyKind::Empty) => BytesMut::new(),
            (None, _) => {
                tracing::debug!("mirror skipped: the body is streamed, not held");
                return;
            }
        };
        let Some(cluster) = self.shared.clusters.get(&mirror.cluster) else {
            return;
        };
        let mut request = BytesMut::with_capacity(head.len() + body.len());
        request.extend_from_slice(head);
        request.extend_from_slice(&body);
        crate::mirror::spawn(
            cluster,
            method.clone(),
            request.freeze(),
            self.shared.settings.limits,
        );
    }

    /// What a request body that could not be moved gets: the client's fault is answered and
    /// ends the connection, an upstream's is a 502, a client gone is a close.
    fn request_body_failed(&mut self, err: BodyError) -> Stop {
        match err {
            BodyError::TooLarge => {
                self.keep_alive = false;
                Stop::Reply(Local::TOO_LARGE)
            }
            BodyError::Protocol(err) => {
                self.keep_alive = false;
                Stop::Reply(Local {
                    status: err.status(),
                    ..Local::BAD_BODY
                })
            }
            BodyError::Write => Stop::Reply(Local::UPSTREAM_CLOSED),
            BodyError::Read | BodyError::Truncated | BodyError::Idle => Stop::Close,
        }
    }

    /// The framing of the body going upstream: a body held in memory is framed by what it holds
    /// now (filters may have changed it); trailers need chunks.
    fn outgoing_body_kind(&self) -> BodyKind {
        match &self.buffered_body {
            Some(_) if !self.buffered_trailers.is_empty() => BodyKind::Chunked,
            Some(body) => BodyKind::Length(body.len() as u64),
            None => self.body,
        }
    }

    /// A buffered body as it goes on the wire: as is, or as one chunk with its trailers.
    fn buffered_wire(&self) -> Option<BytesMut> {
        let body = self.buffered_body.as_ref()?;
        let mut wire = BytesMut::with_capacity(body.len() + 64);
        match self.outgoing_body_kind() {
            BodyKind::Chunked => {
                encode_chunk(body, &mut wire);
                encode_end(&self.buffered_trailers, &mut wire);
            }
            _ => wire.extend_from_slice(body),
        }
        Some(wire)
    }

    /// The hash of the first value the route's `hash_policy` finds in the request.
    fn lb_context(&self, forward: &ForwardAction) -> LbContext {
        let headers = &self.head.headers;
        let hash = forward.hash_policy.iter().find_map(|policy| {
            if let Some(header) = &policy.header {
                return headers.get(&header.key).map(hash_key);
            }
            if let Some(cookie) = &policy.cookie {
                return cookie_value(headers, &cookie.name).map(hash_key);
            }
            let remote = policy
                .source_ip
                .as_ref()
                .and(self.down.connection.info.remote.ip())?;
            Some(hash_key(remote.ip().to_string().as_bytes()))
        });
        LbContext { hash }
    }

    fn choose_host(&mut self) -> Result<(), Stop> {
        let route = self.route.as_ref().ok_or(Stop::Close)?;
        let forward = match route.action {
            Action::Forward(forward) => forward,
            Action::DirectResponse { .. } | Action::Redirect(_) => return Err(Stop::RouteAnswer),
        };
        let view = RequestView(&self.head, &self.variables);
        let name = forward
            .cluster
            .pick(&view)
            .ok_or(Stop::Reply(Local::NO_CLUSTER))?;
        let cluster = self
            .shared
            .clusters
            .get(name)
            .ok_or(Stop::Reply(Local::NO_CLUSTER))?;
        if self.request_slot.is_none() {
            self.request_slot = Some(
                cluster
                    .resources
                    .requests
                    .acquire()
                    .ok_or(Stop::Reply(Local::OVERFLOW))?,
            );
        }
        let context = self.lb_context(forward);
        let host = cluster
            .choose_host(&self.tried, &context)
            .ok_or(Stop::Reply(Local::NO_HOST))?;
        self.tried.push(Arc::clone(&host));
        self.host_request = host.requests.acquire();
        self.host = Some(host);
        if self.logging() {
            self.record.upstream_cluster = Some(cluster.name.clone());
            self.record.upstream_host = self.host.as_ref().map(|h| h.address.to_string());
        }
        self.cluster = Some(cluster);
        self.forward = Some(forward);
        Ok(())
    }

    /// A pooled connection that is still open, or a new one.
    async fn upstream(&mut self) -> Result<&mut Upstream, Stop> {
        if self.upstream.is_none() {
            let (Some(cluster), Some(host)) = (&self.cluster, &self.host) else {
                return Err(Stop::Close);
            };
            let pooled = if self.stale_retried {
                None
            } else {
                host.http1_pool.take(cluster.idle_timeout)
            };
            let reused = pooled.is_some();
            let Pooled {
                stream,
                served,
                slots,
            } = match pooled {
                Some(pooled) => pooled,
                None => {
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
                    let stream = cluster.connect_host(host).await.map_err(|reason| {
                        tracing::debug!(host = %host.address, "upstream connect failed: {reason}");
                        // A failed connect counts as a very slow answer for peak EWMA.
                        host.latency.observe(cluster.connect_timeout);
                        Stop::Reply(Local::CONNECT_FAILED)
                    })?;
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
            self.upstream = Some(Upstream {
                stream,
                slots,
                buf: BytesMut::new(),
                served,
                reused,
            });
        }
        self.upstream.as_mut().ok_or(Stop::Close)
    }

    async fn send_request_head(&mut self) -> Result<(), Stop> {
        let mut head = self.upstream_request_head();
        head.headers.remove("expect");
        let mut out = BytesMut::with_capacity(1024);
        encode_request_head(&head, &mut out);
        if !std::mem::replace(&mut self.mirrored, true) {
            self.send_mirror(&head.method, &out);
        }
        if self.cluster.as_ref().is_some_and(|c| c.tracks_latency()) {
            self.try_started = Some(std::time::Instant::now());
        }
        let upstream = self.upstream().await?;
        upstream
            .stream
            .write_all(&out)
            .await
            .map_err(|_| Stop::Reply(Local::CONNECT_FAILED))?;
        self.continue_if_expected().await
    }

    /// Tells a client that sent `Expect: 100-continue` to send its body, once, just before the
    /// proxy reads it (the proxy takes the body whatever the upstream would say).
    async fn continue_if_expected(&mut self) -> Result<(), Stop> {
        let expected = self.head.version == Version::Http11
            && self.head.headers.has_token("expect", "100-continue");
        if !expected || self.body_consumed || std::mem::replace(&mut self.continue_sent, true) {
            return Ok(());
        }
        let mut go_on = BytesMut::from(&b"HTTP/1.1 100 Continue\r\n\r\n"[..]);
        self.down.write(&mut go_on).await.map_err(|_| Stop::Close)
    }

    /// The request as the upstream sees it: HTTP/1.1, hop-by-hop fields gone, the route's
    /// rewrites and header mutations applied, framing set for the body.
    fn upstream_request_head(&self) -> RequestHead {
        let mut head = self.head.clone();
        head.version = Version::Http11;
        remove_hop_by_hop(&mut head.headers);
        // Upstreams get origin form, and the absolute form's authority as Host.
        if let Some((authority, origin)) = self.head.absolute_form() {
            head.target = Bytes::copy_from_slice(origin);
            head.headers.set("host", Bytes::copy_from_slice(authority));
        }
        if let Some(protocol) = &self.upgrade {
            head.headers.push("Connection", "Upgrade");
            head.headers.push("Upgrade", protocol.clone());
        }
        if let (Some(forward), Some(route)) = (self.forward, &self.route) {
            if let (Some(rewrite), Some(prefix)) = (&forward.prefix_rewrite, route.prefix) {
                head.target = rewrite_prefix(&head.target, prefix, rewrite);
            } else if let Some((regex, substitution)) = &forward.regex_rewrite {
                head.target = rewrite_path(&head.target, regex, substitution);
            }
            if let Some(host) = &forward.host_rewrite {
                head.headers
                    .set("host", Bytes::copy_from_slice(host.as_bytes()));
            } else if forward.auto_host_rewrite
                && let Some(host) = &self.host
            {
                let authority = if host.hostname.is_empty() {
                    host.address.to_string()
                } else {
                    host.hostname.clone()
                };
                head.headers.set("host", authority);
            }
            apply(route.mutations, &mut head.headers, |m| {
                (&m.request_add, &m.request_remove)
            });
        }
        if !head.headers.contains("host")
            && let Some(host) = &self.host
        {
            // HTTP/1.0 clients may leave Host out; an HTTP/1.1 upstream needs one.
            let authority = match &host.address {
                UpstreamAddress::Unix(_) => "localhost".to_string(),
                address => address.to_string(),
            };
            head.headers.push("Host", authority);
        }
        head.headers.remove("content-length");
        match self.outgoing_body_kind() {
            BodyKind::Length(n) => head.headers.push("Content-Length", n.to_string()),
            BodyKind::Chunked => head.headers.push("Transfer-Encoding", "chunked"),
            BodyKind::Empty | BodyKind::UntilClose => {}
        }
        head
    }

    async fn send_request_body(&mut self) -> Result<(), Stop> {
        if let Some(body) = self.buffered_wire() {
            let upstream = self.upstream.as_mut().ok_or(Stop::Close)?;
            return upstream
                .stream
                .write_all(&body)
                .await
                .map_err(|_| Stop::Reply(Local::UPSTREAM_CLOSED));
        }
        if self.body == BodyKind::Empty {
            return Ok(());
        }
        self.body_started = true;
        let (body, limit, limits) = (
            self.body,
            self.shared.settings.max_request_body_size,
            self.shared.settings.limits,
        );
        let out = if body == BodyKind::Chunked {
            Out::Chunked
        } else {
            Out::Raw
        };
        let upstream = self.upstream.as_mut().ok_or(Stop::Close)?;
        let idle = idle_timeout(&self.down.connection);
        let result = body::forward(idle, body, self.down, upstream, out, limit, &limits).await;
        if let Ok(size) = result {
            self.record.bytes_received = size;
        }
        self.body_consumed = true;
        match result {
            Ok(_) => Ok(()),
            Err(err) => Err(self.request_body_failed(err)),
        }
    }

    async fn wait_response_head(&mut self) -> Result<(), WaitError> {
        let route_timeout = self
            .forward
            .map_or(mosn_router::DEFAULT_TIMEOUT, |f| f.timeout);
        let timeout = self
            .retry_policy()
            .and_then(|p| p.per_try_timeout)
            .unwrap_or(route_timeout);
        let limits = self.shared.settings.limits;
        let upstream = self.upstream.as_mut().ok_or(WaitError::Stop(Stop::Close))?;
        let reused = upstream.reused;
        let upgrade = self.upgrade.is_some();
        let read = async {
            loop {
                match parse_response(&mut upstream.buf, &limits) {
                    // Interim responses (100 Continue) are the proxy's business, not the client's.
                    Ok(Some(head))
                        if (100..200).contains(&head.status)
                            && !(head.status == 101 && upgrade) =>
                    {
                        continue;
                    }
                    Ok(Some(head)) => return Ok(head),
                    Ok(None) => {}
                    Err(_) => return Err(ResponseError::Malformed),
                }
                match upstream.fill().await {
                    Ok(0) | Err(_) if upstream.buf.is_empty() => return Err(ResponseError::Closed),
                    Ok(0) | Err(_) => return Err(ResponseError::Malformed),
                    Ok(_) => {}
                }
            }
        };
        let result = tokio::time::timeout(timeout, read).await;
        if let Ok(Ok(head)) = result {
            self.record.response_received = self.elapsed_for_log();
            if let (Some(host), Some(sent)) = (&self.host, self.try_started) {
                host.latency.observe(sent.elapsed());
            }
            self.record.status = head.status;
            self.response = Some(head);
            return Ok(());
        }
        self.upstream = None;
        Err(match result {
            Ok(Err(ResponseError::Closed)) if reused => WaitError::StalePooled,
            Ok(Err(ResponseError::Closed)) => WaitError::Stop(Stop::Reply(Local::UPSTREAM_CLOSED)),
            Err(_) => WaitError::Stop(Stop::Reply(Local::TIMEOUT)),
            _ => WaitError::Stop(Stop::Reply(Local::BAD_UPSTREAM)),
        })
    }

    async fn send_response_head(&mut self) -> Result<(), Stop> {
        if self.response.as_ref().is_some_and(|r| r.status == 101) {
            return self.switch_protocols().await;
        }
        let mut response = self.response.take().ok_or(Stop::Close)?;
        let method = self.head.method.clone();
        let kind = framing::response_body(&method, &response)
            .map_err(|_| Stop::Reply(Local::BAD_UPSTREAM))?;
        let upstream_closes = response.headers.has_token("connection", "close")
            || response.version == Version::Http10;
        let chunked_out = self.head.version == Version::Http11;
        remove_hop_by_hop(&mut response.headers);
        if let Some(route) = &self.route {
            apply(route.mutations, &mut response.headers, |m| {
                (&m.response_add, &m.response_remove)
            });
        }
        let out = match kind {
            BodyKind::Empty => Out::Raw,
            BodyKind::Length(n) => {
                response.headers.set("content-length", n.to_string());
                Out::Raw
            }
            BodyKind::Chunked | BodyKind::UntilClose if chunked_out => {
                response.headers.remove("content-length");
                response.headers.push("Transfer-Encoding", "chunked");
                Out::Chunked
            }
            BodyKind::Chunked | BodyKind::UntilClose => {
                response.headers.remove("content-length");
                self.close_after = true;
                Out::Raw
            }
        };
        if self.down.connection.drain.is_draining() {
            self.keep_alive = false;
        }
        if !self.keep_alive || self.close_after {
            response.headers.push("Connection", "close");
        } else if self.head.version == Version::Http10 {
            response.headers.push("Connection", "keep-alive");
        }
        response.version = Version::Http11;
        let mut out_head = BytesMut::with_capacity(1024);
        encode_response_head(&response, &mut out_head);
        // Sent with the first bytes of the body (UpRecvData): one write where there would be two.
        self.response_head = Some(out_head);
        self.response = Some(response);
        self.response_body = Some((kind, out, upstream_closes));
        Ok(())
    }

    /// Passes the upstream's 101 on; the response "body" is then the tunnel.
    async fn switch_protocols(&mut self) -> Result<(), Stop> {
        let mut response = self.response.take().ok_or(Stop::Close)?;
        let protocol = response.headers.get("upgrade").map(Bytes::copy_from_slice);
        remove_hop_by_hop(&mut response.headers);
        let protocol = protocol.ok_or(Stop::Reply(Local::BAD_UPSTREAM))?;
        response.headers.push("Connection", "Upgrade");
        response.headers.push("Upgrade", protocol);
        let mut out_head = BytesMut::with_capacity(512);
        encode_response_head(&response, &mut out_head);
        self.down
            .write(&mut out_head)
            .await
            .map_err(|_| Stop::Close)?;
        self.response = Some(response);
        self.tunnel = true;
        self.keep_alive = false;
        Ok(())
    }

    async fn send_response_body(&mut self) -> Result<(), Stop> {
        if self.tunnel {
            let upstream = self.upstream.take().ok_or(Stop::Close)?;
            let idle = idle_timeout(&self.down.connection);
            let early = (&self.down.buf[..], &upstream.buf[..]);
            crate::tunnel::tunnel(&self.down.connection.stream, &upstream.stream, early, idle)
                .await;
            return Ok(());
        }
        let (kind, out, upstream_closes) = self.response_body.take().ok_or(Stop::Close)?;
        let limits = self.shared.settings.limits;
        let upstream = self.upstream.as_mut().ok_or(Stop::Close)?;
        let idle = idle_timeout(&self.down.connection);
        let mut client = WithPrefix {
            prefix: self.response_head.take(),
            sink: &mut *self.down,
        };
        let mut result = body::forward(idle, kind, upstream, &mut client, out, 0, &limits).await;
        if result.is_ok() && client.finish().await.is_err() {
            result = Err(BodyError::Write);
        }
        if let Ok(size) = result {
            self.record.bytes_sent = size;
        }
        match result {
            Ok(_) if upstream_closes || kind == BodyKind::UntilClose => {
                self.upstream = None;
                Ok(())
            }
            Ok(_) => Ok(()),
            Err(_) => Err(Stop::Close),
        }
    }

    /// Puts the upstream connection back in the pool when its exchange ended cleanly.
    fn release_upstream(&mut self) {
        let (Some(upstream), Some(host), Some(cluster)) =
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

    /// A direct response or a redirect, as the matched route says.
    async fn answer_route(&mut self) -> ConnectionNext {
        let action = self.route.as_ref().map(|r| r.action);
        match action {
            Some(Action::DirectResponse { status, body }) => self.reply(*status, body, None).await,
            Some(Action::Redirect(redirect)) => {
                let target = String::from_utf8_lossy(&self.head.target).into_owned();
                let location = redirect.location(host_of(&self.head), &target);
                self.reply(redirect.status, "", Some(&location)).await
            }
            _ => ConnectionNext::Close,
        }
    }

    /// The proxy's own response. A request body that was not read makes the connection
    /// unusable for another request.
    async fn reply(&mut self, status: u16, body: &str, location: Option<&str>) -> ConnectionNext {
        self.record.status = status;
        self.record.bytes_sent = body.len() as u64;
        let close =
            !self.keep_alive || !self.body_consumed || self.down.connection.drain.is_draining();
        let headers: Vec<(&str, &str)> = location.map(|l| ("Location", l)).into_iter().collect();
        let mut out = BytesMut::with_capacity(256 + body.len());
        local_reply(
            status,
            body,
            close,
            self.head.version == Version::Http10,
            &headers,
            &mut out,
        );
        match (self.down.write(&mut out).await, close) {
            (Ok(()), false) => ConnectionNext::KeepAlive,
            _ => ConnectionNext::Close,
        }
    }
}

enum WaitError {
    /// A reused pooled connection closed before answering: the request may go again.
    StalePooled,
    Stop(Stop),
}

enum ResponseError {
    /// The upstream closed before sending anything.
    Closed,
    Malformed,
}

/// The value of cookie `name` in the Cookie header.
fn cookie_value<'h>(headers: &'h Headers, name: &str) -> Option<&'h [u8]> {
    headers
        .get_all("cookie")
        .flat_map(|value| value.split(|b| *b == b';'))
        .find_map(|pair| {
            let pair = pair.trim_ascii();
            let (key, value) = pair.split_at(pair.iter().position(|b| *b == b'=')?);
            (key == name.as_bytes()).then(|| &value[1..])
        })
}

/// The access log record; the addresses are formatted only when a log will print them.
fn record_for(info: &mosn_net::ConnectionInfo, logging: bool) -> Record {
    let addresses = logging.then(|| (info.local.to_string(), info.remote.to_string()));
    Record::new(info.id, std::sync::Arc::clone(&info.listener), addresses)
}

/// The authority of an absolute-form target, which wins over Host (RFC 9112), or Host; empty
/// when there is neither (or it is not text).
fn host_of(head: &RequestHead) -> &str {
    let host = match head.absolute_form() {
        Some((authority, _)) => authority,
        None => head.headers.get("host").unwrap_or_default(),
    };
    std::str::from_utf8(host).unwrap_or_default()
}

/// Replaces the matched prefix (the route matched it, maybe ignoring case) with `rewrite`.
fn rewrite_prefix(target: &Bytes, prefix: &str, rewrite: &str) -> Bytes {
    match target
        .get(prefix.len()..)
        .filter(|_| target[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes()))
    {
        Some(rest) => {
            let mut out = Vec::with_capacity(rewrite.len() + rest.len());
            out.extend_from_slice(rewrite.as_bytes());
            out.extend_from_slice(rest);
            Bytes::from(out)
        }
        None => target.clone(),
    }
}

/// Replaces every match of `regex` in the path (the query stays as it was).
fn rewrite_path(target: &Bytes, regex: &regex::Regex, substitution: &str) -> Bytes {
    let text = String::from_utf8_lossy(target);
    let (path, query) = match text.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (text.as_ref(), None),
    };
    let mut rewritten = regex.replace_all(path, substitution).into_owned();
    if let Some(query) = query {
        rewritten.push('?');
        rewritten.push_str(query);
    }
    Bytes::from(rewritten)
}

/// Applies removals then additions, most specific level first.
fn apply(
    levels: [&HeaderMutations; 3],
    headers: &mut Headers,
    pick: impl Fn(&HeaderMutations) -> (&Vec<mosn_router::HeaderEdit>, &Vec<String>),
) {
    for level in levels {
        let (add, remove) = pick(level);
        for name in remove {
            headers.remove(name);
        }
        for edit in add {
            let value = Bytes::copy_from_slice(edit.value.as_bytes());
            if edit.append {
                headers.push(Bytes::copy_from_slice(edit.name.as_bytes()), value);
            } else {
                headers.set(&edit.name, value);
            }
        }
    }
}
