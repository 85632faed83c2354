//! Multiplexed RPC connections (bolt, dubbo, ...) per host: every request to a host goes over
//! one connection, under a request id of that connection's own, and its response is matched
//! back by that id. Idle connections are kept alive with the protocol's heartbeats and closed
//! when too many go unanswered.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use mosn_net::Stream;
use mosn_protocol::xprotocol::{Codec, DEFAULT_MAX_FRAME, Frame, Kind};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::resources::ConnectionSlots;

/// Requests queued for one connection's writer before callers wait.
const QUEUE: usize = 1024;
/// Read size of an upstream RPC connection.
const READ_SIZE: usize = 16 * 1024;

/// When to send heartbeats on an idle connection, and when to give up on it.
#[derive(Debug, Clone, Copy)]
pub struct Keepalive {
    /// A heartbeat goes out after this long with nothing read (MOSN: 15 s).
    pub interval: Duration,
    /// How long a heartbeat may go unanswered before it counts as failed (MOSN: 1 s).
    pub timeout: Duration,
    /// Failed heartbeats in a row that close the connection (MOSN: 6).
    pub max_failures: u32,
}

impl Default for Keepalive {
    fn default() -> Keepalive {
        Keepalive {
            interval: Duration::from_secs(15),
            timeout: Duration::from_secs(1),
            max_failures: 6,
        }
    }
}

#[derive(Default)]
pub struct RpcPool {
    open: Mutex<Vec<Arc<RpcConnection>>>,
    connecting: tokio::sync::Mutex<()>,
}

/// What the writer sends.
enum Outgoing {
    /// A whole request frame, and who waits for its response (no one for a oneway one).
    Call(Bytes, Option<oneshot::Sender<Frame>>),
    /// A heartbeat of ours, under the next id.
    Heartbeat,
    /// A frame as it is (the answer to the peer's heartbeat).
    Answer(BytesMut),
}

/// Callers waiting for responses, by the id their request carries on this connection.
type Pending = Mutex<HashMap<u64, oneshot::Sender<Frame>>>;

pub struct RpcConnection {
    codec: Arc<dyn Codec>,
    queue: mpsc::Sender<Outgoing>,
    /// Set once the connection takes no new requests: it failed, or the peer said goaway.
    closed: Arc<AtomicBool>,
    _slots: ConnectionSlots,
}

/// The connection took no request: it is closed.
#[derive(Debug)]
pub struct Closed;

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl RpcConnection {
    /// Starts the tasks that write requests to `stream` and read responses from it.
    pub fn start(
        stream: Stream,
        codec: Arc<dyn Codec>,
        slots: ConnectionSlots,
        keepalive: Keepalive,
    ) -> Arc<RpcConnection> {
        let stream = Arc::new(stream);
        let (queue, requests) = mpsc::channel(QUEUE);
        let closed = Arc::new(AtomicBool::new(false));
        let pending: Arc<Pending> = Arc::default();
        let (writer_done, writer_gone) = oneshot::channel();
        tokio::spawn(write_requests(
            Arc::clone(&stream),
            Arc::clone(&codec),
            requests,
            Arc::clone(&pending),
            writer_done,
        ));
        tokio::spawn(read_responses(Reader {
            stream,
            codec: Arc::clone(&codec),
            pending,
            closed: Arc::clone(&closed),
            writer: queue.downgrade(),
            keepalive,
            heartbeats: codec.heartbeat(0).is_some(),
            writer_gone,
        }));
        Arc::new(RpcConnection {
            codec,
            queue,
            closed,
            _slots: slots,
        })
    }

    fn is_open(&self) -> bool {
        !self.closed.load(Ordering::Relaxed) && !self.queue.is_closed()
    }

    /// Sends the whole frame `request`; its response comes on the receiver (none for a oneway
    /// request). The receiver reports an error when the connection closes first. Dropping it
    /// forgets the request.
    pub async fn call(
        &self,
        request: Bytes,
        oneway: bool,
    ) -> Result<Option<oneshot::Receiver<Frame>>, Closed> {
        if !self.is_open() {
            return Err(Closed);
        }
        let (reply, response) = match oneway {
            true => (None, None),
            false => {
                let (reply, response) = oneshot::channel();
                (Some(reply), Some(response))
            }
        };
        self.queue
            .send(Outgoing::Call(request, reply))
            .await
            .map_err(|_| Closed)?;
        Ok(response)
    }
}

/// The writer: gives each request this connection's next id, and writes what is queued in as
/// few writes as it can. Ends when the connection is dropped from the pool or a write fails.
async fn write_requests(
    stream: Arc<Stream>,
    codec: Arc<dyn Codec>,
    mut requests: mpsc::Receiver<Outgoing>,
    pending: Arc<Pending>,
    _done: oneshot::Sender<()>,
) {
    let mut next_id: u64 = 0;
    let mut out = BytesMut::new();
    let mut batch = Vec::with_capacity(64);
    while requests.recv_many(&mut batch, 64).await > 0 {
        for outgoing in batch.drain(..) {
            match outgoing {
                Outgoing::Call(frame, reply) => {
                    next_id = register(&pending, next_id, codec.max_request_id(), reply);
                    codec.write_with_id(&frame, next_id, &mut out);
                }
                Outgoing::Heartbeat => {
                    next_id = register(&pending, next_id, codec.max_request_id(), None);
                    if let Some(beat) = codec.heartbeat(next_id) {
                        out.extend_from_slice(&beat);
                    }
                }
                Outgoing::Answer(frame) => out.extend_from_slice(&frame),
            }
        }
        if let Err(err) = stream.write_all(&out).await {
            tracing::debug!("upstream {} connection write failed: {err}", codec.name());
            return;
        }
        out.clear();
    }
}

/// Takes the id after `last` (wrapping after `max`, skipping 0 and ids still waiting) and
/// records who waits for its response, under one lock. Callers that gave up (their receiver
/// dropped, after a timeout) are swept out whenever the table doubles, so it stays bounded by
/// the requests really in flight.
fn register(
    pending: &Pending,
    mut last: u64,
    max: u64,
    reply: Option<oneshot::Sender<Frame>>,
) -> u64 {
    let mut pending = lock(pending);
    loop {
        last = if last >= max { 1 } else { last + 1 };
        if !pending.contains_key(&last) {
            break;
        }
    }
    if let Some(reply) = reply {
        pending.insert(last, reply);
        if pending.len() >= 1024 && pending.len().is_power_of_two() {
            pending.retain(|_, reply| !reply.is_closed());
        }
    }
    last
}

struct Reader {
    stream: Arc<Stream>,
    codec: Arc<dyn Codec>,
    pending: Arc<Pending>,
    closed: Arc<AtomicBool>,
    /// The writer's queue, not keeping it open.
    writer: mpsc::WeakSender<Outgoing>,
    keepalive: Keepalive,
    /// Whether the protocol has a heartbeat to send.
    heartbeats: bool,
    writer_gone: oneshot::Receiver<()>,
}

/// The reader: hands each response to its caller, answers the peer's heartbeats, and keeps the
/// connection alive. When it ends, every caller still waiting sees the connection closed.
async fn read_responses(mut reader: Reader) {
    let why = reader.run().await;
    reader.closed.store(true, Ordering::Relaxed);
    lock(&reader.pending).clear();
    // The peer learns at once; the writer ends when the pool lets the connection go.
    let _ = reader.stream.shutdown_write();
    tracing::debug!("upstream {} connection closed: {why}", reader.codec.name());
}

impl Reader {
    async fn run(&mut self) -> String {
        let mut buf = BytesMut::new();
        let mut last_read = Instant::now();
        let mut awaiting_beat: Option<Instant> = None;
        let mut failures = 0;
        let mut writer_gone = false;
        loop {
            let timer = awaiting_beat.unwrap_or(last_read + self.keepalive.interval);
            tokio::select! {
                read = self.stream.read_reserving(&mut buf, READ_SIZE) => match read {
                    Ok(0) => return "the peer closed it".into(),
                    Err(err) => return format!("read failed: {err}"),
                    Ok(_) => {
                        last_read = Instant::now();
                        awaiting_beat = None;
                        failures = 0;
                        if let Err(why) = self.dispatch(&mut buf) {
                            return why;
                        }
                    }
                },
                () = tokio::time::sleep_until(timer) => {
                    if awaiting_beat.take().is_some() {
                        failures += 1;
                        if failures >= self.keepalive.max_failures {
                            return format!("{failures} heartbeats went unanswered");
                        }
                        last_read = Instant::now();
                    } else if self.send_heartbeat() {
                        awaiting_beat = Some(Instant::now() + self.keepalive.timeout);
                    } else {
                        last_read = Instant::now();
                    }
                }
                _ = &mut self.writer_gone, if !writer_gone => writer_gone = true,
            }
            if writer_gone && lock(&self.pending).is_empty() {
                return "no longer used".into();
            }
        }
    }

    /// Queues a heartbeat when the protocol has one and the connection is still in use.
    fn send_heartbeat(&self) -> bool {
        self.heartbeats && self.queue(Outgoing::Heartbeat)
    }

    /// Hands a frame of the reader's own to the writer (the only one writing, so frames never
    /// interleave); `false` when the writer is gone or full.
    fn queue(&self, outgoing: Outgoing) -> bool {
        self.writer
            .upgrade()
            .is_some_and(|queue| queue.try_send(outgoing).is_ok())
    }

    /// Handles every whole frame in `buf`; `Err` when the connection cannot go on.
    fn dispatch(&self, buf: &mut BytesMut) -> Result<(), String> {
        loop {
            let frame = match self.codec.decode(buf, DEFAULT_MAX_FRAME) {
                Ok(Some(frame)) => frame,
                Ok(None) => return Ok(()),
                Err(err) => return Err(format!("bad frame: {err}")),
            };
            match frame.kind {
                Kind::Response => {
                    let reply = lock(&self.pending).remove(&frame.request_id);
                    if let Some(reply) = reply {
                        let _ = reply.send(frame);
                    }
                }
                Kind::Heartbeat => {
                    self.queue(Outgoing::Answer(self.codec.heartbeat_reply(&frame)));
                }
                Kind::Goaway => {
                    tracing::debug!("upstream {} peer sent goaway", self.codec.name());
                    self.closed.store(true, Ordering::Relaxed);
                }
                Kind::HeartbeatReply | Kind::Request | Kind::Oneway => {}
            }
        }
    }
}

impl RpcPool {
    /// The open connection speaking `codec`, opening one with `connect` when there is none
    /// (one at a time per host).
    pub async fn take_or_connect<E>(
        &self,
        codec: &Arc<dyn Codec>,
        connect: impl AsyncFnOnce() -> Result<Arc<RpcConnection>, E>,
    ) -> Result<Arc<RpcConnection>, E> {
        if let Some(connection) = self.take(codec) {
            return Ok(connection);
        }
        let _one_at_a_time = self.connecting.lock().await;
        if let Some(connection) = self.take(codec) {
            return Ok(connection);
        }
        let connection = connect().await?;
        lock(&self.open).push(Arc::clone(&connection));
        Ok(connection)
    }

    fn take(&self, codec: &Arc<dyn Codec>) -> Option<Arc<RpcConnection>> {
        let mut open = lock(&self.open);
        open.retain(|c| c.is_open());
        open.iter()
            .find(|c| c.codec.name() == codec.name())
            .cloned()
    }
}
