//! The admin API, on MOSN's paths and with MOSN's response formats.

mod config_dump;
mod query;
mod routes;
mod server;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use mosn_config::MosnConfig;
use mosn_net::stats::{ClusterStats, ListenerStats};

pub use server::serve;

/// MOSN's process states, as `/api/v1/states` reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum State {
    Starting = 4,
    Running = 6,
    GracefulStopping = 8,
    Stopping = 9,
}

/// Reads and changes log levels for the admin API.
pub trait LogControl: Send + Sync {
    /// Each log output (as configured) with its level name.
    fn levels(&self) -> BTreeMap<String, String>;
    fn set_level(&self, output: &str, level: &str) -> Result<(), String>;
}

pub struct AdminContext {
    pub version: String,
    /// The config the server runs.
    pub config: Arc<MosnConfig>,
    pub logs: Arc<dyn LogControl>,
    pub listeners: Vec<(String, Arc<ListenerStats>)>,
    pub clusters: Vec<(String, Arc<ClusterStats>)>,
    state: AtomicU8,
}

impl AdminContext {
    pub fn new(
        version: String,
        config: Arc<MosnConfig>,
        logs: Arc<dyn LogControl>,
        listeners: Vec<(String, Arc<ListenerStats>)>,
        clusters: Vec<(String, Arc<ClusterStats>)>,
    ) -> Self {
        AdminContext {
            version,
            config,
            logs,
            listeners,
            clusters,
            state: AtomicU8::new(State::Starting as u8),
        }
    }

    pub fn set_state(&self, state: State) {
        self.state.store(state as u8, Ordering::Relaxed);
    }

    pub fn state(&self) -> u8 {
        self.state.load(Ordering::Relaxed)
    }
}
