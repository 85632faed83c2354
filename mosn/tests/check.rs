//! `mosn check -c FILE` on good configs and on bad ones: every problem, with its JSON path.

mod common;

use std::path::Path;

use common::*;
use serde_json::json;

fn check(path: &Path) -> (bool, String) {
    let output = run_mosn(&["check"], Some(path));
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[test]
fn mosn_style_configs_pass_with_warnings_that_name_their_paths() {
    let (ok, out) = check(&fixture("tcp_proxy_capitalised.json"));
    assert!(ok, "{out}");
    assert!(
        out.contains("warning: servers[0].listeners[0].log_path: unknown key, ignored"),
        "{out}"
    );
    assert!(
        out.contains(
            "warning: cluster_manager.clusters[0].hosts[0].weight: weight 200 is outside 1..=128"
        ),
        "{out}"
    );
    assert!(out.contains("routes: ignored: cluster is set"), "{out}");

    let (ok, out) = check(&fixture("http_proxy.json"));
    assert!(ok, "{out}");
    assert!(
        !out.contains("stream_filters"),
        "the fault filter is built: {out}"
    );
    assert!(out.ends_with("0 errors, 0 warnings\n"), "{out}");

    let (ok, out) = check(&fixture("tcp_proxy.yaml"));
    assert!(ok, "{out}");
    assert!(out.ends_with("0 errors, 0 warnings\n"), "{out}");
}

/// One config with many problems: all of them are reported, each at its path.
#[test]
fn every_error_is_reported_at_once_with_its_path() {
    let tls = json!({ "status": true, "cert_chain": "c", "private_key": "k" });
    let config = json!({
        "servers": [{
            "graceful_timeout": "-5s",
            "listeners": [
                { "name": "a", "address": "not-an-address", "bind_port": true,
                  "filter_chains": [{ "filters": [{ "type": "tcp_proxy", "config": { "cluster": "nope" } }] }] },
                { "name": "b", "address": "127.0.0.1:1", "bind_port": true,
                  "filter_chains": [{ "tls_context": tls, "tls_context_set": [tls], "filters": [
                      { "type": "proxy", "config": { "downstream_protocol": "Http1", "router_config_name": "missing" } },
                      { "type": "foo" }] }] },
                { "name": "c", "address": "127.0.0.1:2", "bind_port": true, "filter_chains": [] }
            ],
            "routers": [{ "router_config_name": "r", "virtual_hosts": [{ "name": "v", "domains": ["*"],
                "routers": [{ "match": { "prefix": "/" }, "route": { "cluster_name": "ghost" } }] }] }]
        }],
        "cluster_manager": { "clusters": [
            { "name": "ok", "hosts": [{ "address": "127.0.0.1:80" }] },
            { "name": "bad", "connect_timeout": "soon", "hosts": [{ "address": "10.0.0.1" }] },
            { "name": "port", "hosts": [{ "address": "127.0.0.1:99999" }] }
        ]}
    });
    // Decoding errors come first; fix them to see the semantic ones.
    let dir = ConfigDir::new(&config);
    let (ok, out) = check(&dir.config_file());
    assert!(!ok, "{out}");
    for want in [
        "error: servers[0].graceful_timeout: negative duration \"-5s\" is not allowed",
        "error: cluster_manager.clusters[1].connect_timeout: invalid duration \"soon\"",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }

    let mut config = config;
    config["servers"][0]["graceful_timeout"] = json!("5s");
    config["cluster_manager"]["clusters"][1]["connect_timeout"] = json!("1s");
    let dir = ConfigDir::new(&config);
    let (ok, out) = check(&dir.config_file());
    assert!(!ok, "{out}");
    for want in [
        "error: servers[0].listeners[0].address: invalid address \"not-an-address\"",
        "error: servers[0].listeners[0].filter_chains[0].filters[0].config.cluster: cluster \"nope\" does not exist",
        "error: servers[0].listeners[1].filter_chains[0]: tls_context and tls_context_set are both set",
        "error: servers[0].listeners[1].filter_chains[0].filters[0].config.router_config_name: router \"missing\" does not exist",
        "error: servers[0].listeners[2].filter_chains: a listener needs exactly one filter chain",
        "error: servers[0].listeners[1].filter_chains[0].filters: no filter here serves connections",
        "error: servers[0].routers[0].virtual_hosts[0].routers[0].route.cluster_name: cluster \"ghost\" does not exist",
        "error: cluster_manager.clusters[1].hosts[0].address: invalid address \"10.0.0.1\"",
        "error: cluster_manager.clusters[2].hosts[0].address: invalid address \"127.0.0.1:99999\"",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
    let mut lines: Vec<&str> = out.lines().collect();
    let count = lines.len();
    lines.sort();
    lines.dedup();
    assert_eq!(lines.len(), count, "a problem is reported twice:\n{out}");
}

#[test]
fn broken_syntax_and_missing_files_are_errors() {
    let dir = ConfigDir::with_text("{ \"servers\": [ }", "config.json");
    let (ok, out) = check(&dir.config_file());
    assert!(!ok);
    assert!(out.contains("error: invalid JSON"), "{out}");

    let dir = ConfigDir::with_text("servers: [\n  - listeners: {", "config.yaml");
    let (ok, out) = check(&dir.config_file());
    assert!(!ok);
    assert!(out.contains("error: invalid YAML"), "{out}");

    let (ok, out) = check(Path::new("/nonexistent/config.json"));
    assert!(!ok);
    assert!(
        out.contains("cannot read /nonexistent/config.json"),
        "{out}"
    );
}

#[test]
fn a_type_error_names_the_path_and_start_refuses_to_run() {
    let config = json!({ "servers": [{ "listeners": [{ "name": "x", "address": "127.0.0.1:1", "bind_port": "yes" }] }] });
    let dir = ConfigDir::new(&config);
    let output = run_mosn(&["start"], Some(&dir.config_file()));
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("error: servers[0].listeners[0].bind_port: invalid type: string \"yes\", expected a boolean"), "{stderr}");
}

#[test]
fn protocol_choices_and_http2_settings_are_checked_with_their_paths() {
    let proxy = |i: u16, config: serde_json::Value| {
        json!({ "name": format!("p{i}"), "address": format!("127.0.0.1:{}", i + 1), "bind_port": true,
                "filter_chains": [{ "filters": [{ "type": "proxy", "config": config }] }] })
    };
    let config = json!({
        "servers": [{
            "listeners": [
                proxy(0, json!({ "downstream_protocol": "Http1,thrift", "router_config_name": "r" })),
                proxy(1, json!({ "downstream_protocol": "Auto", "upstream_protocol": "Http3", "router_config_name": "r" })),
                proxy(2, json!({ "downstream_protocol": "Http2", "router_config_name": "r",
                              "extend_config": { "Http2": { "initial_stream_window_size": 10 } } })),
                proxy(3, json!({ "downstream_protocol": "Http1, Http2", "upstream_protocol": "Http2", "router_config_name": "r" })),
                proxy(4, json!({ "downstream_protocol": "bolt", "upstream_protocol": "dubbo", "router_config_name": "r" })),
                // MOSN's legacy form: "X" and the protocol in extend_config.sub_protocol.
                proxy(5, json!({ "downstream_protocol": "X", "router_config_name": "r",
                              "extend_config": { "sub_protocol": "bolt" } })),
                proxy(6, json!({ "downstream_protocol": "Http2", "router_config_name": "r",
                              "extend_config": { "Http2": { "connection_keepalive": { "interval": "10x" } } } })),
                proxy(7, json!({ "downstream_protocol": "Http2", "router_config_name": "r",
                              "extend_config": { "connection_keepalive": { "interval": "30s", "timeout": "5s" } } }))
            ],
            "routers": [{ "router_config_name": "r", "virtual_hosts": [{ "name": "v", "domains": ["*"],
                "routers": [{ "match": { "prefix": "/" }, "direct_response": { "status": 200 } }] }] }]
        }]
    });
    let dir = ConfigDir::new(&config);
    let (ok, out) = check(&dir.config_file());
    assert!(!ok, "{out}");
    let filter = |i: usize| format!("servers[0].listeners[{i}].filter_chains[0].filters[0].config");
    for want in [
        format!(
            "error: {}.downstream_protocol: protocol \"thrift\" is not supported yet",
            filter(0)
        ),
        format!(
            "error: {}.upstream_protocol: protocol \"dubbo\" is not a downstream protocol",
            filter(4)
        ),
        format!(
            "error: {}.upstream_protocol: protocol \"Http3\" is not supported",
            filter(1)
        ),
        format!(
            "error: {}.extend_config.initial_stream_window_size: must be a number from 65535",
            filter(2)
        ),
        format!(
            "error: {}.extend_config.connection_keepalive.interval: invalid duration \"10x\"",
            filter(6)
        ),
        format!(
            "error: {}.extend_config.connection_keepalive.timeout: is required",
            filter(6)
        ),
    ] {
        assert!(out.contains(&want), "missing {want:?} in:\n{out}");
    }
    for valid in ["listeners[3]", "listeners[5]", "listeners[7]"] {
        assert!(!out.contains(valid), "{valid} is accepted:\n{out}");
    }
}
