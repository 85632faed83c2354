//! Writes access log lines on a thread of its own, so that requests never wait on the disk.
//! The queue is bounded: when the disk cannot keep up, lines are dropped and counted rather
//! than held in memory. SIGUSR1 reopens the file (after log rotation moved it).

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::time::Duration;

const QUEUE: usize = 16 * 1024;
const FLUSH_EVERY: Duration = Duration::from_millis(500);

enum Message {
    Line(String),
    Reopen,
}

pub struct LogWriter {
    path: String,
    queue: SyncSender<Message>,
    dropped: Arc<AtomicU64>,
}

enum Output {
    Stdout,
    Stderr,
    File(PathBuf, BufWriter<File>),
}

fn open(path: &PathBuf) -> io::Result<BufWriter<File>> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let file = OpenOptions::new().create(true).append(true).open(path)?;
    Ok(BufWriter::with_capacity(64 * 1024, file))
}

impl LogWriter {
    /// Opens `path` (`stdout`, `stderr` or a file) and starts the writer thread.
    pub fn open(path: &str) -> io::Result<LogWriter> {
        let output = match path {
            "stdout" | "/dev/stdout" => Output::Stdout,
            "stderr" | "/dev/stderr" => Output::Stderr,
            file => {
                let file = PathBuf::from(file);
                let writer = open(&file)?;
                Output::File(file, writer)
            }
        };
        let (queue, receiver) = sync_channel(QUEUE);
        std::thread::Builder::new()
            .name("mosn-access-log".into())
            .spawn(move || write_loop(output, receiver))?;
        Ok(LogWriter {
            path: path.to_string(),
            queue,
            dropped: Arc::default(),
        })
    }

    pub fn write(&self, line: String) {
        if let Err(TrySendError::Full(_)) = self.queue.try_send(Message::Line(line)) {
            let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if dropped.is_power_of_two() {
                tracing::warn!(
                    "access log {}: {dropped} lines dropped, the disk does not keep up",
                    self.path
                );
            }
        }
    }

    pub fn reopen(&self) {
        let _ = self.queue.try_send(Message::Reopen);
    }
}

fn write_loop(mut output: Output, receiver: Receiver<Message>) {
    loop {
        let message = receiver.recv_timeout(FLUSH_EVERY);
        let result = match (&mut output, message) {
            (_, Err(RecvTimeoutError::Disconnected)) => {
                let _ = flush(&mut output);
                return;
            }
            (_, Err(RecvTimeoutError::Timeout)) => flush(&mut output),
            (Output::Stdout, Ok(Message::Line(line))) => io::stdout().write_all(line.as_bytes()),
            (Output::Stderr, Ok(Message::Line(line))) => io::stderr().write_all(line.as_bytes()),
            (Output::File(_, writer), Ok(Message::Line(line))) => writer.write_all(line.as_bytes()),
            (Output::File(path, writer), Ok(Message::Reopen)) => {
                let _ = writer.flush();
                open(path).map(|reopened| *writer = reopened)
            }
            (_, Ok(Message::Reopen)) => Ok(()),
        };
        if let Err(err) = result {
            tracing::error!("access log: {err}");
        }
    }
}

fn flush(output: &mut Output) -> io::Result<()> {
    match output {
        Output::File(_, writer) => writer.flush(),
        Output::Stdout => io::stdout().flush(),
        Output::Stderr => io::stderr().flush(),
    }
}
