//! Misbehaving HTTP/2 clients: floods of resets, CONTINUATION frames, SETTINGS and PINGs.
//! Each must end with a GOAWAY or be absorbed, with mosn's memory bounded and other clients
//! still served.

mod common;

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::h2_frames::*;
use common::*;
use serde_json::json;

/// An `Http2` listener in front of `upstream` (HTTP/1.1).
fn start_proxy(upstream: u16) -> (Mosn, u16) {
    let port = free_port();
    let mut config = config(
        json!([proxy_listener("h2", port, "all", ("Http2", "Http1"))]),
        json!([cluster("up", &[format!("127.0.0.1:{upstream}")])]),
        free_port(),
    );
    config["servers"][0]["routers"] = json!([{ "router_config_name": "all",
        "virtual_hosts": [{ "name": "all", "domains": ["*"],
            "routers": [{ "match": { "prefix": "/" }, "route": { "cluster_name": "up" } }] }] }]);
    (Mosn::start(&config, port), port)
}

/// mosn's memory grew by less than 16 MiB since `before` (KiB).
fn assert_memory_bounded(mosn: &Mosn, before: u64) {
    let grown = rss_kib(mosn.process.pid()).saturating_sub(before);
    assert!(grown < 16 * 1024, "mosn grew by {grown} KiB");
}

/// nginx behind an `Http2` listener, with mosn's memory before the attack.
struct Target {
    nginx: Nginx,
    mosn: Mosn,
    port: u16,
    rss_before: u64,
}

impl Target {
    fn start() -> Target {
        let nginx = Nginx::start();
        let (mosn, port) = start_proxy(nginx.port);
        let rss_before = rss_kib(mosn.process.pid());
        Target {
            nginx,
            mosn,
            port,
            rss_before,
        }
    }

    /// After an attack: mosn's memory is bounded, a plain client still gets nginx's answer,
    /// and nginx saw that client's request only.
    fn assert_unharmed(&self) {
        assert_memory_bounded(&self.mosn, self.rss_before);
        let url = format!("http://127.0.0.1:{}/", self.port);
        let (ok, body) = curl(&["-sS", "-f", "--http2-prior-knowledge", &url]);
        assert!(ok && body == NGINX_BODY.as_bytes(), "curl was not served");
        assert!(self.nginx.logged("\"curl/"));
        let log = self.nginx.access_log();
        assert_eq!(log.lines().count(), 1, "{log}");
    }
}

/// Rapid reset, paced: each batch opens 100 streams and resets the 100 of the batch before,
/// once the proxy has started their upstream requests, so that no reset finds its stream still
/// waiting to be accepted (`h2` refuses those itself).
#[test]
fn a_client_resetting_its_streams_before_their_answer_is_cut_off() {
    // Each stream the proxy starts costs the black hole a connection: a cancelled HTTP/1.1
    // request takes its connection with it.
    let (upstream, upstream_connections) = black_hole();
    let (mosn, port) = start_proxy(upstream);
    let rss_before = rss_kib(mosn.process.pid());
    let mut stream = connect(port);
    let mut reader = stream.try_clone().unwrap();
    let reached = Arc::clone(&upstream_connections);
    let ended = Arc::new(AtomicBool::new(false));
    let seen_end = Arc::clone(&ended);
    let writer = std::thread::spawn(move || {
        let block = get_block("/");
        let mut sent = 0;
        for batch in 0..100u32 {
            // Once the proxy has ended the connection (its FIN read), the streams written
            // after it would only fill socket buffers while it lets its streams go.
            if seen_end.load(Ordering::Relaxed) {
                break;
            }
            let mut bytes = Vec::new();
            for i in 0..100u32 {
                let id = 2 * (batch * 100 + i) + 1;
                bytes.extend(frame(HEADERS, END_HEADERS | END_STREAM, id, &block));
                if batch > 0 {
                    bytes.extend(frame(RST_STREAM, 0, id - 200, &CANCEL.to_be_bytes()));
                }
            }
            if stream.write_all(&bytes).is_err() {
                break;
            }
            sent += 100;
            let deadline = Instant::now() + Duration::from_secs(5);
            while reached.load(Ordering::Relaxed) < sent
                && !seen_end.load(Ordering::Relaxed)
                && Instant::now() < deadline
            {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        sent
    });
    let ending = read_until_closed(&mut reader, Duration::from_secs(30));
    ended.store(true, Ordering::Relaxed);
    let sent = writer.join().unwrap();
    assert_eq!(ending.goaway, Some(ENHANCE_YOUR_CALM), "{ending:?}");
    assert!(ending.closed, "{ending:?}");
    assert!(
        mosn.logged("GOAWAY ENHANCE_YOUR_CALM"),
        "the proxy's own limit, not h2's"
    );
    assert!(
        sent <= 1000,
        "{sent} streams were sent before the connection closed"
    );
    let reached = upstream_connections.load(Ordering::Relaxed);
    assert!(reached <= 1000, "{reached} requests reached the upstream");
    assert_memory_bounded(&mosn, rss_before);
}

/// A header block that never ends: HEADERS without END_HEADERS, then CONTINUATION frames of
/// one header each, far past the 64 KiB header list limit.
#[test]
fn a_continuation_flood_gets_goaway() {
    let target = Target::start();
    let mut stream = connect(target.port);
    let mut reader = stream.try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        stream
            .write_all(&frame(HEADERS, 0, 1, &get_block("/")))
            .unwrap();
        let mut header = vec![0x00]; // literal without indexing, new name
        literal(&mut header, b"x-flood");
        literal(&mut header, &[b'a'; 100]);
        let continuation = frame(CONTINUATION, 0, 1, &header);
        let mut sent = 0usize;
        for _ in 0..1000 {
            if stream.write_all(&continuation.repeat(100)).is_err() {
                break;
            }
            sent += 100;
        }
        sent
    });
    let ending = read_until_closed(&mut reader, Duration::from_secs(20));
    let sent = writer.join().unwrap();
    assert!(ending.goaway.is_some() && ending.closed, "{ending:?}");
    assert!(
        sent < 100_000,
        "all {sent} CONTINUATION frames were taken in"
    );
    target.assert_unharmed();
}

/// An HPACK bomb: one 4 KiB header put in the dynamic table, then referred to by its one-byte
/// index 1,000 times, which would decode to 4 MiB of headers.
#[test]
fn a_header_block_that_decodes_past_the_limit_is_refused() {
    let target = Target::start();
    let mut stream = connect(target.port);
    let mut block = get_block("/");
    block.extend([0x40, 0x07]); // literal with incremental indexing, new name of 7 bytes
    block.extend(b"x-large");
    let value = [b'b'; 4000];
    block.extend([0x7f, 0xa1, 0x1e]); // length 4000: 127 + 3873 as a 7-bit prefix integer
    block.extend(value);
    block.extend(std::iter::repeat_n(0xbe, 1000)); // index 62, the entry just added
    stream
        .write_all(&frame(HEADERS, END_HEADERS | END_STREAM, 1, &block))
        .unwrap();
    let ending = read_until_closed(&mut stream, Duration::from_secs(10));
    assert!(
        ending.goaway.is_some() || ending.answered == [1],
        "{ending:?}"
    );
    target.assert_unharmed();
}

/// SETTINGS and PING frames, each of which asks for an answer, sent without ever reading the
/// answers: the proxy stops reading once its answers cannot be written, so the flood is held
/// in socket buffers, not in mosn's memory.
#[test]
fn a_settings_and_ping_flood_from_a_client_that_never_reads_is_held_back() {
    let target = Target::start();
    let mut stream = connect(target.port);
    stream
        .set_write_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    // SETTINGS_INITIAL_WINDOW_SIZE = 65535, as often as asked; PING with any payload.
    let settings = frame(SETTINGS, 0, 0, &[0, 4, 0, 0, 0xff, 0xff]);
    let ping = frame(PING, 0, 0, b"12345678");
    let batch = [settings, ping].concat().repeat(10_000);
    let limit = 256 << 20;
    let mut written = 0usize;
    while written < limit {
        match stream.write(&batch) {
            Ok(n) => written += n,
            Err(_) => break,
        }
    }
    assert!(
        written < limit,
        "the proxy took in {written} bytes of flood"
    );
    target.assert_unharmed();
}
