//! The fast match of MOSN's RPC routes. A virtual host of an RPC gateway often holds one route
//! per service, each matching the `service` header's exact value and nothing else. Such routes
//! are found through a map from the value, so a table of thousands of services answers without
//! trying each route in turn. The first matching route still wins: the map gives the earliest
//! indexed route for the request, and only the routes that are not indexed and come before it
//! are tried.

use std::collections::HashMap;

use crate::matcher::{Matcher, Request};

#[derive(Debug, Default)]
pub struct FastIndex {
    /// For each header some route matches alone: each value, to the first such route's place.
    by_header: Vec<(String, HashMap<String, usize>)>,
    /// The places of the routes that are not indexed, in order.
    others: Vec<usize>,
}

impl FastIndex {
    pub fn new<'a>(matchers: impl IntoIterator<Item = &'a Matcher>) -> FastIndex {
        let mut index = FastIndex::default();
        for (place, matcher) in matchers.into_iter().enumerate() {
            let Some((name, value)) = matcher.single_exact_header() else {
                index.others.push(place);
                continue;
            };
            let values = match index.by_header.iter().position(|(n, _)| n == name) {
                Some(at) => &mut index.by_header[at].1,
                None => {
                    index.by_header.push((name.to_string(), HashMap::new()));
                    &mut index.by_header.last_mut().expect("just pushed").1
                }
            };
            values.entry(value.to_string()).or_insert(place);
        }
        index
    }

    /// The place of the first route that matches `request`, as `matches(place)` tells of a
    /// route that is not indexed.
    pub fn find(&self, request: &dyn Request, matches: impl Fn(usize) -> bool) -> Option<usize> {
        let indexed = self
            .by_header
            .iter()
            .filter_map(|(name, values)| values.get(request.header(name)?).copied())
            .min();
        let before = indexed.unwrap_or(usize::MAX);
        self.others
            .iter()
            .copied()
            .take_while(|place| *place < before)
            .find(|place| matches(*place))
            .or(indexed)
    }
}
