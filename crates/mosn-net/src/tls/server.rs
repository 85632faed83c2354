//! Downstream TLS: each `tls_context` of a filter chain becomes a rustls server config, and each
//! connection gets the one whose names match the name the client asks for (SNI), as MOSN
//! chooses.

use std::future::poll_fn;
use std::io;
use std::sync::Arc;

use mosn_config::Diagnostics;
use mosn_config::diagnostics::join;
use mosn_config::model::TlsConfig;
use rustls::ServerConfig;
use rustls::server::danger::ClientCertVerifier;
use rustls::server::{Acceptor, ClientHello, ProducesTickets, WebPkiClientVerifier};

use super::options;
use super::pem;
use super::session::{Io, Session, invalid};
use crate::stream::Stream;

struct ServerContext {
    config: Arc<ServerConfig>,
    /// The certificate's DNS names and the context's `server_name`, in lower case.
    names: Vec<String>,
    has_server_name: bool,
    alpn: Vec<Vec<u8>>,
}

/// The TLS contexts of a listener, in config order.
pub struct ServerContexts {
    contexts: Vec<ServerContext>,
}

impl ServerContexts {
    /// The contexts of `configs`, each given with its JSON path; `None` after an error. Every
    /// context shares `ticketer`, so a session resumes whichever context it began on. One
    /// without `alpn` offers `default_alpn`.
    pub fn build(
        configs: &[(String, TlsConfig)],
        ticketer: &Arc<dyn ProducesTickets>,
        default_alpn: &[Vec<u8>],
        diags: &mut Diagnostics,
    ) -> Option<ServerContexts> {
        let errors = diags.error_count();
        let contexts: Vec<ServerContext> = configs
            .iter()
            .filter_map(|(path, config)| context(config, path, ticketer, default_alpn, diags))
            .collect();
        (diags.error_count() == errors && !contexts.is_empty())
            .then_some(ServerContexts { contexts })
    }

    /// MOSN's choice: the first context whose names hold the requested name, exactly, then as
    /// a wildcard of each parent domain in turn; else the first whose ALPN the client offers;
    /// else the first. A client that names nothing gets the first context without a
    /// `server_name`.
    fn choose(&self, hello: &ClientHello<'_>) -> &Arc<ServerConfig> {
        let first = &self.contexts[0];
        let Some(name) = hello.server_name() else {
            let unnamed = self.contexts.iter().find(|c| !c.has_server_name);
            return &unnamed.unwrap_or(first).config;
        };
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        let mut wanted = vec![name.clone()];
        let mut rest = name.as_str();
        while let Some((_, parent)) = rest.split_once('.') {
            wanted.push(format!("*.{parent}"));
            rest = parent;
        }
        let by_name = wanted
            .iter()
            .find_map(|w| self.contexts.iter().find(|c| c.names.contains(w)));
        let by_alpn = || {
            let offered: Vec<&[u8]> = hello.alpn().into_iter().flatten().collect();
            self.contexts
                .iter()
                .find(|c| c.alpn.iter().any(|p| offered.contains(&p.as_slice())))
        };
        &by_name.or_else(by_alpn).unwrap_or(first).config
    }
}

fn context(
    config: &TlsConfig,
    path: &str,
    ticketer: &Arc<dyn ProducesTickets>,
    default_alpn: &[Vec<u8>],
    diags: &mut Diagnostics,
) -> Option<ServerContext> {
    let options = options::read(config, path, diags);
    if config.cert_chain.is_empty() || config.private_key.is_empty() {
        let fall_back = if config.fall_back {
            " (fall_back is not honoured: a TLS listener never serves plaintext instead)"
        } else {
            ""
        };
        diags.error(
            path,
            format!("a TLS listener needs cert_chain and private_key{fall_back}"),
        );
        return None;
    }
    let certificates = pem::certificates(&config.cert_chain)
        .map_err(|err| diags.error(join(path, "cert_chain"), err))
        .ok();
    let key = pem::private_key(&config.private_key)
        .map_err(|err| diags.error(join(path, "private_key"), err))
        .ok();
    let options = options?;
    let verifier = client_verifier(config, &options, path, diags)?;
    let (certificates, key) = (certificates?, key?);
    let mut names: Vec<String> = webpki::EndEntityCert::try_from(&certificates[0])
        .map(|leaf| {
            leaf.valid_dns_names()
                .map(str::to_ascii_lowercase)
                .collect()
        })
        .unwrap_or_default();
    if !config.server_name.is_empty() {
        names.push(config.server_name.to_ascii_lowercase());
    }
    let mut server = ServerConfig::builder_with_provider(Arc::clone(&options.provider))
        .with_protocol_versions(&options.versions)
        .map_err(|err| diags.error(path, format!("no usable TLS settings: {err}")))
        .ok()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(certificates, key)
        .map_err(|err| {
            diags.error(
                join(path, "private_key"),
                format!("unusable with cert_chain: {err}"),
            )
        })
        .ok()?;
    server.alpn_protocols = if options.alpn.is_empty() {
        default_alpn.to_vec()
    } else {
        options.alpn.clone()
    };
    server.ticketer = Arc::clone(ticketer);
    Some(ServerContext {
        config: Arc::new(server),
        names,
        has_server_name: !config.server_name.is_empty(),
        alpn: options.alpn,
    })
}

/// How client certificates are checked. MOSN's `require_client_cert` alone asks for a
/// certificate and never checks it; here it asks for none, with a warning. `verify_client`
/// without `ca_cert` would trust every public CA to vouch for clients: an error.
fn client_verifier(
    config: &TlsConfig,
    options: &options::Options,
    path: &str,
    diags: &mut Diagnostics,
) -> Option<Arc<dyn ClientCertVerifier>> {
    if !config.verify_client {
        if config.require_client_cert {
            diags.warn(
                join(path, "require_client_cert"),
                "has no effect without verify_client (MOSN asks for a certificate and never checks it): no client certificate is asked for",
            );
        }
        return Some(WebPkiClientVerifier::no_client_auth());
    }
    let ca_path = join(path, "ca_cert");
    if config.ca_cert.is_empty() {
        diags.error(
            ca_path,
            "verify_client needs ca_cert, the CAs that client certificates must chain to",
        );
        return None;
    }
    let roots = pem::roots(&config.ca_cert)
        .map_err(|err| diags.error(&ca_path, err))
        .ok()?;
    let mut verifier =
        WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&options.provider));
    if !config.require_client_cert {
        verifier = verifier.allow_unauthenticated();
    }
    verifier
        .build()
        .map_err(|err| diags.error(ca_path, format!("{err}")))
        .ok()
}

impl Stream {
    /// Runs a server handshake with the context `contexts` choose for the client.
    pub async fn accept_tls(self, contexts: &ServerContexts) -> io::Result<Stream> {
        let mut acceptor = Acceptor::default();
        let accepted = loop {
            let read = poll_fn(|cx| self.poll_read_socket(cx, |io| acceptor.read_tls(io)));
            if read.await? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the client closed the connection before its TLS hello",
                ));
            }
            match acceptor.accept() {
                Ok(Some(accepted)) => break accepted,
                Ok(None) => continue,
                Err((err, mut alert)) => {
                    let _ = alert.write(&mut Io(self.fd().get_ref()));
                    return Err(invalid(err));
                }
            }
        };
        let config = Arc::clone(contexts.choose(&accepted.client_hello()));
        let connection = accepted
            .into_connection(config)
            .map_err(|(err, mut alert)| {
                let _ = alert.write(&mut Io(self.fd().get_ref()));
                invalid(err)
            })?;
        self.start_tls(Session::new(connection)).await
    }
}
