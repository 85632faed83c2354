//! Certificate reloading for the running server: every TLS context that reads files, checked
//! for changes every few seconds and rebuilt on SIGHUP.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mosn_net::tls::{CertificateWatcher, Reload};

use crate::prepare::Prepared;

/// How often certificate files are looked at.
const POLL_INTERVAL: Duration = Duration::from_secs(2);

pub type SharedWatcher = Arc<Mutex<CertificateWatcher>>;

/// The watcher over every listener's and cluster's TLS (a cluster manager context shared by
/// several clusters once).
pub fn watcher(prepared: &Prepared) -> SharedWatcher {
    let mut targets: Vec<Arc<dyn Reload>> = Vec::new();
    for spec in &prepared.listeners {
        if let Some(tls) = &spec.tls {
            targets.push(Arc::clone(tls) as Arc<dyn Reload>);
        }
    }
    for cluster in prepared.clusters.all() {
        if let Some(tls) = &cluster.tls {
            let tls = Arc::clone(tls) as Arc<dyn Reload>;
            if !targets.iter().any(|t| Arc::ptr_eq(t, &tls)) {
                targets.push(tls);
            }
        }
    }
    Arc::new(Mutex::new(CertificateWatcher::new(targets)))
}

/// Looks at the files every [`POLL_INTERVAL`], for as long as the server runs.
pub async fn poll(watcher: SharedWatcher) {
    if !lock(&watcher).has_files() {
        return;
    }
    let mut ticks = tokio::time::interval(POLL_INTERVAL);
    loop {
        ticks.tick().await;
        lock(&watcher).check();
    }
}

/// SIGHUP: every context rebuilt now.
pub fn reload_all(watcher: &SharedWatcher) {
    lock(watcher).reload_all();
}

fn lock(watcher: &SharedWatcher) -> std::sync::MutexGuard<'_, CertificateWatcher> {
    watcher
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
