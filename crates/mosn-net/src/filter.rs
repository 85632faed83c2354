//! The filter chains a connection goes through: listener filters at accept, then network
//! filters. Read filters see downstream bytes, write filters see bytes going back; the last
//! filter of a chain is a terminal filter that owns the connection (tcp_proxy, proxy).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;

use bytes::BytesMut;

use crate::connection::{Connection, ConnectionInfo};
use crate::stream::Stream;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterStatus {
    /// Pass on to the next filter.
    Continue,
    /// Stop here: a listener filter refuses the connection; a read or write filter holds the
    /// data back (it stays in the buffer until more arrives).
    Stop,
}

/// Runs once per accepted connection, before the network filters.
pub trait ListenerFilter: Send + Sync {
    fn on_accept(&self, info: &mut ConnectionInfo, stream: &Stream) -> FilterStatus;
}

/// Sees every chunk read from the downstream connection, in order, before the terminal does.
pub trait ReadFilter: Send {
    fn on_data(&mut self, data: &mut BytesMut, end_of_stream: bool) -> FilterStatus;
}

/// Sees every chunk about to be written to the downstream connection.
pub trait WriteFilter: Send {
    fn on_write(&mut self, data: &mut BytesMut) -> FilterStatus;
}

/// The most a read or write filter may hold back on a connection. What comes is the peer's
/// to choose, so a connection whose filters hold this much ends, with [`held_too_much`],
/// rather than letting its buffer grow.
pub const HOLD_LIMIT: usize = 16 * 1024;

/// The error that ends a connection whose filters held back [`HOLD_LIMIT`] bytes.
pub fn held_too_much() -> io::Error {
    io::Error::other("a filter held back a full buffer")
}

pub type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// The filter that takes over the connection once the chain is built.
pub trait TerminalFilter: Send + Sync {
    fn serve(&self, connection: Connection) -> BoxFuture;

    /// The application protocols it serves, by TLS ALPN names, preferred first: what a TLS
    /// listener offers when its `tls_context` names none.
    fn alpn(&self) -> Vec<Vec<u8>> {
        Vec::new()
    }

    /// Whether every connection it serves starts with bytes from the client (as HTTP and the
    /// RPC protocols do): its listener then need not hand a connection over before they come.
    fn client_speaks_first(&self) -> bool {
        false
    }

    /// This filter, handing the connections it does not serve on to `next`, the terminal
    /// filter configured after it (the proxy's `fallback_for_unknown_protocol`); `None` when
    /// it hands nothing on, and `next` then takes its place.
    fn followed_by(&self, _next: Arc<dyn TerminalFilter>) -> Option<Arc<dyn TerminalFilter>> {
        None
    }
}

/// Built once from a filter's config; adds the filter to each new connection's chain.
pub trait NetworkFilterFactory: Send + Sync {
    fn add_to_chain(&self, chain: &mut ChainBuilder);
}

/// The filters of one connection, as the factories add them.
#[derive(Default)]
pub struct ChainBuilder {
    pub(crate) read: ReadFilterChain,
    pub(crate) write: WriteFilterChain,
    pub(crate) terminal: Option<Arc<dyn TerminalFilter>>,
}

impl ChainBuilder {
    pub fn add_read(&mut self, filter: Box<dyn ReadFilter>) {
        self.read.0.push(filter);
    }

    pub fn add_write(&mut self, filter: Box<dyn WriteFilter>) {
        self.write.0.push(filter);
    }

    /// Sets the filter that serves the connection. As in MOSN, where a terminal filter stops
    /// the chain, the first one serves and later ones are never reached, unless the first
    /// hands some connections on to them.
    pub fn terminate(&mut self, terminal: Arc<dyn TerminalFilter>) {
        self.terminal = Some(match self.terminal.take() {
            None => terminal,
            Some(earlier) => earlier.followed_by(terminal).unwrap_or(earlier),
        });
    }
}

#[derive(Default)]
pub struct ReadFilterChain(Vec<Box<dyn ReadFilter>>);

impl ReadFilterChain {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Runs the filters in order until one stops.
    pub fn on_data(&mut self, data: &mut BytesMut, end_of_stream: bool) -> FilterStatus {
        run_chain(&mut self.0, |filter| filter.on_data(data, end_of_stream))
    }
}

#[derive(Default)]
pub struct WriteFilterChain(Vec<Box<dyn WriteFilter>>);

impl WriteFilterChain {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn on_write(&mut self, data: &mut BytesMut) -> FilterStatus {
        run_chain(&mut self.0, |filter| filter.on_write(data))
    }
}

fn run_chain<F: ?Sized>(
    filters: &mut [Box<F>],
    mut call: impl FnMut(&mut F) -> FilterStatus,
) -> FilterStatus {
    for filter in filters {
        if call(filter) == FilterStatus::Stop {
            return FilterStatus::Stop;
        }
    }
    FilterStatus::Continue
}

/// The network filter chain of a listener: the factories, in config order.
#[derive(Default, Clone)]
pub struct FilterChainFactory {
    factories: Vec<Arc<dyn NetworkFilterFactory>>,
}

impl FilterChainFactory {
    pub fn new(factories: Vec<Arc<dyn NetworkFilterFactory>>) -> Self {
        FilterChainFactory { factories }
    }

    /// Whether a connection would have a filter to serve it (else it is accepted and closed).
    pub fn serves_connections(&self) -> bool {
        self.build().terminal.is_some()
    }

    /// The ALPN names of the filter that serves connections.
    pub fn alpn(&self) -> Vec<Vec<u8>> {
        self.build().terminal.map(|t| t.alpn()).unwrap_or_default()
    }

    /// Whether the filter that serves connections waits for the client's bytes first.
    pub fn client_speaks_first(&self) -> bool {
        self.build()
            .terminal
            .is_some_and(|t| t.client_speaks_first())
    }

    pub fn build(&self) -> ChainBuilder {
        let mut chain = ChainBuilder::default();
        for factory in &self.factories {
            factory.add_to_chain(&mut chain);
        }
        chain
    }
}
