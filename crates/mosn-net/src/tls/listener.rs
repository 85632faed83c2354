//! A listener's TLS: its contexts, and whether plaintext clients are served too (MOSN's
//! `inspector`).

use std::time::Duration;

use mosn_config::Diagnostics;
use mosn_config::diagnostics::{index, join};
use mosn_config::model::{FilterChain, TlsConfig};

use super::HANDSHAKE_TIMEOUT;
use super::server::ServerContexts;
use crate::stats::ListenerStats;
use crate::stream::{Address, Stream};

/// The first byte of a TLS record carrying a handshake.
const HANDSHAKE_RECORD: u8 = 0x16;

pub struct ListenerTls {
    contexts: ServerContexts,
    inspector: bool,
}

impl ListenerTls {
    /// The stream the filters get: TLS once the handshake is done, or as it is on an
    /// `inspector` listener whose client does not start with a TLS handshake record. `None`
    /// when the client fails the handshake (logged with `listener` and `peer`), leaves, or
    /// stays silent past `wait`. Each outcome is counted in `stats`.
    pub async fn secure(
        &self,
        stream: Stream,
        listener: &str,
        peer: &Address,
        wait: Duration,
        stats: &ListenerStats,
    ) -> Option<Stream> {
        if self.inspector {
            match tokio::time::timeout(wait, stream.peek_first()).await {
                Ok(Ok(Some(HANDSHAKE_RECORD))) => {}
                Ok(Ok(Some(_))) => {
                    stats.tls_plaintext.add();
                    return Some(stream);
                }
                _ => return None,
            }
        }
        let outcome =
            tokio::time::timeout(HANDSHAKE_TIMEOUT, stream.accept_tls(&self.contexts)).await;
        let failure = match outcome {
            Ok(Ok(stream)) => {
                stats.tls.handshakes.add();
                return Some(stream);
            }
            Ok(Err(err)) => err.to_string(),
            Err(_) => format!("not done after {HANDSHAKE_TIMEOUT:?}"),
        };
        stats.tls.handshake_failures.add();
        tracing::info!(listener, %peer, "TLS handshake failed: {failure}");
        None
    }

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
        let enabled: Vec<(String, &TlsConfig)> =
            configs.into_iter().filter(|(_, tls)| tls.status).collect();
        if enabled.is_empty() {
            return None;
        }
        let ticketer = rustls::crypto::ring::Ticketer::new()
            .map_err(|err| diags.error(path, format!("no TLS session ticket key: {err}")))
            .ok()?;
        let contexts = ServerContexts::build(&enabled, &ticketer, diags)?;
        Some(ListenerTls {
            contexts,
            inspector,
        })
    }
}
