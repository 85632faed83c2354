//! `tcp_proxy` end to end: the real binary between curl/wrk/raw sockets and a real nginx.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

fn proxy_config(port: u16, nginx: &Nginx, server_extra: serde_json::Value) -> serde_json::Value {
    let mut config = config(
        json!([tcp_proxy_listener("tcp", port, "nginx")]),
        json!([cluster("nginx", &[format!("127.0.0.1:{}", nginx.port)])]),
        free_port(),
    );
    if let (Some(server), Some(extra)) = (
        config["servers"][0].as_object_mut(),
        server_extra.as_object(),
    ) {
        server.extend(extra.clone());
    }
    config
}

fn assert_proxies(port: u16) {
    for _ in 0..20 {
        let (ok, body) = curl(&[&format!("http://127.0.0.1:{port}/")]);
        assert!(ok, "curl through the proxy failed");
        assert_eq!(String::from_utf8_lossy(&body), NGINX_BODY);
    }
    let (ok, body) = curl(&[&format!("http://127.0.0.1:{port}/big")]);
    assert!(ok);
    assert!(
        body == big_body(),
        "the 8 MiB body came through changed ({} bytes)",
        body.len()
    );
}

#[test]
fn proxies_to_nginx_with_the_work_stealing_runtime() {
    let nginx = Nginx::start();
    let port = free_port();
    let _mosn = Mosn::start(&proxy_config(port, &nginx, json!({"processor": 2})), port);
    assert_proxies(port);
}

#[test]
fn proxies_to_nginx_with_thread_per_core_workers_on_reuseport_sockets() {
    let nginx = Nginx::start();
    let port = free_port();
    let mut config = proxy_config(
        port,
        &nginx,
        json!({"use_netpoll_mode": true, "processor": 2}),
    );
    config["servers"][0]["listeners"][0]["reuseport"] = json!(true);
    let _mosn = Mosn::start(&config, port);
    assert_proxies(port);
}

#[test]
fn proxies_to_nginx_with_thread_per_core_workers_on_a_shared_socket() {
    let nginx = Nginx::start();
    let port = free_port();
    let _mosn = Mosn::start(
        &proxy_config(
            port,
            &nginx,
            json!({"use_netpoll_mode": true, "processor": 2}),
        ),
        port,
    );
    assert_proxies(port);
}

/// socat runs `wc -c`, which answers only once it has read end of stream: the answer comes back
/// only if the proxy passes the client's half-close on and keeps the other direction open.
#[test]
fn a_half_close_passes_through_and_the_answer_still_comes_back() {
    let (_socat, backend_port) = socat("EXEC:wc -c", true);
    let port = free_port();
    let config = config(
        json!([tcp_proxy_listener("tcp", port, "wc")]),
        json!([cluster("wc", &[format!("127.0.0.1:{backend_port}")])]),
        free_port(),
    );
    let _mosn = Mosn::start(&config, port);
    for _ in 0..3 {
        let answer = exchange_half_closed(port, &big_body());
        assert_eq!(
            String::from_utf8_lossy(&answer).trim(),
            BIG_SIZE.to_string()
        );
    }
}

#[test]
fn wrk_load_through_the_proxy_has_no_errors() {
    let nginx = Nginx::start();
    let port = free_port();
    let _mosn = Mosn::start(&proxy_config(port, &nginx, json!({})), port);
    let requests = wrk(&format!("http://127.0.0.1:{port}/"), 50);
    assert!(requests > 1000, "{requests} requests in 2 s");
}

#[test]
fn a_failed_connect_moves_on_to_the_next_host() {
    let nginx = Nginx::start();
    let dead = format!("127.0.0.1:{}", free_port());
    let live = format!("127.0.0.1:{}", nginx.port);
    for attempts in [1, 2] {
        let port = free_port();
        let mut listener = tcp_proxy_listener("tcp", port, "pair");
        listener["filter_chains"][0]["filters"][0]["config"]["max_connect_attempts"] =
            json!(attempts);
        let admin = free_port();
        let config = config(
            json!([listener]),
            json!([cluster("pair", &[dead.clone(), live.clone()])]),
            admin,
        );
        // Ready when the admin port answers: probing the proxy port would use up a host pick.
        let _mosn = Mosn::start(&config, admin);
        // Round robin alternates between the dead host and the live one.
        let served = (0..6)
            .filter(|_| curl(&[&format!("http://127.0.0.1:{port}/")]).0)
            .count();
        match attempts {
            1 => assert_eq!(served, 3, "one attempt: every other connection fails"),
            _ => assert_eq!(
                served, 6,
                "two attempts: a failed connect moves on to the live host"
            ),
        }
    }
}

#[test]
fn routes_pick_the_cluster_by_destination_port() {
    let nginx = Nginx::start();
    let (routed, unrouted) = (free_port(), free_port());
    let routes =
        json!({ "routes": [{ "cluster": "nginx", "DestinationPort": routed.to_string() }] });
    let listener = |name: &str, port: u16| {
        json!({ "name": name, "address": format!("127.0.0.1:{port}"), "bind_port": true,
                "filter_chains": [{ "filters": [{ "type": "tcp_proxy", "config": routes }] }] })
    };
    let config = config(
        json!([listener("routed", routed), listener("unrouted", unrouted)]),
        json!([cluster("nginx", &[format!("127.0.0.1:{}", nginx.port)])]),
        free_port(),
    );
    let _mosn = Mosn::start(&config, routed);
    let (ok, body) = curl(&[&format!("http://127.0.0.1:{routed}/")]);
    assert!(ok && body == NGINX_BODY.as_bytes());
    let (ok, _) = curl(&[&format!("http://127.0.0.1:{unrouted}/")]);
    assert!(!ok, "a connection no route matches must be closed");
}

#[test]
fn a_unix_socket_listener_proxies_to_nginx() {
    let nginx = Nginx::start();
    let socket_dir = tempfile::tempdir().unwrap();
    let socket = socket_dir.path().join("mosn.sock");
    let admin = free_port();
    let listener = json!({
        "name": "unix", "network": "unix", "address": socket.display().to_string(), "bind_port": true,
        "filter_chains": [{ "filters": [{ "type": "tcp_proxy", "config": { "cluster": "nginx" } }] }]
    });
    let config = config(
        json!([listener]),
        json!([cluster("nginx", &[format!("127.0.0.1:{}", nginx.port)])]),
        admin,
    );
    let mut mosn = Mosn::start(&config, admin);
    let (ok, body) = curl(&["--unix-socket", &socket.display().to_string(), "http://x/"]);
    assert!(ok && body == NGINX_BODY.as_bytes());
    mosn.process.signal(libc::SIGTERM);
    assert!(
        mosn.process
            .wait_timeout(Duration::from_secs(5))
            .is_some_and(|s| s.success())
    );
    assert!(!socket.exists(), "the socket file is left behind");
}

#[test]
fn a_file_that_is_not_a_socket_is_never_removed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("precious.txt");
    std::fs::write(&path, "keep me").unwrap();
    let listener = json!({
        "name": "unix", "network": "unix", "address": path.display().to_string(), "bind_port": true,
        "filter_chains": [{ "filters": [{ "type": "tcp_proxy", "config": { "cluster": "c" } }] }]
    });
    let config = config(
        json!([listener]),
        json!([cluster("c", &["127.0.0.1:1".into()])]),
        free_port(),
    );
    let dir_config = ConfigDir::new(&config);
    let output = run_mosn(&["start"], Some(&dir_config.config_file()));
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("not a socket"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "keep me");
}

#[test]
fn an_idle_connection_is_closed_after_connection_idle_timeout() {
    let nginx = Nginx::start();
    let port = free_port();
    let mut config = proxy_config(port, &nginx, json!({}));
    config["servers"][0]["listeners"][0]["connection_idle_timeout"] = json!("300ms");
    let _mosn = Mosn::start(&config, port);
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    // Activity keeps it open past the timeout...
    for _ in 0..3 {
        std::thread::sleep(Duration::from_millis(200));
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        assert!(read_http_response(&mut stream).ends_with(NGINX_BODY));
    }
    // ...and silence closes it.
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let started = Instant::now();
    let mut byte = [0u8; 1];
    assert_eq!(
        stream.read(&mut byte).unwrap(),
        0,
        "expected the proxy to close the idle connection"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "closed after {:?}",
        started.elapsed()
    );
}

#[test]
fn an_upstream_host_can_be_a_unix_socket() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("wc.sock");
    let socat = which("socat").expect("socat is needed: run ./scripts/test, which installs it");
    let child = Command::new(socat)
        .arg(format!("UNIX-LISTEN:{},fork", socket.display()))
        .arg("EXEC:wc -c")
        .spawn()
        .unwrap();
    let _socat = Process(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !socket.exists() {
        assert!(Instant::now() < deadline, "socat did not create its socket");
        std::thread::sleep(Duration::from_millis(20));
    }
    let port = free_port();
    let host = format!("unix:{}", socket.display());
    let config = config(
        json!([tcp_proxy_listener("tcp", port, "wc")]),
        json!([cluster("wc", &[host])]),
        free_port(),
    );
    let _mosn = Mosn::start(&config, port);
    let answer = exchange_half_closed(port, b"twelve bytes");
    assert_eq!(String::from_utf8_lossy(&answer).trim(), "12");
}

#[test]
fn names_work_for_listeners_and_hosts() {
    let nginx = Nginx::start();
    let port = free_port();
    let mut listener = tcp_proxy_listener("named", port, "nginx");
    listener["address"] = json!(format!("localhost:{port}"));
    let config = config(
        json!([listener]),
        json!([cluster("nginx", &[format!("localhost:{}", nginx.port)])]),
        free_port(),
    );
    let _mosn = Mosn::start(&config, port);
    let (ok, body) = curl(&[&format!("http://127.0.0.1:{port}/")]);
    assert!(ok && body == NGINX_BODY.as_bytes());
}

/// The backend never reads. The client writes as fast as it can for two seconds: the proxy
/// must stop reading when the upstream stops taking bytes, so its memory stays flat and the
/// client is slowed down, rather than the proxy queueing everything.
#[test]
fn a_backend_that_does_not_read_slows_the_client_and_memory_stays_bounded() {
    let (_socat, backend_port) = socat("EXEC:sleep 30", false);
    let port = free_port();
    let config = config(
        json!([tcp_proxy_listener("tcp", port, "sink")]),
        json!([cluster("sink", &[format!("127.0.0.1:{backend_port}")])]),
        free_port(),
    );
    let mosn = Mosn::start(&config, port);
    let rss_before = rss_kib(mosn.process.pid());

    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_write_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let chunk = vec![7u8; 64 * 1024];
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut written = 0usize;
    while Instant::now() < deadline {
        match stream.write(&chunk) {
            Ok(n) => written += n,
            Err(_) => std::thread::sleep(Duration::from_millis(50)), // blocked: backpressure
        }
    }
    let grown = rss_kib(mosn.process.pid()).saturating_sub(rss_before);
    // Socket buffers on both sides hold a few MiB at most; a proxy that queued would hold GiBs.
    assert!(
        written < 64 << 20,
        "the client wrote {written} bytes: nothing held it back"
    );
    assert!(
        grown < 8 * 1024,
        "mosn grew by {grown} KiB while its upstream did not read"
    );
}

/// `proxy` (Auto) then `tcp_proxy` on one listener: HTTP/1.1 and HTTP/2 clients are served by
/// the proxy (nginx), and with `fallback_for_unknown_protocol` anything else goes through
/// `tcp_proxy` to its backend (socat echoing), early bytes first; without it, it is closed.
#[test]
fn unknown_protocols_fall_back_to_tcp_proxy() {
    let nginx = Nginx::start();
    let (_echo, echo_port) = socat("EXEC:cat", true);
    for fallback in [true, false] {
        let port = free_port();
        let listener = json!({ "name": "mixed", "address": format!("127.0.0.1:{port}"), "bind_port": true,
            "filter_chains": [{ "filters": [
                { "type": "proxy", "config": { "downstream_protocol": "Auto", "upstream_protocol": "Http1",
                    "router_config_name": "web", "fallback_for_unknown_protocol": fallback } },
                { "type": "tcp_proxy", "config": { "cluster": "echo" } }
            ] }] });
        let mut config = config(
            json!([listener]),
            json!([
                cluster("web", &[format!("127.0.0.1:{}", nginx.port)]),
                cluster("echo", &[format!("127.0.0.1:{echo_port}")])
            ]),
            free_port(),
        );
        config["servers"][0]["routers"] = json!([{ "router_config_name": "web",
            "virtual_hosts": [{ "name": "all", "domains": ["*"],
                "routers": [{ "match": { "prefix": "/" }, "route": { "cluster_name": "web" } }] }] }]);
        let _mosn = Mosn::start(&config, port);
        for flag in ["--http1.1", "--http2-prior-knowledge"] {
            let (ok, body) = curl(&["-sS", "-f", flag, &format!("http://127.0.0.1:{port}/")]);
            assert!(
                ok && body == NGINX_BODY.as_bytes(),
                "{flag}, fallback {fallback}"
            );
        }
        let line = b"hello, I speak no HTTP\n";
        let echoed = exchange_half_closed(port, line);
        match fallback {
            true => assert_eq!(echoed, line),
            false => assert!(echoed.is_empty(), "{echoed:?}"),
        }
    }
}
