//! Header additions and removals, as routers, virtual hosts and routes each declare them.

use mosn_config::model::HeaderValueOption;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderEdit {
    pub name: String,
    pub value: String,
    /// Add beside existing values (the default), or replace them.
    pub append: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderMutations {
    pub request_add: Vec<HeaderEdit>,
    pub request_remove: Vec<String>,
    pub response_add: Vec<HeaderEdit>,
    pub response_remove: Vec<String>,
}

fn edits(options: &[HeaderValueOption]) -> Vec<HeaderEdit> {
    options
        .iter()
        .map(|o| HeaderEdit {
            name: o.header.key.clone(),
            value: o.header.value.clone(),
            append: o.append.unwrap_or(true),
        })
        .collect()
}

impl HeaderMutations {
    pub fn new(
        request_add: &[HeaderValueOption],
        request_remove: &[String],
        response_add: &[HeaderValueOption],
        response_remove: &[String],
    ) -> Self {
        HeaderMutations {
            request_add: edits(request_add),
            request_remove: request_remove.to_vec(),
            response_add: edits(response_add),
            response_remove: response_remove.to_vec(),
        }
    }
}
