//! Dubbo end to end: dubbo-js's provider (`apache-dubbo-service`) behind the proxy and its
//! consumer (`apache-dubbo-consumer`) in front, both as published on npm.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{Value, json};

const SERVICE: &str = "org.apache.dubbo.demo.DemoService";

/// The provider; `sayHello` answers `[NAME] Hello <name>`.
fn dubbo_server(name: &str) -> PeerServer {
    PeerServer::start(node("dubbo", "server.js").args(["0", name]))
}

fn run(port: u16, args: &[&str]) -> (bool, String) {
    run_node("dubbo", "client.js", port, args)
}

fn start_proxy(upstreams: &[String], route: Value, cluster: Value) -> (Mosn, u16) {
    start_rpc_proxy("dubbo", SERVICE, upstreams, route, cluster)
}

#[test]
fn dubbo_calls_pass_through_with_their_statuses() {
    let server = dubbo_server("s1");
    let (_mosn, port) = start_proxy(&[server.address()], json!({}), json!({}));
    assert_eq!(
        run(port, &["sayHello", "world"]),
        (true, "OK [s1] Hello world\n".into())
    );
    let (ok, out) = run(
        port,
        &["sayHello", "bob", "--count", "300", "--concurrency", "60"],
    );
    assert!(ok && out.ends_with("DONE ok=300 err=0\n"), "{out}");
    // The provider's own "service not found" (status 60) reaches the consumer as it was sent.
    let (ok, out) = run(port, &["noSuchMethod", "x"]);
    assert!(
        !ok && out.contains("status=60") && out.contains("noSuchMethod"),
        "{out}"
    );
}

#[test]
fn a_timeout_and_a_missing_route_get_dubbo_statuses() {
    let server = dubbo_server("s1");
    let (_mosn, port) = start_proxy(
        &[server.address()],
        json!({ "timeout": "300ms" }),
        json!({}),
    );
    let (ok, out) = run(port, &["sleep", "2000", "--timeout", "5000"]);
    assert!(
        !ok && out.contains("status=30") && out.contains("504|timeout"),
        "{out}"
    );
    let (_other, port) = start_rpc_proxy(
        "dubbo",
        "other.Service",
        &[server.address()],
        json!({}),
        json!({}),
    );
    let (ok, out) = run(port, &["sayHello", "x"]);
    assert!(
        !ok && out.contains("status=60") && out.contains("404|router unavailable"),
        "{out}"
    );
    let dead = format!("127.0.0.1:{}", free_port());
    let (_dead, port) = start_proxy(&[dead], json!({}), json!({}));
    let (ok, out) = run(port, &["sayHello", "x"]);
    assert!(
        !ok && out.contains("status=60") && out.contains("no health upstream"),
        "{out}"
    );
}

#[test]
fn heartbeats_keep_the_upstream_connection_and_its_ids_go_on() {
    // dubbo-js answers heartbeats with request id 0 and status 0: the proxy takes that as an
    // answer all the same, so the connection is not dropped as dead.
    let server = dubbo_server("s1");
    let keepalive = json!({ "keepalive": { "interval": "100ms", "timeout": "200ms" } });
    let (_mosn, port) = start_proxy(&[server.address()], json!({}), keepalive);
    assert!(run(port, &["sayHello", "first"]).0);
    assert_eq!(
        server.line_starting("CALL").as_deref(),
        Some("CALL id=1 sayHello(\"first\")")
    );
    std::thread::sleep(Duration::from_millis(1500));
    assert!(run(port, &["sayHello", "second"]).0);
    let line = server.line_starting("CALL").unwrap();
    let id: u64 = line["CALL id=".len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    // Same connection (a new one would start again at 1), its ids advanced by the heartbeats
    // sent on it meanwhile (more than six: six unanswered would have closed it).
    assert!(id > 8, "{line}");
}
