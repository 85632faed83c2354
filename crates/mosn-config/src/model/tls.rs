use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `tls_context`: on a filter chain (downstream) or on a cluster (upstream).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TlsConfig {
    pub status: bool,
    #[serde(rename = "type", skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub server_name: String,
    /// Inline PEM or a file path, as for the two below.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub ca_cert: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cert_chain: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub private_key: String,
    pub verify_client: bool,
    pub require_client_cert: bool,
    pub insecure_skip: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cipher_suites: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub ecdh_curves: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub min_version: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub max_version: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub alpn: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub ticket: String,
    pub fall_back: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extend_verify: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sds_source: Option<Value>,
}

/// What `config_dump` shows instead of a private key.
pub const REDACTED: &str = "***REDACTED***";

impl TlsConfig {
    /// Hides the private key, inline PEM or path alike.
    pub fn redact(&mut self) {
        if !self.private_key.is_empty() {
            self.private_key = REDACTED.to_string();
        }
    }
}
