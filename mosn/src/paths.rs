//! Where MOSN puts its files: next to the config, under `<base>/logs`, where `<base>` is the
//! parent of the config file's directory.

use std::path::{Path, PathBuf};

use mosn_config::MosnConfig;

pub struct Paths {
    pub base: PathBuf,
}

impl Paths {
    /// `config` is the config file, or `None` for the embedded config (then a temp directory).
    pub fn new(config: Option<&Path>) -> Paths {
        let config_dir = config
            .and_then(|c| std::path::absolute(c).ok())
            .and_then(|c| c.parent().map(Path::to_path_buf));
        let base = match config_dir.as_deref().and_then(Path::parent) {
            Some(parent) => parent.to_path_buf(),
            None => std::env::temp_dir().join("mosn"),
        };
        Paths { base }
    }

    pub fn logs(&self) -> PathBuf {
        self.base.join("logs")
    }

    /// The `pid` key, else `<base>/logs/mosn.pid`.
    pub fn pid_file(&self, config: &MosnConfig) -> PathBuf {
        if config.pid.is_empty() {
            self.logs().join("mosn.pid")
        } else {
            PathBuf::from(&config.pid)
        }
    }

    /// `default_log_path` when empty: `<base>/logs/mosn.log`.
    pub fn default_log(&self) -> PathBuf {
        self.logs().join("mosn.log")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_is_the_parent_of_the_config_directory() {
        let paths = Paths::new(Some(Path::new("/srv/mosn/conf/config.json")));
        assert_eq!(paths.base, Path::new("/srv/mosn"));
        assert_eq!(
            paths.pid_file(&MosnConfig::default()),
            Path::new("/srv/mosn/logs/mosn.pid")
        );
        let custom = MosnConfig {
            pid: "/run/m.pid".into(),
            ..MosnConfig::default()
        };
        assert_eq!(paths.pid_file(&custom), Path::new("/run/m.pid"));
    }
}
