//! A listener's TLS: its contexts (replaced whole when certificates are reloaded), whether
//! plaintext clients are served too (MOSN's `inspector`), and what its handshakes came to.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use arc_swap::ArcSwap;
use mosn_config::Diagnostics;
use mosn_config::diagnostics::{index, join};
use mosn_config::model::{FilterChain, TlsConfig};

use super::server::ServerContexts;
use crate::stream::Stream;

/// How long a client has to finish its handshake (MOSN's read deadline during one).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(15);

/// The first byte of a TLS record carrying a handshake.
const HANDSHAKE_RECORD: u8 = 0x16;

#[derive(Debug, Default)]
pub struct TlsStats {
    pub handshakes: AtomicU64,
    pub failed_handshakes: AtomicU64,
    /// Connections served in plaintext on an `inspector` listener.
    pub plaintext: AtomicU64,
}

pub struct ListenerTls {
    contexts: ArcSwap<ServerContexts>,
    inspector: bool,
    pub stats: TlsStats,
}

impl ListenerTls {
    pub fn new(contexts: ServerContexts, inspector: bool) -> ListenerTls {
        ListenerTls {
            contexts: ArcSwap::from_pointee(contexts),
            inspector,
            stats: TlsStats::default(),
        }
    }

    /// New connections use `contexts` from now on; open ones keep theirs.
    pub fn replace(&self, contexts: ServerContexts) {
        self.contexts.store(Arc::new(contexts));
    }

    /// The stream the filters get: TLS once the handshake is done, or as it is on an
    /// `inspector` listener whose client does not start with a TLS handshake record. `None`
    /// when the client fails the handshake, leaves, or stays silent past `wait` (logged, and
    /// counted).
    pub async fn secure(&self, stream: Stream, listener: &str, wait: Duration) -> Option<Stream> {
        if self.inspector {
            match tokio::time::timeout(wait, stream.peek_first()).await {
                Ok(Ok(Some(HANDSHAKE_RECORD))) => {}
                Ok(Ok(Some(_))) => {
                    self.stats.plaintext.fetch_add(1, Ordering::Relaxed);
                    return Some(stream);
                }
                _ => return None,
            }
        }
        let contexts = self.contexts.load_full();
        let peer = stream
            .peer_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        let outcome = tokio::time::timeout(HANDSHAKE_TIMEOUT, stream.accept_tls(&contexts)).await;
        let failure = match outcome {
            Ok(Ok(stream)) => {
                self.stats.handshakes.fetch_add(1, Ordering::Relaxed);
                return Some(stream);
            }
            Ok(Err(err)) => err.to_string(),
            Err(_) => format!("not done after {HANDSHAKE_TIMEOUT:?}"),
        };
        self.stats.failed_handshakes.fetch_add(1, Ordering::Relaxed);
        tracing::info!(listener, %peer, "TLS handshake failed: {failure}");
        None
    }
}

impl ListenerTls {
    /// The TLS of a listener whose filter chain `chain` is at JSON path `path`: its contexts
    /// with `status` set (MOSN ignores the others). `None` when there is none, or after an
    /// error.
    pub fn from_config(
        chain: &FilterChain,
        path: &str,
        inspector: bool,
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
        let contexts = ServerContexts::build(&enabled, &ticketer, diags)?;
        Some(ListenerTls::new(contexts, inspector))
    }
}
