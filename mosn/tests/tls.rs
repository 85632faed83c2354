//! Downstream TLS end to end: curl and openssl s_client against `mosn start` with certificates
//! made for the test by rcgen (a CA, server certificates for two names, a client certificate).

mod common;

use std::process::{Command, Stdio};

use common::pki::Pki;
use common::*;
use serde_json::{Value, json};

/// A listener answering every request with `hello <listener>` itself, its chain with `tls`
/// (merged into the filter chain) and `extra` merged into the listener.
fn tls_config(port: u16, chain_tls: Value, extra: Value) -> Value {
    let mut listener = json!({
        "name": "tls", "address": format!("127.0.0.1:{port}"), "bind_port": true,
        "filter_chains": [{ "filters": [{ "type": "proxy", "config": {
            "downstream_protocol": "Auto", "router_config_name": "r" } }] }]
    });
    for (key, value) in chain_tls.as_object().unwrap() {
        listener["filter_chains"][0][key] = value.clone();
    }
    for (key, value) in extra.as_object().unwrap() {
        listener[key] = value.clone();
    }
    let mut config = config(json!([listener]), json!([]), free_port());
    config["servers"][0]["routers"] = json!([{ "router_config_name": "r", "virtual_hosts": [
        { "name": "all", "domains": ["*"], "routers": [
            { "match": { "prefix": "/" }, "direct_response": { "status": 200, "body": "hello tls" } }] }] }]);
    config
}

/// `curl` to `https://NAME:PORT/` (NAME resolved to 127.0.0.1) trusting the test CA; returns
/// whether it succeeded and what it printed (`<body> <http version>`).
fn https(pki: &Pki, name: &str, port: u16, extra: &[&str]) -> (bool, String) {
    let resolve = format!("{name}:{port}:127.0.0.1");
    let url = format!("https://{name}:{port}/");
    let ca = pki.ca_file();
    let mut args = vec![
        "--cacert",
        &ca,
        "--resolve",
        &resolve,
        "-w",
        " %{http_version}",
    ];
    args.extend_from_slice(extra);
    args.push(&url);
    let (ok, out) = curl(&args);
    (ok, String::from_utf8_lossy(&out).into_owned())
}

/// The subject of the certificate the server shows for `name`, as openssl s_client prints it.
fn served_subject(port: u16, name: &str) -> String {
    let output = Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            &format!("127.0.0.1:{port}"),
            "-servername",
            name,
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.lines()
        .find(|l| l.starts_with("subject="))
        .unwrap_or_default()
        .replace(' ', "")
}

fn context(cert: &(String, String)) -> Value {
    json!({ "status": true, "cert_chain": cert.0, "private_key": cert.1 })
}

#[test]
fn https_over_http1_and_h2_chosen_by_alpn_and_certificates_by_sni() {
    let pki = Pki::new();
    let a = pki.issue("a", &["a.test"], false);
    let b = pki.issue("b", &["b.test", "*.wild.test"], false);
    let port = free_port();
    let mut first = context(&a);
    first["alpn"] = json!("h2,http/1.1");
    let mut second = context(&b);
    second["alpn"] = json!("h2,http/1.1");
    let _mosn = Mosn::start(
        &tls_config(
            port,
            json!({ "tls_context_set": [first, second] }),
            json!({}),
        ),
        port,
    );
    assert_eq!(
        https(&pki, "a.test", port, &[]),
        (true, "hello tls 2".into())
    );
    assert_eq!(
        https(&pki, "a.test", port, &["--http1.1"]),
        (true, "hello tls 1.1".into())
    );
    // Each name gets its own certificate: curl checks the name against it.
    assert_eq!(
        https(&pki, "b.test", port, &[]),
        (true, "hello tls 2".into())
    );
    assert_eq!(
        https(&pki, "x.wild.test", port, &[]),
        (true, "hello tls 2".into())
    );
    assert!(
        served_subject(port, "b.test").contains("CN=b"),
        "{}",
        served_subject(port, "b.test")
    );
    // A name no certificate has gets the first context's, which curl then refuses.
    assert!(served_subject(port, "other.test").contains("CN=a"));
    assert!(!https(&pki, "other.test", port, &[]).0);
}

#[test]
fn client_certificates_are_required_and_checked_against_ca_cert() {
    let pki = Pki::new();
    let server = pki.issue("server", &["localhost"], false);
    let client = pki.issue("client", &["client"], true);
    let stranger = Pki::new().issue("stranger", &["client"], true);
    let port = free_port();
    let mut tls = context(&server);
    tls["verify_client"] = json!(true);
    tls["require_client_cert"] = json!(true);
    tls["ca_cert"] = json!(std::fs::read_to_string(pki.ca_file()).unwrap());
    let _mosn = Mosn::start(
        &tls_config(port, json!({ "tls_context": tls }), json!({})),
        port,
    );
    let with = |cert: &(String, String)| {
        https(
            &pki,
            "localhost",
            port,
            &["--cert", &cert.0, "--key", &cert.1],
        )
        .0
    };
    assert!(with(&client));
    assert!(!with(&stranger), "a certificate from another CA is refused");
    assert!(
        !https(&pki, "localhost", port, &[]).0,
        "no certificate is refused"
    );
}

#[test]
fn inspector_serves_tls_and_plaintext_on_one_port_and_a_plain_client_of_a_tls_port_is_closed() {
    let pki = Pki::new();
    let server = pki.issue("server", &["localhost"], false);
    let (inspected, strict) = (free_port(), free_port());
    let inspected_config = tls_config(
        inspected,
        json!({ "tls_context": context(&server) }),
        json!({ "inspector": true }),
    );
    let strict_config = tls_config(
        strict,
        json!({ "tls_context": context(&server) }),
        json!({}),
    );
    let _one = Mosn::start(&inspected_config, inspected);
    let _two = Mosn::start(&strict_config, strict);
    // h2 by ALPN: the context names no protocol, so the listener offers what Auto serves.
    assert_eq!(https(&pki, "localhost", inspected, &[]).1, "hello tls 2");
    let plain = curl(&[
        "-w",
        " %{http_version}",
        &format!("http://127.0.0.1:{inspected}/"),
    ]);
    assert_eq!(String::from_utf8_lossy(&plain.1), "hello tls 1.1");
    // Without the inspector, plaintext gets no answer at all, and TLS clients go on working.
    let reply = exchange_half_closed(strict, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(
        !String::from_utf8_lossy(&reply).contains("hello"),
        "{reply:?}"
    );
    assert_eq!(https(&pki, "localhost", strict, &[]).1, "hello tls 2");
    // Each listener counts what it saw: one plaintext and one TLS client on the inspector, one
    // refused plaintext client and one TLS client on the strict port.
    let counters = [
        (&inspected_config, "downstream_tls_plaintext_total"),
        (&inspected_config, "downstream_tls_handshake_total"),
        (&strict_config, "downstream_tls_handshake_failed"),
        (&strict_config, "downstream_tls_handshake_total"),
    ];
    for (config, key) in counters {
        assert_eq!(stats(config)["listener"]["tls"][key], "1", "{key}");
    }
}

#[test]
fn versions_are_held_to_the_configured_range() {
    let pki = Pki::new();
    let server = pki.issue("server", &["localhost"], false);
    let port = free_port();
    let mut tls = context(&server);
    tls["min_version"] = json!("TLSv1_3");
    let _mosn = Mosn::start(
        &tls_config(port, json!({ "tls_context": tls }), json!({})),
        port,
    );
    assert!(https(&pki, "localhost", port, &["--tlsv1.3"]).0);
    assert!(!https(&pki, "localhost", port, &["--tls-max", "1.2"]).0);
}

#[test]
fn bad_tls_settings_are_config_errors_at_their_path() {
    let pki = Pki::new();
    let server = pki.issue("server", &["localhost"], false);
    let chain = "servers[0].listeners[0].filter_chains[0]";
    let cases: Vec<(Value, String)> = vec![
        (
            json!({ "verify_client": true }),
            format!("{chain}.tls_context.ca_cert: verify_client needs ca_cert"),
        ),
        (
            json!({ "min_version": "TLS1_2" }),
            format!("{chain}.tls_context.min_version: unknown TLS version \"TLS1_2\""),
        ),
        (
            json!({ "cipher_suites": "NOPE" }),
            format!("{chain}.tls_context.cipher_suites: unknown cipher \"NOPE\""),
        ),
        (
            json!({ "cert_chain": "/nonexistent/cert.pem" }),
            format!("{chain}.tls_context.cert_chain: cannot read /nonexistent/cert.pem"),
        ),
        (
            json!({ "private_key": pki.ca_file() }),
            format!("{chain}.tls_context.private_key:"),
        ),
    ];
    for (change, want) in cases {
        let mut tls = context(&server);
        for (key, value) in change.as_object().unwrap() {
            tls[key] = value.clone();
        }
        let dir = ConfigDir::new(&tls_config(
            free_port(),
            json!({ "tls_context": tls }),
            json!({}),
        ));
        let output = run_mosn(&["check"], Some(&dir.config_file()));
        let said = String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr);
        assert!(
            !output.status.success() && said.contains(&want),
            "want {want:?} in:\n{said}"
        );
    }
}

/// The subject openssl s_client is served for `localhost`, once it contains `want` (within 10 s).
fn serves_within(port: u16, want: &str) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !served_subject(port, "localhost").contains(want) {
        if std::time::Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    true
}

#[test]
fn certificates_reload_when_their_files_change_and_on_sighup_and_open_connections_keep_theirs() {
    let pki = Pki::new();
    let (cert, key) = (pki.path("live.pem"), pki.path("live.key"));
    let replace_with = |name: &str| {
        let issued = pki.issue(name, &["localhost"], false);
        std::fs::copy(&issued.0, &cert).unwrap();
        std::fs::copy(&issued.1, &key).unwrap();
    };
    replace_with("first");
    let port = free_port();
    let tls = json!({ "status": true, "cert_chain": cert, "private_key": key });
    let mosn = Mosn::start(
        &tls_config(port, json!({ "tls_context": tls }), json!({})),
        port,
    );
    assert!(serves_within(port, "CN=first"));
    let mut child = Command::new("python3")
        .arg(peer("tls_held_client.py"))
        .args([&port.to_string(), &pki.ca_file(), "localhost"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut ask = {
        use std::io::{BufRead, Write};
        let mut stdin = child.stdin.take().unwrap();
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        move || {
            writeln!(stdin).unwrap();
            let mut line = String::new();
            stdout.read_line(&mut line).unwrap();
            line.trim().to_string()
        }
    };
    let _held = Process(child);
    assert_eq!(ask(), "first hello tls");

    // New files: new handshakes get the new certificate, the open connection goes on.
    replace_with("second");
    assert!(serves_within(port, "CN=second"));
    assert_eq!(ask(), "first hello tls");

    // SIGHUP rebuilds at once, and says so.
    replace_with("third");
    mosn.process.signal(libc::SIGHUP);
    assert!(serves_within(port, "CN=third"));
    let reloaded = "listener \"tls\" reloaded (SIGHUP)";
    assert!(mosn.logged(reloaded), "{}", mosn.log());

    // A key that does not match the certificate is refused; the last good pair stays. (A
    // half-copied pair above may have been refused too, before its key landed: count anew.)
    let refusals = || {
        mosn.log()
            .matches("not reloaded (its files changed)")
            .count()
    };
    let before = refusals();
    std::fs::copy(pki.issue("other", &["localhost"], false).1, &key).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while refusals() == before {
        assert!(std::time::Instant::now() < deadline, "{}", mosn.log());
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(served_subject(port, "localhost").contains("CN=third"));
    assert_eq!(ask(), "first hello tls");
}

/// `/api/v1/stats` of the mosn running `config`.
fn stats(config: &Value) -> Value {
    let admin = &config["admin"]["address"]["socket_address"]["port_value"];
    let (_, out) = curl(&[&format!("http://127.0.0.1:{admin}/api/v1/stats")]);
    serde_json::from_slice(&out).unwrap()
}

#[test]
fn a_stalled_handshake_is_cut_after_15_s_logged_and_counted_while_others_are_served() {
    let pki = Pki::new();
    let server = pki.issue("server", &["localhost"], false);
    let port = free_port();
    let config = tls_config(port, json!({ "tls_context": context(&server) }), json!({}));
    let mosn = Mosn::start(&config, port);
    // A record header announcing a 512-byte ClientHello, and then nothing.
    let mut stalled = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    std::io::Write::write_all(&mut stalled, &[0x16, 0x03, 0x01, 0x02, 0x00]).unwrap();
    let started = std::time::Instant::now();
    assert_eq!(https(&pki, "localhost", port, &[]).1, "hello tls 2");
    stalled
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let mut rest = Vec::new();
    let read = std::io::Read::read_to_end(&mut stalled, &mut rest);
    let waited = started.elapsed();
    assert!(read.is_ok() || rest.is_empty(), "{read:?}");
    assert!(
        (14..25).contains(&waited.as_secs()),
        "closed after {waited:?}"
    );
    // The connection is dropped before the failure is counted and logged.
    assert!(
        mosn.logged("TLS handshake failed: not done after 15s"),
        "{}",
        mosn.log()
    );
    let listener = &stats(&config)["listener"]["tls"];
    assert_eq!(listener["downstream_tls_handshake_failed"], "1");
    assert_eq!(listener["downstream_tls_handshake_total"], "1");
}
