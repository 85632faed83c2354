//! SOFA bolt end to end: sofa-rpc-node's RpcServer behind the proxy, its RpcClient and
//! sofa-bolt-node's codec (through `peers/bolt/raw.js`, which prints what it receives) in front.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

const SERVICE: &str = "com.alipay.test.EchoService:1.0";

/// sofa-rpc-node's RpcServer, answering `echo` with `NAME:` before the text.
fn bolt_server(name: &str) -> PeerServer {
    PeerServer::start(node("bolt", "server.js").args(["0", name]))
}

/// Runs a peer client script of `peers/bolt` against the proxy; (exit success, stdout).
fn run(script: &str, port: u16, args: &[&str]) -> (bool, String) {
    run_node("bolt", script, port, args)
}

/// A bolt listener whose routes send the echo service to `upstreams` (the route and cluster
/// given these extra keys).
fn start_proxy(upstreams: &[String], route: Value, cluster: Value) -> (Mosn, u16) {
    start_rpc_proxy("bolt", SERVICE, upstreams, route, cluster)
}

#[test]
fn sofa_rpc_calls_pass_through_with_their_statuses() {
    let server = bolt_server("A");
    let (_mosn, port) = start_proxy(&[server.address()], json!({}), json!({}));
    assert_eq!(
        run("client.js", port, &["echo", "hello"]),
        (true, "OK A:hello\n".into())
    );
    // Many calls in flight at once over the client's one connection.
    let (ok, out) = run(
        "client.js",
        port,
        &["echo", "hi", "--count", "200", "--concurrency", "50"],
    );
    assert!(ok && out.ends_with("DONE ok=200 err=0\n"), "{out}");
    // The server's exception (bolt status 2) reaches the client as the server sent it.
    let (ok, out) = run("client.js", port, &["fail", "boom"]);
    assert!(
        !ok && out.contains("RpcServerException: Error: boom"),
        "{out}"
    );
}

#[test]
fn requests_on_one_connection_are_answered_as_they_finish() {
    let server = bolt_server("A");
    let (_mosn, port) = start_proxy(&[server.address()], json!({}), json!({}));
    for mode in ["concurrent", "v2-concurrent"] {
        let (ok, out) = run("raw.js", port, &[mode]);
        assert!(ok, "{out}");
        // sleep 300 (id 1), sleep 100 (id 2) and echo (id 3) sent together: each answer
        // carries the client's id, in the order the server finished them.
        assert!(out.contains("ORDER 3,2,1"), "{mode}: {out}");
    }
}

#[test]
fn bolt_v2_with_crc_and_large_ids_pass_through() {
    let server = bolt_server("A");
    let (_mosn, port) = start_proxy(&[server.address()], json!({}), json!({}));
    let (ok, out) = run("raw.js", port, &["v2-echo", "hello"]);
    assert!(
        ok && out.contains("switch=1") && out.contains("crc=ok OK A:hello"),
        "{out}"
    );
    let (ok, out) = run("raw.js", port, &["v2nocrc-echo", "hello"]);
    assert!(ok && out.contains("crc=none OK A:hello"), "{out}");
    let (ok, out) = run("raw.js", port, &["v1-echo", "big", "--id", "2147483647"]);
    assert!(
        ok && out.contains("RECV id=2147483647") && out.contains("OK A:big"),
        "{out}"
    );
}

#[test]
fn the_proxy_answers_heartbeats_itself() {
    // Only a dead cluster behind: the answer can only come from the proxy.
    let (_mosn, port) = start_proxy(
        &[format!("127.0.0.1:{}", free_port())],
        json!({}),
        json!({}),
    );
    for mode in ["heartbeat", "v2-heartbeat"] {
        let (ok, out) = run("raw.js", port, &[mode]);
        assert!(
            ok && out.contains("type=0 cmd=0") && out.contains("status=0"),
            "{mode}: {out}"
        );
    }
    let (ok, out) = run("raw.js", port, &["v2-heartbeat"]);
    assert!(
        ok && out.contains("crc=ok"),
        "answered in v2 with a CRC: {out}"
    );
}

#[test]
fn failures_get_bolt_statuses_not_silent_closes() {
    let server = bolt_server("A");
    let (_mosn, port) = start_proxy(
        &[server.address()],
        json!({ "timeout": "300ms" }),
        json!({}),
    );
    // The route's timeout: status 7.
    let (_, out) = run("raw.js", port, &["v1-sleep", "2000", "--timeout", "5000"]);
    assert!(out.contains("status=7"), "timeout: {out}");
    // The request's own timeout is shorter than the route's: it wins.
    let start = Instant::now();
    let (_, out) = run("raw.js", port, &["v1-sleep", "2000", "--timeout", "100"]);
    assert!(out.contains("status=7"), "own timeout: {out}");
    assert!(
        start.elapsed() < Duration::from_millis(1500),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn no_route_and_no_host_are_answered_with_no_processor() {
    let server = bolt_server("A");
    // The echo service routes to a cluster whose only host is down.
    let (_mosn, port) = start_proxy(
        &[format!("127.0.0.1:{}", free_port())],
        json!({}),
        json!({}),
    );
    let (ok, out) = run("raw.js", port, &["v1-echo", "x"]);
    assert!(!ok && out.contains("status=6"), "no host: {out}");
    drop(server);
    let (_mosn, port) = start_rpc_proxy("bolt", "other.Service:1.0", &[], json!({}), json!({}));
    let (ok, out) = run("raw.js", port, &["v1-echo", "x"]);
    assert!(!ok && out.contains("status=6"), "no route: {out}");
}

#[test]
fn an_upstream_killed_mid_flight_fails_its_requests_and_the_next_host_serves() {
    let server = bolt_server("A");
    let (_mosn, port) = start_proxy(&[server.address()], json!({}), json!({}));
    let caller =
        std::thread::spawn(move || run("raw.js", port, &["v1-sleep", "5000", "--timeout", "8000"]));
    assert!(
        server.printed("call sleep 5000"),
        "the call reached the server"
    );
    drop(server);
    let (_, out) = caller.join().unwrap();
    assert!(
        out.contains("status=6"),
        "the in-flight request is answered: {out}"
    );
    // A new server on a new port: a fresh proxy finds it; the old proxy's host is gone.
    let server = bolt_server("B");
    let (_mosn, port) = start_proxy(&[server.address()], json!({}), json!({}));
    assert_eq!(
        run("client.js", port, &["echo", "again"]),
        (true, "OK B:again\n".into())
    );
}

#[test]
fn idle_upstream_connections_send_heartbeats_and_close_when_unanswered() {
    // A peer that accepts and reads but never answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = silent.local_addr().unwrap().to_string();
    let keepalive = json!({ "keepalive": { "interval": "100ms", "timeout": "100ms" } });
    let (_mosn, port) = start_proxy(&[address], json!({ "timeout": "200ms" }), keepalive);
    let caller = std::thread::spawn(move || run("raw.js", port, &["v1-echo", "x"]));
    let (mut upstream, _) = silent.accept().unwrap();
    upstream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let (_, out) = caller.join().unwrap();
    assert!(out.contains("status=7"), "{out}");
    // Everything the proxy sends until it gives up: the request, then heartbeats (bolt v1,
    // cmdcode 0) until six went unanswered, then the close.
    let started = Instant::now();
    let mut received = Vec::new();
    upstream.read_to_end(&mut received).unwrap();
    let request_len = 22
        + u16::from_be_bytes([received[14], received[15]]) as usize
        + u16::from_be_bytes([received[16], received[17]]) as usize
        + u32::from_be_bytes([received[18], received[19], received[20], received[21]]) as usize;
    let heartbeats: Vec<&[u8]> = received[request_len..].chunks(22).collect();
    assert_eq!(heartbeats.len(), 6, "{received:x?}");
    for beat in heartbeats {
        assert_eq!(
            &beat[..4],
            &[0x01, 0x01, 0x00, 0x00],
            "a bolt v1 heartbeat: {beat:x?}"
        );
    }
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn bad_frames_get_a_codec_exception_and_a_close() {
    let (_mosn, port) = start_proxy(
        &[format!("127.0.0.1:{}", free_port())],
        json!({}),
        json!({}),
    );
    // A request header claiming 64 MiB of content (over the 16 MiB limit).
    let mut header = vec![
        0x01, 0x01, 0x00, 0x01, 0x01, 0, 0, 0, 9, 0x01, 0, 0, 0x0b, 0xb8,
    ];
    header.extend_from_slice(&[0, 0, 0, 0, 0x04, 0, 0, 0]);
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(&header).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    assert_eq!(answer.len(), 20, "{answer:x?}");
    assert_eq!(&answer[5..9], &[0, 0, 0, 9], "to request 9");
    assert_eq!(&answer[10..12], &[0, 9], "status 9: codec exception");
    // An unknown protocol byte: closed without an answer.
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(b"\x07garbage").unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    assert!(answer.is_empty(), "{answer:x?}");
}

#[test]
fn a_graceful_stop_sends_bolt_clients_a_goaway_when_enabled() {
    let port = free_port();
    let mut listener = proxy_listener("bolt", port, "rpc", ("bolt", ""));
    listener["filter_chains"][0]["filters"][0]["config"]["extend_config"] =
        json!({ "bolt": { "enable_bolt_goaway": true } });
    let mut config = config(json!([listener]), json!([]), free_port());
    config["servers"][0]["routers"] = json!([{ "router_config_name": "rpc",
        "virtual_hosts": [{ "name": "all", "domains": ["*"], "routers": [] }] }]);
    let mut mosn = Mosn::start(&config, port);
    let mut client = TcpStream::connect(("127.0.0.1", port)).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // A heartbeat first, so the connection is known to be served before the stop.
    let heartbeat = [
        1, 1, 0, 0, 1, 0, 0, 0, 5, 1, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    client.write_all(&heartbeat).unwrap();
    let mut reply = [0u8; 20];
    client.read_exact(&mut reply).unwrap();
    assert_eq!(&reply[..4], &[1, 0, 0, 0], "heartbeat reply");
    mosn.process.signal(libc::SIGTERM);
    let mut rest = Vec::new();
    client.read_to_end(&mut rest).unwrap();
    assert_eq!(
        rest.len(),
        22,
        "one goaway request, then the close: {rest:x?}"
    );
    assert_eq!(&rest[..4], &[1, 1, 0, 100], "bolt request, cmdcode 100");
    assert!(mosn.process.wait_timeout(Duration::from_secs(10)).is_some());
}
