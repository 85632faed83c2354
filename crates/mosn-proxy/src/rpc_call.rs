//! One RPC request from a client: routed by its headers (MOSN's headers-only "RPC rule", such
//! as a match on `service`), sent to a host of the route's cluster over that host's multiplexed
//! connection, and its response (or the protocol's own error response) handed back.

use std::sync::Arc;

use bytes::Bytes;
use mosn_net::tls::AppProtocol;
use mosn_protocol::xprotocol::{Codec, Failure, Frame, Kind};
use mosn_router::{Action, ForwardAction, Request};
use mosn_upstream::lb::{LbContext, hash_key};
use mosn_upstream::resources::ConnectionSlots;
use mosn_upstream::rpc_pool::RpcConnection;
use mosn_upstream::{Cluster, Host};

use crate::Shared;

/// What the router sees of an RPC request: its headers; it has no path.
struct RpcView<'a>(&'a Frame);

impl Request for RpcView<'_> {
    fn path(&self) -> &str {
        ""
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.0.header(name)
    }

    fn variable(&self, name: &str) -> Option<String> {
        self.0.header(name).map(str::to_string)
    }
}

/// Forwards `request` and returns the frame to send the client (with the client's request id
/// still to be set): the response, or the protocol's error response. `None` for a oneway
/// request, which gets no answer.
pub async fn call(shared: &Shared, codec: &Arc<dyn Codec>, request: &Frame) -> Option<Bytes> {
    let oneway = request.kind == Kind::Oneway;
    match forward(shared, codec, request, oneway).await {
        Ok(response) => response.map(|frame| frame.raw),
        Err(failure) if oneway => {
            tracing::debug!("oneway {} request dropped: {failure:?}", codec.name());
            None
        }
        Err(failure) => {
            tracing::debug!(
                "{} request answered by the proxy: {failure:?}",
                codec.name()
            );
            Some(codec.hijack(request, failure).freeze())
        }
    }
}

async fn forward(
    shared: &Shared,
    codec: &Arc<dyn Codec>,
    request: &Frame,
    oneway: bool,
) -> Result<Option<Frame>, Failure> {
    let view = RpcView(request);
    let route = shared.table.route("", &view).ok_or(Failure::NoRoute)?;
    let Action::Forward(forward) = route.action else {
        // A direct response or a redirect is HTTP's: an RPC client cannot be given one.
        return Err(Failure::NoRoute);
    };
    let cluster = forward
        .cluster
        .pick(&view)
        .and_then(|name| shared.clusters.get(name))
        .ok_or(Failure::NoHealthyUpstream)?;
    let _request_slot = cluster
        .resources
        .requests
        .acquire()
        .ok_or(Failure::Overflow)?;
    let context = lb_context(forward, request);
    let timeout = match request.timeout {
        Some(own) => own.min(forward.timeout),
        None => forward.timeout,
    };
    // A host that cannot be reached is skipped for the next one, as many times as the route
    // allows retries (once when it sets none). Nothing is sent twice: once a request is
    // written, its outcome is final.
    let attempts = 1 + forward.retry.as_ref().map_or(1, |p| p.num_retries);
    let mut tried = Vec::new();
    let mut last = Failure::NoHealthyUpstream;
    for _ in 0..attempts {
        let Some(host) = cluster.choose_host(&tried, &context) else {
            break;
        };
        tried.push(Arc::clone(&host));
        let connection = match connection(&cluster, &host, codec).await {
            Ok(connection) => connection,
            Err(failure) => {
                last = failure;
                continue;
            }
        };
        let _host_request = host.requests.acquire();
        let Ok(response) = connection.call(request.raw.clone(), oneway).await else {
            last = Failure::UpstreamReset;
            continue;
        };
        let Some(response) = response else {
            return Ok(None);
        };
        return match tokio::time::timeout(timeout, response).await {
            Ok(Ok(frame)) => Ok(Some(frame)),
            Ok(Err(_closed)) => Err(Failure::UpstreamReset),
            Err(_) => Err(Failure::Timeout),
        };
    }
    Err(last)
}

/// The hash of the first header the route's `hash_policy` names that the request carries.
fn lb_context(forward: &ForwardAction, request: &Frame) -> LbContext {
    let hash = forward.hash_policy.iter().find_map(|policy| {
        let header = policy.header.as_ref()?;
        request.header(&header.key).map(|v| hash_key(v.as_bytes()))
    });
    LbContext { hash }
}

/// The host's connection for `codec`, opened if there is none yet.
async fn connection(
    cluster: &Cluster,
    host: &Arc<Host>,
    codec: &Arc<dyn Codec>,
) -> Result<Arc<RpcConnection>, Failure> {
    host.rpc_pool
        .take_or_connect(codec, async || {
            let resources = &cluster.resources;
            let slots = ConnectionSlots::new(
                resources.connections.acquire().ok_or(Failure::Overflow)?,
                host.connections.acquire().ok_or(Failure::Overflow)?,
            );
            let stream = cluster
                .connect_host(host, AppProtocol::Unnamed)
                .await
                .map_err(|reason| {
                    tracing::debug!(host = %host.address, "upstream connect failed: {reason}");
                    Failure::NoHealthyUpstream
                })?;
            Ok(RpcConnection::start(
                stream,
                Arc::clone(codec),
                slots,
                cluster.keepalive,
            ))
        })
        .await
}
