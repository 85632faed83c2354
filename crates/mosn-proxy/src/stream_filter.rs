//! Stream filters: per-request code configured on a listener (`stream_filters`) by MOSN type
//! name. Receiver filters see the request at one of three phases, sender filters see the
//! response; each may change what it sees, keep values in the request's variables, or answer
//! the request itself. A filter that wants the body gets it whole (buffered, within a limit).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::BytesMut;
use mosn_protocol::http1::{Headers, RequestHead, ResponseHead};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamStatus {
    /// On to the next filter.
    Continue,
    /// Stop the chain: the filter has set a reply, or the request goes on without the others.
    Stop,
}

/// The receive phases, in MOSN's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReceivePhase {
    #[default]
    BeforeRoute,
    AfterRoute,
    AfterChooseHost,
}

/// The proxy's own answer, set by a filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    /// The response flag access logs show for it (`FI` for an injected fault).
    pub flag: Option<&'static str>,
}

/// The request as receiver filters see it.
pub struct RequestState<'a> {
    pub head: &'a mut RequestHead,
    /// The whole body, when a filter asked for it.
    pub body: Option<&'a mut BytesMut>,
    pub trailers: Option<&'a mut Headers>,
    pub variables: &'a mut HashMap<String, String>,
    /// The cluster chosen for the request (from the AfterChooseHost phase on).
    pub cluster: Option<&'a str>,
    /// Set to answer the request instead of forwarding it.
    pub reply: &'a mut Option<Reply>,
}

/// The response as sender filters see it.
pub struct ResponseState<'a> {
    pub request: &'a RequestHead,
    pub head: &'a mut ResponseHead,
    pub variables: &'a mut HashMap<String, String>,
}

pub type FilterFuture<'a> = Pin<Box<dyn Future<Output = StreamStatus> + Send + 'a>>;

pub trait ReceiverFilter: Send {
    fn phase(&self) -> ReceivePhase {
        ReceivePhase::BeforeRoute
    }

    /// Whether this filter needs the whole request body before it runs.
    fn wants_body(&self) -> bool {
        false
    }

    fn on_receive<'a>(&'a mut self, request: RequestState<'a>) -> FilterFuture<'a>;

    /// Called once the request is over, however it ended.
    fn on_destroy(&mut self) {}
}

pub trait SenderFilter: Send {
    fn on_send<'a>(&'a mut self, response: ResponseState<'a>) -> FilterFuture<'a>;

    fn on_destroy(&mut self) {}
}

/// Built once from a filter's config; adds the filter's per-request instances to each request.
pub trait StreamFilterFactory: Send + Sync {
    fn add_to_chain(&self, chain: &mut StreamFilterChain);
}

/// One request's stream filters.
#[derive(Default)]
pub struct StreamFilterChain {
    pub(crate) receivers: Vec<Box<dyn ReceiverFilter>>,
    pub(crate) senders: Vec<Box<dyn SenderFilter>>,
}

impl StreamFilterChain {
    pub fn add_receiver(&mut self, filter: Box<dyn ReceiverFilter>) {
        self.receivers.push(filter);
    }

    pub fn add_sender(&mut self, filter: Box<dyn SenderFilter>) {
        self.senders.push(filter);
    }

    /// Builds a request's chain from a listener's factories.
    pub fn build(factories: &[Arc<dyn StreamFilterFactory>]) -> StreamFilterChain {
        let mut chain = StreamFilterChain::default();
        for factory in factories {
            factory.add_to_chain(&mut chain);
        }
        chain
    }

    pub fn wants_request_body(&self) -> bool {
        self.receivers.iter().any(|f| f.wants_body())
    }
}

impl Drop for StreamFilterChain {
    fn drop(&mut self) {
        self.receivers.iter_mut().for_each(|f| f.on_destroy());
        self.senders.iter_mut().for_each(|f| f.on_destroy());
    }
}
