//! Certificates reloaded without a restart: when a file a TLS context reads changes, or on
//! SIGHUP, the context is built again and swapped in for new handshakes. Connections already
//! open keep the config they began with. A rebuild that fails (a key that does not match its
//! new certificate) keeps the old context and says why.

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use mosn_config::Diagnostics;
use mosn_config::diagnostics::Severity;
use mosn_config::model::TlsConfig;

use super::pem;

/// Something built from certificate files that can be built again from the same config.
pub trait Reload: Send + Sync {
    /// What it is, for logs: `listener "x"`, `cluster "y"`.
    fn describe(&self) -> String;
    /// The files it reads.
    fn files(&self) -> Vec<PathBuf>;
    /// Builds again and swaps in the result; after an error the old one stays.
    fn reload(&self) -> Result<(), String>;
}

/// The files of a context: its certificate, key and CA values that are paths, not inline PEM.
pub fn files_of(config: &TlsConfig) -> impl Iterator<Item = PathBuf> + '_ {
    [&config.cert_chain, &config.private_key, &config.ca_cert]
        .into_iter()
        .filter_map(|value| pem::file_of(value))
}

/// The errors of a rebuild, as one line.
pub(crate) fn failure(diags: &Diagnostics) -> String {
    diags
        .items()
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// What tells a file changed: a new modification time, size or inode (a replaced symlink
/// target, as Kubernetes updates a mounted secret).
type Stamp = Option<(SystemTime, u64, u64)>;

fn stamp(path: &PathBuf) -> Stamp {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len(), meta.ino()))
}

struct Watched {
    target: Arc<dyn Reload>,
    files: Vec<(PathBuf, Stamp)>,
}

/// Every reloadable context, with how its files looked when last read.
pub struct CertificateWatcher {
    watched: Vec<Watched>,
}

impl CertificateWatcher {
    /// Watches the targets that read files (inline PEM never changes).
    pub fn new(targets: Vec<Arc<dyn Reload>>) -> CertificateWatcher {
        let watched = targets
            .into_iter()
            .map(|target| {
                let files = target.files().into_iter().map(|f| (f.clone(), stamp(&f)));
                Watched {
                    files: files.collect(),
                    target,
                }
            })
            .filter(|watched| !watched.files.is_empty())
            .collect();
        CertificateWatcher { watched }
    }

    /// Whether any context reads files (else there is nothing to poll).
    pub fn has_files(&self) -> bool {
        !self.watched.is_empty()
    }

    /// Rebuilds the contexts whose files changed since the last look.
    pub fn check(&mut self) {
        for watched in &mut self.watched {
            let mut changed = false;
            for (path, seen) in &mut watched.files {
                let now = stamp(path);
                changed |= now != *seen;
                *seen = now;
            }
            if changed {
                reload(watched.target.as_ref(), "its files changed");
            }
        }
    }

    /// Rebuilds every context (SIGHUP).
    pub fn reload_all(&mut self) {
        for watched in &mut self.watched {
            for (path, seen) in &mut watched.files {
                *seen = stamp(path);
            }
            reload(watched.target.as_ref(), "SIGHUP");
        }
    }
}

fn reload(target: &dyn Reload, cause: &str) {
    match target.reload() {
        Ok(()) => tracing::info!("TLS of {} reloaded ({cause})", target.describe()),
        Err(err) => tracing::error!(
            "TLS of {} not reloaded ({cause}), keeping the certificates it had: {err}",
            target.describe()
        ),
    }
}
