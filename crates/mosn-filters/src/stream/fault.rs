//! `fault`: delays requests, or answers them with an error status, for a percentage of the
//! requests that match its headers and upstream cluster (MOSN's fault injection).

use std::sync::Arc;
use std::time::Duration;

use mosn_config::decode::decode;
use mosn_config::model::{HeaderMatcher, RouteMatch};
use mosn_config::{Diagnostics, GoDuration};
use mosn_proxy::stream_filter::{
    FilterFuture, ReceivePhase, ReceiverFilter, Reply, RequestState, StreamFilterChain,
    StreamFilterFactory, StreamStatus,
};
use mosn_router::{Matcher, Request};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::FilterContext;

pub const NAME: &str = "fault";

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Config {
    delay: Option<Delay>,
    abort: Option<Abort>,
    upstream_cluster: String,
    #[serde(deserialize_with = "mosn_config::decode::list")]
    headers: Vec<HeaderMatcher>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Delay {
    percentage: u32,
    fixed_delay: GoDuration,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Abort {
    status: u16,
    percentage: u32,
}

struct Fault {
    delay: Option<(u32, Duration)>,
    abort: Option<(u32, u16)>,
    upstream_cluster: Option<String>,
    headers: Matcher,
}

pub fn build(
    config: &Map<String, Value>,
    _: &FilterContext,
    path: &str,
    diags: &mut Diagnostics,
) -> Option<Arc<dyn StreamFilterFactory>> {
    let config: Config = decode(&Value::Object(config.clone()), path, diags)?;
    if let Some(abort) = &config.abort
        && !(200..=599).contains(&abort.status)
    {
        diags.error(
            format!("{path}.abort.status"),
            format!("{} is not an HTTP error status", abort.status),
        );
        return None;
    }
    let headers = Matcher::new(&RouteMatch {
        headers: config.headers,
        ..RouteMatch::default()
    })
    .map_err(|problem| diags.error(format!("{path}.headers"), problem))
    .ok()?;
    Some(Arc::new(FaultFactory(Arc::new(Fault {
        delay: config
            .delay
            .map(|d| (d.percentage.min(100), d.fixed_delay.get())),
        abort: config.abort.map(|a| (a.percentage.min(100), a.status)),
        upstream_cluster: Some(config.upstream_cluster).filter(|c| !c.is_empty()),
        headers,
    }))))
}

struct FaultFactory(Arc<Fault>);

impl StreamFilterFactory for FaultFactory {
    fn add_to_chain(&self, chain: &mut StreamFilterChain) {
        chain.add_receiver(Box::new(FaultFilter(Arc::clone(&self.0))));
    }
}

struct FaultFilter(Arc<Fault>);

struct HeaderView<'a>(&'a mosn_protocol::http1::RequestHead);

impl Request for HeaderView<'_> {
    fn path(&self) -> &str {
        std::str::from_utf8(self.0.path()).unwrap_or("")
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.0.headers.get_str(name)
    }
    fn variable(&self, _: &str) -> Option<String> {
        None // fault matches headers only
    }
}

/// True for `percentage` percent of calls.
fn lucky(percentage: u32) -> bool {
    fastrand::u32(0..100) < percentage
}

impl ReceiverFilter for FaultFilter {
    /// Runs once the cluster is known, so `upstream_cluster` can be matched.
    fn phase(&self) -> ReceivePhase {
        ReceivePhase::AfterChooseHost
    }

    fn on_receive<'a>(&'a mut self, request: RequestState<'a>) -> FilterFuture<'a> {
        Box::pin(async move {
            let fault = &self.0;
            let cluster_ok = fault
                .upstream_cluster
                .as_deref()
                .is_none_or(|want| request.cluster == Some(want));
            if !cluster_ok || !fault.headers.matches(&HeaderView(request.head)) {
                return StreamStatus::Continue;
            }
            if let Some((percentage, delay)) = fault.delay
                && lucky(percentage)
            {
                tokio::time::sleep(delay).await;
            }
            if let Some((percentage, status)) = fault.abort
                && lucky(percentage)
            {
                *request.reply = Some(Reply {
                    status,
                    body: "fault injected\n".to_string(),
                    flag: Some("FI"),
                });
                return StreamStatus::Stop;
            }
            StreamStatus::Continue
        })
    }
}
