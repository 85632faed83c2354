//! `mosn`: runs MOSN v2 configs.

mod allocator;
mod certificates;
mod check;
mod cli;
mod logging;
mod paths;
mod prepare;
mod server;
mod stop;

use std::process::ExitCode;

use clap::Parser;
use mosn_config::{Format, Loaded};

use crate::cli::{Cli, Command};

/// The config `mosn start` runs without `-c`, MOSN's classic sample: an HTTP/1 proxy on
/// 127.0.0.1:2045 routes to a second one on 127.0.0.1:2046, which answers with a direct response,
/// so `curl 127.0.0.1:2045` answers at once. The admin API is on 127.0.0.1:34901.
const EMBEDDED_CONFIG: &str = include_str!("default_config.json");

pub fn embedded_config() -> Result<Loaded, String> {
    mosn_config::parse_text(EMBEDDED_CONFIG, Format::Json)
        .map_err(|_| "the embedded config is invalid".to_string())
}

/// mimalloc instead of glibc's malloc: a proxy allocates and frees small buffers, heads and
/// stream states all the time, and glibc's arenas spent about 13% of the CPU of an HTTP/2
/// load (`perf`, h2c_to_h2) on it.
#[global_allocator]
static ALLOCATOR: allocator::MiMalloc = allocator::MiMalloc;

fn main() -> ExitCode {
    // Every TLS config names ring itself; installing it as the process default too keeps any
    // other rustls user off a provider chosen by feature flags.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Version => {
            println!("mosn version {}", server::VERSION);
            Ok(())
        }
        Command::Check { config } => {
            return if check::check(&config) {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            };
        }
        Command::Stop { config } => stop::stop(config.as_deref()),
        Command::Start(args) => start(&args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("mosn: {message}");
            ExitCode::FAILURE
        }
    }
}

fn start(args: &cli::StartArgs) -> Result<(), String> {
    let loaded = match &args.config {
        Some(path) => mosn_config::load_file(path).map_err(|rejected| {
            for problem in &rejected.diagnostics {
                eprintln!("{problem}");
            }
            format!("{}: the config has errors", path.display())
        })?,
        None => embedded_config()?,
    };
    server::run(loaded, args.config.as_deref(), args)
}
