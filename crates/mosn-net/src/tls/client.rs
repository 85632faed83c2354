//! Upstream TLS: a cluster's `tls_context` as rustls client configs, and the client handshake.
//!
//! Where MOSN would fail every handshake (no `server_name` and no `insecure_skip`), the name
//! checked is the host's own: its DNS name, else its IP address.

use std::io;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use arc_swap::ArcSwap;
use mosn_config::Diagnostics;
use mosn_config::diagnostics::join;
use mosn_config::model::TlsConfig;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore};

use super::HANDSHAKE_TIMEOUT;
use super::options::{self, Options};
use super::pem;
use super::reload::{Reload, failure, files_of};
use super::session::{Session, invalid};
use crate::stream::Stream;

/// The protocol a connection will speak, offered by ALPN when the `tls_context` names none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppProtocol {
    /// Nothing is offered (RPC codecs, tcp_proxy).
    Unnamed,
    Http1,
    Http2,
}

/// A cluster's upstream TLS.
pub struct ClientContext {
    /// Swapped whole when the certificates are reloaded.
    built: ArcSwap<Built>,
    /// What it is built from, to build it again.
    config: TlsConfig,
    path: String,
}

struct Built {
    /// Per [`AppProtocol`], in its order; the same config thrice when the context names ALPN.
    configs: [Arc<ClientConfig>; 3],
    /// `server_name`: the SNI sent and the name the certificate must hold.
    server_name: Option<ServerName<'static>>,
}

impl ClientContext {
    /// The context of `config`, at JSON path `path`; `None` after an error.
    pub fn from_config(
        config: &TlsConfig,
        path: &str,
        diags: &mut Diagnostics,
    ) -> Option<ClientContext> {
        Some(ClientContext {
            built: ArcSwap::from_pointee(Built::new(config, path, diags)?),
            config: config.clone(),
            path: path.to_string(),
        })
    }

    /// Runs a client handshake on `stream`, offering `protocol` unless the context names its
    /// own ALPN. `host_name` is checked when the context has no `server_name`.
    pub async fn connect(
        &self,
        stream: Stream,
        host_name: Option<ServerName<'static>>,
        protocol: AppProtocol,
    ) -> io::Result<Stream> {
        let built = self.built.load();
        let name = built.server_name.clone().or(host_name).ok_or_else(|| {
            io::Error::other(
                "the host has no name to check its certificate against: set server_name",
            )
        })?;
        let config = Arc::clone(&built.configs[protocol as usize]);
        let connection = ClientConnection::new(config, name).map_err(invalid)?;
        match tokio::time::timeout(
            HANDSHAKE_TIMEOUT,
            stream.start_tls(Session::new(connection)),
        )
        .await
        {
            Ok(result) => result,
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("TLS handshake not done after {HANDSHAKE_TIMEOUT:?}"),
            )),
        }
    }
}

impl Reload for ClientContext {
    fn describe(&self) -> String {
        self.path.clone()
    }

    fn files(&self) -> Vec<PathBuf> {
        files_of(&self.config).collect()
    }

    fn reload(&self) -> Result<(), String> {
        let mut diags = Diagnostics::default();
        let built =
            Built::new(&self.config, &self.path, &mut diags).ok_or_else(|| failure(&diags))?;
        self.built.store(Arc::new(built));
        Ok(())
    }
}

impl Built {
    fn new(config: &TlsConfig, path: &str, diags: &mut Diagnostics) -> Option<Built> {
        let errors = diags.error_count();
        let options = options::read(config, path, diags);
        let server_name = server_name(config, path, diags);
        let verifier = options
            .as_ref()
            .and_then(|options| server_verifier(config, options, path, diags));
        let (options, verifier) = (options?, verifier?);
        let builder = ClientConfig::builder_with_provider(Arc::clone(&options.provider))
            .with_protocol_versions(&options.versions)
            .map_err(|err| diags.error(path, format!("no usable TLS settings: {err}")))
            .ok()?
            .dangerous()
            .with_custom_certificate_verifier(verifier);
        let client = match (config.cert_chain.is_empty(), config.private_key.is_empty()) {
            (true, true) => builder.with_no_client_auth(),
            (false, false) => {
                let certificates = pem::certificates(&config.cert_chain)
                    .map_err(|err| diags.error(join(path, "cert_chain"), err))
                    .ok();
                let key = pem::private_key(&config.private_key)
                    .map_err(|err| diags.error(join(path, "private_key"), err))
                    .ok()?;
                builder
                    .with_client_auth_cert(certificates?, key)
                    .map_err(|err| {
                        diags.error(
                            join(path, "private_key"),
                            format!("unusable with cert_chain: {err}"),
                        )
                    })
                    .ok()?
            }
            (false, true) => {
                diags.error(
                    join(path, "private_key"),
                    "cert_chain needs its private_key",
                );
                return None;
            }
            (true, false) => {
                diags.error(join(path, "cert_chain"), "private_key needs its cert_chain");
                return None;
            }
        };
        (diags.error_count() == errors).then(|| Built {
            configs: offers(client, &options),
            server_name,
        })
    }
}

/// The client configs per [`AppProtocol`]: the context's own ALPN for all three when it names
/// one (as MOSN offers it), else nothing, `http/1.1` and `h2`.
fn offers(client: ClientConfig, options: &Options) -> [Arc<ClientConfig>; 3] {
    if !options.alpn.is_empty() {
        let mut client = client;
        client.alpn_protocols = options.alpn.clone();
        let client = Arc::new(client);
        return [Arc::clone(&client), Arc::clone(&client), client];
    }
    let offering = |protocol: &[u8]| {
        let mut client = client.clone();
        client.alpn_protocols = vec![protocol.to_vec()];
        Arc::new(client)
    };
    let (http1, http2) = (offering(b"http/1.1"), offering(b"h2"));
    [Arc::new(client), http1, http2]
}

fn server_name(
    config: &TlsConfig,
    path: &str,
    diags: &mut Diagnostics,
) -> Option<ServerName<'static>> {
    if config.server_name.is_empty() {
        return None;
    }
    ServerName::try_from(config.server_name.trim_end_matches('.').to_string())
        .map_err(|err| diags.error(join(path, "server_name"), format!("{err}")))
        .ok()
}

/// How the upstream's certificate is checked: against `ca_cert`, else the system's CAs; not at
/// all under `insecure_skip`, with a warning.
fn server_verifier(
    config: &TlsConfig,
    options: &Options,
    path: &str,
    diags: &mut Diagnostics,
) -> Option<Arc<dyn ServerCertVerifier>> {
    let provider = &options.provider;
    if config.insecure_skip {
        diags.warn(
            join(path, "insecure_skip"),
            "the upstream's certificate is NOT verified: anyone on the path can read and change this traffic; for tests only",
        );
        return Some(Arc::new(SkipVerification(Arc::clone(provider))));
    }
    let ca_path = join(path, "ca_cert");
    let roots = if config.ca_cert.is_empty() {
        let roots = system_roots();
        if roots.is_empty() {
            diags.error(
                ca_path,
                "empty, and the system has no CA certificates to verify the upstream with",
            );
            return None;
        }
        Arc::clone(roots)
    } else {
        let roots = pem::roots(&config.ca_cert)
            .map_err(|err| diags.error(&ca_path, err))
            .ok()?;
        Arc::new(roots)
    };
    rustls::client::WebPkiServerVerifier::builder_with_provider(roots, Arc::clone(provider))
        .build()
        .map(|verifier| verifier as Arc<dyn ServerCertVerifier>)
        .map_err(|err| diags.error(ca_path, format!("{err}")))
        .ok()
}

/// The system's CA certificates, read once.
fn system_roots() -> &'static Arc<RootCertStore> {
    static ROOTS: OnceLock<Arc<RootCertStore>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let found = rustls_native_certs::load_native_certs();
        for err in &found.errors {
            tracing::warn!("system CA certificates: {err}");
        }
        let mut roots = RootCertStore::empty();
        roots.add_parsable_certificates(found.certs);
        Arc::new(roots)
    })
}

/// `insecure_skip`: any certificate is accepted, though the handshake's signatures are still
/// checked (they prove the peer holds the key of the certificate it sent).
#[derive(Debug)]
struct SkipVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for SkipVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
