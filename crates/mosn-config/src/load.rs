//! Reading a config file: JSON or YAML text to a decoded, validated [`MosnConfig`].

use std::path::Path;

use serde_json::Value;

use crate::decode::decode;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::include::read_directories;
use crate::model::MosnConfig;
use crate::validate::validate;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Yaml,
}

impl Format {
    /// `.yaml` and `.yml` files are YAML; anything else is JSON, as in MOSN.
    pub fn of_path(path: &Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some(ext) if ext.eq_ignore_ascii_case("yaml") || ext.eq_ignore_ascii_case("yml") => {
                Format::Yaml
            }
            _ => Format::Json,
        }
    }
}

/// A config that can run, with the warnings found on the way.
#[derive(Debug)]
pub struct Loaded {
    pub config: MosnConfig,
    pub warnings: Vec<Diagnostic>,
}

/// Every problem found, warnings included; at least one is an error.
#[derive(Debug)]
pub struct Rejected {
    pub diagnostics: Vec<Diagnostic>,
    /// The config as decoded, when only validation failed: later stages (the filters) can still
    /// look at it, so that `mosn check` reports their problems too.
    pub config: Option<Box<MosnConfig>>,
}

pub fn load_file(path: &Path) -> Result<Loaded, Rejected> {
    let text = std::fs::read_to_string(path)
        .map_err(|err| reject(format!("cannot read {}: {err}", path.display())))?;
    parse_text(&text, Format::of_path(path))
}

/// The config as written, decoded without validation or lookups: enough to find the pid file
/// of a running server even if a name in the config no longer resolves.
pub fn decode_file(path: &Path) -> Result<MosnConfig, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
    let value = parse_tree(&text, Format::of_path(path))?;
    decode(&value, "", &mut Diagnostics::default())
        .ok_or_else(|| format!("{}: not a MOSN config", path.display()))
}

pub fn parse_text(text: &str, format: Format) -> Result<Loaded, Rejected> {
    let value = parse_tree(text, format).map_err(reject)?;
    let mut diags = Diagnostics::default();
    let mut config = decode::<MosnConfig>(&value, "", &mut diags);
    if let Some(config) = config.as_mut() {
        read_directories(config, &mut diags);
    }
    // Validation after a decoding error would report paths shifted by dropped list elements.
    let Some(mut config) = config.filter(|_| !diags.has_errors()) else {
        return Err(Rejected {
            diagnostics: diags.into_items(),
            config: None,
        });
    };
    // Named first: a listener named after its address must not clash with another one.
    name_listeners(&mut config);
    validate(&config, &mut diags);
    if diags.has_errors() {
        return Err(Rejected {
            diagnostics: diags.into_items(),
            config: Some(Box::new(config)),
        });
    }
    Ok(Loaded {
        config,
        warnings: diags.into_items(),
    })
}

/// A listener without a name is named by its address, as in MOSN.
fn name_listeners(config: &mut MosnConfig) {
    for listener in config
        .servers
        .iter_mut()
        .flat_map(|s| s.listeners.iter_mut())
    {
        if listener.name.is_empty() {
            listener.name = listener.address.clone();
        }
    }
}

fn parse_tree(text: &str, format: Format) -> Result<Value, String> {
    match format {
        Format::Json => serde_json::from_str(text).map_err(|err| format!("invalid JSON: {err}")),
        Format::Yaml => serde_saphyr::from_str(text).map_err(|err| format!("invalid YAML: {err}")),
    }
}

fn reject(message: String) -> Rejected {
    let mut diags = Diagnostics::default();
    diags.error("", message);
    Rejected {
        diagnostics: diags.into_items(),
        config: None,
    }
}
