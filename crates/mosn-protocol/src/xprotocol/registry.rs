//! RPC codecs by the name configs give them. An embedding program registers its own protocol
//! with [`Registry::register`] without touching ours.

use std::sync::Arc;

use super::Codec;
use super::bolt::{BOLT, BOLTV2};
use super::dubbo::Dubbo;
use super::tars::Tars;

#[derive(Clone)]
pub struct Registry {
    codecs: Vec<Arc<dyn Codec>>,
}

impl Default for Registry {
    /// The built-in codecs: `bolt`, `boltv2`, `dubbo` and `tars`.
    fn default() -> Registry {
        Registry {
            codecs: vec![
                Arc::new(BOLT),
                Arc::new(BOLTV2),
                Arc::new(Dubbo),
                Arc::new(Tars),
            ],
        }
    }
}

impl Registry {
    /// Adds `codec`, in place of a registered one of the same name.
    pub fn register(&mut self, codec: Arc<dyn Codec>) {
        self.codecs.retain(|c| c.name() != codec.name());
        self.codecs.push(codec);
    }

    /// The codec registered as `name` (names are case-sensitive, as in MOSN).
    pub fn get(&self, name: &str) -> Option<Arc<dyn Codec>> {
        self.codecs.iter().find(|c| c.name() == name).cloned()
    }

    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.codecs.iter().map(|c| c.name())
    }
}
