//! Upstream TLS end to end: curl to a plaintext mosn listener, mosn to an nginx TLS backend
//! that reports what it saw of the handshake (version, SNI, client certificate, protocol).

mod common;

use common::pki::Pki;
use common::*;
use serde_json::{Value, json};

/// nginx with a TLS site on two ports (HTTP/1.1, and HTTP/2 by ALPN) whose certificate holds
/// `backend.test` and 127.0.0.1. It asks for a client certificate from `pki`'s CA and answers
/// `protocol|SNI|client verification|client subject|HTTP version|requests on this connection`.
struct TlsBackend {
    nginx: Nginx,
    port: u16,
    h2_port: u16,
}

impl TlsBackend {
    fn start(pki: &Pki) -> TlsBackend {
        Self::start_with(pki, |_| {})
    }

    /// The backend, its certificate's parameters changed by `change`.
    fn start_with(pki: &Pki, change: impl FnOnce(&mut rcgen::CertificateParams)) -> TlsBackend {
        let names = ["backend.test", "127.0.0.1"];
        let (cert, key) = pki.issue_with("backend", &names, false, change);
        let (port, h2_port) = (free_port(), free_port());
        let ca = pki.ca_file();
        let nginx = Nginx::start_with(&format!(
            "server {{ listen 127.0.0.1:{port} ssl; listen 127.0.0.1:{h2_port} ssl http2;
               ssl_certificate {cert}; ssl_certificate_key {key}; ssl_protocols TLSv1.2 TLSv1.3;
               ssl_client_certificate {ca}; ssl_verify_client optional;
               location / {{ return 200 \"$ssl_protocol|$ssl_server_name|$ssl_client_verify|$ssl_client_s_dn|$server_protocol|$connection_requests\"; }} }}"
        ));
        wait_for_port(port);
        TlsBackend {
            nginx,
            port,
            h2_port,
        }
    }
}

fn tls_cluster(name: &str, port: u16, tls: Value) -> Value {
    let mut cluster = cluster(name, &[format!("127.0.0.1:{port}")]);
    cluster["tls_context"] = tls;
    cluster
}

/// A router sending `x-to: NAME` to cluster NAME.
fn router_by_header(names: &[&str]) -> Value {
    let routes: Vec<Value> = names
        .iter()
        .map(|name| {
            json!({ "match": { "prefix": "/", "headers": [{ "name": "x-to", "value": name }] },
                             "route": { "cluster_name": name } })
        })
        .collect();
    json!({ "router_config_name": "r", "virtual_hosts": [{ "name": "all", "domains": ["*"], "routers": routes }] })
}

/// `curl` through mosn to cluster `to`: (HTTP status, body).
fn through(port: u16, to: &str) -> (String, String) {
    let (_, out) = curl(&[
        "-H",
        &format!("x-to: {to}"),
        "-w",
        " %{http_code}",
        &format!("http://127.0.0.1:{port}/"),
    ]);
    let out = String::from_utf8_lossy(&out).into_owned();
    let (body, code) = out.rsplit_once(' ').unwrap_or_default();
    (code.to_string(), body.to_string())
}

#[test]
fn upstream_tls_verifies_the_backend_sends_sni_and_a_client_certificate_and_reuses_connections() {
    let pki = Pki::new();
    let backend = TlsBackend::start(&pki);
    let client = pki.issue("client", &["client"], true);
    let stranger = Pki::new();
    let ca = pki.ca_file();
    let named = json!({ "status": true, "ca_cert": ca, "server_name": "backend.test",
                        "cert_chain": client.0, "private_key": client.1 });
    let mut plain = cluster("plain", &[]);
    plain["hosts"] =
        json!([{ "address": format!("127.0.0.1:{}", backend.nginx.port), "tls_disable": true }]);
    plain["tls_context"] = json!({ "status": true, "ca_cert": ca });
    let mut shared = cluster("shared", &[format!("127.0.0.1:{}", backend.port)]);
    shared["cluster_manager_tls"] = json!(true);
    let clusters = json!([
        tls_cluster("named", backend.port, named.clone()),
        tls_cluster(
            "by_ip",
            backend.port,
            json!({ "status": true, "ca_cert": ca })
        ),
        tls_cluster(
            "untrusted",
            backend.port,
            json!({ "status": true, "ca_cert": stranger.ca_file() })
        ),
        tls_cluster(
            "skip",
            backend.port,
            json!({ "status": true, "insecure_skip": true })
        ),
        tls_cluster("h2", backend.h2_port, named.clone()),
        plain,
        shared,
    ]);
    let (h1, h2, admin) = (free_port(), free_port(), free_port());
    let mut config = config(
        json!([
            proxy_listener("h1", h1, "r", ("Http1", "Http1")),
            proxy_listener("h2", h2, "r", ("Http1", "Http2"))
        ]),
        clusters,
        admin,
    );
    config["cluster_manager"]["tls_context"] =
        json!({ "status": true, "ca_cert": ca, "server_name": "backend.test" });
    config["servers"][0]["routers"] = json!([router_by_header(&[
        "named",
        "by_ip",
        "untrusted",
        "skip",
        "h2",
        "plain",
        "shared"
    ])]);
    let mosn = Mosn::start(&config, h1);
    wait_for_port(h2);

    let ok = |body: &str| ("200".to_string(), body.to_string());
    // The name is checked and sent, the client certificate shown; the second request rides the
    // same pooled TLS connection (TLS 1.3 session tickets that came unasked do not spoil it).
    assert_eq!(
        through(h1, "named"),
        ok("TLSv1.3|backend.test|SUCCESS|CN=client|HTTP/1.1|1")
    );
    assert_eq!(
        through(h1, "named"),
        ok("TLSv1.3|backend.test|SUCCESS|CN=client|HTTP/1.1|2")
    );
    // Without server_name the host's IP address is checked (MOSN fails every handshake); no SNI
    // is sent for an IP.
    assert_eq!(through(h1, "by_ip"), ok("TLSv1.3||NONE||HTTP/1.1|1"));
    // A backend whose CA is not trusted gets no request: 503, a log line and a counter.
    assert_eq!(through(h1, "untrusted").0, "503");
    assert!(
        mosn.logged("upstream TLS handshake failed"),
        "{}",
        mosn.log()
    );
    let stats: Value = serde_json::from_str(&String::from_utf8_lossy(
        &curl(&[&format!("http://127.0.0.1:{admin}/api/v1/stats")]).1,
    ))
    .unwrap();
    assert_eq!(
        stats["cluster"]["untrusted"]["upstream_tls_handshake_failed"],
        "1"
    );
    assert_eq!(
        stats["cluster"]["named"]["upstream_tls_handshake_total"],
        "1"
    );
    assert_eq!(through(h1, "skip"), ok("TLSv1.3||NONE||HTTP/1.1|1"));
    // HTTP/2 upstream: h2 is offered by ALPN though the context names none.
    assert_eq!(
        through(h2, "h2"),
        ok("TLSv1.3|backend.test|SUCCESS|CN=client|HTTP/2.0|1")
    );
    // tls_disable: that host is reached in plaintext.
    assert_eq!(through(h1, "plain"), ok(NGINX_BODY));
    // cluster_manager_tls: the cluster manager's context.
    assert_eq!(
        through(h1, "shared"),
        ok("TLSv1.3|backend.test|NONE||HTTP/1.1|1")
    );
}

#[test]
fn upstream_tls_config_problems_are_named_at_their_path() {
    let missing_ca = json!({ "status": true, "ca_cert": "/nonexistent/ca.pem" });
    let skip = json!({ "status": true, "insecure_skip": true });
    let cases = [
        (
            tls_cluster("c", 1, missing_ca),
            "error",
            "cluster_manager.clusters[0].tls_context.ca_cert: cannot read /nonexistent/ca.pem",
        ),
        (
            tls_cluster("c", 1, json!({ "status": true, "cert_chain": "/x.pem" })),
            "error",
            "cluster_manager.clusters[0].tls_context.private_key: cert_chain needs its private_key",
        ),
        (
            json!({ "name": "c", "type": "SIMPLE", "hosts": [{ "address": "127.0.0.1:1" }],
                    "cluster_manager_tls": true }),
            "error",
            "cluster_manager.clusters[0].cluster_manager_tls: cluster_manager.tls_context is not enabled",
        ),
        (
            tls_cluster("c", 1, skip),
            "warning",
            "cluster_manager.clusters[0].tls_context.insecure_skip: the upstream's certificate is NOT verified",
        ),
    ];
    for (cluster, kind, want) in cases {
        let dir = ConfigDir::new(&config(json!([]), json!([cluster]), free_port()));
        let output = run_mosn(&["check"], Some(&dir.config_file()));
        let said = String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr);
        assert!(said.contains(want), "want {want:?} in:\n{said}");
        assert_eq!(output.status.success(), kind == "warning", "{said}");
    }
}

#[test]
fn an_upstream_whose_certificate_has_expired_gets_no_request() {
    let pki = Pki::new();
    let backend = TlsBackend::start_with(&pki, |params| {
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    });
    let port = free_port();
    let tls = json!({ "status": true, "ca_cert": pki.ca_file(), "server_name": "backend.test" });
    let mut config = config(
        json!([proxy_listener("h1", port, "r", ("Http1", "Http1"))]),
        json!([tls_cluster("expired", backend.port, tls)]),
        free_port(),
    );
    config["servers"][0]["routers"] = json!([router_by_header(&["expired"])]);
    let mosn = Mosn::start(&config, port);
    assert_eq!(through(port, "expired").0, "503");
    let log = mosn.log();
    assert!(
        log.contains("upstream TLS handshake failed") && log.contains("expired"),
        "{log}"
    );
    assert!(!backend.nginx.access_log().contains("GET"));
}
