//! Filters registered by MOSN type name, so that an embedding user can add their own.

use std::collections::HashMap;
use std::sync::Arc;

use mosn_config::Diagnostics;
use mosn_config::diagnostics::join;
use mosn_config::model::Filter;
use serde_json::{Map, Value};

/// Builds a filter from its `config` (found at the given JSON path) and a context `C` (the
/// cluster manager, for example). Problems go to the diagnostics; `None` skips the filter.
pub type Builder<T, C> =
    Box<dyn Fn(&Map<String, Value>, &C, &str, &mut Diagnostics) -> Option<Arc<T>> + Send + Sync>;

pub struct Registry<T: ?Sized, C> {
    /// What the registry holds, for messages: "network filter", "listener filter".
    kind: &'static str,
    builders: HashMap<String, Builder<T, C>>,
    /// MOSN's names that this build does not have yet: skipped with a warning that says so.
    not_yet_supported: &'static [&'static str],
}

impl<T: ?Sized, C> Registry<T, C> {
    pub fn new(kind: &'static str, not_yet_supported: &'static [&'static str]) -> Self {
        Registry {
            kind,
            builders: HashMap::new(),
            not_yet_supported,
        }
    }

    pub fn register(&mut self, name: &str, builder: Builder<T, C>) {
        self.builders.insert(name.to_string(), builder);
    }

    /// Builds the filter at `path` (`...filters[2]`); an unknown type is a warning and `None`,
    /// as MOSN logs and skips it.
    pub fn build(
        &self,
        filter: &Filter,
        context: &C,
        path: &str,
        diags: &mut Diagnostics,
    ) -> Option<Arc<T>> {
        let name = filter.kind.as_str();
        if let Some(builder) = self.builders.get(name) {
            return builder(&filter.config, context, &join(path, "config"), diags);
        }
        let kind = self.kind;
        let message = if self.not_yet_supported.contains(&name) {
            format!("{kind} {name:?} is not supported yet, skipped")
        } else {
            format!("unknown {kind} {name:?}, skipped")
        };
        diags.warn(join(path, "type"), message);
        None
    }
}
