//! Retries, circuit breakers, mirrors and upstream connection reuse of the HTTP proxy, against
//! nginx and socat backends; the retry tests run with HTTP/1.1 on both sides, then with HTTP/2
//! (h2c) on both sides.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::*;
use serde_json::{Value, json};

/// The HTTP version the client, the proxy and nginx speak.
#[derive(Clone, Copy, Debug)]
enum Http {
    V1,
    V2,
}

impl Http {
    fn curl_flag(self) -> &'static str {
        match self {
            Http::V1 => "--http1.1",
            Http::V2 => "--http2-prior-knowledge",
        }
    }

    /// nginx's address for this version.
    fn nginx(self, nginx: &Nginx) -> String {
        format!("127.0.0.1:{}", self.nginx_port(nginx))
    }

    fn nginx_port(self, nginx: &Nginx) -> u16 {
        match self {
            Http::V1 => nginx.port,
            Http::V2 => nginx.h2_port,
        }
    }

    /// What follows the address in an nginx `listen` directive.
    fn listen_option(self) -> &'static str {
        match self {
            Http::V1 => "",
            Http::V2 => "http2",
        }
    }
}

/// A proxy whose `/` route goes to `hosts` (round robin) with `route` merged into its action.
fn start(hosts: &[String], route: Value, cluster_extra: Value) -> (Mosn, u16) {
    start_speaking(Http::V1, hosts, route, cluster_extra)
}

/// `start`, with `http` on both sides of the proxy.
fn start_speaking(http: Http, hosts: &[String], route: Value, cluster_extra: Value) -> (Mosn, u16) {
    let port = free_port();
    let protocol = match http {
        Http::V1 => "Http1",
        Http::V2 => "Http2",
    };
    let config = proxy_to_backend(port, protocol, hosts, route, cluster_extra);
    (Mosn::start(&config, port), port)
}

fn get(port: u16) -> u16 {
    get_speaking(Http::V1, port)
}

fn get_speaking(http: Http, port: u16) -> u16 {
    status_of(http, &[&format!("http://127.0.0.1:{port}/")])
}

fn put(http: Http, port: u16, body: &str) -> u16 {
    let url = format!("http://127.0.0.1:{port}/upload/retried");
    status_of(http, &["-X", "PUT", "--data-binary", body, &url])
}

/// The status curl got for a request made with `args`.
fn status_of(http: Http, args: &[&str]) -> u16 {
    let mut all = vec![http.curl_flag(), "-o", "/dev/null", "-w", "%{http_code}"];
    all.extend(args);
    let (_, out) = curl(&all);
    String::from_utf8_lossy(&out).parse().unwrap_or(0)
}

#[test]
fn a_failed_connect_is_retried_on_another_host_when_the_policy_allows() {
    for http in [Http::V1, Http::V2] {
        let nginx = Nginx::start();
        let hosts = [format!("127.0.0.1:{}", free_port()), http.nginx(&nginx)];
        let (_mosn, port) = start_speaking(http, &hosts, json!({}), json!({}));
        let without: Vec<u16> = (0..4).map(|_| get_speaking(http, port)).collect();
        assert_eq!(
            without.iter().filter(|s| **s == 503).count(),
            2,
            "{http:?}: {without:?}"
        );

        let retry = json!({ "retry_policy": { "retry_on": true, "num_retries": 1 } });
        let (_mosn, port) = start_speaking(http, &hosts, retry, json!({}));
        let with: Vec<u16> = (0..4).map(|_| get_speaking(http, port)).collect();
        assert_eq!(with, [200; 4], "{http:?}");
        // An upload whose body was not read yet when the connect failed is retried too.
        let uploads: Vec<u16> = (0..4).map(|_| put(http, port, "body")).collect();
        assert!(
            uploads.iter().all(|s| *s == 201 || *s == 204),
            "{http:?}: {uploads:?}"
        );
        assert_eq!(nginx.uploaded("retried").unwrap(), b"body");
    }
}

#[test]
fn a_status_in_status_codes_is_retried() {
    for http in [Http::V1, Http::V2] {
        let busy = free_port();
        let nginx = Nginx::start_with(&format!(
            "server {{ listen 127.0.0.1:{busy} {}; location / {{ return 503 busy; }} }}",
            http.listen_option()
        ));
        let hosts = [format!("127.0.0.1:{busy}"), http.nginx(&nginx)];
        let (_mosn, port) = start_speaking(
            http,
            &hosts,
            json!({ "retry_policy": { "retry_on": true, "num_retries": 1 } }),
            json!({}),
        );
        let passed_through: Vec<u16> = (0..4).map(|_| get_speaking(http, port)).collect();
        assert_eq!(
            passed_through.iter().filter(|s| **s == 503).count(),
            2,
            "{http:?}: {passed_through:?}"
        );
        let retry = json!({ "retry_policy": { "retry_on": true, "num_retries": 1, "status_codes": [503] } });
        let (_mosn, port) = start_speaking(http, &hosts, retry, json!({}));
        let statuses: Vec<u16> = (0..4).map(|_| get_speaking(http, port)).collect();
        assert_eq!(statuses, [200; 4], "{http:?}");
    }
}

#[test]
fn a_try_that_times_out_is_retried_within_retry_timeout() {
    for http in [Http::V1, Http::V2] {
        let nginx = Nginx::start();
        let (_sleeper, silent) = socat("EXEC:sleep 10", true);
        let hosts = [format!("127.0.0.1:{silent}"), http.nginx(&nginx)];
        let retry = json!({ "retry_policy": { "retry_on": true, "num_retries": 1, "retry_timeout": "300ms" } });
        let (_mosn, port) = start_speaking(http, &hosts, retry, json!({}));
        let started = std::time::Instant::now();
        let statuses: Vec<u16> = (0..2).map(|_| get_speaking(http, port)).collect();
        assert_eq!(statuses, [200; 2], "{http:?}");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{http:?}: took {:?}",
            started.elapsed()
        );
    }
}

#[test]
fn a_full_max_requests_or_max_connections_breaker_is_answered_503() {
    let nginx = Nginx::start();
    for breaker in ["max_requests", "max_connections"] {
        let (silent, reached) = black_hole();
        let breakers = json!({ "circuit_breakers": [{ breaker: 1 }] });
        let (_mosn, port) = start(
            &[format!("127.0.0.1:{silent}")],
            json!({}),
            breakers.clone(),
        );
        let slow = std::thread::spawn(move || get(port));
        // The first request holds its slot once it has reached the silent host.
        assert!(within_5s(|| reached.load(Ordering::Relaxed) > 0));
        assert_eq!(get(port), 503, "{breaker}: the second request overflows");
        assert_eq!(
            slow.join().unwrap(),
            504,
            "{breaker}: the first one times out after the route's 2s"
        );
        // One request at a time fits: with max_connections, on the one pooled connection.
        let (_mosn, port) = start(&[format!("127.0.0.1:{}", nginx.port)], json!({}), breakers);
        let statuses: Vec<u16> = (0..5).map(|_| get(port)).collect();
        assert_eq!(statuses, [200; 5], "{breaker}");
    }
}

#[test]
fn a_full_max_pending_requests_breaker_is_answered_503_at_once() {
    let (_listener, unanswered) = never_connecting();
    let cluster =
        json!({ "connect_timeout": "3s", "circuit_breakers": [{ "max_pending_requests": 1 }] });
    let (_mosn, port) = start(&[format!("127.0.0.1:{unanswered}")], json!({}), cluster);
    let waiting = std::thread::spawn(move || get(port));
    // The first request holds the one slot while its connect waits.
    assert!(within_5s(|| sockets_to(unanswered, SYN_SENT) == 1));
    let started = std::time::Instant::now();
    assert_eq!(get(port), 503, "the second request overflows");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the second request waited {:?}: it made a connect of its own",
        started.elapsed()
    );
    assert_eq!(waiting.join().unwrap(), 503, "the first connect times out");
}

#[test]
fn a_full_max_retries_breaker_lets_the_failed_try_answer() {
    // Round robin from the first host: the first request's connect is refused, its retry
    // waits on the silent host; the second request's connect is refused too.
    let (silent, reached) = black_hole();
    let hosts = [
        format!("127.0.0.1:{}", free_port()),
        format!("127.0.0.1:{silent}"),
    ];
    let retry = json!({ "retry_policy": { "retry_on": true, "num_retries": 1 } });
    let breaker = json!({ "circuit_breakers": [{ "max_retries": 1 }] });
    let (_mosn, port) = start(&hosts, retry, breaker);
    let retrying = std::thread::spawn(move || get(port));
    assert!(within_5s(|| reached.load(Ordering::Relaxed) == 1));
    assert_eq!(
        get(port),
        503,
        "the second request is not retried while the first one is"
    );
    assert_eq!(reached.load(Ordering::Relaxed), 1);
    assert_eq!(
        retrying.join().unwrap(),
        504,
        "the retry times out after the route's 2s"
    );
}

/// A port on which connects never complete: its listener's accept queue is full and nobody
/// accepts, so the kernel drops every SYN. Keep the returned socket and connection alive.
fn never_connecting() -> ((socket2::Socket, std::net::TcpStream), u16) {
    use socket2::{Domain, Socket, Type};
    let listener = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    listener
        .bind(
            &"127.0.0.1:0"
                .parse::<std::net::SocketAddr>()
                .unwrap()
                .into(),
        )
        .unwrap();
    // A backlog of 0 queues one connection; this one fills it.
    listener.listen(0).unwrap();
    let port = listener.local_addr().unwrap().as_socket().unwrap().port();
    let filler = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    ((listener, filler), port)
}

#[test]
fn requests_are_mirrored_with_their_bodies() {
    let (main, shadow) = (Nginx::start(), Nginx::start());
    let port = free_port();
    let router = json!({ "router_config_name": "main", "virtual_hosts": [{ "name": "all", "domains": ["*"], "routers": [{
        "match": { "prefix": "/" }, "route": { "cluster_name": "main" },
        "request_mirror_policies": { "cluster": "shadow", "percent": 100 } }] }] });
    let clusters = json!([
        cluster("main", &[format!("127.0.0.1:{}", main.port)]),
        cluster("shadow", &[format!("127.0.0.1:{}", shadow.port)])
    ]);
    let mut config = config(
        json!([http_listener("http", port, "main")]),
        clusters,
        free_port(),
    );
    config["servers"][0]["routers"] = json!([router]);
    let _mosn = Mosn::start(&config, port);
    assert_eq!(get(port), 200);
    assert!(matches!(put(Http::V1, port, "mirrored body"), 201 | 204));
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while shadow.uploaded("retried").is_none() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(main.uploaded("retried").unwrap(), b"mirrored body");
    assert_eq!(
        shadow.uploaded("retried").unwrap(),
        b"mirrored body",
        "the mirror did not get the body"
    );
    assert!(
        shadow.logged("\"GET / HTTP/1.1\" 200"),
        "{}",
        shadow.access_log()
    );
}

/// Six requests in a row: without `max_request_per_conn` they share one upstream connection
/// (as in MOSN, which never reads the key); with it set to 2 they take three. nginx answers
/// each with the number of the connection it came on.
#[test]
fn max_request_per_conn_caps_the_requests_an_upstream_connection_carries() {
    let (_nginx, port) = nginx_naming_connections();
    for (cluster_extra, connections) in [(json!({}), 1), (json!({ "max_request_per_conn": 2 }), 3)]
    {
        let (_mosn, proxy) = start(&[format!("127.0.0.1:{port}")], json!({}), cluster_extra);
        let url = format!("http://127.0.0.1:{proxy}/");
        let (_, out) = curl(&[&url, &url, &url, &url, &url, &url]);
        let answers = String::from_utf8_lossy(&out).into_owned();
        let seen: std::collections::HashSet<&str> = answers.lines().collect();
        assert_eq!(answers.lines().count(), 6, "{answers}");
        assert_eq!(seen.len(), connections, "{answers}");
    }
}

/// An nginx that answers each request with the serial number of the connection it came on;
/// and its port.
fn nginx_naming_connections() -> (Nginx, u16) {
    let port = free_port();
    let nginx = Nginx::start_with(&format!(
        "server {{ listen 127.0.0.1:{port}; location / {{ return 200 \"$connection\\n\"; }} }}"
    ));
    wait_for_port(port);
    (nginx, port)
}

#[test]
fn a_pooled_connection_idle_past_the_cluster_idle_timeout_is_closed() {
    for http in [Http::V1, Http::V2] {
        let nginx = Nginx::start();
        let idle = json!({ "idle_timeout": "300ms" });
        let (_mosn, port) = start_speaking(http, &[http.nginx(&nginx)], json!({}), idle);
        let upstream = http.nginx_port(&nginx);
        assert_eq!(
            [get_speaking(http, port), get_speaking(http, port)],
            [200; 2]
        );
        assert_eq!(
            sockets_to(upstream, ESTABLISHED),
            1,
            "{http:?}: one connection, reused"
        );
        // Closed as it waits, with no request to the host to find it expired.
        assert!(
            within_5s(|| sockets_to(upstream, ESTABLISHED) == 0),
            "{http:?}: still open past its idle timeout"
        );
        assert_eq!(get_speaking(http, port), 200, "{http:?}");
    }
}

/// TCP states as /proc/net/tcp writes them.
const ESTABLISHED: &str = "01";
const SYN_SENT: &str = "02";

/// TCP sockets in `state` whose peer is 127.0.0.1:`port` (/proc/net/tcp).
fn sockets_to(port: u16, state: &str) -> usize {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let remote = format!("0100007F:{port:04X}");
    table
        .lines()
        .skip(1)
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        .filter(|fields| fields.get(2) == Some(&remote.as_str()) && fields.get(3) == Some(&state))
        .count()
}
