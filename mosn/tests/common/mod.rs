//! Helpers for end-to-end tests: free ports, a real nginx backend, the real `mosn` binary,
//! each stopped by PID when dropped.
#![allow(dead_code)] // each test file uses a different part

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

pub mod h2_frames;
pub mod pki;

pub const NGINX_BODY: &str = "hello from nginx\n";

/// A port nothing listens on, outside the kernel's ephemeral range: a port in that range
/// (one `bind(0)` picked, say) can be taken, before the test's server binds it, by any client
/// connection the kernel gives the same number. Each test process walks its own stretch of
/// the ports left, so tests running at once do not draw the same port.
pub fn free_port() -> u16 {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let (first, count) = ports_outside_the_ephemeral_range();
    let start = std::process::id().wrapping_mul(7919) % count;
    loop {
        let step = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        assert!(step < count, "no free port outside the ephemeral range");
        let port = (first + (start + step) % count) as u16;
        if can_bind(port) {
            return port;
        }
    }
}

/// Whether a socket can be bound to the port, as mosn binds (with SO_REUSEADDR). The socket
/// never listens: a child that another test thread forks in the meantime holds a copy of it
/// until its `exec`, and a listening copy would take the connections meant for the server
/// that binds the port next, then reset them.
pub fn can_bind(port: u16) -> bool {
    use socket2::{Domain, Socket, Type};
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    Socket::new(Domain::IPV4, Type::STREAM, None)
        .and_then(|socket| {
            socket.set_reuse_address(true)?;
            socket.bind(&address.into())
        })
        .is_ok()
}

/// The longer of the two stretches of ports from 10000 up on either side of
/// `ip_local_port_range`, as (first port, count).
fn ports_outside_the_ephemeral_range() -> (u32, u32) {
    let range = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .unwrap_or_else(|_| "32768 60999".into());
    let bounds: Vec<u32> = range
        .split_whitespace()
        .filter_map(|n| n.parse().ok())
        .collect();
    let (low, high) = (bounds[0], bounds[1]);
    let below = (10_000, low.saturating_sub(10_000));
    let above = (high + 1, 65_536u32.saturating_sub(high + 1));
    let longer = if below.1 >= above.1 { below } else { above };
    assert!(
        longer.1 >= 1_000,
        "the ephemeral range {low}-{high} leaves too few ports for the tests"
    );
    longer
}

/// Waits until something accepts connections on the port.
pub fn wait_for_port(port: u16) {
    wait_for_port_unless(port, || None);
}

/// Waits until something accepts connections on the port; fails at once with the message
/// `gave_up` returns, if it returns one (the server that was to listen has exited).
fn wait_for_port_unless(port: u16, mut gave_up: impl FnMut() -> Option<String>) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(why) = gave_up() {
            panic!("nothing will listen on port {port}: {why}");
        }
        assert!(
            Instant::now() < deadline,
            "nothing listens on port {port} after 10s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A child process, killed by PID when dropped.
pub struct Process(pub Child);

impl Process {
    pub fn pid(&self) -> i32 {
        self.0.id() as i32
    }

    pub fn signal(&self, signal: i32) {
        // SAFETY: sending a signal to our own child.
        unsafe { libc::kill(self.pid(), signal) };
    }

    /// Waits for the exit, at most `timeout`; `None` if still running.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.0.try_wait().unwrap() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// nginx on a free loopback port, serving `/` (a short body) and `/big` (`big_size` bytes).
pub struct Nginx {
    pub port: u16,
    /// The same site over HTTP/2 (h2c, prior knowledge).
    pub h2_port: u16,
    pub dir: TempDir,
    pub process: Process,
}

pub const BIG_SIZE: usize = 8 * 1024 * 1024;

impl Nginx {
    pub fn start() -> Nginx {
        Self::start_with("")
    }

    /// nginx with `extra` directives in its `http` block (`keepalive_timeout 1s;`). Every
    /// request it sees is logged to `access.log`; PUT under `/upload/` stores the body.
    pub fn start_with(extra: &str) -> Nginx {
        let nginx = which("nginx").expect("nginx is needed: run ./scripts/test, which installs it");
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("html");
        std::fs::create_dir_all(root.join("upload")).unwrap();
        std::fs::write(root.join("index.html"), NGINX_BODY).unwrap();
        std::fs::write(root.join("big"), big_body()).unwrap();
        let port = free_port();
        let h2_port = free_port();
        let d = dir.path().display();
        let conf = format!(
            "daemon off; master_process off; worker_processes 1; pid {d}/nginx.pid; error_log {d}/error.log;
             events {{ worker_connections 1024; }}
             http {{ access_log {d}/access.log; client_body_temp_path {d}/body; proxy_temp_path {d}/proxy;
               fastcgi_temp_path {d}/fcgi; uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;
               keepalive_requests 100000; {extra}
               server {{ listen 127.0.0.1:{port}; listen 127.0.0.1:{h2_port} http2; root {d}/html; default_type text/plain;
                 location /upload/ {{ dav_methods PUT; client_max_body_size 0; }}
                 location = /no-content {{ return 204; }}
                 location = /whoami {{ return 200 \"$server_port\"; }}
                 location = /echo-headers {{ return 200 \"$http_x_added|$http_connection|$http_x_remove_me|$http_x_hop|$http_host\"; }} }} }}"
        );
        std::fs::write(dir.path().join("nginx.conf"), conf).unwrap();
        let child = Command::new(nginx)
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(dir.path().join("nginx.conf"))
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let process = Process(child);
        wait_for_port(port);
        Nginx {
            port,
            h2_port,
            dir,
            process,
        }
    }

    /// The requests nginx has logged so far.
    pub fn access_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("access.log")).unwrap_or_default()
    }

    /// Whether the access log shows `line` within 5 s: nginx writes its log line after the
    /// response has gone out, so a client can read the answer before the line exists.
    pub fn logged(&self, line: &str) -> bool {
        within_5s(|| self.access_log().contains(line))
    }

    pub fn uploaded(&self, name: &str) -> Option<Vec<u8>> {
        std::fs::read(self.dir.path().join("html/upload").join(name)).ok()
    }
}

/// The `/big` body: bytes that differ from position to position, so a reorder would show.
pub fn big_body() -> Vec<u8> {
    (0..BIG_SIZE).map(|i| (i % 251) as u8).collect()
}

pub fn which(name: &str) -> Option<PathBuf> {
    let paths = std::env::var("PATH").unwrap_or_default();
    std::env::split_paths(&paths)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// socat on a free loopback port, running `exec` for each connection (`fork`) or for one.
pub fn socat(exec: &str, fork: bool) -> (Process, u16) {
    let port = free_port();
    let socat = which("socat").expect("socat is needed: run ./scripts/test, which installs it");
    let listen = format!(
        "TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr{}",
        if fork { ",fork" } else { "" }
    );
    let child = Command::new(socat).arg(listen).arg(exec).spawn().unwrap();
    let process = Process(child);
    wait_for_port(port);
    (process, port)
}

/// Runs wrk against `url` for 2 s with `connections`; asserts it saw no socket error and no
/// non-2xx answer, and returns how many requests it completed.
pub fn wrk(url: &str, connections: u32) -> u64 {
    let output = Command::new("wrk")
        .args(["-t1", &format!("-c{connections}"), "-d2s", url])
        .output()
        .expect("wrk is needed: run ./scripts/test, which installs it");
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{report}");
    assert!(!report.contains("Socket errors"), "{report}");
    assert!(!report.contains("Non-2xx"), "{report}");
    report
        .lines()
        .find_map(|l| {
            l.trim()
                .split_once(" requests in ")
                .and_then(|(n, _)| n.trim().parse().ok())
        })
        .unwrap_or_else(|| panic!("no request count in {report}"))
}

pub fn mosn_bin() -> &'static str {
    env!("CARGO_BIN_EXE_mosn")
}

/// A config file laid out as MOSN expects: `<base>/conf/config.json`, logs in `<base>/logs`.
pub struct ConfigDir {
    pub base: TempDir,
}

impl ConfigDir {
    pub fn new(config: &Value) -> ConfigDir {
        Self::with_text(
            &serde_json::to_string_pretty(config).unwrap(),
            "config.json",
        )
    }

    pub fn with_text(text: &str, file_name: &str) -> ConfigDir {
        let base = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(base.path().join("conf")).unwrap();
        std::fs::write(base.path().join("conf").join(file_name), text).unwrap();
        ConfigDir { base }
    }

    pub fn config_file(&self) -> PathBuf {
        let conf = self.base.path().join("conf");
        std::fs::read_dir(&conf)
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path()
    }

    pub fn logs(&self) -> PathBuf {
        self.base.path().join("logs")
    }
}

/// A running `mosn start -c FILE`.
pub struct Mosn {
    pub process: Process,
    pub dir: ConfigDir,
}

impl Mosn {
    /// Starts mosn and waits for `ready_port` to accept connections.
    pub fn start(config: &Value, ready_port: u16) -> Mosn {
        let dir = ConfigDir::new(config);
        let stderr = std::fs::File::create(dir.base.path().join("stderr")).unwrap();
        let child = Command::new(mosn_bin())
            .args(["start", "-c"])
            .arg(dir.config_file())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .unwrap();
        let mut mosn = Mosn {
            process: Process(child),
            dir,
        };
        wait_for_port_unless(ready_port, || {
            let status = mosn.process.0.try_wait().unwrap()?;
            Some(format!("mosn exited: {status}"))
        });
        mosn
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.logs().join("mosn.log")).unwrap_or_default()
    }

    /// Whether mosn's log shows `text` within 5 s.
    pub fn logged(&self, text: &str) -> bool {
        within_5s(|| self.log().contains(text))
    }
}

/// A failed test shows what mosn said: its exit status, stderr and the end of its log.
impl Drop for Mosn {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        let status = self.process.0.try_wait().ok().flatten();
        let stderr =
            std::fs::read_to_string(self.dir.base.path().join("stderr")).unwrap_or_default();
        let log = self.log();
        let tail: Vec<&str> = log.lines().rev().take(60).collect();
        eprintln!(
            "mosn (pid {}, exit status {status:?}) stderr:\n{stderr}\nlast lines of its log:",
            self.process.pid()
        );
        tail.iter().rev().for_each(|line| eprintln!("{line}"));
    }
}

/// Whether `holds` becomes true within 5 s, checked every 20 ms.
pub fn within_5s(holds: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !holds() {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

/// Runs `mosn ARGS` to completion.
pub fn run_mosn(args: &[&str], config: Option<&Path>) -> Output {
    let mut command = Command::new(mosn_bin());
    command.args(args);
    if let Some(config) = config {
        command.arg("-c").arg(config);
    }
    command.output().unwrap()
}

/// A MOSN config with one server, the given listeners and clusters, and an admin port.
pub fn config(listeners: Value, clusters: Value, admin_port: u16) -> Value {
    serde_json::json!({
        "servers": [{ "default_log_level": "DEBUG", "listeners": listeners }],
        "cluster_manager": { "clusters": clusters },
        "admin": { "address": { "socket_address": { "address": "127.0.0.1", "port_value": admin_port } } }
    })
}

pub fn tcp_proxy_listener(name: &str, port: u16, cluster: &str) -> Value {
    serde_json::json!({
        "name": name,
        "address": format!("127.0.0.1:{port}"),
        "bind_port": true,
        "filter_chains": [{ "filters": [{ "type": "tcp_proxy", "config": { "cluster": cluster } }] }]
    })
}

pub fn cluster(name: &str, hosts: &[String]) -> Value {
    let hosts: Vec<Value> = hosts
        .iter()
        .map(|h| serde_json::json!({ "address": h }))
        .collect();
    serde_json::json!({ "name": name, "type": "SIMPLE", "lb_type": "LB_ROUNDROBIN", "hosts": hosts })
}

/// A config whose listener on `port` runs the `proxy` filter with `protocol` (`Http1`,
/// `Http2`) both ways and routes everything to the cluster `backend` of `hosts`: `route` is
/// merged into the route's action, which has a 2 s timeout, and `cluster_extra` into the
/// cluster.
pub fn proxy_to_backend(
    port: u16,
    protocol: &str,
    hosts: &[String],
    route: Value,
    cluster_extra: Value,
) -> Value {
    let mut action = serde_json::json!({ "cluster_name": "backend", "timeout": "2s" });
    action
        .as_object_mut()
        .unwrap()
        .extend(route.as_object().cloned().unwrap_or_default());
    let mut backend = cluster("backend", hosts);
    backend
        .as_object_mut()
        .unwrap()
        .extend(cluster_extra.as_object().cloned().unwrap_or_default());
    let mut config = config(
        serde_json::json!([proxy_listener("http", port, "main", (protocol, protocol))]),
        serde_json::json!([backend]),
        free_port(),
    );
    config["servers"][0]["routers"] = serde_json::json!([router_all("main", action)]);
    config
}

/// A router named `name` that sends every request to the route `action`.
pub fn router_all(name: &str, action: Value) -> Value {
    serde_json::json!({ "router_config_name": name, "virtual_hosts": [{ "name": "all", "domains": ["*"],
        "routers": [{ "match": { "prefix": "/" }, "route": action }] }] })
}

/// `curl -s` with the given arguments; returns (status, stdout).
pub fn curl(args: &[&str]) -> (bool, Vec<u8>) {
    let output = Command::new("curl")
        .args(["-s", "--max-time", "20"])
        .args(args)
        .output()
        .unwrap();
    (output.status.success(), output.stdout)
}

/// Sends raw bytes, half-closes, and reads everything until the peer closes.
pub fn exchange_half_closed(port: u16, request: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request).unwrap();
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    response
}

/// Reads an HTTP/1.1 response with a Content-Length body from a keep-alive stream.
pub fn read_http_response(stream: &mut TcpStream) -> String {
    let mut data = Vec::new();
    let mut byte = [0u8; 1];
    while !data.ends_with(b"\r\n\r\n") {
        assert_eq!(
            stream.read(&mut byte).unwrap(),
            1,
            "connection closed mid-headers"
        );
        data.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&data).to_string();
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .expect("a content-length");
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).unwrap();
    head + &String::from_utf8_lossy(&body)
}

/// A listener running the `proxy` filter (HTTP/1) with the given router.
pub fn http_listener(name: &str, port: u16, router: &str) -> Value {
    proxy_listener(name, port, router, ("Http1", "Http1"))
}

/// A listener running the `proxy` filter with the given (downstream, upstream) protocols.
pub fn proxy_listener(name: &str, port: u16, router: &str, protocols: (&str, &str)) -> Value {
    serde_json::json!({
        "name": name,
        "address": format!("127.0.0.1:{port}"),
        "bind_port": true,
        "filter_chains": [{ "filters": [{ "type": "proxy", "config": {
            "downstream_protocol": protocols.0, "upstream_protocol": protocols.1, "router_config_name": router } }] }]
    })
}

/// A file of `tests/peers`.
pub fn peer(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/peers")
        .join(name)
}

/// A test peer server that prints its port on its first line (`PORT n` or `n`), then lines
/// the test may wait for.
pub struct PeerServer {
    pub port: u16,
    lines: std::sync::mpsc::Receiver<String>,
    pub process: Process,
}

impl PeerServer {
    pub fn start(command: &mut Command) -> PeerServer {
        let mut child = command.stdout(Stdio::piped()).spawn().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let port = line
            .split_whitespace()
            .last()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| {
                panic!(
                    "{command:?} did not start (run ./scripts/test to install the peers): {line:?}"
                )
            });
        let (send, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                let _ = send.send(line);
            }
        });
        PeerServer {
            port,
            lines,
            process: Process(child),
        }
    }

    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Waits (up to 10 s) until the server prints `line`.
    pub fn printed(&self, line: &str) -> bool {
        self.line_where(|printed| printed == line).is_some()
    }

    /// Waits (up to 10 s) for the next line the server prints that starts with `prefix`.
    pub fn line_starting(&self, prefix: &str) -> Option<String> {
        self.line_where(|printed| printed.starts_with(prefix))
    }

    fn line_where(&self, wanted: impl Fn(&str) -> bool) -> Option<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(printed) if wanted(&printed) => return Some(printed),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
        None
    }
}

/// `node` running `peers/<dir>/<script>` (the npm peers: bolt, dubbo).
pub fn node(dir: &str, script: &str) -> Command {
    let mut command = Command::new("node");
    command.current_dir(peer(dir)).arg(script);
    command
}

/// Runs a client script of `peers/<dir>` against `127.0.0.1:port`; (exit success, stdout).
pub fn run_node(dir: &str, script: &str, port: u16, args: &[&str]) -> (bool, String) {
    let output = node(dir, script)
        .arg(format!("127.0.0.1:{port}"))
        .args(args)
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

/// A `protocol` listener (bolt, dubbo, ...) whose one route sends requests with header
/// `service` to a cluster of `upstreams`; the route and the cluster get the keys of `route`
/// and `cluster_extra` too.
pub fn start_rpc_proxy(
    protocol: &str,
    service: &str,
    upstreams: &[String],
    route: Value,
    cluster_extra: Value,
) -> (Mosn, u16) {
    let port = free_port();
    let mut rpc = cluster("rpc", upstreams);
    for (key, value) in cluster_extra.as_object().unwrap() {
        rpc[key] = value.clone();
    }
    let mut config = config(
        serde_json::json!([proxy_listener("rpc", port, "rpc", (protocol, ""))]),
        serde_json::json!([rpc]),
        free_port(),
    );
    let mut action = serde_json::json!({ "cluster_name": "rpc" });
    for (key, value) in route.as_object().unwrap() {
        action[key] = value.clone();
    }
    config["servers"][0]["routers"] = serde_json::json!([{ "router_config_name": "rpc",
        "virtual_hosts": [{ "name": "all", "domains": ["*"], "routers": [
            { "match": { "headers": [{ "name": "service", "value": service }] }, "route": action }
        ] }] }]);
    (Mosn::start(&config, port), port)
}

/// The resident memory of process `pid`, in KiB.
pub fn rss_kib(pid: i32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// An upstream on a free loopback port that accepts connections and never answers, holding
/// them open; and the count of connections it has accepted.
pub fn black_hole() -> (u16, Arc<AtomicUsize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&accepted);
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for connection in listener.incoming().flatten() {
            count.fetch_add(1, Ordering::Relaxed);
            held.push(connection);
        }
    });
    (port, accepted)
}
