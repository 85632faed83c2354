//! RPC protocols that carry many requests at once on one connection, each frame tagged with a
//! request id: MOSN's XProtocol. A [`Codec`] cuts frames out of a byte stream and knows the few
//! things the proxy needs of them (kind, id, routing headers, status); the frame's bytes
//! themselves pass through untouched but for the id, rewritten per upstream connection.

pub mod bolt;
pub mod dubbo;
mod header_map;
mod hessian;
mod registry;
pub mod tars;

use std::time::Duration;

use bytes::{Bytes, BytesMut};

pub use registry::Registry;

/// What a frame is, as the proxy handles it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A request that expects a response.
    Request,
    /// A request that expects none.
    Oneway,
    Response,
    /// A keepalive request: answered by whoever receives it, never forwarded.
    Heartbeat,
    HeartbeatReply,
    /// The peer is going away: send it no new requests.
    Goaway,
}

/// One decoded frame: the fields the proxy reads, and the whole frame's bytes as they came.
#[derive(Debug, Clone)]
pub struct Frame {
    pub kind: Kind,
    pub request_id: u64,
    /// A response's status in the protocol's own numbers (0 for requests).
    pub status: u32,
    /// How long the caller will wait, when the frame says (bolt's timeout field, dubbo's
    /// `timeout` attachment).
    pub timeout: Option<Duration>,
    /// Headers routes match on: the frame's own header map, and for dubbo the fields of its
    /// body (`service`, `method`, `version`, ...).
    pub headers: Vec<(String, String)>,
    /// The whole frame, shared rather than copied until it is written out.
    pub raw: Bytes,
}

impl Frame {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Whether bytes at the start of a connection are this protocol's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detection {
    Yes,
    /// Too few bytes to tell.
    NeedMore,
    No,
}

/// A frame that cannot be decoded. The connection it came on cannot go on.
#[derive(Debug)]
pub struct Error {
    pub problem: String,
    /// The protocol's error response to send before closing, when the frame's header was
    /// readable enough to address one.
    pub reply: Option<BytesMut>,
}

impl Error {
    fn new(problem: impl Into<String>) -> Error {
        Error {
            problem: problem.into(),
            reply: None,
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.problem)
    }
}

/// Why the proxy answers a request itself, as MOSN's HTTP-like codes name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The frame could not be read.
    Codec,
    /// No route matched.
    NoRoute,
    /// The route's cluster has no host to send to, or none could be reached.
    NoHealthyUpstream,
    /// A circuit breaker is open.
    Overflow,
    /// The upstream did not answer in time.
    Timeout,
    /// The upstream connection closed before the response came.
    UpstreamReset,
}

impl Failure {
    /// The HTTP status standing for this failure (MOSN's api codes), which each codec maps
    /// to its own status.
    pub fn http_status(self) -> u16 {
        match self {
            Failure::Codec => 400,
            Failure::NoRoute => 404,
            Failure::NoHealthyUpstream | Failure::UpstreamReset => 502,
            Failure::Overflow => 503,
            Failure::Timeout => 504,
        }
    }

    /// A few words on the failure, for protocols whose error answers carry a message.
    pub fn reason(self) -> &'static str {
        match self {
            Failure::Codec => "bad request",
            Failure::NoRoute => "router unavailable",
            Failure::NoHealthyUpstream => "no health upstream",
            Failure::Overflow => "upstream overflow",
            Failure::Timeout => "timeout",
            Failure::UpstreamReset => "upstream reset",
        }
    }
}

/// The largest frame a connection accepts unless configured otherwise: bigger ones are refused
/// rather than buffered.
pub const DEFAULT_MAX_FRAME: usize = 16 * 1024 * 1024;

/// An RPC protocol's codec. Implementations are stateless: one serves every connection.
pub trait Codec: Send + Sync + 'static {
    /// The name configs use (`bolt`, `dubbo`, ...).
    fn name(&self) -> &'static str;

    /// Whether a connection starting with `start` speaks this protocol.
    fn detect(&self, start: &[u8]) -> Detection;

    /// Cuts the next whole frame off the front of `buf`; `Ok(None)` while it is incomplete.
    /// A frame longer than `max_frame` is an error, whatever has arrived of it.
    fn decode(&self, buf: &mut BytesMut, max_frame: usize) -> Result<Option<Frame>, Error>;

    /// Appends the whole frame `frame` to `out` with its request id replaced by `id` (and
    /// anything that covers the id, such as a CRC, made true again).
    fn write_with_id(&self, frame: &[u8], id: u64, out: &mut BytesMut);

    /// The largest request id the protocol carries; ids wrap after it.
    fn max_request_id(&self) -> u64;

    /// The protocol's error response to `request`, for a request the proxy answers itself.
    fn hijack(&self, request: &Frame, failure: Failure) -> BytesMut;

    /// A keepalive request with id `id`, or `None` when the protocol has none the proxy sends.
    fn heartbeat(&self, id: u64) -> Option<BytesMut>;

    /// The answer to a heartbeat `request`.
    fn heartbeat_reply(&self, request: &Frame) -> BytesMut;

    /// A frame telling the peer to send no new requests, when the protocol has one.
    fn goaway(&self) -> Option<BytesMut> {
        None
    }

    /// The protocol's status for an HTTP status code.
    fn status_for_http(&self, code: u16) -> u32;

    /// The HTTP status code standing for one of the protocol's statuses (for access logs).
    fn http_status(&self, status: u32) -> u16;
}
