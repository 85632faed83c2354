//! HTTP/2 connection events end to end: PING keepalive both ways, an upstream's GOAWAY and
//! stream limit, and resets passed on between the two sides.

mod common;

use std::io::Write;
use std::process::Command;
use std::time::{Duration, Instant};

use common::h2_frames::*;
use common::*;
use serde_json::{Value, json};

/// PINGs every 500 ms, each to be answered within 500 ms.
fn fast_keepalive() -> Value {
    json!({ "Http2": { "connection_keepalive": { "interval": "500ms", "timeout": "500ms" } } })
}

/// A proxy listener speaking `protocols`, routing everything to `upstream` with a 30 s
/// timeout, with `extend_config`.
fn start_proxy(protocols: (&str, &str), upstream: &str, extend: Value) -> (Mosn, u16) {
    start_proxy_idle(protocols, upstream, extend, None)
}

/// The same, with the listener's `connection_idle_timeout`.
fn start_proxy_idle(
    protocols: (&str, &str),
    upstream: &str,
    extend: Value,
    idle_timeout: Option<&str>,
) -> (Mosn, u16) {
    let port = free_port();
    let mut listener = proxy_listener("p", port, "all", protocols);
    listener["filter_chains"][0]["filters"][0]["config"]["extend_config"] = extend;
    if let Some(idle) = idle_timeout {
        listener["connection_idle_timeout"] = json!(idle);
    }
    let mut config = config(
        json!([listener]),
        json!([cluster("up", &[upstream.to_string()])]),
        free_port(),
    );
    config["servers"][0]["routers"] = json!([{ "router_config_name": "all",
        "virtual_hosts": [{ "name": "all", "domains": ["*"], "routers": [{ "match": { "prefix": "/" },
            "route": { "cluster_name": "up", "timeout": "30s" } }] }] }]);
    (Mosn::start(&config, port), port)
}

/// nginx frozen (SIGSTOP) behind an HTTP/2 pool: its connection still looks open, so only the
/// unanswered PINGs tell; the request fails in seconds instead of at the route's 30 s timeout.
#[test]
fn a_frozen_upstream_is_dropped_when_it_stops_answering_pings() {
    let nginx = Nginx::start();
    let upstream = format!("127.0.0.1:{}", nginx.h2_port);
    let (mosn, port) = start_proxy(("Http1", "Http2"), &upstream, fast_keepalive());
    let url = format!("http://127.0.0.1:{port}/");
    let (ok, _) = curl(&["-sS", "-f", &url]);
    assert!(ok, "served while nginx runs");
    nginx.process.signal(libc::SIGSTOP);
    let started = Instant::now();
    let (_, status) = curl(&["-s", "-o", "/dev/null", "-w", "%{http_code}", &url]);
    let waited = started.elapsed();
    nginx.process.signal(libc::SIGCONT);
    assert_eq!(String::from_utf8_lossy(&status), "502");
    assert!(
        waited < Duration::from_secs(10),
        "answered after {waited:?}"
    );
    assert!(
        mosn.logged("upstream HTTP/2 connection did not answer a PING in time"),
        "{}",
        mosn.log()
    );
}

/// A client that stops reading (and so answering PINGs) is closed; grpcio, which answers
/// them, keeps a 3 s call open across several PINGs, to the upstream as well (a server told
/// to take that many: grpc's default policy refuses a PING every 500 ms).
#[test]
fn a_client_that_stops_answering_pings_is_closed() {
    let server = PeerServer::start(
        Command::new("python3")
            .arg(peer("grpc_server.py"))
            .arg("--permit-pings"),
    );
    let (mosn, port) = start_proxy(("Http2", "Http2"), &server.address(), fast_keepalive());
    let mut silent = connect(port);
    let ending = read_until_closed(&mut silent, Duration::from_secs(10));
    assert!(ending.closed, "{ending:?}");
    assert!(mosn.logged("HTTP/2 client did not answer a PING in time"));
    assert_eq!(grpc_call(port, "Sleep"), "ok late -");
    assert!(
        !mosn
            .log()
            .contains("upstream HTTP/2 connection did not answer"),
        "{}",
        mosn.log()
    );
}

/// A grpcio server that takes two streams at once per connection: six 3 s calls at once (on
/// one client connection) are spread over three upstream connections and all end in about
/// 3 s (queued on one connection, they would take 9). The client times the calls itself, so
/// the time it takes to start does not count.
#[test]
fn the_upstream_stream_limit_opens_more_connections() {
    let server = PeerServer::start(
        Command::new("python3")
            .arg(peer("grpc_server.py"))
            .arg("--max-streams=2"),
    );
    let (_mosn, port) = start_proxy(("Http2", "Http2"), &server.address(), json!({}));
    // A first call opens the pool's connection and learns the server's limit.
    assert_eq!(grpc_call(port, "Unary"), "ok echo:hi kept");
    let outcome = grpc_call(port, "Sleep*6");
    let peers: std::collections::HashSet<String> = (0..6)
        .filter_map(|_| server.line_starting("sleeping"))
        .collect();
    let seconds = match outcome.split(' ').collect::<Vec<_>>()[..] {
        ["ok", "6", seconds] => seconds.parse::<f64>().unwrap(),
        _ => panic!("{outcome}"),
    };
    assert!(seconds < 6.0, "the calls took {seconds} s");
    assert!(peers.len() >= 3, "the calls came over {peers:?}");
}

/// `peers/grpc_client.py` calling `call` through the proxy: its one line of outcome.
fn grpc_call(port: u16, call: &str) -> String {
    let output = Command::new("python3")
        .arg(peer("grpc_client.py"))
        .arg(format!("127.0.0.1:{port}"))
        .arg(call)
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// A client connection left without a stream for the listener's idle timeout gets GOAWAY
/// (NO_ERROR), between one and two timeouts after its last stream ended, and is closed one
/// timeout later even though this client never answers the PING that confirms a GOAWAY.
#[test]
fn an_idle_client_connection_gets_goaway_and_is_closed() {
    let nginx = Nginx::start();
    let upstream = format!("127.0.0.1:{}", nginx.h2_port);
    let (_mosn, port) = start_proxy_idle(("Http2", "Http2"), &upstream, json!({}), Some("1s"));
    let mut client = connect(port);
    client
        .write_all(&frame(
            HEADERS,
            END_HEADERS | END_STREAM,
            1,
            &get_block("/"),
        ))
        .unwrap();
    let sent = Instant::now();
    let ending = read_until_closed(&mut client, Duration::from_secs(10));
    let closed_after = sent.elapsed();
    assert_eq!(ending.answered, [1], "{ending:?}");
    assert_eq!(ending.goaway, Some(0), "{ending:?}");
    assert!(ending.closed, "{ending:?}");
    assert!(
        closed_after >= Duration::from_secs(1) && closed_after < Duration::from_secs(5),
        "closed {closed_after:?} after its only request"
    );
}

/// A stream open longer than the idle timeout (a 3 s gRPC call, timeout 1 s) is not cut: the
/// connection is not idle while it has a stream.
#[test]
fn a_stream_longer_than_the_idle_timeout_finishes() {
    let server = PeerServer::start(Command::new("python3").arg(peer("grpc_server.py")));
    let (_mosn, port) =
        start_proxy_idle(("Http2", "Http2"), &server.address(), json!({}), Some("1s"));
    assert_eq!(grpc_call(port, "Sleep"), "ok late -");
}

/// An nginx h2c server that says GOAWAY after every 3 requests on a connection, logging each
/// request with its connection number; its port and its log.
fn nginx_with_goaway() -> (Nginx, u16, tempfile::TempDir) {
    let logs = tempfile::tempdir().unwrap();
    let port = free_port();
    let extra = format!(
        "log_format conn '$connection $request';
         server {{ listen 127.0.0.1:{port} http2; keepalive_requests 3;
           access_log {}/conn.log conn; location / {{ return 200 \"ok\\n\"; }} }}",
        logs.path().display()
    );
    let nginx = Nginx::start_with(&extra);
    wait_for_port(port);
    (nginx, port, logs)
}

/// h2load's 600 requests, 40 at a time, through one upstream that ends each connection with a
/// GOAWAY after 3: streams past its last one were not processed, so they go again on a new
/// connection, and all succeed. The same with a 4 KiB body on each request (POST), which goes
/// again too.
#[test]
fn an_upstream_goaway_loses_no_request() {
    for body in [&[][..], &[b'x'; 4096][..]] {
        let (_nginx, goaway_port, logs) = nginx_with_goaway();
        let (_mosn, port) = start_proxy(
            ("Http2", "Http2"),
            &format!("127.0.0.1:{goaway_port}"),
            json!({}),
        );
        let mut h2load = Command::new("h2load");
        h2load.args(["-n", "600", "-c", "4", "-m", "10"]);
        if !body.is_empty() {
            let file = logs.path().join("body");
            std::fs::write(&file, body).unwrap();
            h2load.arg("-d").arg(file);
        }
        let output = h2load
            .arg(format!("http://127.0.0.1:{port}/"))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(
            text.contains("600 succeeded, 0 failed, 0 errored") && text.contains("600 2xx"),
            "{} bytes of body: {text}",
            body.len()
        );
        let log = std::fs::read_to_string(logs.path().join("conn.log")).unwrap();
        let connections: std::collections::HashSet<&str> =
            log.lines().filter_map(|l| l.split(' ').next()).collect();
        assert_eq!(log.lines().count(), 600);
        assert!(
            connections.len() >= 200,
            "{} connections",
            connections.len()
        );
    }
}

/// Two downloads multiplexed on one client connection (nghttp), each from its own nginx (h2c,
/// slowed by `limit_rate`): killing one nginx mid-body resets that stream only (RST_STREAM),
/// and the other download completes.
#[test]
fn an_upstream_lost_mid_response_resets_only_its_stream() {
    let doomed = Nginx::start_with("limit_rate 512k;");
    let alive = Nginx::start_with("limit_rate 2m;");
    let port = free_port();
    let mut config = config(
        json!([proxy_listener("p", port, "two", ("Http2", "Http2"))]),
        json!([
            cluster("doomed", &[format!("127.0.0.1:{}", doomed.h2_port)]),
            cluster("alive", &[format!("127.0.0.1:{}", alive.h2_port)])
        ]),
        free_port(),
    );
    let route = |prefix: &str, cluster: &str| {
        json!({ "match": { "prefix": prefix },
                "route": { "cluster_name": cluster, "prefix_rewrite": "/", "timeout": "30s" } })
    };
    config["servers"][0]["routers"] = json!([{ "router_config_name": "two",
        "virtual_hosts": [{ "name": "all", "domains": ["*"],
            "routers": [route("/doomed/", "doomed"), route("/alive/", "alive")] }] }]);
    let _mosn = Mosn::start(&config, port);
    let mut nghttp = Process(
        Command::new("nghttp")
            .args(["-v", "-n"])
            .arg(format!("http://127.0.0.1:{port}/doomed/big"))
            .arg(format!("http://127.0.0.1:{port}/alive/big"))
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("nghttp is needed: run ./scripts/test, which installs it"),
    );
    let mut frames = NghttpFrames::default();
    let stdout = std::io::BufReader::new(nghttp.0.stdout.take().unwrap());
    for line in std::io::BufRead::lines(stdout).map_while(Result::ok) {
        let first_doomed_data = frames.data_bytes(frames.stream("/doomed/big")) == 0;
        frames.read(&line);
        if first_doomed_data && frames.data_bytes(frames.stream("/doomed/big")) > 0 {
            doomed.process.signal(libc::SIGKILL);
        }
    }
    let (doomed_stream, alive_stream) = (frames.stream("/doomed/big"), frames.stream("/alive/big"));
    assert!(frames.resets.contains(&doomed_stream), "{frames:?}");
    assert!(!frames.resets.contains(&alive_stream), "{frames:?}");
    let got = frames.data_bytes(doomed_stream);
    assert!(got > 0 && got < BIG_SIZE, "{got} bytes of the doomed body");
    assert_eq!(frames.data_bytes(alive_stream), BIG_SIZE, "{frames:?}");
}

/// A response body from either upstream HTTP version ends its stream on its last DATA frame
/// (END_STREAM), with no empty DATA frame of its own after it.
#[test]
fn a_response_body_ends_its_stream_on_its_last_data_frame() {
    let nginx = Nginx::start();
    for (protocol, upstream_port) in [("Http1", nginx.port), ("Http2", nginx.h2_port)] {
        let upstream = format!("127.0.0.1:{upstream_port}");
        let (_mosn, port) = start_proxy(("Http2", protocol), &upstream, json!({}));
        let output = Command::new("nghttp")
            .args(["-v", "-n"])
            .arg(format!("http://127.0.0.1:{port}/"))
            .output()
            .expect("nghttp is needed: run ./scripts/test, which installs it");
        let mut frames = NghttpFrames::default();
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .for_each(|line| frames.read(line));
        let stream = frames.stream("/");
        assert_eq!(
            frames.data,
            [(stream, NGINX_BODY.len())],
            "{protocol} upstream: one DATA frame, the body's"
        );
    }
}

/// What `nghttp -v` reports receiving, by stream.
#[derive(Debug, Default)]
struct NghttpFrames {
    /// Each request's path and stream id, from the HEADERS frames sent.
    paths: Vec<(String, u32)>,
    /// (stream id, length) of each DATA frame received.
    data: Vec<(u32, usize)>,
    resets: Vec<u32>,
    /// The stream of the last HEADERS frame sent: the `:path` lines that follow are its.
    sending_headers: Option<u32>,
}

impl NghttpFrames {
    /// Takes one line of `nghttp -v`, e.g.
    /// `[  0.012] recv DATA frame <length=16384, flags=0x00, stream_id=13>`.
    fn read(&mut self, line: &str) {
        let field = |name: &str| -> Option<usize> {
            let start = line.find(name)? + name.len();
            let digits: String = line[start..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse().ok()
        };
        let stream = field("stream_id=").map(|id| id as u32);
        if line.contains("send HEADERS frame") {
            self.sending_headers = stream;
        } else if let (Some(path), Some(id)) =
            (line.trim().strip_prefix(":path: "), self.sending_headers)
        {
            self.paths.push((path.to_string(), id));
        } else if line.contains("recv DATA frame") {
            self.data
                .push((stream.unwrap_or(0), field("length=").unwrap_or(0)));
        } else if line.contains("recv RST_STREAM frame") {
            self.resets.extend(stream);
        }
    }

    fn stream(&self, path: &str) -> u32 {
        self.paths
            .iter()
            .find(|(p, _)| p == path)
            .map_or(0, |(_, id)| *id)
    }

    fn data_bytes(&self, stream: u32) -> usize {
        self.data
            .iter()
            .filter(|(id, _)| *id == stream)
            .map(|(_, n)| n)
            .sum()
    }
}
