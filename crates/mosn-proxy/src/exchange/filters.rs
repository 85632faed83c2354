//! The stream filters' side of an exchange: running them at their phase, and reading the
//! request body whole when one of them (or a mirror) needs it.

use std::io;

use bytes::BytesMut;
use mosn_protocol::http1::{BodyKind, Headers};

use super::{BUFFERED_BODY_LIMIT, Exchange, Stop};
use crate::body::{self, BodyError, Out, Sink};
use crate::client::Client;
use crate::h2_body::forward_frames;
use crate::reply::Local;
use crate::stream_filter::{ReceivePhase, RequestState, ResponseState, StreamStatus};

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

/// Moves the request body from the client into `sink`, whatever protocol brings it.
pub(super) async fn client_body_into<D: Sink>(
    exchange: &mut Exchange<'_>,
    sink: &mut D,
    out: Out,
    limit: u64,
) -> Result<u64, BodyError> {
    let idle = exchange.client.idle();
    let limits = exchange.shared.settings.limits;
    match &mut exchange.client {
        Client::H1(down) => {
            body::forward(idle, exchange.body, *down, sink, out, limit, &limits).await
        }
        Client::H2(stream) => forward_frames(idle, &mut stream.body, sink, out, limit).await,
    }
}

impl Exchange<'_> {
    /// Reads the whole request body when `wanted`, within the body limit.
    pub(super) async fn buffer_body(&mut self, wanted: bool) -> Result<(), Stop> {
        if self.body == BodyKind::Empty || self.buffered_body.is_some() || !wanted {
            return Ok(());
        }
        let limit = match self.shared.settings.max_request_body_size {
            0 => BUFFERED_BODY_LIMIT,
            limit => limit,
        };
        self.continue_if_expected().await?;
        let mut sink = Buffer::default();
        let result = client_body_into(self, &mut sink, Out::Raw, limit).await;
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

    /// What a request body that could not be moved gets: the client's fault is answered and
    /// ends the connection, an upstream's is a 502, a client gone is a close.
    pub(super) fn request_body_failed(&mut self, err: BodyError) -> Stop {
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

    /// Runs the receiver filters of `phase` in order, until one stops.
    pub(super) async fn receive(&mut self, phase: ReceivePhase) -> Result<(), Stop> {
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
    pub(super) async fn send_filters(&mut self) {
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
}
