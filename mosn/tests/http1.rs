//! The HTTP/1.1 proxy end to end: curl, wrk and raw sockets in front, nginx behind.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

/// A proxy on a free port: `/` and everything else to nginx, plus a few routes of its own.
fn start_proxy(backend: &str, extra: Value) -> (Mosn, u16) {
    let port = free_port();
    let mut proxy = http_listener("http", port, "main");
    if let Some(extend) = extra.get("extend_config") {
        proxy["filter_chains"][0]["filters"][0]["config"]["extend_config"] = extend.clone();
    }
    for key in ["stream_filters", "access_logs"] {
        if let Some(value) = extra.get(key) {
            proxy[key] = value.clone();
        }
    }
    let router = json!({
        "router_config_name": "main",
        "virtual_hosts": [
            { "name": "other", "domains": ["other.example"], "routers": [
                { "match": { "prefix": "/" }, "direct_response": { "status": 200, "body": "other host\n" } }
            ] },
            { "name": "all", "domains": ["*"], "routers": [
                { "match": { "path": "/direct" }, "direct_response": { "status": 201, "body": "made here\n" } },
                { "match": { "path": "/moved" }, "redirect": { "path_redirect": "/", "response_code": 302 } },
                { "match": { "prefix": "/none" }, "route": { "cluster_name": "dead" } },
                                { "match": { "prefix": "/rewritten/" }, "route": { "cluster_name": "nginx", "prefix_rewrite": "/" } },
                { "match": { "prefix": "/re/" }, "route": { "cluster_name": "nginx",
                    "regex_rewrite": { "pattern": { "regex": "^/re/([a-z]+)\\.htm$" }, "substitution": "/$1.html" } } },
                { "match": { "prefix": "/auto" }, "route": { "cluster_name": "nginx", "prefix_rewrite": "/echo-headers", "auto_host_rewrite": true } },
                { "match": { "variables": [{ "name": "x-mosn-method", "value": "DELETE" }] },
                  "direct_response": { "status": 405, "body": "no deletes\n" } },
                { "match": { "prefix": "/echo-headers" }, "route": {
                    "cluster_name": "nginx", "host_rewrite": "rewritten.example",
                    "request_headers_to_add": [{ "header": { "key": "X-Added", "value": "yes" } }],
                    "request_headers_to_remove": ["X-Remove-Me"],
                    "response_headers_to_add": [{ "header": { "key": "X-Proxied-By", "value": "mosn" } }] } },
                { "match": { "headers": [{ "name": "x-only-direct", "value": ".*" }] },
                  "direct_response": { "status": 200, "body": "header rule\n" } },
                { "match": { "prefix": "/" }, "route": { "cluster_name": "nginx", "timeout": "1s" } }
            ] }
        ]
    });
    let dead = format!("127.0.0.1:{}", free_port());
    let mut config = config(
        json!([proxy]),
        json!([
            cluster("nginx", &[backend.to_string()]),
            cluster("dead", &[dead])
        ]),
        free_port(),
    );
    config["servers"][0]["routers"] = json!([router]);
    (Mosn::start(&config, port), port)
}

fn url(port: u16, path: &str) -> String {
    format!("http://127.0.0.1:{port}{path}")
}

/// `curl -s -o /dev/null -w '%{http_code}'` plus the given arguments.
fn status(args: &[&str]) -> u16 {
    let mut full = vec!["-o", "/dev/null", "-w", "%{http_code}"];
    full.extend_from_slice(args);
    let (_, out) = curl(&full);
    String::from_utf8_lossy(&out).parse().unwrap_or(0)
}

/// Sends raw bytes and reads the answer until the proxy closes (or 5 s pass).
fn raw(port: u16, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream.write_all(request).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

#[test]
fn gets_go_to_nginx_and_keep_alive_reuses_connections() {
    let nginx = Nginx::start();
    let (_mosn, port) = start_proxy(&format!("127.0.0.1:{}", nginx.port), json!({}));
    let output = Command::new("curl")
        .args(["-sv", &url(port, "/"), &url(port, "/"), &url(port, "/big")])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Re-using existing connection"), "{stderr}");
    let mut want = NGINX_BODY.repeat(2).into_bytes();
    want.extend(big_body());
    assert!(
        output.stdout == want,
        "bodies differ ({} bytes)",
        output.stdout.len()
    );
}

#[test]
fn wrk_load_has_no_errors() {
    let nginx = Nginx::start();
    let (_mosn, port) = start_proxy(&format!("127.0.0.1:{}", nginx.port), json!({}));
    let requests = wrk(&url(port, "/"), 20);
    assert!(requests > 1000, "{requests} requests in 2 s");
}

#[test]
fn uploads_arrive_whole_with_content_length_and_chunked() {
    let nginx = Nginx::start();
    let (_mosn, port) = start_proxy(&format!("127.0.0.1:{}", nginx.port), json!({}));
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), big_body()).unwrap();
    let path = file.path().display().to_string();
    assert_eq!(status(&["-T", &path, &url(port, "/upload/sized")]), 201);
    assert!(nginx.uploaded("sized").unwrap() == big_body());
    // From stdin, curl sends chunked.
    let child = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-T",
            "-",
            "-H",
            "Expect:",
            &url(port, "/upload/chunked"),
        ])
        .stdin(std::fs::File::open(file.path()).unwrap())
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&child.stdout), "201");
    assert!(nginx.uploaded("chunked").unwrap() == big_body());
    // Expect: 100-continue, which curl sends for large bodies, is answered.
    assert_eq!(
        status(&[
            "-T",
            &path,
            "-H",
            "Expect: 100-continue",
            &url(port, "/upload/expect")
        ]),
        201
    );
    assert!(nginx.uploaded("expect").unwrap() == big_body());
}

#[test]
fn routes_answer_direct_redirect_rewrite_and_by_host() {
    let nginx = Nginx::start();
    let (_mosn, port) = start_proxy(&format!("127.0.0.1:{}", nginx.port), json!({}));
    let (ok, body) = curl(&["-i", &url(port, "/direct")]);
    let text = String::from_utf8_lossy(&body);
    assert!(
        ok && text.starts_with("HTTP/1.1 201") && text.ends_with("made here\n"),
        "{text}"
    );
    let (_, body) = curl(&["-i", &url(port, "/moved")]);
    let text = String::from_utf8_lossy(&body);
    assert!(
        text.starts_with("HTTP/1.1 302")
            && text.contains(&format!("Location: http://127.0.0.1:{port}/")),
        "{text}"
    );
    let (_, body) = curl(&[&url(port, "/rewritten/index.html")]);
    assert_eq!(String::from_utf8_lossy(&body), NGINX_BODY);
    let (_, body) = curl(&["-H", "Host: other.example", &url(port, "/")]);
    assert_eq!(String::from_utf8_lossy(&body), "other host\n");
    let (_, body) = curl(&["-H", "x-only-direct: 1", &url(port, "/zzz")]);
    assert_eq!(String::from_utf8_lossy(&body), "header rule\n");
    let (_, body) = curl(&[&url(port, "/re/index.htm?x=1")]);
    assert_eq!(String::from_utf8_lossy(&body), NGINX_BODY, "regex_rewrite");
    let (_, body) = curl(&[&url(port, "/auto")]);
    let text = String::from_utf8_lossy(&body);
    assert!(
        text.ends_with(&format!("|127.0.0.1:{}", nginx.port)),
        "auto_host_rewrite: {text}"
    );
    let (_, body) = curl(&["-X", "DELETE", &url(port, "/anything")]);
    assert_eq!(
        String::from_utf8_lossy(&body),
        "no deletes\n",
        "variables matcher"
    );
}

#[test]
fn headers_are_mutated_and_hop_by_hop_fields_removed() {
    let nginx = Nginx::start();
    let (_mosn, port) = start_proxy(&format!("127.0.0.1:{}", nginx.port), json!({}));
    let (_, body) = curl(&[
        "-i",
        "-H",
        "X-Remove-Me: by the route",
        "-H",
        "X-Hop: named in Connection",
        "-H",
        "Connection: keep-alive, X-Hop",
        &url(port, "/echo-headers"),
    ]);
    let text = String::from_utf8_lossy(&body);
    // nginx saw: X-Added added, no Connection, X-Remove-Me and X-Hop gone, Host rewritten.
    assert!(text.ends_with("yes||||rewritten.example"), "{text}");
    assert!(text.contains("X-Proxied-By: mosn"), "{text}");
}

#[test]
fn errors_get_their_status() {
    let nginx = Nginx::start();
    let (_mosn, port) = start_proxy(&format!("127.0.0.1:{}", nginx.port), json!({}));
    assert_eq!(status(&[&url(port, "/none")]), 503, "connect failure");
    assert_eq!(status(&["-H", "Host: other.example", &url(port, "/")]), 200);

    let (_sleeper, silent) = socat("EXEC:sleep 10", true);
    let (_mosn, port) = start_proxy(&format!("127.0.0.1:{silent}"), json!({}));
    let started = Instant::now();
    assert_eq!(status(&[&url(port, "/")]), 504, "upstream timeout");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the 1s route timeout took {:?}",
        started.elapsed()
    );

    let (_closer, closer) = socat("EXEC:true", true);
    let (_mosn, port) = start_proxy(&format!("127.0.0.1:{closer}"), json!({}));
    assert_eq!(status(&[&url(port, "/")]), 502, "upstream reset");
}

#[test]
fn no_route_is_404() {
    let nginx = Nginx::start();
    let port = free_port();
    let router = json!({ "router_config_name": "main", "virtual_hosts": [{ "name": "only", "domains": ["only.example"], "routers": [
        { "match": { "prefix": "/" }, "route": { "cluster_name": "nginx" } }] }] });
    let mut config = config(
        json!([http_listener("http", port, "main")]),
        json!([cluster("nginx", &[format!("127.0.0.1:{}", nginx.port)])]),
        free_port(),
    );
    config["servers"][0]["routers"] = json!([router]);
    let _mosn = Mosn::start(&config, port);
    assert_eq!(status(&[&url(port, "/")]), 404);
    assert_eq!(status(&["-H", "Host: only.example", &url(port, "/")]), 200);
}

#[test]
fn a_pooled_connection_the_backend_closed_is_not_used() {
    let nginx = Nginx::start_with("keepalive_timeout 1s;");
    let (_mosn, port) = start_proxy(&format!("127.0.0.1:{}", nginx.port), json!({}));
    for _ in 0..3 {
        assert_eq!(status(&[&url(port, "/")]), 200);
        std::thread::sleep(Duration::from_millis(1500)); // nginx closes the idle upstream connection
    }
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let nginx = Nginx::start();
    let (_mosn, port) = start_proxy(&format!("127.0.0.1:{}", nginx.port), json!({}));
    let answer = raw(
        port,
        b"GET /direct HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\nHEAD / HTTP/1.1\r\nHost: a\r\n\r\nGET /no-content HTTP/1.1\r\nHost: a\r\n\r\nGET /direct HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    );
    let statuses: Vec<&str> = answer
        .lines()
        .filter(|l| l.starts_with("HTTP/1.1 "))
        .collect();
    assert_eq!(
        statuses,
        [
            "HTTP/1.1 201 Created",
            "HTTP/1.1 200 OK",
            "HTTP/1.1 200 OK",
            "HTTP/1.1 204 No Content",
            "HTTP/1.1 201 Created"
        ],
        "{answer}"
    );
    assert!(
        answer.ends_with("made here\n"),
        "HEAD and 204 must carry no body: {answer}"
    );
}

#[test]
fn http10_clients_get_a_close_delimited_body_when_nginx_streams() {
    let nginx = Nginx::start();
    let (_mosn, port) = start_proxy(&format!("127.0.0.1:{}", nginx.port), json!({}));
    let answer = raw(port, b"GET / HTTP/1.0\r\n\r\n");
    assert!(
        answer.starts_with("HTTP/1.1 200") && answer.ends_with(NGINX_BODY),
        "{answer}"
    );
}

/// Each smuggling shape gets 400 (501 for a coding we do not decode) and a close, and nginx
/// sees nothing.
#[test]
fn smuggling_attempts_are_refused_and_never_reach_nginx() {
    let nginx = Nginx::start();
    let (_mosn, port) = start_proxy(&format!("127.0.0.1:{}", nginx.port), json!({}));
    let cases: [(&[u8], u16); 11] = [
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501),
        (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nX-Folded: a\r\n b\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nBad[Name]: a\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400),
        (b"GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ];
    for (request, want) in cases {
        let answer = raw(port, request);
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {want} ")),
            "{:?} got {answer:?}",
            String::from_utf8_lossy(request)
        );
        assert!(answer.contains("Connection: close"), "{answer}");
    }
    let mut long = b"GET /".to_vec();
    long.extend(std::iter::repeat_n(b'a', 20_000));
    long.extend_from_slice(b" HTTP/1.1\r\nHost: a\r\n\r\n");
    assert!(raw(port, &long).starts_with("HTTP/1.1 400 "));
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(nginx.access_log(), "", "a refused request reached nginx");
}

#[test]
fn limits_answer_431_and_413() {
    let nginx = Nginx::start();
    let (_mosn, port) = start_proxy(
        &format!("127.0.0.1:{}", nginx.port),
        json!({ "extend_config": { "Http1": { "max_request_body_size": 1000, "max_header_size": 4096 } } }),
    );
    let big_header = format!("X-Big: {}", "a".repeat(5000));
    assert_eq!(status(&["-H", &big_header, &url(port, "/")]), 431);
    assert_eq!(
        status(&[
            "-X",
            "PUT",
            "--data-binary",
            &"b".repeat(2000),
            &url(port, "/upload/x")
        ]),
        413
    );
    let chunked = raw(port, format!("PUT /upload/y HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n7d0\r\n{}\r\n0\r\n\r\n", "c".repeat(2000)).as_bytes());
    assert!(chunked.starts_with("HTTP/1.1 413 "), "{chunked}");
    assert_eq!(
        status(&[
            "-X",
            "PUT",
            "--data-binary",
            "small",
            &url(port, "/upload/ok")
        ]),
        201
    );
}

#[test]
fn stream_filters_inject_faults_and_limit_payloads() {
    let nginx = Nginx::start();
    let filters = json!({ "stream_filters": [
        { "type": "fault", "config": { "abort": { "status": 503, "percentage": 100 },
                                         "headers": [{ "name": "x-fault", "value": "abort" }] } },
        { "type": "fault", "config": { "delay": { "fixed_delay": "300ms", "percentage": 100 },
                                         "headers": [{ "name": "x-fault", "value": "delay" }] } },
        { "type": "payload_limit", "config": { "max_entity_size ": 100, "http_status": 413 } }
    ] });
    let (_mosn, port) = start_proxy(&format!("127.0.0.1:{}", nginx.port), filters);
    let (_, body) = curl(&["-i", "-H", "x-fault: abort", &url(port, "/")]);
    let text = String::from_utf8_lossy(&body);
    assert!(
        text.starts_with("HTTP/1.1 503") && text.ends_with("fault injected\n"),
        "{text}"
    );
    let started = Instant::now();
    assert_eq!(status(&["-H", "x-fault: delay", &url(port, "/")]), 200);
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "no delay: {:?}",
        started.elapsed()
    );
    assert_eq!(status(&[&url(port, "/")]), 200);

    assert_eq!(
        status(&[
            "-X",
            "PUT",
            "--data-binary",
            &"x".repeat(200),
            &url(port, "/upload/big")
        ]),
        413
    );
    assert!(nginx.uploaded("big").is_none());
    // A chunked body the filter read whole goes upstream from memory, intact.
    let chunked = raw(port, b"PUT /upload/small HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
    assert!(chunked.starts_with("HTTP/1.1 201"), "{chunked}");
    assert_eq!(nginx.uploaded("small").unwrap(), b"hello world");
}

#[test]
fn access_logs_record_each_request_with_its_flag_and_reopen_on_sigusr1() {
    let nginx = Nginx::start();
    let dir = tempfile::tempdir().unwrap();
    let custom = dir.path().join("custom.log");
    let default = dir.path().join("default.log");
    let logs = json!({ "access_logs": [
        { "log_path": custom.display().to_string(),
          "log_format": "%response_code% %response_flag% %upstream_cluster% %request_header_x-id% %bytes_sent% %response_header_content-type%" },
        { "log_path": default.display().to_string() }
    ] });
    let (mosn, port) = start_proxy(&format!("127.0.0.1:{}", nginx.port), logs);
    assert_eq!(status(&["-H", "x-id: first", &url(port, "/")]), 200);
    assert_eq!(status(&[&url(port, "/none")]), 503);
    assert_eq!(status(&[&url(port, "/direct")]), 201);
    let read = |path: &std::path::Path, lines: usize| {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            if text.lines().count() >= lines || Instant::now() > deadline {
                return text;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let text = read(&custom, 3);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            "200 - nginx first 17 text/html",
            "503 UF dead - 24 -",
            "201 - - - 10 -"
        ]
    );
    let default_line = read(&default, 3)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    // 17 variables, a two-word start time and MOSN's double space after the trace id.
    let fields: Vec<&str> = default_line.split(' ').collect();
    assert_eq!(fields.len(), 19, "MOSN's default format: {default_line}");
    // Durations, then the status twice, the local addresses, and the upstream host last.
    let upstream = format!("127.0.0.1:{}", nginx.port);
    assert!(
        fields[6].ends_with('s') && fields[7].ends_with('s'),
        "{default_line}"
    );
    assert_eq!(
        (fields[11], fields[14], fields[18]),
        ("200", "200", upstream.as_str()),
        "{default_line}"
    );
    assert!(fields[15].starts_with("127.0.0.1:"), "{default_line}");
    // The listener's address, and the client's (each from accept, without asking the socket).
    assert_eq!(fields[16], format!("127.0.0.1:{port}"), "{default_line}");
    assert!(
        fields[17].starts_with("127.0.0.1:") && fields[17] != fields[16],
        "{default_line}"
    );

    std::fs::rename(&custom, dir.path().join("custom.log.1")).unwrap();
    mosn.process.signal(libc::SIGUSR1);
    // The reopen creates the file: once it exists, new lines go there.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !custom.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(status(&["-H", "x-id: after", &url(port, "/")]), 200);
    assert_eq!(read(&custom, 1).trim(), "200 - nginx after 17 text/html");
}

/// 1 GiB through the proxy, chunked from curl's stdin: memory stays flat because the body is
/// streamed through a bounded buffer, never held.
#[test]
fn a_one_gigabyte_upload_streams_with_bounded_memory() {
    let nginx = Nginx::start();
    let (mosn, port) = start_proxy(&format!("127.0.0.1:{}", nginx.port), json!({}));
    // nginx stores the upload: its size says the whole body went through.
    let upload = format!(
        "head -c 1073741824 /dev/zero | curl -s -o /dev/null -w '%{{http_code}}' -T - -H 'Expect:' {}",
        url(port, "/upload/gig")
    );
    let output = Command::new("sh").args(["-c", &upload]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&output.stdout), "201");
    let stored = std::fs::metadata(nginx.dir.path().join("html/upload/gig"))
        .map(|m| m.len())
        .unwrap_or(0);
    assert_eq!(stored, 1 << 30);
    let status = std::fs::read_to_string(format!("/proc/{}/status", mosn.process.pid())).unwrap();
    let peak_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    assert!(
        peak_kib < 64 * 1024,
        "peak RSS {peak_kib} KiB for a 1 GiB upload"
    );
}

/// A client that sends its head a byte now and then (slowloris) gets 408 once the header
/// timeout has passed since its first byte, however it trickles.
#[test]
fn a_head_that_trickles_in_gets_408() {
    let nginx = Nginx::start();
    let settings = json!({ "extend_config": { "Http1": { "header_read_timeout": "1s" } } });
    let (_mosn, port) = start_proxy(&format!("127.0.0.1:{}", nginx.port), settings);
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    for byte in b"GET / HTTP/1.1\r\nHost: slow\r\nX-Slow: aaaaaaaaaaaaaaaa".iter() {
        if stream.write_all(&[*byte]).is_err() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        if started.elapsed() > Duration::from_secs(3) {
            break;
        }
    }
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408 "), "{text}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(nginx.access_log(), "");
}

#[test]
fn python_requests_works_through_the_proxy() {
    let nginx = Nginx::start();
    let (_mosn, port) = start_proxy(&format!("127.0.0.1:{}", nginx.port), json!({}));
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/requests_client.py");
    let output = Command::new("python3")
        .arg(script)
        .arg(url(port, ""))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "requests failed (is it installed? run ./scripts/test): {stderr}"
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "ok");
    assert_eq!(
        nginx.uploaded("from-requests.json").unwrap(),
        br#"{"answer": 42}"#
    );
}

#[test]
fn absolute_form_targets_are_routed_by_their_path_and_sent_in_origin_form() {
    let nginx = Nginx::start();
    let (_mosn, port) = start_proxy(&format!("127.0.0.1:{}", nginx.port), json!({}));
    let answer = raw(
        port,
        b"GET http://other.example/ HTTP/1.1\r\nHost: ignored\r\nConnection: close\r\n\r\n",
    );
    assert!(
        answer.ends_with("other host\n"),
        "the target's authority routes: {answer}"
    );
    let answer = raw(
        port,
        b"GET http://somewhere/index.html HTTP/1.1\r\nConnection: close\r\n\r\n",
    );
    assert!(
        answer.starts_with("HTTP/1.1 200") && answer.ends_with(NGINX_BODY),
        "{answer}"
    );
    assert!(
        nginx.logged("\"GET /index.html HTTP/1.1\""),
        "{}",
        nginx.access_log()
    );
}

#[test]
fn expect_100_continue_is_answered_before_a_filter_reads_the_body() {
    let nginx = Nginx::start();
    let filters = json!({ "stream_filters": [{ "type": "payload_limit", "config": { "max_entity_size": 100000 } }] });
    let (_mosn, port) = start_proxy(&format!("127.0.0.1:{}", nginx.port), filters);
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), "x".repeat(50_000)).unwrap();
    let path = file.path().display().to_string();
    let started = Instant::now();
    // curl waits 1 s for 100 Continue before sending the body anyway.
    assert_eq!(
        status(&[
            "-T",
            &path,
            "-H",
            "Expect: 100-continue",
            &url(port, "/upload/expected")
        ]),
        201
    );
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(nginx.uploaded("expected").unwrap().len(), 50_000);
}
