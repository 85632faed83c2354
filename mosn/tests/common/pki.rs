//! Test certificates: a CA made by rcgen, and certificates it signs, as PEM files.

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair,
};

/// A CA and certificates it signed, as PEM files in a temporary directory.
pub struct Pki {
    dir: tempfile::TempDir,
    ca: CertifiedIssuer<'static, KeyPair>,
}

impl Pki {
    pub fn new() -> Pki {
        let mut params = CertificateParams::default();
        params
            .distinguished_name
            .push(DnType::CommonName, "mosn test CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.pem"), ca.pem()).unwrap();
        Pki { dir, ca }
    }

    pub fn ca_file(&self) -> String {
        self.path("ca.pem")
    }

    pub fn path(&self, file: &str) -> String {
        self.dir.path().join(file).display().to_string()
    }

    /// Writes `<name>.pem` and `<name>.key`, a certificate for `names` signed by the CA, for a
    /// server or for a client; returns their paths.
    pub fn issue(&self, name: &str, names: &[&str], client: bool) -> (String, String) {
        self.issue_with(name, names, client, |_| {})
    }

    /// [`Pki::issue`], with `change` applied to the certificate's parameters first (to make
    /// it expired, say).
    pub fn issue_with(
        &self,
        name: &str,
        names: &[&str],
        client: bool,
        change: impl FnOnce(&mut CertificateParams),
    ) -> (String, String) {
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![if client {
            ExtendedKeyUsagePurpose::ClientAuth
        } else {
            ExtendedKeyUsagePurpose::ServerAuth
        }];
        change(&mut params);
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.ca).unwrap();
        let (cert_path, key_path) = (
            self.path(&format!("{name}.pem")),
            self.path(&format!("{name}.key")),
        );
        std::fs::write(&cert_path, cert.pem()).unwrap();
        std::fs::write(&key_path, key.serialize_pem()).unwrap();
        (cert_path, key_path)
    }
}
