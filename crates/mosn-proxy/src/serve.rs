//! A client connection: its protocol told from its first bytes when more than one is allowed;
//! over HTTP/1, requests read one after another (pipelined ones wait in the buffer and are
//! answered in order), each handed to an [`Exchange`].

use std::sync::Arc;

use bytes::BytesMut;
use mosn_net::{Connection, TerminalFilter};
use mosn_protocol::detect::{self, Protocol, detect};
use mosn_protocol::http1::chunked::check_first_size_line;
use mosn_protocol::http1::head::parse_request;
use mosn_protocol::http1::{BodyKind, Error, RequestHead, framing};
use mosn_protocol::xprotocol;
use tokio::time::Instant;

use crate::client::Client;
use crate::downstream::Downstream;
use crate::exchange::Exchange;
use crate::reply::local_reply;
use crate::settings::{Speaks, idle_timeout};
use crate::{ConnectionNext, Shared};

enum HeadError {
    /// Bad bytes: answer with the codec's status and close.
    Invalid(Error),
    /// The head did not arrive in time once it had started.
    Timeout,
    /// The connection ended, went idle, or the server is draining: close quietly.
    Gone,
}

pub async fn serve(
    shared: Arc<Shared>,
    connection: Connection,
    fallback: Option<Arc<dyn TerminalFilter>>,
) {
    let mut down = Downstream::new(connection);
    let candidates = shared.settings.downstream.as_slice();
    let protocol = match candidates {
        // One protocol needs no detection, unless other protocols go elsewhere.
        [only] if fallback.is_none() => only.clone(),
        _ => match by_alpn(&down.connection, candidates) {
            Some(protocol) => protocol,
            None => match detect_protocol(&mut down, candidates).await {
                Ok(protocol) => protocol,
                Err(Undetected::Unknown) if let Some(fallback) = fallback => {
                    tracing::debug!(
                        connection = down.connection.info.id,
                        "unknown protocol: handed to the next filter"
                    );
                    let connection = down.into_connection();
                    return fallback.serve(connection).await;
                }
                Err(_) => return,
            },
        },
    };
    // The loops of HTTP/2 and RPC connections are boxed: this future is moved whole into the
    // connection's box, so it should not be the size of the largest of them.
    match protocol {
        Speaks::Http(Protocol::Http1) => serve_http1(&shared, down).await,
        Speaks::Http(Protocol::Http2) => Box::pin(crate::serve_h2::serve(shared, down)).await,
        Speaks::Rpc(codec) => Box::pin(crate::serve_rpc::serve(shared, down, codec)).await,
    }
}

/// Why a connection's protocol was not told.
enum Undetected {
    /// Its first bytes (or, when the wait ran out, those that came) fit no candidate.
    Unknown,
    /// It ended, or sent nothing before the idle timeout.
    Gone,
}

enum Detected {
    Found(Speaks),
    /// The bytes so far fit more than one candidate, or none yet.
    NeedMore,
    Unknown,
}

/// Which of `candidates` a connection starting with `start` speaks.
fn detect_among(start: &[u8], candidates: &[Speaks]) -> Detected {
    let mut undecided = false;
    for candidate in candidates {
        let detection = match candidate {
            Speaks::Http(protocol) => match detect(start, std::slice::from_ref(protocol)) {
                detect::Detection::Found(_) => xprotocol::Detection::Yes,
                detect::Detection::NeedMore => xprotocol::Detection::NeedMore,
                detect::Detection::Unknown => xprotocol::Detection::No,
            },
            Speaks::Rpc(codec) => codec.detect(start),
        };
        match detection {
            xprotocol::Detection::Yes => return Detected::Found(candidate.clone()),
            xprotocol::Detection::NeedMore => undecided = true,
            xprotocol::Detection::No => {}
        }
    }
    match undecided {
        true => Detected::NeedMore,
        false => Detected::Unknown,
    }
}

/// The HTTP version a TLS client agreed by ALPN, when it is one of `candidates`.
fn by_alpn(connection: &Connection, candidates: &[Speaks]) -> Option<Speaks> {
    let protocol = match connection.stream.alpn()?.as_slice() {
        b"h2" => Protocol::Http2,
        b"http/1.1" => Protocol::Http1,
        _ => return None,
    };
    candidates
        .iter()
        .find(|c| matches!(c, Speaks::Http(p) if *p == protocol))
        .cloned()
}

/// Reads until the first bytes tell which of `candidates` the client speaks. Bytes that still
/// fit more than one (or a prefix of one) when the idle timeout ends count as unknown.
async fn detect_protocol(
    down: &mut Downstream,
    candidates: &[Speaks],
) -> Result<Speaks, Undetected> {
    let deadline = Instant::now() + idle_timeout(&down.connection);
    loop {
        match detect_among(&down.buf, candidates) {
            Detected::Found(protocol) => return Ok(protocol),
            Detected::Unknown => {
                tracing::debug!(
                    connection = down.connection.info.id,
                    "unknown protocol (expected one of {candidates:?})"
                );
                return Err(Undetected::Unknown);
            }
            Detected::NeedMore => {}
        }
        match tokio::time::timeout_at(deadline, down.read()).await {
            Ok(Ok(n)) if n > 0 => {}
            Err(_timed_out) if !down.buf.is_empty() => return Err(Undetected::Unknown),
            _ => return Err(Undetected::Gone),
        }
    }
}

/// HTTP/1: one request after another on the connection.
async fn serve_http1(shared: &Shared, mut down: Downstream) {
    let idle_timeout = idle_timeout(&down.connection);
    // Its own handle on the drain signal: waiting on it while reading needs no clone per request.
    let mut drain = down.connection.drain.clone();
    loop {
        let head = match read_head(shared, &mut down, &mut drain, idle_timeout).await {
            Ok(head) => head,
            Err(HeadError::Gone) => return,
            Err(HeadError::Timeout) => return refuse(&mut down, 408).await,
            Err(HeadError::Invalid(err)) => {
                tracing::debug!(connection = down.connection.info.id, "bad request: {err}");
                return refuse(&mut down, err.status()).await;
            }
        };
        let body = match framing::request_body(&head) {
            Ok(body) => body,
            Err(err) => return refuse(&mut down, err.status()).await,
        };
        // A chunked body that came with its head and starts malformed is refused here, before
        // anything goes upstream.
        if body == BodyKind::Chunked
            && let Err(err) = check_first_size_line(&down.buf)
        {
            return refuse(&mut down, err.status()).await;
        }
        let limit = shared.settings.max_request_body_size;
        if limit > 0 && matches!(body, BodyKind::Length(n) if n > limit) {
            return refuse(&mut down, 413).await;
        }
        let client = Client::H1(&mut down);
        // Boxed: the exchange's state is most of the connection's, and a connection waiting for
        // its next request then holds none of it (about 3 KiB less per idle connection).
        if Exchange::boxed(shared, client, head, body).await == ConnectionNext::Close {
            return;
        }
        down.release_buffers();
    }
}

/// Reads the next request head. Before its first byte the connection may idle for
/// `idle_timeout`; once it has started, the whole head must come within the header timeout,
/// however slowly its bytes trickle in.
async fn read_head(
    shared: &Shared,
    down: &mut Downstream,
    drain: &mut mosn_net::drain::Drain,
    idle_timeout: std::time::Duration,
) -> Result<RequestHead, HeadError> {
    let limits = &shared.settings.limits;
    let mut started: Option<Instant> = None;
    loop {
        skip_empty_lines(&mut down.buf);
        if let Some(head) = parse_request(&mut down.buf, limits).map_err(HeadError::Invalid)? {
            return Ok(head);
        }
        if !down.buf.is_empty() {
            started.get_or_insert_with(Instant::now);
        }
        let deadline = match started {
            Some(start) => start + shared.settings.header_timeout,
            None => Instant::now() + idle_timeout,
        };
        // The read first: when its bytes are there, the drain signal is not waited on at all.
        let read = tokio::select! {
            biased;
            read = down.read_before(deadline) => read,
            () = drain.signaled(), if started.is_none() => return Err(HeadError::Gone),
        };
        match read {
            Some(Ok(n)) if n > 0 => {}
            Some(_) => return Err(HeadError::Gone),
            None if started.is_some() => return Err(HeadError::Timeout),
            None => return Err(HeadError::Gone),
        }
    }
}

/// RFC 9112 lets a server ignore empty lines before a request line.
fn skip_empty_lines(buf: &mut BytesMut) {
    let blank = buf
        .iter()
        .take_while(|b| **b == b'\r' || **b == b'\n')
        .count();
    if blank > 0 {
        let _ = buf.split_to(blank);
    }
}

/// Answers a request that cannot be served with its status, then the connection closes.
async fn refuse(down: &mut Downstream, status: u16) {
    let mut out = BytesMut::with_capacity(128);
    local_reply(status, "", true, false, &[], &mut out);
    let _ = down.write(&mut out).await;
}
