//! The command line: `mosn start|check|stop|version`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "mosn",
    about = "MOSN in Rust: runs MOSN v2 configs",
    version = concat!("version ", env!("CARGO_PKG_VERSION")),
    disable_version_flag = true
)]
pub struct Cli {
    /// Print the version.
    #[arg(short = 'v', long = "version", action = clap::ArgAction::Version)]
    version: Option<bool>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the proxy; without -c, an embedded sample config.
    Start(StartArgs),
    /// Check a config file, print every problem, exit non-zero on errors.
    Check {
        #[arg(short = 'c', long = "config")]
        config: PathBuf,
    },
    /// Stop the running proxy (SIGINT to the pid in the pid file).
    Stop {
        #[arg(short = 'c', long = "config")]
        config: Option<PathBuf>,
    },
    /// Print the version.
    Version,
}

#[derive(Args)]
pub struct StartArgs {
    /// A MOSN v2 config file (.json, .yaml or .yml).
    #[arg(short = 'c', long = "config")]
    pub config: Option<PathBuf>,
    /// Log level, overriding default_log_level: trace, debug, info, warn(ing), error, critical/fatal.
    #[arg(short = 'l', long = "log-level")]
    pub log_level: Option<String>,
    /// Log output, overriding default_log_path: stdout, stderr or a file path.
    #[arg(long = "log-path")]
    pub log_path: Option<String>,
}
