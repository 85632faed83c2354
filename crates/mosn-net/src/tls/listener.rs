//! A listener's TLS: its contexts, and whether plaintext clients are served too (MOSN's
//! `inspector`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use mosn_config::Diagnostics;
use mosn_config::diagnostics::{index, join};
use mosn_config::model::{FilterChain, TlsConfig};
use rustls::server::ProducesTickets;

use super::HANDSHAKE_TIMEOUT;
use super::reload::{Reload, failure, files_of};
use super::server::ServerContexts;
use crate::stats::ListenerStats;
use crate::stream::{Address, Stream};

/// The first byte of a TLS record carrying a handshake.
const HANDSHAKE_RECORD: u8 = 0x16;

pub struct ListenerTls {
    /// Swapped whole when the certificates are reloaded.
    contexts: ArcSwap<ServerContexts>,
    inspector: bool,
    /// What the contexts are built from, to build them again.
    name: String,
    configs: Vec<(String, TlsConfig)>,
    ticketer: Arc<dyn ProducesTickets>,
    /// What a context offers by ALPN when it names nothing: what the listener's filter serves.
    default_alpn: Vec<Vec<u8>>,
}

impl ListenerTls {
    /// The stream the filters get: TLS once the handshake is done, or as it is on an
    /// `inspector` listener whose client does not start with a TLS handshake record. `None`
    /// when the client fails the handshake (logged with `listener` and `peer`, and counted in
    /// `stats`), or leaves without a byte (a port probe: neither logged nor counted). An
    /// inspector waits `wait` for the first byte; the handshake has 15 s from then.
    pub async fn secure(
        &self,
        stream: Stream,
        listener: &str,
        peer: &Address,
        wait: Duration,
        stats: &ListenerStats,
    ) -> Option<Stream> {
        let first_wait = if self.inspector {
            wait
        } else {
            HANDSHAKE_TIMEOUT
        };
        let failure = match tokio::time::timeout(first_wait, stream.peek_first()).await {
            Ok(Ok(Some(first))) => {
                if self.inspector && first != HANDSHAKE_RECORD {
                    stats.tls_plaintext.add();
                    return Some(stream);
                }
                let contexts = self.contexts.load_full();
                match tokio::time::timeout(HANDSHAKE_TIMEOUT, stream.accept_tls(&contexts)).await {
                    Ok(Ok(stream)) => {
                        stats.tls.handshakes.add();
                        return Some(stream);
                    }
                    Ok(Err(err)) => err.to_string(),
                    Err(_) => format!("not done after {HANDSHAKE_TIMEOUT:?}"),
                }
            }
            Ok(_) => return None,
            Err(_) if self.inspector => return None,
            Err(_) => format!("not done after {HANDSHAKE_TIMEOUT:?} (no byte sent)"),
        };
        stats.tls.handshake_failures.add();
        tracing::info!(listener, %peer, "TLS handshake failed: {failure}");
        None
    }

    /// The TLS of listener `name` whose filter chain `chain` is at JSON path `path`: its contexts
    /// with `status` set (MOSN ignores the others). A context without `alpn` offers
    /// `default_alpn` (MOSN offers nothing, and clients that need ALPN, such as gRPC's, fail).
    /// `None` when there is none, or after an error.
    pub fn from_config(
        name: &str,
        chain: &FilterChain,
        path: &str,
        inspector: bool,
        default_alpn: Vec<Vec<u8>>,
        diags: &mut Diagnostics,
    ) -> Option<ListenerTls> {
        let configs: Vec<(String, &TlsConfig)> = chain
            .tls_context
            .iter()
            .map(|tls| (join(path, "tls_context"), tls))
            .chain(
                chain
                    .tls_context_set
                    .iter()
                    .enumerate()
                    .map(|(i, tls)| (index(&join(path, "tls_context_set"), i), tls)),
            )
            .collect();
        for (at, tls) in &configs {
            if !tls.status && !tls.cert_chain.is_empty() {
                diags.warn(
                    at,
                    "status is not true: TLS is off for this context, as in MOSN",
                );
            }
        }
        let enabled: Vec<(String, TlsConfig)> = configs
            .into_iter()
            .filter(|(_, tls)| tls.status)
            .map(|(at, tls)| (at, tls.clone()))
            .collect();
        if enabled.is_empty() {
            return None;
        }
        let ticketer = rustls::crypto::ring::Ticketer::new()
            .map_err(|err| diags.error(path, format!("no TLS session ticket key: {err}")))
            .ok()?;
        let contexts = ServerContexts::build(&enabled, &ticketer, &default_alpn, diags)?;
        Some(ListenerTls {
            contexts: ArcSwap::from_pointee(contexts),
            inspector,
            name: name.to_string(),
            configs: enabled,
            ticketer,
            default_alpn,
        })
    }
}

impl Reload for ListenerTls {
    fn describe(&self) -> String {
        format!("listener {:?}", self.name)
    }

    fn files(&self) -> Vec<PathBuf> {
        self.configs
            .iter()
            .flat_map(|(_, tls)| files_of(tls))
            .collect()
    }

    fn reload(&self) -> Result<(), String> {
        let mut diags = Diagnostics::default();
        let contexts = ServerContexts::build(
            &self.configs,
            &self.ticketer,
            &self.default_alpn,
            &mut diags,
        )
        .ok_or_else(|| failure(&diags))?;
        self.contexts.store(Arc::new(contexts));
        Ok(())
    }
}
