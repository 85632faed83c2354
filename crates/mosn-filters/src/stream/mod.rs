//! Stream filters, registered under MOSN's names; the others MOSN has are reported as not
//! built yet.

mod fault;
mod payload_limit;

use mosn_net::registry::Registry;
use mosn_proxy::stream_filter::StreamFilterFactory;

use crate::FilterContext;

pub type StreamFilterRegistry = Registry<dyn StreamFilterFactory, FilterContext>;

const NOT_YET_SUPPORTED: &[&str] = &[
    "gzip",
    "fault_tolerance",
    "dsl",
    "mirror",
    "dubbo_stream",
    "grpc_metric",
    "ip_access",
    "flowControlFilter",
    "header_to_metadata",
    "proxywasm",
    "seata",
    "transcoder",
    "jwt_authn",
    "rbac",
];

pub fn registry() -> StreamFilterRegistry {
    let mut registry = Registry::new("stream filter", NOT_YET_SUPPORTED);
    registry.register(fault::NAME, Box::new(fault::build));
    registry.register(payload_limit::NAME, Box::new(payload_limit::build));
    registry
}
