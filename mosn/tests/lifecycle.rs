//! Start, stop and signals of the real binary.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

fn proxy_to(nginx: &Nginx, port: u16, admin: u16) -> serde_json::Value {
    let mut config = config(
        json!([tcp_proxy_listener("front", port, "nginx")]),
        json!([cluster("nginx", &[format!("127.0.0.1:{}", nginx.port)])]),
        admin,
    );
    config["servers"][0]["graceful_timeout"] = json!("20s");
    config
}

#[test]
fn sigterm_stops_accepting_and_waits_for_open_connections() {
    let nginx = Nginx::start();
    let port = free_port();
    let mut mosn = Mosn::start(&proxy_to(&nginx, port, free_port()), port);
    let mut open = TcpStream::connect(("127.0.0.1", port)).unwrap();
    open.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    open.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    assert!(read_http_response(&mut open).ends_with(NGINX_BODY));

    mosn.process.signal(libc::SIGTERM);
    let deadline = Instant::now() + Duration::from_secs(5);
    while TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(Instant::now() < deadline, "still accepting after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
    // The open connection still works while the server drains...
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        mosn.process.wait_timeout(Duration::ZERO).is_none(),
        "exited with a connection still open"
    );
    open.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    assert!(read_http_response(&mut open).ends_with(NGINX_BODY));
    // ...and once it closes, the process exits, well before graceful_timeout.
    drop(open);
    let status = mosn
        .process
        .wait_timeout(Duration::from_secs(5))
        .expect("no exit after the last connection closed");
    assert!(status.success(), "{status:?}");
    assert!(
        !mosn.dir.logs().join("mosn.pid").exists(),
        "the pid file is left behind"
    );
}

#[test]
fn sigterm_closes_idle_http1_connections_and_lets_a_request_in_progress_finish_with_close() {
    let nginx = Nginx::start();
    let port = free_port();
    let mut config = config(
        json!([http_listener("http", port, "main")]),
        json!([cluster("nginx", &[format!("127.0.0.1:{}", nginx.port)])]),
        free_port(),
    );
    config["servers"][0]["graceful_timeout"] = json!("20s");
    config["servers"][0]["routers"] = json!([{
        "router_config_name": "main",
        "virtual_hosts": [{ "name": "all", "domains": ["*"], "routers": [
            { "match": { "prefix": "/" }, "route": { "cluster_name": "nginx" } }
        ] }]
    }]);
    let mut mosn = Mosn::start(&config, port);
    let connect = || {
        let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        stream
    };
    let mut idle = connect();
    idle.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    assert!(read_http_response(&mut idle).ends_with(NGINX_BODY));
    // A request whose body has not all come: in progress when the stop begins.
    let mut busy = connect();
    busy.write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello")
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));

    mosn.process.signal(libc::SIGTERM);
    // Between two requests, the idle connection has nothing to finish: the drain closes it.
    let mut rest = Vec::new();
    idle.read_to_end(&mut rest)
        .expect("the idle connection stayed open after SIGTERM");
    assert!(rest.is_empty(), "{}", String::from_utf8_lossy(&rest));
    assert!(
        mosn.process.wait_timeout(Duration::ZERO).is_none(),
        "exited with a request in progress"
    );
    busy.write_all(b"world").unwrap();
    let answer = read_http_response(&mut busy);
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("\r\nconnection: close\r\n"),
        "{answer}"
    );
    busy.read_to_end(&mut rest)
        .expect("the connection stayed open after its last answer");
    let status = mosn
        .process
        .wait_timeout(Duration::from_secs(5))
        .expect("no exit once the last connection was closed");
    assert!(status.success(), "{status:?}");
}

#[test]
fn sigint_stops_at_once_even_with_open_connections() {
    let nginx = Nginx::start();
    let port = free_port();
    let mut mosn = Mosn::start(&proxy_to(&nginx, port, free_port()), port);
    let _open = TcpStream::connect(("127.0.0.1", port)).unwrap();
    mosn.process.signal(libc::SIGINT);
    let status = mosn
        .process
        .wait_timeout(Duration::from_secs(3))
        .expect("SIGINT did not stop mosn");
    assert!(status.success(), "{status:?}");
}

#[test]
fn mosn_stop_signals_the_process_in_the_pid_file() {
    let nginx = Nginx::start();
    let port = free_port();
    let mut mosn = Mosn::start(&proxy_to(&nginx, port, free_port()), port);
    let pid_file = mosn.dir.logs().join("mosn.pid");
    assert_eq!(
        std::fs::read_to_string(&pid_file).unwrap(),
        format!("{}\n", mosn.process.pid())
    );
    let output = run_mosn(&["stop"], Some(&mosn.dir.config_file()));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(mosn.process.wait_timeout(Duration::from_secs(3)).is_some());
    let again = run_mosn(&["stop"], Some(&mosn.dir.config_file()));
    assert!(
        !again.status.success(),
        "stopping a stopped server must fail"
    );
}

#[test]
fn a_port_in_use_is_a_clear_error_and_a_nonzero_exit() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let config = config(
        json!([tcp_proxy_listener("busy", port, "c")]),
        json!([cluster("c", &["127.0.0.1:1".into()])]),
        free_port(),
    );
    let dir = ConfigDir::new(&config);
    let child = Command::new(mosn_bin())
        .args(["start", "-c"])
        .arg(dir.config_file())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut process = Process(child);
    let status = process
        .wait_timeout(Duration::from_secs(5))
        .expect("mosn kept running on a port in use");
    assert!(!status.success());
    let mut stderr = String::new();
    std::io::Read::read_to_string(process.0.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    let want =
        format!("listener \"busy\" cannot listen on 127.0.0.1:{port}: Address already in use");
    assert!(stderr.contains(&want), "{stderr}");
}

#[test]
fn sigusr1_reopens_a_rotated_log_file() {
    let nginx = Nginx::start();
    let (port, admin) = (free_port(), free_port());
    let mosn = Mosn::start(&proxy_to(&nginx, port, admin), admin);
    let log = mosn.dir.logs().join("mosn.log");
    // The admin port answers a moment before the line is written: waited for, not raced.
    assert!(
        within_5s(|| mosn.log().contains("started")),
        "{}",
        mosn.log()
    );
    let rotated = mosn.dir.logs().join("mosn.log.1");
    std::fs::rename(&log, &rotated).unwrap();
    mosn.process.signal(libc::SIGUSR1);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !log.exists() {
        assert!(Instant::now() < deadline, "SIGUSR1 did not reopen the log");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Something logged now lands in the new file.
    assert!(curl(&[&format!("http://127.0.0.1:{port}/")]).0);
    let url = format!("http://127.0.0.1:{admin}/api/v1/update_loglevel");
    let body = json!({ "log_path": log.display().to_string(), "log_level": "INFO" }).to_string();
    assert!(curl(&["-X", "POST", "-d", &body, &url]).0);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !mosn.log().contains("log level") {
        assert!(
            Instant::now() < deadline,
            "nothing written to the reopened log: {:?}",
            mosn.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        !std::fs::read_to_string(&rotated)
            .unwrap()
            .contains("log level")
    );
}

#[test]
fn start_without_a_config_runs_the_embedded_sample() {
    // The embedded config uses fixed ports.
    assert!(
        can_bind(2045) && can_bind(34901),
        "ports 2045 and 34901 are needed free for this test"
    );
    let child = Command::new(mosn_bin())
        .arg("start")
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut process = Process(child);
    wait_for_port(2045);
    // 2045 proxies to 2046, which answers itself.
    let (ok, body) = curl(&["http://127.0.0.1:2045/"]);
    assert!(ok);
    assert!(String::from_utf8_lossy(&body).starts_with("Welcome to MOSN!"));
    process.signal(libc::SIGINT);
    assert!(process.wait_timeout(Duration::from_secs(3)).is_some());
}

#[test]
fn version_prints_the_version() {
    for args in [&["version"][..], &["-v"][..], &["--version"][..]] {
        let output = run_mosn(args, None);
        assert!(output.status.success());
        assert_eq!(
            String::from_utf8_lossy(&output.stdout).trim(),
            format!("mosn version {}", env!("CARGO_PKG_VERSION"))
        );
    }
}
