//! Certificates and keys as MOSN's config gives them: inline PEM, or the path of a PEM file.

use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Where a PEM value comes from.
enum Source {
    Inline,
    File(std::path::PathBuf),
}

impl Source {
    /// A value holding a PEM block is inline; anything else is a path.
    fn of(value: &str) -> Source {
        if value.contains("-----BEGIN") {
            Source::Inline
        } else {
            Source::File(value.into())
        }
    }
}

/// The file `value` names, unless it is inline PEM.
pub fn file_of(value: &str) -> Option<std::path::PathBuf> {
    match Source::of(value) {
        Source::File(path) if !value.is_empty() => Some(path),
        _ => None,
    }
}

/// The PEM text of `value`.
fn text(value: &str) -> Result<Vec<u8>, String> {
    match Source::of(value) {
        Source::Inline => Ok(value.as_bytes().to_vec()),
        Source::File(path) => {
            std::fs::read(&path).map_err(|err| format!("cannot read {}: {err}", path.display()))
        }
    }
}

fn describe(value: &str) -> String {
    match Source::of(value) {
        Source::Inline => "the inline PEM".to_string(),
        Source::File(path) => path.display().to_string(),
    }
}

/// Every certificate of `value`, in order (a chain: the leaf first).
pub fn certificates(value: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let pem = text(value)?;
    let certificates = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| format!("{}: bad PEM: {err}", describe(value)))?;
    if certificates.is_empty() {
        return Err(format!("{}: no CERTIFICATE block", describe(value)));
    }
    Ok(certificates)
}

/// The private key of `value` (PKCS#8, PKCS#1 or SEC1).
pub fn private_key(value: &str) -> Result<PrivateKeyDer<'static>, String> {
    let pem = text(value)?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|err| match err {
        rustls::pki_types::pem::Error::NoItemsFound => {
            format!("{}: no PRIVATE KEY block", describe(value))
        }
        err => format!("{}: bad PEM: {err}", describe(value)),
    })
}

/// The CA certificates of `value`, as a trust store.
pub fn roots(value: &str) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    for certificate in certificates(value)? {
        roots
            .add(certificate)
            .map_err(|err| format!("unusable CA certificate: {err}"))?;
    }
    Ok(roots)
}
