//! Per-listener access logs (`access_logs[].log_path`, `log_format`) with MOSN's variables.

mod format;
mod record;
mod time;
mod writer;

use std::io;

use mosn_protocol::http1::{RequestHead, ResponseHead};

pub use format::{DEFAULT_FORMAT, Format};
pub use record::Record;
pub use writer::LogWriter;

pub struct AccessLog {
    format: Format,
    writer: LogWriter,
}

impl AccessLog {
    /// `format` empty means MOSN's default.
    pub fn open(path: &str, format: &str) -> io::Result<AccessLog> {
        let format = Format::parse(if format.is_empty() {
            DEFAULT_FORMAT
        } else {
            format
        });
        Ok(AccessLog {
            format,
            writer: LogWriter::open(path)?,
        })
    }

    pub fn log(&self, record: &Record, request: &RequestHead, response: Option<&ResponseHead>) {
        let mut line = String::with_capacity(256);
        self.format.render(record, request, response, &mut line);
        line.push('\n');
        self.writer.write(line);
    }

    pub fn reopen(&self) {
        self.writer.reopen();
    }
}
