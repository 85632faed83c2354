//! `mosn start`: assemble the server from a loaded config and run it until a signal stops it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use mosn_admin::{AdminContext, State};
use mosn_config::address::ListenAddress;
use mosn_config::{Diagnostics, Loaded, MosnConfig, Severity};
use mosn_net::drain::{self, DrainTrigger};
use mosn_net::io_model::{self, BoundListener, IoModel};
use mosn_net::listener::{BoundSocket, ListenerSpec};
use tokio::signal::unix::{Signal, SignalKind, signal};

use crate::certificates::{self, SharedWatcher};
use crate::cli::StartArgs;
use crate::logging::{self, Logging};
use crate::paths::Paths;
use crate::prepare::{Prepared, Purpose, prepare};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Runs until stopped; returns the process exit code. Problems before the start are reported
/// on stderr (the log may not exist yet) and give exit code 1.
pub fn run(loaded: Loaded, config_path: Option<&Path>, args: &StartArgs) -> Result<(), String> {
    let config = Arc::new(loaded.config);
    let server = &config.servers[0];
    let paths = Paths::new(config_path);

    let level = match args.log_level.as_deref() {
        Some(flag) => logging::cli_level(flag)
            .ok_or_else(|| format!("--log-level: unknown level {flag:?}"))?,
        None => mosn_config::LOG_LEVELS
            .iter()
            .copied()
            .find(|n| *n == server.log_level())
            .unwrap_or("INFO"),
    };
    let output = match (&args.log_path, server.default_log_path.as_str()) {
        (Some(flag), _) => flag.clone(),
        (None, "") => paths.default_log().display().to_string(),
        (None, configured) => configured.to_string(),
    };
    let logging =
        Logging::init(&output, level).map_err(|err| format!("cannot start logging: {err}"))?;
    for warning in &loaded.warnings {
        tracing::warn!("config: {warning}");
    }

    // Signal handlers come first, so no signal can find the default action once ports are bound.
    let control = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let mut signals = control
        .block_on(async { Signals::install() })
        .map_err(|e| format!("cannot handle signals: {e}"))?;

    // Before any port is bound, as MOSN does: whoever sees a port answer finds the pid file.
    let pid_file = PidFile::write(paths.pid_file(&config));

    let mut diags = Diagnostics::default();
    let prepared = prepare(
        &config,
        &Purpose::Run {
            logs: &paths.logs(),
        },
        &mut diags,
    );
    let (errors, warnings): (Vec<_>, Vec<_>) = diags
        .items()
        .iter()
        .partition(|d| d.severity == Severity::Error);
    for warning in warnings {
        tracing::warn!("config: {warning}");
    }
    if !errors.is_empty() {
        let lines: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        return Err(format!("the config has errors:\n{}", lines.join("\n")));
    }

    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    let workers = server.processor.workers(cpus);
    // One worker has no other to steal work from: it runs on a single-threaded runtime either
    // way, which costs 2-3% less CPU per request than a work-stealing runtime of one worker.
    let model = if server.use_netpoll_mode || workers == 1 {
        IoModel::ThreadPerCore { workers }
    } else {
        IoModel::WorkStealing { workers }
    };
    // Every port is bound before any listens: a start-up that fails half way must not have
    // taken connections into a backlog, to reset them when it exits.
    let admin = match &config.admin {
        Some(admin) => {
            let addr = admin.address.socket_address.socket_addr()?;
            let socket = BoundSocket::bind(&ListenAddress::Tcp(addr), false)
                .map_err(|err| cannot_serve_admin(addr, err))?;
            Some((socket, addr))
        }
        None => None,
    };
    let mut bound = Vec::new();
    let mut socket_files = SocketFiles::default();
    for spec in &prepared.listeners {
        let listener =
            BoundListener::bind(Arc::clone(spec), model).map_err(|err| cannot_listen(spec, err))?;
        if let ListenAddress::Unix(path) = &spec.address {
            socket_files.0.push(path.clone());
        }
        bound.push(listener);
    }
    for listener in &bound {
        listener
            .listen()
            .map_err(|err| cannot_listen(&listener.spec, err))?;
    }
    let admin = admin.map(listen_admin).transpose()?;
    let (trigger, drain) = drain::channel();
    let _workers = io_model::start(model, bound, drain)
        .map_err(|err| format!("cannot start workers: {err}"))?;
    tracing::info!(
        ?model,
        listeners = prepared.listeners.len(),
        "mosn {VERSION} started"
    );

    let context = Arc::new(AdminContext::new(
        VERSION.to_string(),
        Arc::clone(&config),
        Arc::clone(&logging) as Arc<dyn mosn_admin::LogControl>,
        prepared
            .listeners
            .iter()
            .map(|spec| (spec.name.to_string(), Arc::clone(&spec.stats)))
            .collect(),
        prepared
            .clusters
            .all()
            .into_iter()
            .map(|cluster| (cluster.name.clone(), Arc::clone(&cluster.stats)))
            .collect(),
    ));
    let result = control.block_on(async {
        if let Some(socket) = admin {
            let socket = tokio::net::TcpListener::from_std(socket).map_err(|e| e.to_string())?;
            tokio::spawn(mosn_admin::serve(socket, Arc::clone(&context)));
        }
        for cluster in prepared.clusters.all() {
            tokio::spawn(Arc::clone(&cluster).keep_dns_fresh());
            tokio::spawn(cluster.close_idle_connections());
        }
        let certificates = certificates::watcher(&prepared);
        tokio::spawn(certificates::poll(Arc::clone(&certificates)));
        context.set_state(State::Running);
        signals
            .wait_for_stop(
                &context,
                &logging,
                &trigger,
                &prepared,
                &certificates,
                server.graceful_timeout(),
            )
            .await;
        Ok(())
    });
    drop(pid_file);
    drop(socket_files);
    result
}

fn cannot_listen(spec: &ListenerSpec, err: std::io::Error) -> String {
    format!(
        "listener {:?} cannot listen on {}: {err}",
        spec.name, spec.address
    )
}

fn cannot_serve_admin(addr: std::net::SocketAddr, err: std::io::Error) -> String {
    format!("admin cannot listen on {addr}: {err}")
}

/// The admin API's bound socket, listening.
fn listen_admin(
    (socket, addr): (BoundSocket, std::net::SocketAddr),
) -> Result<std::net::TcpListener, String> {
    socket
        .listen()
        .map_err(|err| cannot_serve_admin(addr, err))?;
    let listener = socket.into_tcp_listener();
    match listener.local_addr() {
        Ok(local) => tracing::info!("admin API on {local}"),
        Err(err) => tracing::info!("admin API on {addr} ({err})"),
    }
    Ok(listener)
}

struct Signals {
    term: Signal,
    int: Signal,
    quit: Signal,
    usr1: Signal,
    hup: Signal,
}

impl Signals {
    fn install() -> std::io::Result<Signals> {
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            quit: signal(SignalKind::quit())?,
            usr1: signal(SignalKind::user_defined1())?,
            hup: signal(SignalKind::hangup())?,
        })
    }

    /// Handles signals until one stops the server: SIGTERM gracefully, SIGINT and SIGQUIT at
    /// once (during a graceful stop too).
    async fn wait_for_stop(
        &mut self,
        context: &AdminContext,
        logging: &Logging,
        trigger: &DrainTrigger,
        prepared: &Prepared,
        certificates: &SharedWatcher,
        graceful_timeout: Duration,
    ) {
        loop {
            tokio::select! {
                _ = self.term.recv() => break,
                _ = self.int.recv() => return stop_now(context),
                _ = self.quit.recv() => return stop_now(context),
                _ = self.usr1.recv() => {
                    if let Err(err) = logging.reopen() {
                        tracing::error!("SIGUSR1: cannot reopen the log file: {err}");
                    }
                    prepared.access_logs.iter().for_each(|log| log.reopen());
                }
                // Config is not reloaded (that needs xDS or a restart); certificates are.
                _ = self.hup.recv() => certificates::reload_all(certificates),
            }
        }
        context.set_state(State::GracefulStopping);
        tracing::info!(
            "SIGTERM: graceful stop, waiting up to {graceful_timeout:?} for connections to end"
        );
        trigger.start();
        tokio::select! {
            () = drain_connections(&prepared.listeners, graceful_timeout) => {}
            _ = self.int.recv() => stop_now(context),
            _ = self.quit.recv() => stop_now(context),
        }
    }
}

fn stop_now(context: &AdminContext) {
    context.set_state(State::Stopping);
    tracing::info!("stopping now");
}

/// Waits until no connection is open, or `timeout`.
async fn drain_connections(listeners: &[Arc<ListenerSpec>], timeout: Duration) {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let open: u64 = listeners.iter().map(|l| l.stats.connections_active()).sum();
        if open == 0 {
            tracing::info!("all connections ended");
            return;
        }
        if tokio::time::Instant::now() >= deadline {
            tracing::warn!("graceful timeout: closing {open} connections still open");
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The socket files of the Unix listeners this process bound, removed when dropped: on a
/// clean stop and when start-up fails after binding.
#[derive(Default)]
struct SocketFiles(Vec<PathBuf>);

impl Drop for SocketFiles {
    fn drop(&mut self) {
        for path in &self.0 {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The pid file, removed when dropped.
struct PidFile(Option<PathBuf>);

impl PidFile {
    fn write(path: PathBuf) -> PidFile {
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&path, format!("{}\n", std::process::id())));
        match written {
            Ok(()) => PidFile(Some(path)),
            Err(err) => {
                tracing::warn!("cannot write the pid file {}: {err}", path.display());
                PidFile(None)
            }
        }
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        if let Some(path) = &self.0 {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The config's pid file path, for `mosn stop`.
pub fn pid_file_path(config: &MosnConfig, config_path: Option<&Path>) -> PathBuf {
    Paths::new(config_path).pid_file(config)
}
