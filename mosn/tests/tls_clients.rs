//! Real clients over TLS to mosn: grpcio (with no `alpn` configured: the listener offers what
//! its proxy serves), h2load, and a Dubbo consumer (PyPI `dubbo-ssl-python`); plaintext
//! backends behind.

mod common;

use std::process::Command;

use common::pki::Pki;
use common::*;
use serde_json::{Value, json};

/// mosn with one TLS listener speaking `downstream` to `upstream` in front of `backend`, where
/// requests matching `route` go (mosn answers `/hello` itself); returns mosn and the port.
fn tls_proxy(pki: &Pki, protocols: (&str, &str), backend: u16, route: Value) -> (Mosn, u16) {
    let (cert, key) = pki.issue("server", &["localhost"], false);
    let port = free_port();
    let mut listener = proxy_listener("tls", port, "r", protocols);
    listener["filter_chains"][0]["tls_context"] =
        json!({ "status": true, "cert_chain": cert, "private_key": key });
    let mut config = config(
        json!([listener]),
        json!([cluster("backend", &[format!("127.0.0.1:{backend}")])]),
        free_port(),
    );
    config["servers"][0]["routers"] = json!([{ "router_config_name": "r", "virtual_hosts": [
        { "name": "all", "domains": ["*"], "routers": [
            { "match": { "path": "/hello" }, "direct_response": { "status": 200, "body": "hello" } },
            { "match": route, "route": { "cluster_name": "backend" } }] }] }]);
    (Mosn::start(&config, port), port)
}

/// `peers/grpc_client.py` over TLS to `localhost:port`, trusting `pki`: its one line.
fn grpc_tls_call(pki: &Pki, port: u16, call: &str) -> String {
    let output = Command::new("python3")
        .arg(peer("grpc_client.py"))
        .arg(format!("localhost:{port}"))
        .arg(call)
        .env("GRPC_CA_FILE", pki.ca_file())
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

#[test]
fn grpcio_and_h2load_over_tls_with_alpn_from_the_proxy_protocols() {
    let pki = Pki::new();
    let server = PeerServer::start(Command::new("python3").arg(peer("grpc_server.py")));
    let route = json!({ "prefix": "/" });
    let (_mosn, port) = tls_proxy(&pki, ("Auto", "Http2"), server.port, route);
    // grpcio refuses a TLS server that selects no ALPN protocol; the listener names none, and
    // offers h2 and http/1.1 because its proxy is Auto.
    assert_eq!(grpc_tls_call(&pki, port, "Unary"), "ok echo:hi kept");
    assert_eq!(grpc_tls_call(&pki, port, "Stream"), "ok 5 part-4:hello");
    let output = Command::new("h2load")
        .args(["-n", "1000", "-c", "4", "-m", "10"])
        .arg(format!("https://127.0.0.1:{port}/hello"))
        .output()
        .expect("h2load is needed: run ./scripts/test, which installs it");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("1000 succeeded, 0 failed, 0 errored") && text.contains("TLSv1.3"),
        "{text}"
    );
}

#[test]
fn a_python_dubbo_consumer_over_tls_reaches_the_provider() {
    let pki = Pki::new();
    let provider = PeerServer::start(node("dubbo", "server.js").arg("0"));
    let route =
        json!({ "headers": [{ "name": "service", "value": "org.apache.dubbo.demo.DemoService" }] });
    let (_mosn, port) = tls_proxy(&pki, ("dubbo", ""), provider.port, route);
    let consumer = |ca: &str| {
        let output = Command::new("python3")
            .arg(peer("dubbo_tls_client.py"))
            .args(["127.0.0.1", &port.to_string(), ca, "tls", "3"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    assert_eq!(
        consumer(&pki.ca_file()),
        "ok Hello tls\nok Hello tls\nok Hello tls\n"
    );
    // A consumer that does not trust mosn's certificate gets no further.
    let stranger = Pki::new();
    assert!(
        consumer(&stranger.ca_file()).starts_with("error SSLCertVerificationError"),
        "{}",
        consumer(&stranger.ca_file())
    );
}

/// Answers multiplexed on TLS connections (h2load) arrive whole, every body byte: fifty 4 KiB
/// answers in flight on each connection, and 8 MiB answers, which fill the proxy's outbox and
/// the socket. What h2 writes in a pass goes through the TLS session at once.
#[test]
fn answers_multiplexed_over_tls_arrive_whole() {
    let pki = Pki::new();
    let nginx = Nginx::start();
    std::fs::write(nginx.dir.path().join("html/4k"), [7u8; 4096]).unwrap();
    let route = json!({ "prefix": "/" });
    let (_mosn, port) = tls_proxy(&pki, ("Http2", "Http1"), nginx.port, route);
    for (path, requests, streams, size) in [("/4k", 1000, 50, 4096), ("/big", 8, 4, BIG_SIZE)] {
        let output = Command::new("h2load")
            .args([
                "-n",
                &requests.to_string(),
                "-c",
                "2",
                "-m",
                &streams.to_string(),
            ])
            .arg(format!("https://127.0.0.1:{port}{path}"))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(
            text.contains(&format!("{requests} succeeded, 0 failed, 0 errored"))
                && text.contains(&format!("({}) data", requests * size)),
            "{path}: {text}"
        );
    }
}
