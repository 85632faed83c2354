//! The filter chain over real sockets: a listener filter refuses connections, a read filter
//! holds data back until a line is complete, a write filter changes what goes out, and the
//! terminal filter sees only what the chain lets through: whether it reads the socket itself
//! or through `FilteredIo`, as the HTTP/2 codec does.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::BytesMut;
use mosn_config::address::ListenAddress;
use mosn_net::connection::ConnectionInfo;
use mosn_net::drain::DrainTrigger;
use mosn_net::filter::BoxFuture;
use mosn_net::filtered_io::FilteredIo;
use mosn_net::listener::{BoundSocket, ListenerSpec, serve};
use mosn_net::stats::ListenerStats;
use mosn_net::{
    ChainBuilder, Connection, FilterChainFactory, FilterStatus, ListenerFilter,
    NetworkFilterFactory, ReadFilter, Stream, TerminalFilter, WriteFilter,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Refuses every connection while `refuse` is set.
struct Gate {
    refuse: AtomicBool,
}

impl ListenerFilter for Gate {
    fn on_accept(&self, _: &mut ConnectionInfo, _: &Stream) -> FilterStatus {
        if self.refuse.load(Ordering::Relaxed) {
            FilterStatus::Stop
        } else {
            FilterStatus::Continue
        }
    }
}

/// Holds data back until it ends with a newline.
struct Lines;

impl ReadFilter for Lines {
    fn on_data(&mut self, data: &mut BytesMut, end_of_stream: bool) -> FilterStatus {
        if data.ends_with(b"\n") || end_of_stream {
            FilterStatus::Continue
        } else {
            FilterStatus::Stop
        }
    }
}

/// Upper-cases what goes back to the client.
struct Shout;

impl WriteFilter for Shout {
    fn on_write(&mut self, data: &mut BytesMut) -> FilterStatus {
        data.make_ascii_uppercase();
        FilterStatus::Continue
    }
}

/// Echoes each chunk the read filters pass, through the write filters.
struct Echo;

impl TerminalFilter for Echo {
    fn serve(&self, mut connection: Connection) -> BoxFuture {
        Box::pin(async move {
            let mut buf = BytesMut::with_capacity(1024);
            loop {
                buf.reserve(1024);
                let Ok(n) = connection.stream.read_buf(&mut buf).await else {
                    return;
                };
                if connection.read_filters.on_data(&mut buf, n == 0) == FilterStatus::Stop {
                    continue;
                }
                if connection.write_filters.on_write(&mut buf) == FilterStatus::Continue {
                    let _ = connection.stream.write_all(&buf).await;
                }
                buf.clear();
                if n == 0 {
                    return;
                }
            }
        })
    }
}

/// Echoes what it reads, as a codec that drives its own reads and writes (`h2`) would see the
/// connection: through [`FilteredIo`].
struct CodecEcho;

impl TerminalFilter for CodecEcho {
    fn serve(&self, connection: Connection) -> BoxFuture {
        Box::pin(echo(FilteredIo::new(connection)))
    }
}

async fn echo(mut io: FilteredIo) {
    let mut buf = [0u8; 1024];
    while let Ok(n @ 1..) = io.read(&mut buf).await {
        if io.write_all(&buf[..n]).await.is_err() || io.flush().await.is_err() {
            return;
        }
    }
}

/// Reads once through the read filters, as the proxy's protocol detection does, then hands
/// the connection, with what it read, to a codec: [`CodecEcho`]'s loop.
struct DetectThenEcho;

impl TerminalFilter for DetectThenEcho {
    fn serve(&self, mut connection: Connection) -> BoxFuture {
        Box::pin(async move {
            let mut read = BytesMut::with_capacity(1024);
            if connection.stream.read_buf(&mut read).await.is_err() {
                return;
            }
            match connection.read_filters.on_data(&mut read, false) {
                FilterStatus::Continue => connection.early = read,
                FilterStatus::Stop => connection.held = read,
            }
            echo(FilteredIo::new(connection)).await;
        })
    }
}

/// Lines held back until whole and upper-cased on the way back, served by `terminal`.
struct ShoutingLines(Arc<dyn TerminalFilter>);

impl NetworkFilterFactory for ShoutingLines {
    fn add_to_chain(&self, chain: &mut ChainBuilder) {
        chain.add_read(Box::new(Lines));
        chain.add_write(Box::new(Shout));
        chain.terminate(Arc::clone(&self.0));
    }
}

/// A listener on a free port whose connections pass `gate`, then the chain `factory` builds;
/// it serves until its trigger is dropped.
fn listen(factory: ShoutingLines, gate: Arc<Gate>) -> (u16, Arc<ListenerStats>, DrainTrigger) {
    let address = ListenAddress::Tcp("127.0.0.1:0".parse().unwrap());
    let socket = BoundSocket::bind(&address, false).unwrap();
    socket.listen().unwrap();
    let port = socket.local_addr().unwrap().ip().unwrap().port();
    let stats = Arc::new(ListenerStats::default());
    let spec = Arc::new(ListenerSpec {
        name: "test".into(),
        address,
        reuseport: false,
        listener_filters: vec![gate as Arc<dyn ListenerFilter>],
        chain: FilterChainFactory::new(vec![Arc::new(factory)]),
        idle_timeout: None,
        stats: Arc::clone(&stats),
        tls: None,
        defer_accept: false,
    });
    let (trigger, drain) = mosn_net::drain::channel();
    tokio::spawn(serve(socket, spec, drain));
    (port, stats, trigger)
}

/// Sends half a line, which must not come back, then the rest, which must come back whole
/// and upper-cased.
async fn a_line_comes_back_whole_and_shouted(port: u16) {
    let mut client = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    client.write_all(b"hello ").await.unwrap();
    let mut early = [0u8; 1];
    let wait = std::time::Duration::from_millis(100);
    let held = tokio::time::timeout(wait, client.read(&mut early)).await;
    assert!(
        held.is_err(),
        "half a line went through the read filter that holds it back"
    );
    client.write_all(b"world\n").await.unwrap();
    let mut answer = [0u8; 12];
    tokio::time::timeout(
        std::time::Duration::from_secs(5),
        client.read_exact(&mut answer),
    )
    .await
    .expect("the line comes back")
    .unwrap();
    assert_eq!(
        &answer, b"HELLO WORLD\n",
        "the line comes back whole, upper-cased"
    );
}

fn open_gate() -> Arc<Gate> {
    Arc::new(Gate {
        refuse: AtomicBool::new(false),
    })
}

#[tokio::test]
async fn the_chain_filters_both_ways_and_the_listener_filter_can_refuse() {
    let gate = open_gate();
    let (port, stats, _trigger) = listen(ShoutingLines(Arc::new(Echo)), Arc::clone(&gate));
    a_line_comes_back_whole_and_shouted(port).await;

    gate.refuse.store(true, Ordering::Relaxed);
    let mut refused = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let mut byte = [0u8; 1];
    assert_eq!(
        refused.read(&mut byte).await.unwrap(),
        0,
        "a refused connection is closed"
    );
    assert_eq!(stats.connections_total(), 2);
}

#[tokio::test]
async fn a_codec_reading_and_writing_through_filtered_io_sees_the_filters_too() {
    let (port, _, _trigger) = listen(ShoutingLines(Arc::new(CodecEcho)), open_gate());
    a_line_comes_back_whole_and_shouted(port).await;
}

#[tokio::test]
async fn bytes_read_before_a_hand_over_reach_the_codec_once() {
    let (port, _, _trigger) = listen(ShoutingLines(Arc::new(DetectThenEcho)), open_gate());
    // Held back by the first read's filters, then let through with the rest of the line.
    a_line_comes_back_whole_and_shouted(port).await;
    // Let through by the first read's filters: it reaches the codec once.
    let mut client = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    client.write_all(b"one\n").await.unwrap();
    let mut answer = [0u8; 4];
    client.read_exact(&mut answer).await.unwrap();
    client.write_all(b"two\n").await.unwrap();
    client.shutdown().await.unwrap();
    let mut rest = Vec::new();
    client.read_to_end(&mut rest).await.unwrap();
    assert_eq!((&answer[..], &rest[..]), (&b"ONE\n"[..], &b"TWO\n"[..]));
}

#[tokio::test]
async fn a_read_filter_that_holds_everything_ends_the_connection_instead_of_growing() {
    let (port, _, _trigger) = listen(ShoutingLines(Arc::new(CodecEcho)), open_gate());
    let mut client = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    // No newline: the line filter holds all of it.
    let _ = client.write_all(&[b'a'; 64 * 1024]).await;
    let mut byte = [0u8; 1];
    let wait = std::time::Duration::from_secs(5);
    let read = tokio::time::timeout(wait, client.read(&mut byte)).await;
    assert!(
        matches!(read, Ok(Ok(0) | Err(_))),
        "the connection ends once its filters hold a full buffer: {read:?}"
    );
}
