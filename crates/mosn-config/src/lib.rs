//! MOSN's v2 configuration: the model, read as MOSN reads it (case-insensitive keys, Go
//! durations, JSON or YAML), MOSN's defaults, and validation whose every message names the
//! JSON path of the problem.

pub mod address;
pub mod decode;
pub mod defaults;
pub mod diagnostics;
pub mod duration;
mod include;
mod load;
pub mod model;
mod validate;

pub use diagnostics::{Diagnostic, Diagnostics, Severity};
pub use duration::GoDuration;
pub use load::{Format, Loaded, Rejected, decode_file, load_file, parse_text};
pub use model::MosnConfig;
pub use validate::{LB_TYPES, LOG_LEVELS};

impl MosnConfig {
    /// A copy fit to show: every private key replaced by a marker.
    pub fn redacted(&self) -> MosnConfig {
        let mut copy = self.clone();
        if let Some(tls) = copy.cluster_manager.tls_context.as_mut() {
            tls.redact();
        }
        for cluster in &mut copy.cluster_manager.clusters {
            cluster
                .tls_context
                .iter_mut()
                .for_each(model::TlsConfig::redact);
        }
        for listener in copy.servers.iter_mut().flat_map(|s| s.listeners.iter_mut()) {
            for chain in &mut listener.filter_chains {
                chain
                    .tls_context
                    .iter_mut()
                    .chain(chain.tls_context_set.iter_mut())
                    .for_each(model::TlsConfig::redact);
            }
        }
        copy
    }
}
