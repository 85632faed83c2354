//! An RPC client connection (bolt, dubbo, ...): frames are read one after another and each
//! request goes upstream in a task of its own, so that many are in flight at once; answers are
//! written back as they come, in whatever order, under the client's own request ids. The proxy
//! answers the client's heartbeats itself.
//!
//! Memory stays bounded: a frame over the size limit is refused, and past a number of requests
//! in flight the connection is not read until one finishes.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use mosn_protocol::xprotocol::{Codec, Frame, Kind};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::time::Instant;

use crate::Shared;
use crate::downstream::Downstream;
use crate::settings::idle_timeout;

/// Requests of one client connection in flight at once before it is read no further.
const MAX_IN_FLIGHT: usize = 1024;

/// An answer to write: the whole frame, and the client's request id to put in it.
struct Answer {
    frame: Bytes,
    request_id: u64,
}

/// What wakes the connection up.
enum Event {
    Answer(Answer),
    /// A request in flight finished.
    Room,
    Read(Result<std::io::Result<usize>, tokio::time::error::Elapsed>),
    Drain,
}

struct Client {
    shared: Arc<Shared>,
    codec: Arc<dyn Codec>,
    down: Downstream,
    /// Where request tasks send their answers.
    answers: mpsc::Sender<Answer>,
    in_flight: Arc<Semaphore>,
    /// Frames to write with the next write.
    out: BytesMut,
}

pub async fn serve(shared: Arc<Shared>, down: Downstream, codec: Arc<dyn Codec>) {
    let (answers, mut incoming) = mpsc::channel(MAX_IN_FLIGHT);
    let mut client = Client {
        shared,
        codec,
        down,
        answers,
        in_flight: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
        out: BytesMut::new(),
    };
    let why = client.run(&mut incoming).await;
    tracing::debug!(
        connection = client.down.connection.info.id,
        "{} client connection closed: {why}",
        client.codec.name()
    );
}

impl Client {
    async fn run(&mut self, incoming: &mut mpsc::Receiver<Answer>) -> String {
        let idle = idle_timeout(&self.down.connection);
        let mut drain = self.down.connection.drain.clone();
        let mut draining = false;
        let mut last_active = Instant::now();
        loop {
            let blocked = match self.take_frames() {
                Ok(blocked) => blocked,
                Err(why) => {
                    let _ = self.flush().await;
                    return why;
                }
            };
            if let Err(err) = self.flush().await {
                return format!("write failed: {err}");
            }
            let busy = self.in_flight.available_permits() < MAX_IN_FLIGHT;
            if draining && !busy {
                return "the server is stopping".into();
            }
            let event = tokio::select! {
                Some(answer) = incoming.recv() => Event::Answer(answer),
                // A request finished: there is room to read again.
                _ = self.in_flight.acquire(), if blocked => Event::Room,
                read = tokio::time::timeout_at(last_active + idle, self.down.read()), if !blocked => {
                    Event::Read(read)
                }
                () = drain.signaled(), if !draining => Event::Drain,
            };
            match event {
                Event::Answer(answer) => {
                    self.queue(answer);
                    while let Ok(answer) = incoming.try_recv() {
                        self.queue(answer);
                    }
                    last_active = Instant::now();
                }
                Event::Room => {}
                Event::Read(Ok(Ok(0))) => return "the client closed it".into(),
                Event::Read(Ok(Ok(_))) => last_active = Instant::now(),
                Event::Read(Ok(Err(err))) => return format!("read failed: {err}"),
                Event::Read(Err(_)) if busy => last_active = Instant::now(),
                Event::Read(Err(_)) => return "idle timeout".into(),
                Event::Drain => {
                    draining = true;
                    if self.shared.settings.rpc.goaway
                        && let Some(goaway) = self.codec.goaway()
                    {
                        self.out.extend_from_slice(&goaway);
                    }
                }
            }
        }
    }

    /// Handles the whole frames read so far. `Ok(true)` when one may be waiting for room
    /// among the requests in flight; `Err` when the connection cannot go on (the protocol's
    /// error answer, if it has one, is queued).
    fn take_frames(&mut self) -> Result<bool, String> {
        loop {
            let Ok(permit) = Arc::clone(&self.in_flight).try_acquire_owned() else {
                return Ok(true);
            };
            let max_frame = self.shared.settings.rpc.max_frame;
            let frame = match self.codec.decode(&mut self.down.buf, max_frame) {
                Ok(Some(frame)) => frame,
                Ok(None) => return Ok(false),
                Err(err) => {
                    if let Some(reply) = &err.reply {
                        self.out.extend_from_slice(reply);
                    }
                    return Err(format!("bad frame: {err}"));
                }
            };
            match frame.kind {
                Kind::Heartbeat => {
                    let reply = self.codec.heartbeat_reply(&frame);
                    self.out.extend_from_slice(&reply);
                }
                Kind::Request | Kind::Oneway => self.spawn_request(frame, permit),
                kind => tracing::debug!("{kind:?} frame from a client ignored"),
            }
        }
    }

    fn spawn_request(&self, frame: Frame, permit: OwnedSemaphorePermit) {
        let shared = Arc::clone(&self.shared);
        let codec = Arc::clone(&self.codec);
        let answers = self.answers.clone();
        tokio::spawn(async move {
            let answer = crate::rpc_call::call(&shared, &codec, &frame).await;
            if let Some(answer) = answer {
                let request_id = frame.request_id;
                let _ = answers
                    .send(Answer {
                        frame: answer,
                        request_id,
                    })
                    .await;
            }
            drop(permit);
        });
    }

    /// Adds an answer to the next write, under the client's request id.
    fn queue(&mut self, answer: Answer) {
        self.codec
            .write_with_id(&answer.frame, answer.request_id, &mut self.out);
    }

    async fn flush(&mut self) -> std::io::Result<()> {
        if self.out.is_empty() {
            return Ok(());
        }
        let mut out = std::mem::take(&mut self.out);
        let written = self.down.write(&mut out).await;
        out.clear();
        self.out = out;
        written
    }
}
