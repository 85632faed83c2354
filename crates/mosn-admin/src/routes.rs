//! The admin paths and what each answers.

use std::collections::BTreeMap;

use bytes::Bytes;
use hyper::{Method, StatusCode};
use mosn_net::stats::TlsStats;
use serde::Deserialize;
use serde_json::json;

use crate::{AdminContext, config_dump, query};

pub const PATHS: &[&str] = &[
    "/api/v1/version",
    "/api/v1/config_dump",
    "/api/v1/states",
    "/api/v1/stats",
    "/api/v1/get_loglevel",
    "/api/v1/update_loglevel",
];

/// MOSN's error body.
pub fn error_body(message: &str) -> String {
    format!("{{\n\t\"error\": \"{message}\"\n}}\n")
}

pub fn handle(
    context: &AdminContext,
    method: &Method,
    path: &str,
    query: Option<&str>,
    body: &Bytes,
) -> (StatusCode, String) {
    let get_only = |respond: &dyn Fn() -> (StatusCode, String)| match *method {
        Method::GET => respond(),
        _ => (StatusCode::METHOD_NOT_ALLOWED, String::new()),
    };
    match path {
        "/api/v1/version" => (StatusCode::OK, format!("mosn version: {}", context.version)),
        "/api/v1/config_dump" => {
            get_only(&|| config_dump::respond(&context.config, &query::parse(query)))
        }
        "/api/v1/states" => get_only(&|| {
            (
                StatusCode::OK,
                format!("pid={}&state={}\n", std::process::id(), context.state()),
            )
        }),
        "/api/v1/stats" => get_only(&|| (StatusCode::OK, stats(context))),
        "/api/v1/get_loglevel" => {
            get_only(&|| (StatusCode::OK, json!(context.logs.levels()).to_string()))
        }
        "/api/v1/update_loglevel" => match *method {
            Method::POST => update_loglevel(context, body),
            _ => (StatusCode::METHOD_NOT_ALLOWED, String::new()),
        },
        _ => (StatusCode::OK, index()),
    }
}

fn index() -> String {
    let mut out = String::from("supported APIs:\n");
    for path in PATHS {
        out.push_str(path);
        out.push('\n');
    }
    out
}

#[derive(Deserialize)]
struct LogLevelUpdate {
    log_path: String,
    log_level: String,
}

fn update_loglevel(context: &AdminContext, body: &Bytes) -> (StatusCode, String) {
    let update: Result<LogLevelUpdate, String> =
        serde_json::from_slice(body).map_err(|e| e.to_string());
    match update.and_then(|u| context.logs.set_level(&u.log_path, &u.log_level)) {
        Ok(()) => (StatusCode::OK, "update logger success\n".to_string()),
        Err(problem) => {
            tracing::warn!("admin: update_loglevel refused: {problem}");
            (StatusCode::BAD_REQUEST, error_body("update logger failed"))
        }
    }
}

/// `{"listener": {name: {metric: "value"}}, "cluster": {...}}`: values as strings like MOSN's,
/// though MOSN names and nests its metrics differently.
fn stats(context: &AdminContext) -> String {
    let listeners: BTreeMap<&str, BTreeMap<&str, String>> = context
        .listeners
        .iter()
        .map(|(name, stats)| {
            let mut metrics = tls_metrics(
                &stats.tls,
                [
                    "downstream_tls_handshake_total",
                    "downstream_tls_handshake_failed",
                ],
            );
            metrics.extend([
                (
                    "downstream_connection_total",
                    stats.connections_total().to_string(),
                ),
                (
                    "downstream_connection_active",
                    stats.connections_active().to_string(),
                ),
                (
                    "downstream_tls_plaintext_total",
                    stats.tls_plaintext.get().to_string(),
                ),
            ]);
            (name.as_str(), metrics)
        })
        .collect();
    let clusters: BTreeMap<&str, BTreeMap<&str, String>> = context
        .clusters
        .iter()
        .map(|(name, stats)| {
            let names = [
                "upstream_tls_handshake_total",
                "upstream_tls_handshake_failed",
            ];
            (name.as_str(), tls_metrics(&stats.tls, names))
        })
        .collect();
    serde_json::to_string_pretty(&json!({ "listener": listeners, "cluster": clusters }))
        .unwrap_or_default()
}

/// Handshake counters under the names `[total, failed]`.
fn tls_metrics(
    tls: &TlsStats,
    [total, failed]: [&'static str; 2],
) -> BTreeMap<&'static str, String> {
    BTreeMap::from([
        (total, tls.handshakes.get().to_string()),
        (failed, tls.handshake_failures.get().to_string()),
    ])
}
