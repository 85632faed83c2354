//! The admin API of a running `mosn`, driven with curl.

mod common;

use common::*;
use serde_json::{Value, json};

struct Admin {
    port: u16,
    mosn: Mosn,
    proxy_port: u16,
}

fn start() -> (Admin, Nginx) {
    let nginx = Nginx::start();
    let (admin, proxy_port) = (free_port(), free_port());
    let mut backend = cluster("nginx", &[format!("127.0.0.1:{}", nginx.port)]);
    backend["tls_context"] =
        json!({ "status": false, "private_key": "-----BEGIN PRIVATE KEY-----\nsecret\n" });
    let config = config(
        json!([tcp_proxy_listener("front", proxy_port, "nginx")]),
        json!([backend]),
        admin,
    );
    let mosn = Mosn::start(&config, admin);
    (
        Admin {
            port: admin,
            mosn,
            proxy_port,
        },
        nginx,
    )
}

impl Admin {
    fn get(&self, path: &str) -> (u16, String) {
        self.request(&[&format!("http://127.0.0.1:{}{path}", self.port)])
    }

    fn request(&self, args: &[&str]) -> (u16, String) {
        let mut full = vec!["-w", "\n%{http_code}"];
        full.extend_from_slice(args);
        let (ok, out) = curl(&full);
        assert!(ok, "curl {args:?} failed");
        let text = String::from_utf8(out).unwrap();
        let (body, code) = text.rsplit_once('\n').unwrap();
        (code.parse().unwrap(), body.to_string())
    }
}

#[test]
fn version_states_and_index() {
    let (admin, _nginx) = start();
    assert_eq!(
        admin.get("/api/v1/version"),
        (200, format!("mosn version: {}", env!("CARGO_PKG_VERSION")))
    );
    let pid = admin.mosn.process.pid();
    assert_eq!(
        admin.get("/api/v1/states"),
        (200, format!("pid={pid}&state=6\n"))
    );
    let (code, index) = admin.get("/");
    assert_eq!(code, 200);
    assert!(
        index.starts_with("supported APIs:\n") && index.contains("/api/v1/config_dump\n"),
        "{index}"
    );
}

#[test]
fn config_dump_whole_and_in_parts_with_private_keys_redacted() {
    let (admin, nginx) = start();
    let (code, whole) = admin.get("/api/v1/config_dump");
    assert_eq!(code, 200);
    assert!(!whole.contains("secret"), "a private key leaked: {whole}");
    let whole: Value = serde_json::from_str(&whole).unwrap();
    assert_eq!(
        whole["cluster"]["nginx"]["tls_context"]["private_key"],
        "***REDACTED***"
    );
    assert_eq!(
        whole["listener"]["front"]["address"],
        format!("127.0.0.1:{}", admin.proxy_port)
    );
    assert!(
        whole["mosn_config"]["servers"][0]
            .get("listeners")
            .is_none()
    );

    let (code, cluster) = admin.get("/api/v1/config_dump?cluster=nginx");
    assert_eq!(code, 200);
    assert!(
        cluster.starts_with("{\n \""),
        "one-space indent expected: {cluster}"
    );
    let cluster: Value = serde_json::from_str(&cluster).unwrap();
    assert_eq!(
        cluster["hosts"][0]["address"],
        format!("127.0.0.1:{}", nginx.port)
    );

    let (_, all): (u16, String) = admin.get("/api/v1/config_dump?alllisteners");
    assert!(serde_json::from_str::<Value>(&all).unwrap()["front"].is_object());
    assert_eq!(
        admin.get("/api/v1/config_dump?cluster=nope"),
        (200, "{}".to_string())
    );
    assert_eq!(admin.get("/api/v1/config_dump?nonsense").0, 500);
    assert_eq!(
        admin.get("/api/v1/config_dump?allrouters&allclusters").0,
        400
    );
    let url = format!("http://127.0.0.1:{}/api/v1/config_dump", admin.port);
    assert_eq!(admin.request(&["-X", "POST", &url]).0, 405);
}

#[test]
fn log_level_can_be_read_and_changed() {
    let (admin, _nginx) = start();
    let log_path = admin.mosn.dir.logs().join("mosn.log").display().to_string();
    let (code, levels) = admin.get("/api/v1/get_loglevel");
    assert_eq!(code, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&levels).unwrap(),
        json!({ log_path.clone(): "DEBUG" })
    );

    let url = format!("http://127.0.0.1:{}/api/v1/update_loglevel", admin.port);
    let body = json!({ "log_path": log_path, "log_level": "ERROR" }).to_string();
    assert_eq!(
        admin.request(&["-X", "POST", "-d", &body, &url]),
        (200, "update logger success\n".to_string())
    );
    let (_, levels) = admin.get("/api/v1/get_loglevel");
    assert_eq!(
        serde_json::from_str::<Value>(&levels).unwrap()[&log_path],
        "ERROR"
    );

    let bad = json!({ "log_path": log_path, "log_level": "LOUD" }).to_string();
    assert_eq!(admin.request(&["-X", "POST", "-d", &bad, &url]).0, 400);
    assert_eq!(
        admin.request(&["-X", "POST", "-d", "{not json", &url]).0,
        400
    );
    assert_eq!(admin.get("/api/v1/update_loglevel").0, 405);
}

#[test]
fn stats_count_listener_connections() {
    let (admin, _nginx) = start();
    for _ in 0..3 {
        assert!(curl(&[&format!("http://127.0.0.1:{}/", admin.proxy_port)]).0);
    }
    let (code, stats) = admin.get("/api/v1/stats");
    assert_eq!(code, 200);
    let stats: Value = serde_json::from_str(&stats).unwrap();
    assert_eq!(
        stats["listener"]["front"]["downstream_connection_total"],
        "3"
    );
}

#[test]
fn an_admin_block_without_address_binds_loopback() {
    let port = free_port();
    let config = json!({
        "servers": [{ "listeners": [tcp_proxy_listener("l", free_port(), "c")] }],
        "cluster_manager": { "clusters": [cluster("c", &["127.0.0.1:1".to_string()])] },
        "admin": { "address": { "socket_address": { "port_value": port } } }
    });
    let _mosn = Mosn::start(&config, port);
    let connected = std::net::TcpStream::connect(("127.0.0.1", port)).is_ok();
    assert!(connected);
    let sockets = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let listening = format!("0100007F:{port:04X}");
    assert!(
        sockets.contains(&listening),
        "admin should listen on 127.0.0.1:{port}"
    );
    assert!(
        !sockets.contains(&format!("00000000:{port:04X}")),
        "admin must not listen on 0.0.0.0"
    );
}
