//! The HTTP/2 settings a connection runs with, on either side, and the limits that keep a peer
//! from making us spend memory or CPU without bound (rapid reset, CONTINUATION and header
//! floods).

use super::Keepalive;

/// Defaults: windows big enough for a fast link without the 256 MiB a single stream may hold
/// in Envoy; header lists as large as our HTTP/1 head limit.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub initial_stream_window_size: u32,
    pub initial_connection_window_size: u32,
    /// Streams a client may open at once on one downstream connection.
    pub max_concurrent_streams: u32,
    pub max_header_list_size: u32,
    /// Streams a client may reset before we accepted them (rapid reset, CVE-2023-44487).
    pub max_pending_accept_reset_streams: usize,
    /// Streams we may reset because the peer misbehaved before the connection is given up.
    pub max_local_error_reset_streams: usize,
    /// Bytes buffered for sending per stream, waiting for the peer's window.
    pub max_send_buffer_size: usize,
    /// PINGs that tell a dead peer (`connection_keepalive`); none by default, as in Envoy.
    pub keepalive: Option<Keepalive>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            initial_stream_window_size: 1024 * 1024,
            initial_connection_window_size: 4 * 1024 * 1024,
            max_concurrent_streams: 1024,
            max_header_list_size: 64 * 1024,
            max_pending_accept_reset_streams: 32,
            max_local_error_reset_streams: 256,
            max_send_buffer_size: 256 * 1024,
            keepalive: None,
        }
    }
}

impl Settings {
    pub fn server(&self) -> h2::server::Builder {
        let mut builder = h2::server::Builder::new();
        builder
            .initial_window_size(self.initial_stream_window_size)
            .initial_connection_window_size(self.initial_connection_window_size)
            .max_concurrent_streams(self.max_concurrent_streams)
            .max_header_list_size(self.max_header_list_size)
            .max_pending_accept_reset_streams(self.max_pending_accept_reset_streams)
            .max_local_error_reset_streams(Some(self.max_local_error_reset_streams))
            .max_send_buffer_size(self.max_send_buffer_size);
        builder
    }

    pub fn client(&self) -> h2::client::Builder {
        let mut builder = h2::client::Builder::new();
        builder
            .initial_window_size(self.initial_stream_window_size)
            .initial_connection_window_size(self.initial_connection_window_size)
            .max_header_list_size(self.max_header_list_size)
            .max_local_error_reset_streams(Some(self.max_local_error_reset_streams))
            .max_send_buffer_size(self.max_send_buffer_size)
            .enable_push(false);
        builder
    }
}
