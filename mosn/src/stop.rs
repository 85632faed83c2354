//! `mosn stop`: SIGINT to the process in the pid file, then wait for it to exit.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::server::pid_file_path;

const WAIT: Duration = Duration::from_secs(10);

pub fn stop(config_path: Option<&Path>) -> Result<(), String> {
    let config = match config_path {
        // Only the pid path is needed: no validation, no lookups that could fail now.
        Some(path) => mosn_config::decode_file(path)?,
        None => crate::embedded_config()?.config,
    };
    let pid_file = pid_file_path(&config, config_path);
    let text = std::fs::read_to_string(&pid_file)
        .map_err(|err| format!("cannot read {}: {err}", pid_file.display()))?;
    let pid: libc::pid_t = text
        .trim()
        .parse()
        .map_err(|_| format!("{} does not hold a pid: {text:?}", pid_file.display()))?;
    if !alive(pid) {
        return Err(format!("no process {pid} (from {})", pid_file.display()));
    }
    // SAFETY: kill(2) with a pid read from the pid file and a valid signal number.
    if unsafe { libc::kill(pid, libc::SIGINT) } != 0 {
        return Err(format!(
            "cannot signal {pid}: {}",
            std::io::Error::last_os_error()
        ));
    }
    let started = Instant::now();
    while alive(pid) {
        if started.elapsed() > WAIT {
            return Err(format!("process {pid} still runs after {WAIT:?}"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    println!("mosn {pid} stopped");
    Ok(())
}

/// Whether the process runs. An exited process its parent has not reaped yet (a zombie) does
/// not count: it has stopped.
fn alive(pid: libc::pid_t) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    let exists = unsafe { libc::kill(pid, 0) == 0 };
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The state follows the command name, which is in parentheses and may hold spaces.
    let zombie = stat
        .rsplit_once(')')
        .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'));
    exists && !zombie
}
