//! `Upgrade: websocket` through the HTTP/1.1 proxy, with the `websockets` library on both sides.

mod common;

use std::process::Command;

use common::*;
use serde_json::json;

#[test]
fn websocket_connections_are_tunnelled() {
    let backend = free_port();
    let server = Command::new("python3")
        .arg(peer("ws_echo_server.py"))
        .arg(backend.to_string())
        .spawn()
        .unwrap();
    let _server = Process(server);
    wait_for_port(backend);
    let port = free_port();
    let router = json!({ "router_config_name": "main", "virtual_hosts": [{ "name": "all", "domains": ["*"],
        "routers": [{ "match": { "prefix": "/" }, "route": { "cluster_name": "ws" } }] }] });
    let mut config = config(
        json!([http_listener("http", port, "main")]),
        json!([cluster("ws", &[format!("127.0.0.1:{backend}")])]),
        free_port(),
    );
    config["servers"][0]["routers"] = json!([router]);
    let _mosn = Mosn::start(&config, port);
    let output = Command::new("python3")
        .arg(peer("ws_client.py"))
        .arg(format!("ws://127.0.0.1:{port}/chat"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the websockets client failed (is it installed? run ./scripts/test): {stderr}"
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "ok");
}
