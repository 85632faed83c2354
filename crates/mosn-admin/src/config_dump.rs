//! `/api/v1/config_dump`: the running config, private keys redacted, whole or in parts.

use std::collections::BTreeMap;

use hyper::StatusCode;
use mosn_config::MosnConfig;
use mosn_config::model::{Cluster, Listener, RouterConfiguration};
use serde::Serialize;
use serde_json::{Value, json};

/// Status and body for the given query pairs.
pub fn respond(config: &MosnConfig, params: &[(String, String)]) -> (StatusCode, String) {
    let config = config.redacted();
    let mut keys: Vec<&str> = params.iter().map(|(k, _)| k.as_str()).collect();
    keys.dedup();
    match keys.len() {
        0 => (StatusCode::OK, whole(&config).to_string()),
        1 => {
            let (key, value) = &params[0];
            match part(&config, key, value) {
                Some(part) => (StatusCode::OK, indented(&part)),
                None => (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    crate::routes::error_body("internal error"),
                ),
            }
        }
        _ => (
            StatusCode::BAD_REQUEST,
            "only support one parameter".to_string(),
        ),
    }
}

/// MOSN's shape: the top-level config without its lists, and the lists keyed by name.
fn whole(config: &MosnConfig) -> Value {
    let mut dump = json!({ "mosn_config": to_value(&reduced(config)) });
    for (key, part) in [
        ("listener", to_value(&listeners(config))),
        ("cluster", to_value(&clusters(config))),
        ("routers", to_value(&routers(config))),
    ] {
        if part.as_object().is_some_and(|m| !m.is_empty()) {
            dump[key] = part;
        }
    }
    dump
}

fn part(config: &MosnConfig, key: &str, name: &str) -> Option<Value> {
    // A name that does not exist gives an empty object, as in MOSN.
    let named = |map: Value| map.get(name).cloned().unwrap_or_else(|| json!({}));
    Some(match key {
        "mosnconfig" => to_value(&reduced(config)),
        "allrouters" => to_value(&routers(config)),
        "allclusters" => to_value(&clusters(config)),
        "alllisteners" => to_value(&listeners(config)),
        "router" => named(to_value(&routers(config))),
        "cluster" => named(to_value(&clusters(config))),
        "listener" => named(to_value(&listeners(config))),
        _ => return None,
    })
}

fn reduced(config: &MosnConfig) -> MosnConfig {
    let mut reduced = config.clone();
    reduced.cluster_manager.clusters.clear();
    reduced.extends.clear();
    for server in &mut reduced.servers {
        server.listeners.clear();
        server.routers.clear();
    }
    reduced
}

fn listeners(config: &MosnConfig) -> BTreeMap<String, Listener> {
    let all = config.servers.iter().flat_map(|s| &s.listeners);
    all.map(|l| (l.name.clone(), l.clone())).collect()
}

fn clusters(config: &MosnConfig) -> BTreeMap<String, Cluster> {
    let all = &config.cluster_manager.clusters;
    all.iter().map(|c| (c.name.clone(), c.clone())).collect()
}

fn routers(config: &MosnConfig) -> BTreeMap<String, RouterConfiguration> {
    let all = config.servers.iter().flat_map(|s| &s.routers);
    all.map(|r| (r.router_config_name.clone(), r.clone()))
        .collect()
}

fn to_value<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// JSON indented by one space, as MOSN writes single-part dumps.
fn indented(value: &Value) -> String {
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b" ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    match value.serialize(&mut serializer) {
        Ok(()) => String::from_utf8_lossy(&out).into_owned(),
        Err(_) => value.to_string(),
    }
}
