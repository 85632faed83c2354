//! `payload_limit`: answers requests whose body is over `max_entity_size` with `http_status`
//! (413 by default), before they go upstream.

use std::sync::Arc;

use mosn_config::Diagnostics;
use mosn_config::decode::decode;
use mosn_proxy::stream_filter::{
    FilterFuture, ReceiverFilter, Reply, RequestState, StreamFilterChain, StreamFilterFactory,
    StreamStatus,
};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::FilterContext;

pub const NAME: &str = "payload_limit";

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Config {
    /// MOSN's JSON tag for this key ends with a space; both spellings are read.
    #[serde(alias = "max_entity_size ")]
    max_entity_size: u64,
    http_status: u16,
}

pub fn build(
    config: &Map<String, Value>,
    _: &FilterContext,
    path: &str,
    diags: &mut Diagnostics,
) -> Option<Arc<dyn StreamFilterFactory>> {
    let config: Config = decode(&Value::Object(config.clone()), path, diags)?;
    if config.max_entity_size == 0 {
        diags.warn(
            format!("{path}.max_entity_size"),
            "0: no limit, the filter does nothing",
        );
    }
    let status = if config.http_status == 0 {
        413
    } else {
        config.http_status
    };
    Some(Arc::new(PayloadLimit {
        max: config.max_entity_size,
        status,
    }))
}

#[derive(Clone, Copy)]
struct PayloadLimit {
    max: u64,
    status: u16,
}

impl StreamFilterFactory for PayloadLimit {
    fn add_to_chain(&self, chain: &mut StreamFilterChain) {
        if self.max > 0 {
            chain.add_receiver(Box::new(*self));
        }
    }
}

impl ReceiverFilter for PayloadLimit {
    fn wants_body(&self) -> bool {
        true
    }

    fn on_receive<'a>(&'a mut self, request: RequestState<'a>) -> FilterFuture<'a> {
        let size = request.body.as_ref().map_or(0, |body| body.len() as u64);
        if size > self.max {
            *request.reply = Some(Reply {
                status: self.status,
                body: String::new(),
                flag: Some("RE"),
            });
        }
        Box::pin(std::future::ready(StreamStatus::Continue))
    }
}
