//! Where requests go, through the real binary: the cluster a route picks (`cluster_header`,
//! `weighted_clusters`), the load balancers and hash policies, STRICT_DNS clusters. curl in
//! front, nginx and socat behind.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::mpsc;

use common::*;
use serde_json::{Value, json};

/// A proxy (HTTP/1.1) whose `/` route goes to the cluster `backend` of `hosts`.
fn start(hosts: &[String], route: Value, cluster_extra: Value) -> (Mosn, u16) {
    let port = free_port();
    let config = proxy_to_backend(port, "Http1", hosts, route, cluster_extra);
    (Mosn::start(&config, port), port)
}

/// The port of the nginx that answered `/whoami` through the proxy; curl gets `args` too.
fn whoami(port: u16, args: &[&str]) -> String {
    let url = format!("http://127.0.0.1:{port}/whoami");
    let mut all = vec![url.as_str()];
    all.extend(args);
    String::from_utf8_lossy(&curl(&all).1).into_owned()
}

/// A proxy (HTTP/1.1) whose `/` route is `action`, with a cluster named `a`, `b`, ... of one
/// host for each of `nginxes`.
fn start_routing(action: Value, nginxes: &[Nginx]) -> (Mosn, u16) {
    let port = free_port();
    let clusters: Vec<Value> = nginxes
        .iter()
        .zip(["a", "b", "c"])
        .map(|(nginx, name)| cluster(name, &[format!("127.0.0.1:{}", nginx.port)]))
        .collect();
    let listeners = json!([http_listener("http", port, "main")]);
    let mut config = config(listeners, json!(clusters), free_port());
    config["servers"][0]["routers"] = json!([router_all("main", action)]);
    (Mosn::start(&config, port), port)
}

#[test]
fn cluster_header_names_the_cluster_and_a_missing_or_unknown_one_is_503() {
    let nginxes = [Nginx::start(), Nginx::start()];
    let (_mosn, port) = start_routing(json!({ "cluster_header": "x-cluster" }), &nginxes);
    assert_eq!(
        whoami(port, &["-H", "x-cluster: a"]),
        nginxes[0].port.to_string()
    );
    assert_eq!(
        whoami(port, &["-H", "x-cluster: b"]),
        nginxes[1].port.to_string()
    );
    let url = format!("http://127.0.0.1:{port}/whoami");
    for header in ["x-cluster: nope", "x-other: a"] {
        let (_, out) = curl(&["-o", "/dev/null", "-w", "%{http_code}", "-H", header, &url]);
        assert_eq!(out, b"503", "{header}");
    }
}

#[test]
fn weighted_clusters_pick_every_weighted_cluster_and_never_a_zero_weight() {
    let nginxes = [Nginx::start(), Nginx::start(), Nginx::start()];
    let weighted = json!({ "weighted_clusters": [
        { "cluster": { "name": "a", "weight": 1 } },
        { "cluster": { "name": "b", "weight": 1 } },
        { "cluster": { "name": "c", "weight": 0 } }
    ] });
    let (_mosn, port) = start_routing(weighted, &nginxes);
    let picks: HashSet<String> = (0..30).map(|_| whoami(port, &[])).collect();
    let expected: HashSet<String> = nginxes[..2].iter().map(|n| n.port.to_string()).collect();
    // Missing one of the two in 30 draws has a chance of 2 × (1/2)^30.
    assert_eq!(picks, expected);
}

fn nginx_hosts(nginxes: &[Nginx]) -> Vec<String> {
    nginxes
        .iter()
        .map(|n| format!("127.0.0.1:{}", n.port))
        .collect()
}

#[test]
fn each_balancer_spreads_requests_over_all_its_hosts() {
    let nginxes = [Nginx::start(), Nginx::start(), Nginx::start()];
    let hosts = nginx_hosts(&nginxes);
    let ports: HashSet<String> = nginxes.iter().map(|n| n.port.to_string()).collect();
    // LB_PEAK_EWMA is left out: it keeps to the hosts it has measured as fast (below).
    for lb in [
        "LB_ROUNDROBIN",
        "LB_REQUEST_ROUNDROBIN",
        "LB_RANDOM",
        "LB_LEAST_REQUEST",
        "LB_LEAST_CONNECTION",
    ] {
        let (_mosn, port) = start(&hosts, json!({}), json!({ "lb_type": lb }));
        let picks: Vec<String> = (0..30).map(|_| whoami(port, &[])).collect();
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for pick in &picks {
            *counts.entry(pick).or_default() += 1;
        }
        let seen: HashSet<String> = counts.keys().map(|p| p.to_string()).collect();
        // For the random draws, missing a host in 30 requests has a chance of 3 × (2/3)^30.
        assert_eq!(seen, ports, "{lb}: {picks:?}");
        if lb.ends_with("_ROUNDROBIN") {
            assert!(
                counts.values().all(|&n| n == 10),
                "{lb} takes each host in turn: {picks:?}"
            );
        }
    }
}

#[test]
fn least_request_keeps_new_requests_off_a_host_busy_with_one() {
    let nginx = Nginx::start();
    let (silent, reached) = black_hole();
    let hosts = [
        format!("127.0.0.1:{silent}"),
        format!("127.0.0.1:{}", nginx.port),
    ];
    let route = json!({ "timeout": "5s" });
    let (_mosn, port) = start(&hosts, route, json!({ "lb_type": "LB_LEAST_REQUEST" }));
    // Both hosts idle are a tie, drawn at random: requests go out one at a time until one is
    // held by the silent host.
    let (answered, answers) = mpsc::channel();
    let held = (0..20).any(|_| {
        let answered = answered.clone();
        std::thread::spawn(move || answered.send(whoami(port, &[])));
        within_5s(|| reached.load(Ordering::Relaxed) > 0 || answers.try_recv().is_ok());
        reached.load(Ordering::Relaxed) > 0
    });
    assert!(held, "none of 20 requests went to the silent host");
    let picks: Vec<String> = (0..10).map(|_| whoami(port, &[])).collect();
    let expected = vec![nginx.port.to_string(); 10];
    assert_eq!(picks, expected, "a request went to the busy host");
}

#[test]
fn peak_ewma_turns_away_from_a_host_whose_tries_time_out() {
    // A host that answers in 100 ms, slower than the 30 ms a host not measured yet counts:
    // the silent host looks the faster one until its timeouts are counted.
    let dir = tempfile::tempdir().unwrap();
    let answer = dir.path().join("answer");
    std::fs::write(&answer, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nslow").unwrap();
    let (_slow, slow) = socat(&format!("SYSTEM:sleep 0.1; cat {}", answer.display()), true);
    let (silent, _) = black_hole();
    let hosts = [format!("127.0.0.1:{silent}"), format!("127.0.0.1:{slow}")];
    let route = json!({ "timeout": "300ms" });
    let (_mosn, port) = start(&hosts, route, json!({ "lb_type": "LB_PEAK_EWMA" }));
    let url = format!("http://127.0.0.1:{port}/");
    let statuses: Vec<String> = (0..6)
        .map(|_| {
            let (_, out) = curl(&["-o", "/dev/null", "-w", "%{http_code}", &url]);
            String::from_utf8_lossy(&out).into_owned()
        })
        .collect();
    // At most the first try on the silent host times out (504); then its 300 ms count.
    let answered = statuses.iter().filter(|s| *s == "200").count();
    assert!(answered >= 5, "{statuses:?}");
}

/// Asks the proxy on a port for a key (by its number): the port of the host that answered.
type Ask = fn(u16, usize) -> String;

#[test]
fn maglev_keeps_each_key_on_one_host_whatever_it_hashes() {
    let nginxes = [Nginx::start(), Nginx::start()];
    let hosts = nginx_hosts(&nginxes);
    let policies: [(Value, Ask); 3] = [
        (json!({ "header": { "key": "x-user" } }), |port, n| {
            whoami(port, &["-H", &format!("x-user: user-{n}")])
        }),
        (json!({ "cookie": { "name": "session" } }), |port, n| {
            whoami(port, &["-b", &format!("theme=dark; session=s{n}")])
        }),
        // Clients from 127.0.0.1 to 127.0.0.20: loopback addresses all.
        (json!({ "source_ip": {} }), |port, n| {
            whoami(port, &["--interface", &format!("127.0.0.{}", n + 1)])
        }),
    ];
    for (policy, ask) in policies {
        let route = json!({ "hash_policy": [policy] });
        let (_mosn, port) = start(&hosts, route, json!({ "lb_type": "LB_MAGLEV" }));
        let mut seen = HashSet::new();
        for key in 0..20 {
            let first = ask(port, key);
            for _ in 0..3 {
                assert_eq!(ask(port, key), first, "{policy}: key {key} moved");
            }
            seen.insert(first);
        }
        assert_eq!(seen.len(), 2, "{policy}: 20 keys all on one host");
    }
}

#[test]
fn weighted_round_robin_follows_the_weights() {
    let nginxes = [Nginx::start(), Nginx::start()];
    let hosts = nginx_hosts(&nginxes);
    let weighted = json!({ "lb_type": "LB_WEIGHTED_ROUNDROBIN",
        "hosts": [{ "address": hosts[0], "weight": 3 }, { "address": hosts[1], "weight": 1 }] });
    let (_mosn, port) = start(&hosts, json!({}), weighted);
    let picks: Vec<String> = (0..8).map(|_| whoami(port, &[])).collect();
    let on_first = picks
        .iter()
        .filter(|p| **p == nginxes[0].port.to_string())
        .count();
    assert_eq!(on_first, 6, "weights 3:1: {picks:?}");
}

#[test]
fn simple_and_strict_dns_clusters_reach_a_host_by_name() {
    let nginx = Nginx::start();
    let hosts = [format!("localhost:{}", nginx.port)];
    // localhost may resolve to ::1 as well, and first, where nginx does not listen. SIMPLE
    // tries the next address; STRICT_DNS makes each address a host, and a refused connect is
    // tried again on the other.
    let retry = json!({ "retry_policy": { "retry_on": true, "num_retries": 1 } });
    let simple = json!({ "type": "SIMPLE" });
    let strict_dns = json!({ "type": "STRICT_DNS", "dns_refresh_rate": "1s" });
    for cluster in [simple, strict_dns] {
        let (_mosn, port) = start(&hosts, retry.clone(), cluster.clone());
        for _ in 0..5 {
            assert_eq!(whoami(port, &[]), nginx.port.to_string(), "{cluster}");
        }
    }
}
