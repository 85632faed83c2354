//! What the proxy notes about one request for its access log.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

#[derive(Debug)]
pub struct Record {
    pub start: SystemTime,
    /// The same start on the monotonic clock; `None` when nothing will be logged.
    pub started: Option<Instant>,
    /// From the start until the request was fully received.
    pub request_received: Option<Duration>,
    /// From the start until the response head arrived from upstream.
    pub response_received: Option<Duration>,
    /// From the start until the response was fully sent.
    pub finished: Option<Duration>,
    pub bytes_received: u64,
    pub bytes_sent: u64,
    pub status: u16,
    pub flag: Option<&'static str>,
    pub upstream_host: Option<String>,
    pub upstream_cluster: Option<String>,
    pub upstream_local: Option<String>,
    pub connection_id: u64,
    pub listener: Arc<str>,
    pub downstream_local: String,
    pub downstream_remote: String,
}

impl Record {
    /// `addresses` (local, remote) are `None` when nothing will be logged: neither clock is read
    /// then either.
    pub fn new(
        connection_id: u64,
        listener: Arc<str>,
        addresses: Option<(String, String)>,
    ) -> Record {
        let logging = addresses.is_some();
        let start = if logging {
            SystemTime::now()
        } else {
            SystemTime::UNIX_EPOCH
        };
        let (downstream_local, downstream_remote) = addresses.unwrap_or_default();
        Record {
            start,
            started: logging.then(Instant::now),
            request_received: None,
            response_received: None,
            finished: None,
            bytes_received: 0,
            bytes_sent: 0,
            status: 0,
            flag: None,
            upstream_host: None,
            upstream_cluster: None,
            upstream_local: None,
            connection_id,
            listener,
            downstream_local,
            downstream_remote,
        }
    }
}
