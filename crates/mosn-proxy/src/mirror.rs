//! Shadow traffic: a copy of a request is sent to another cluster, and its answer read and
//! dropped. The client never waits for it and never sees it.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use mosn_net::tls::AppProtocol;
use mosn_protocol::http1::head::parse_response;
use mosn_protocol::http1::{Limits, framing};
use mosn_upstream::Cluster;
use mosn_upstream::http1_pool::Pooled;
use mosn_upstream::lb::LbContext;
use mosn_upstream::resources::ConnectionSlots;

use crate::body::{self, Out, Sink, Source};
use crate::downstream::READ_SIZE;

/// A sink that drops what it is given.
struct Discard;

impl Sink for Discard {
    async fn send(&mut self, _: &mut BytesMut) -> io::Result<()> {
        Ok(())
    }
}

struct Reader<'a> {
    stream: &'a mosn_net::Stream,
    buf: BytesMut,
}

impl Source for Reader<'_> {
    fn buffered(&mut self) -> &mut BytesMut {
        &mut self.buf
    }

    async fn fill(&mut self) -> io::Result<usize> {
        self.stream.read_reserving(&mut self.buf, READ_SIZE).await
    }
}

/// Sends `request` (an encoded head and its whole body) to a host of `cluster`, in a task of
/// its own. `method` decides how the response is framed.
/// A mirror request ends after this, answered or not: nothing waits for it.
const MIRROR_TIMEOUT: Duration = Duration::from_secs(60);

pub fn spawn(cluster: Arc<Cluster>, method: Bytes, request: Bytes, limits: Limits) {
    tokio::spawn(async move {
        let sent =
            tokio::time::timeout(MIRROR_TIMEOUT, send(&cluster, &method, &request, &limits)).await;
        match sent {
            Ok(Ok(())) => {}
            Ok(Err(problem)) => {
                tracing::debug!(cluster = %cluster.name, "mirror request failed: {problem}")
            }
            Err(_) => tracing::debug!(cluster = %cluster.name, "mirror request timed out"),
        }
    });
}

async fn send(
    cluster: &Cluster,
    method: &[u8],
    request: &[u8],
    limits: &Limits,
) -> Result<(), String> {
    let host = cluster
        .choose_host(&[], &LbContext::default())
        .ok_or("no host")?;
    let Pooled {
        stream,
        served,
        slots,
    } = match host.http1_pool.take(cluster.idle_timeout) {
        Some(pooled) => pooled,
        None => {
            let overflow = || "circuit breaker open".to_string();
            let slots = ConnectionSlots::new(
                cluster
                    .resources
                    .connections
                    .acquire()
                    .ok_or_else(overflow)?,
                host.connections.acquire().ok_or_else(overflow)?,
            );
            let stream = cluster.connect_host(&host, AppProtocol::Http1).await?;
            Pooled {
                stream,
                served: 0,
                slots,
            }
        }
    };
    stream.write_all(request).await.map_err(|e| e.to_string())?;
    let mut reader = Reader {
        stream: &stream,
        buf: BytesMut::new(),
    };
    let head = loop {
        if let Some(head) = parse_response(&mut reader.buf, limits).map_err(|e| e.to_string())? {
            if !(100..200).contains(&head.status) {
                break head;
            }
            continue;
        }
        if reader.fill().await.map_err(|e| e.to_string())? == 0 {
            return Err("closed before answering".into());
        }
    };
    let kind = framing::response_body(method, &head).map_err(|e| e.to_string())?;
    body::forward(
        MIRROR_TIMEOUT,
        kind,
        &mut reader,
        &mut Discard,
        Out::Raw,
        0,
        limits,
    )
    .await
    .map_err(|_| "response body failed")?;
    let reusable = kind != mosn_protocol::http1::BodyKind::UntilClose
        && !head.headers.has_token("connection", "close");
    if reusable && reader.buf.is_empty() && served + 1 < cluster.max_request_per_conn {
        host.http1_pool.put(Pooled {
            stream,
            served: served + 1,
            slots,
        });
    }
    Ok(())
}
