//! The settings a `tls_context` shares between its server and client sides: protocol versions,
//! cipher suites, key-exchange curves and ALPN, read with MOSN's names and turned into a rustls
//! crypto provider (always ring).
//!
//! MOSN's Go TLS knows suites, curves and versions that rustls does not (CBC and 3DES suites,
//! RSA key exchange, P-521, TLS 1.0 and 1.1). Naming one gives a warning and is skipped;
//! naming nothing rustls knows is an error, never a silent fallback.

use std::sync::Arc;

use mosn_config::Diagnostics;
use mosn_config::diagnostics::join;
use mosn_config::model::TlsConfig;
use rustls::crypto::{CryptoProvider, ring};
use rustls::{CipherSuite, SupportedCipherSuite, SupportedProtocolVersion};

/// What a `tls_context` asks of the handshake, in rustls's terms.
pub struct Options {
    pub provider: Arc<CryptoProvider>,
    pub versions: Vec<&'static SupportedProtocolVersion>,
    pub alpn: Vec<Vec<u8>>,
}

/// MOSN's cipher names (OpenSSL style, and the TLS 1.3 ones of its BabaSSL build), as rustls
/// names them. The ones rustls lacks are listed so that naming them warns instead of failing.
const CIPHERS: &[(&str, Option<CipherSuite>)] = &[
    (
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        Some(CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384),
    ),
    (
        "ECDHE-RSA-AES256-GCM-SHA384",
        Some(CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384),
    ),
    (
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        Some(CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256),
    ),
    (
        "ECDHE-RSA-AES128-GCM-SHA256",
        Some(CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256),
    ),
    (
        "ECDHE-ECDSA-WITH-CHACHA20-POLY1305",
        Some(CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256),
    ),
    (
        "ECDHE-RSA-WITH-CHACHA20-POLY1305",
        Some(CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256),
    ),
    (
        "AES256-GCM-SHA384",
        Some(CipherSuite::TLS13_AES_256_GCM_SHA384),
    ),
    (
        "AES128-GCM-SHA256",
        Some(CipherSuite::TLS13_AES_128_GCM_SHA256),
    ),
    (
        "TLS_AES_256_GCM_SHA384",
        Some(CipherSuite::TLS13_AES_256_GCM_SHA384),
    ),
    (
        "TLS_AES_128_GCM_SHA256",
        Some(CipherSuite::TLS13_AES_128_GCM_SHA256),
    ),
    (
        "TLS_CHACHA20_POLY1305_SHA256",
        Some(CipherSuite::TLS13_CHACHA20_POLY1305_SHA256),
    ),
    ("ECDHE-RSA-AES256-CBC-SHA", None),
    ("ECDHE-RSA-AES128-CBC-SHA", None),
    ("ECDHE-ECDSA-AES256-CBC-SHA", None),
    ("ECDHE-ECDSA-AES128-CBC-SHA", None),
    ("RSA-AES256-CBC-SHA", None),
    ("RSA-AES128-CBC-SHA", None),
    ("ECDHE-RSA-3DES-EDE-CBC-SHA", None),
    ("RSA-3DES-EDE-CBC-SHA", None),
    ("TLS_SM4_GCM_SM3", None),
];

/// The ALPN names MOSN accepts.
const ALPN: &[&str] = &["h2", "http/1.1", "sofa"];

fn is_tls13(suite: &SupportedCipherSuite) -> bool {
    matches!(suite, SupportedCipherSuite::Tls13(_))
}

/// Reads the options of `config` (at JSON path `path`); `None` after an error.
pub fn read(config: &TlsConfig, path: &str, diags: &mut Diagnostics) -> Option<Options> {
    let mut provider = ring::default_provider();
    let errors = diags.error_count();
    if !config.cipher_suites.is_empty() {
        provider.cipher_suites = ciphers(
            &config.cipher_suites,
            &provider,
            &join(path, "cipher_suites"),
            diags,
        );
    }
    if !config.ecdh_curves.is_empty() {
        provider.kx_groups = curves(
            &config.ecdh_curves,
            &provider,
            &join(path, "ecdh_curves"),
            diags,
        );
    }
    let versions = versions(config, path, diags);
    let alpn = alpn(&config.alpn, &join(path, "alpn"), diags);
    (diags.error_count() == errors).then(|| Options {
        provider: Arc::new(provider),
        versions,
        alpn,
    })
}

/// `:`-separated names. TLS 1.3 and TLS 1.2 suites are chosen apart: naming none of one
/// version's keeps all of that version's, as MOSN's TLS does for 1.3.
fn ciphers(
    names: &str,
    provider: &CryptoProvider,
    path: &str,
    diags: &mut Diagnostics,
) -> Vec<SupportedCipherSuite> {
    let mut chosen = Vec::new();
    for name in names.split(':').map(str::trim).filter(|n| !n.is_empty()) {
        match CIPHERS.iter().find(|(known, _)| *known == name) {
            Some((_, Some(id))) => {
                let suite = provider.cipher_suites.iter().find(|s| s.suite() == *id);
                chosen.extend(suite.copied());
            }
            Some((_, None)) => diags.warn(path, format!("cipher {name} is not available (rustls has no CBC, 3DES, RSA key exchange or SM suites); skipped")),
            None => diags.error(path, format!("unknown cipher {name:?} (known: {})", CIPHERS.iter().filter(|(_, id)| id.is_some()).map(|(n, _)| *n).collect::<Vec<_>>().join(", "))),
        }
    }
    if chosen.is_empty() {
        diags.error(path, "names no cipher suite this build supports");
        return chosen;
    }
    for tls13 in [true, false] {
        if !chosen.iter().any(|s| is_tls13(s) == tls13) {
            chosen.extend(
                provider
                    .cipher_suites
                    .iter()
                    .filter(|s| is_tls13(s) == tls13),
            );
        }
    }
    chosen
}

/// `,`-separated curve names: x25519, p256, p384 (p521 is not in rustls's ring provider).
fn curves(
    names: &str,
    provider: &CryptoProvider,
    path: &str,
    diags: &mut Diagnostics,
) -> Vec<&'static dyn rustls::crypto::SupportedKxGroup> {
    let mut chosen = Vec::new();
    for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let group = match name.to_ascii_lowercase().as_str() {
            "x25519" => rustls::NamedGroup::X25519,
            "p256" => rustls::NamedGroup::secp256r1,
            "p384" => rustls::NamedGroup::secp384r1,
            "p521" => {
                diags.warn(path, "curve p521 is not available in this build; skipped");
                continue;
            }
            _ => {
                diags.error(
                    path,
                    format!("unknown curve {name:?} (known: x25519, p256, p384)"),
                );
                continue;
            }
        };
        chosen.extend(
            provider
                .kx_groups
                .iter()
                .find(|g| g.name() == group)
                .copied(),
        );
    }
    if chosen.is_empty() {
        diags.error(path, "names no curve this build supports");
    }
    chosen
}

/// MOSN's version names, any case: `tls_auto`, `tlsv1_0` to `tlsv1_3`. Rustls speaks 1.2 and
/// 1.3 only, so a minimum below 1.2 is raised to it, with a warning.
fn versions(
    config: &TlsConfig,
    path: &str,
    diags: &mut Diagnostics,
) -> Vec<&'static SupportedProtocolVersion> {
    let mut bound = |key: &str, value: &str, default: u8| -> u8 {
        match value.to_ascii_lowercase().as_str() {
            "" | "tls_auto" => default,
            "tlsv1_0" => 0,
            "tlsv1_1" => 1,
            "tlsv1_2" => 2,
            "tlsv1_3" => 3,
            _ => {
                diags.error(join(path, key), format!("unknown TLS version {value:?} (known: TLS_AUTO, TLSv1_0, TLSv1_1, TLSv1_2, TLSv1_3)"));
                default
            }
        }
    };
    let min = bound("min_version", &config.min_version, 2);
    let max = bound("max_version", &config.max_version, 3);
    if min < 2 {
        diags.warn(
            join(path, "min_version"),
            "TLS 1.0 and 1.1 are not available: the minimum is TLSv1_2",
        );
    }
    if max < 2 {
        diags.error(
            join(path, "max_version"),
            "TLS 1.0 and 1.1 are not available: the maximum must be TLSv1_2 or TLSv1_3",
        );
    } else if min > max {
        diags.error(
            join(path, "min_version"),
            format!(
                "{} is above max_version {}",
                config.min_version, config.max_version
            ),
        );
    }
    [(2, &rustls::version::TLS12), (3, &rustls::version::TLS13)]
        .into_iter()
        .filter(|(v, _)| (min.max(2)..=max).contains(v))
        .map(|(_, version)| version)
        .collect()
}

/// `,`-separated protocol names, among `h2`, `http/1.1` and `sofa`.
fn alpn(names: &str, path: &str, diags: &mut Diagnostics) -> Vec<Vec<u8>> {
    let mut chosen = Vec::new();
    for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let lower = name.to_ascii_lowercase();
        if ALPN.contains(&lower.as_str()) {
            chosen.push(lower.into_bytes());
        } else {
            diags.warn(
                path,
                format!("unknown ALPN protocol {name:?} (known: h2, http/1.1, sofa); skipped"),
            );
        }
    }
    chosen
}
