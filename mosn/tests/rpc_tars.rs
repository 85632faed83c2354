//! Tars end to end: a server and a client of `@tars/rpc` (tars-node, from npm) on either side of
//! the proxy, in TARS and in TUP.

mod common;

use common::*;
use serde_json::{Value, json};

const SERVANT: &str = "Test.EchoServer.EchoObj";

/// The server: `echo(s)` answers `NAME:s`, `sleep(ms)` waits, `fail(s)` answers iRet -99.
fn tars_server(name: &str) -> PeerServer {
    PeerServer::start(node("tars", "server.js").args(["0", name]))
}

fn run(port: u16, args: &[&str]) -> (bool, String) {
    run_node("tars", "client.js", port, args)
}

fn start_proxy(protocol: &str, upstreams: &[String], route: Value) -> (Mosn, u16) {
    start_rpc_proxy(protocol, SERVANT, upstreams, route, json!({}))
}

#[test]
fn tars_and_tup_calls_pass_through_with_their_return_codes() {
    let server = tars_server("s1");
    let (_mosn, port) = start_proxy("tars", &[server.address()], json!({}));
    assert_eq!(
        run(port, &["echo", "hello"]),
        (true, "ok s1:hello\n".into())
    );
    assert!(server.printed("call echo hello"));
    let (ok, out) = run(
        port,
        &["echo", "many", "--count", "200", "--concurrency", "40"],
    );
    assert!(ok && out.ends_with("DONE ok=200 err=0\n"), "{out}");
    for tup in ["2", "3"] {
        assert_eq!(
            run(port, &["echo", "tup", "--tup", tup]),
            (true, "ok s1:tup\n".into()),
            "TUP version {tup}"
        );
    }
    // The server's own failures reach the client as it sent them: -99 for an exception, -3
    // for a function it does not have.
    let (ok, out) = run(port, &["fail", "boom"]);
    assert!(
        !ok && out.contains("ret=-99") && out.contains("boom"),
        "{out}"
    );
    let (ok, out) = run(port, &["nosuch", "x", "--tup", "3"]);
    assert!(!ok && out.contains("ret=-3"), "{out}");
}

#[test]
fn auto_detection_finds_tars() {
    let server = tars_server("s2");
    let (_mosn, port) = start_proxy("Auto", &[server.address()], json!({}));
    assert_eq!(run(port, &["echo", "auto"]), (true, "ok s2:auto\n".into()));
}

#[test]
fn a_timeout_no_route_and_no_host_get_tars_return_codes() {
    let server = tars_server("s1");
    let (_mosn, port) = start_proxy("tars", &[server.address()], json!({ "timeout": "300ms" }));
    for tup in ["0", "3"] {
        let (ok, out) = run(port, &["sleep", "2000", "--timeout", "5000", "--tup", tup]);
        assert!(!ok && out.contains("ret=-7"), "tup {tup}: {out}");
    }
    let (ok, out) = run(port, &["echo", "x", "--servant", "Other.Server.Obj"]);
    assert!(
        !ok && out.contains("ret=-4") && out.contains("404|router unavailable"),
        "{out}"
    );
    let dead = format!("127.0.0.1:{}", free_port());
    let (_dead, port) = start_proxy("tars", &[dead], json!({}));
    let (ok, out) = run(port, &["echo", "x"]);
    assert!(
        !ok && out.contains("ret=-8") && out.contains("no health upstream"),
        "{out}"
    );
}
