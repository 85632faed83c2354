//! The error log: `tracing` to stdout, stderr or a file, with a level that the admin API can
//! change and a file that SIGUSR1 reopens (after log rotation moved it away).

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Registry, reload};

/// MOSN's level names, from the most verbose, with the `tracing` filter each maps to.
const LEVELS: &[(&str, LevelFilter)] = &[
    ("TRACE", LevelFilter::TRACE),
    ("DEBUG", LevelFilter::DEBUG),
    ("INFO", LevelFilter::INFO),
    ("WARN", LevelFilter::WARN),
    ("ERROR", LevelFilter::ERROR),
    ("FATAL", LevelFilter::ERROR),
];

/// A MOSN level name (uppercase, as the config and admin API take it).
pub fn level_filter(name: &str) -> Option<LevelFilter> {
    LEVELS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

/// The `--log-level` flag, in MOSN's lowercase spellings or any case, to a MOSN level name.
pub fn cli_level(name: &str) -> Option<&'static str> {
    let upper = name.to_ascii_uppercase();
    let canonical = match upper.as_str() {
        "WARNING" => "WARN",
        "CRITICAL" => "FATAL",
        other => other,
    };
    LEVELS.iter().map(|(n, _)| *n).find(|n| *n == canonical)
}

enum Target {
    Stdout,
    Stderr,
    File { path: PathBuf, file: Mutex<File> },
}

pub struct Logging {
    /// The output as configured: the key `get_loglevel` shows.
    output: String,
    level: Mutex<&'static str>,
    reload: reload::Handle<LevelFilter, Registry>,
    target: Arc<Target>,
}

struct SharedTarget(Arc<Target>);

impl Write for &Target {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Target::Stdout => io::stdout().write(buf),
            Target::Stderr => io::stderr().write(buf),
            Target::File { file, .. } => file
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for SharedTarget {
    type Writer = &'a Target;
    fn make_writer(&'a self) -> &'a Target {
        &self.0
    }
}

fn open_append(path: &PathBuf) -> io::Result<File> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    OpenOptions::new().create(true).append(true).open(path)
}

impl Logging {
    /// Installs the global subscriber. `output` is `stdout`, `stderr` or a file path.
    pub fn init(output: &str, level: &'static str) -> io::Result<Arc<Logging>> {
        let target = match output {
            "stdout" | "/dev/stdout" => Target::Stdout,
            "stderr" | "/dev/stderr" => Target::Stderr,
            path => {
                let path = PathBuf::from(path);
                let file = open_append(&path).map_err(|err| {
                    io::Error::new(err.kind(), format!("log file {}: {err}", path.display()))
                })?;
                Target::File {
                    path,
                    file: Mutex::new(file),
                }
            }
        };
        let ansi = matches!(target, Target::Stderr) && io::IsTerminal::is_terminal(&io::stderr());
        let target = Arc::new(target);
        let (filter, reload) = reload::Layer::new(level_filter(level).unwrap_or(LevelFilter::INFO));
        let format = tracing_subscriber::fmt::layer()
            .with_writer(SharedTarget(Arc::clone(&target)))
            .with_ansi(ansi)
            .with_target(false);
        tracing_subscriber::registry()
            .with(filter)
            .with(format)
            .try_init()
            .map_err(io::Error::other)?;
        Ok(Arc::new(Logging {
            output: output.to_string(),
            level: Mutex::new(level),
            reload,
            target,
        }))
    }

    /// Reopens the log file, after rotation moved it away. Outputs that are not files stay.
    pub fn reopen(&self) -> io::Result<()> {
        if let Target::File { path, file } = &*self.target {
            let reopened = open_append(path)?;
            *file.lock().unwrap_or_else(PoisonError::into_inner) = reopened;
        }
        Ok(())
    }
}

impl mosn_admin::LogControl for Logging {
    fn levels(&self) -> BTreeMap<String, String> {
        let level = *self.level.lock().unwrap_or_else(PoisonError::into_inner);
        BTreeMap::from([(self.output.clone(), level.to_string())])
    }

    fn set_level(&self, output: &str, level: &str) -> Result<(), String> {
        if output != self.output {
            return Err(format!("unknown log output {output:?}"));
        }
        let (name, filter) = LEVELS
            .iter()
            .find(|(n, _)| *n == level)
            .ok_or_else(|| format!("unknown log level {level:?}"))?;
        self.reload
            .modify(|current| *current = *filter)
            .map_err(|e| e.to_string())?;
        *self.level.lock().unwrap_or_else(PoisonError::into_inner) = name;
        tracing::info!("log level of {output} set to {name}");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_levels_take_mosn_spellings() {
        assert_eq!(cli_level("warning"), Some("WARN"));
        assert_eq!(cli_level("critical"), Some("FATAL"));
        assert_eq!(cli_level("debug"), Some("DEBUG"));
        assert_eq!(cli_level("verbose"), None);
        assert_eq!(
            level_filter("info"),
            None,
            "the config takes uppercase names only"
        );
    }
}
