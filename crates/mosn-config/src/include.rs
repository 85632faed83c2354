//! The directories a MOSN config may point at instead of inline lists: `clusters_configs` (one
//! cluster per file) and `router_configs` (one virtual host per file).

use std::path::Path;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::decode::decode;
use crate::diagnostics::{Diagnostics, index, join};
use crate::model::MosnConfig;

/// Reads every directory the config names into its inline lists.
pub fn read_directories(config: &mut MosnConfig, diags: &mut Diagnostics) {
    let manager = &mut config.cluster_manager;
    if !manager.clusters_configs.is_empty() {
        let path = "cluster_manager.clusters_configs";
        if manager.clusters.is_empty() {
            manager.clusters = read_dir(&manager.clusters_configs, path, diags);
        } else {
            diags.error(
                path,
                "clusters and clusters_configs are both set: use one (as in MOSN)",
            );
        }
    }
    for (i, server) in config.servers.iter_mut().enumerate() {
        for (j, router) in server.routers.iter_mut().enumerate() {
            if router.router_configs.is_empty() {
                continue;
            }
            let path = join(
                &index(&join(&index("servers", i), "routers"), j),
                "router_configs",
            );
            if router.virtual_hosts.is_empty() {
                router.virtual_hosts = read_dir(&router.router_configs, &path, diags);
            } else {
                diags.error(
                    path,
                    "virtual_hosts and router_configs are both set: use one (as in MOSN)",
                );
            }
        }
    }
}

/// Each non-empty `.json` file of `dir`, in name order, decoded as one `T`. Problems are
/// reported at the file's path.
fn read_dir<T: DeserializeOwned>(dir: &str, path: &str, diags: &mut Diagnostics) -> Vec<T> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) => {
            diags.error(path, format!("cannot read directory {dir:?}: {err}"));
            return Vec::new();
        }
    };
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|file| file.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    files
        .iter()
        .filter_map(|file| read_file(file, diags))
        .collect()
}

fn read_file<T: DeserializeOwned>(file: &Path, diags: &mut Diagnostics) -> Option<T> {
    let shown = file.display().to_string();
    let text = match std::fs::read_to_string(file) {
        Ok(text) if text.trim().is_empty() => return None,
        Ok(text) => text,
        Err(err) => {
            diags.error(&shown, format!("cannot read: {err}"));
            return None;
        }
    };
    match serde_json::from_str::<Value>(&text) {
        Ok(value) => decode(&value, &shown, diags),
        Err(err) => {
            diags.error(&shown, format!("invalid JSON: {err}"));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Cluster;

    #[test]
    fn a_directory_of_clusters_is_read_in_name_order() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b.json"), r#"{"name": "b"}"#).unwrap();
        std::fs::write(dir.path().join("a.json"), r#"{"Name": "a", "colour": 1}"#).unwrap();
        std::fs::write(dir.path().join("empty.json"), "").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not a cluster").unwrap();
        let mut diags = Diagnostics::default();
        let clusters: Vec<Cluster> = read_dir(dir.path().to_str().unwrap(), "x", &mut diags);
        let names: Vec<_> = clusters.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        let warning = &diags.items()[0];
        assert!(warning.path.ends_with("a.json.colour"), "{warning}");
    }

    #[test]
    fn inline_and_directory_together_is_an_error() {
        let mut config = MosnConfig::default();
        config.cluster_manager.clusters_configs = "/nonexistent".into();
        config.cluster_manager.clusters.push(Cluster::default());
        let mut diags = Diagnostics::default();
        read_directories(&mut config, &mut diags);
        assert!(diags.items()[0].message.contains("both set"));
    }
}
