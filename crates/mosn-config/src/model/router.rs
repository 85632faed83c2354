use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::HeaderValueOption;
use crate::decode::list;
use crate::duration::GoDuration;

/// `servers[].routers[]`: a named route table that a `proxy` filter refers to.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RouterConfiguration {
    pub router_config_name: String,
    #[serde(deserialize_with = "list")]
    pub virtual_hosts: Vec<VirtualHost>,
    /// A directory of virtual host files.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub router_configs: String,
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "list")]
    pub request_headers_to_add: Vec<HeaderValueOption>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub request_headers_to_remove: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "list")]
    pub response_headers_to_add: Vec<HeaderValueOption>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub response_headers_to_remove: Vec<String>,
}

/// `virtual_hosts[]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VirtualHost {
    pub name: String,
    pub domains: Vec<String>,
    #[serde(deserialize_with = "list")]
    pub routers: Vec<Route>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub require_tls: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_filter_config: Option<Value>,
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "list")]
    pub request_headers_to_add: Vec<HeaderValueOption>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub request_headers_to_remove: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "list")]
    pub response_headers_to_add: Vec<HeaderValueOption>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub response_headers_to_remove: Vec<String>,
}

/// A route entry: a match and what to do with what matches.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Route {
    #[serde(rename = "match")]
    pub route_match: RouteMatch,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<RouteAction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect: Option<RedirectAction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direct_response: Option<DirectResponseAction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_filter_config: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_mirror_policies: Option<MirrorPolicy>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RouteMatch {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub prefix: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub path: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub regex: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_sensitive: Option<bool>,
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "list")]
    pub headers: Vec<HeaderMatcher>,
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "list")]
    pub variables: Vec<VariableMatcher>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dsl_expressions: Option<Value>,
}

/// `{name, value, regex}`: `regex` says whether `value` is a regular expression.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HeaderMatcher {
    pub name: String,
    pub value: String,
    pub regex: bool,
}

/// `{name, value, regex, model}`: here `regex` is the expression itself, and `model` is
/// `and` or `or` for combining with the next matcher.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VariableMatcher {
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub value: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub regex: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub model: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RouteAction {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cluster_name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cluster_variable: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cluster_header: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub upstream_protocol: String,
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "list")]
    pub weighted_clusters: Vec<WeightedCluster>,
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "list")]
    pub hash_policy: Vec<HashPolicy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata_match: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<GoDuration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_policy: Option<RetryPolicy>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub prefix_rewrite: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regex_rewrite: Option<RegexRewrite>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub host_rewrite: String,
    pub auto_host_rewrite: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub auto_host_rewrite_header: String,
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "list")]
    pub request_headers_to_add: Vec<HeaderValueOption>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub request_headers_to_remove: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "list")]
    pub response_headers_to_add: Vec<HeaderValueOption>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub response_headers_to_remove: Vec<String>,
}

/// `regex_rewrite`: `{"pattern": {"regex": ...}, "substitution": ...}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RegexRewrite {
    pub pattern: RegexPattern,
    pub substitution: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RegexPattern {
    pub regex: String,
}

/// `hash_policy[]`: what a hashing load balancer (LB_MAGLEV) hashes. One of the three is set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HashPolicy {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header: Option<HashHeader>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cookie: Option<HashCookie>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_ip: Option<Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HashHeader {
    pub key: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HashCookie {
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl: Option<GoDuration>,
}

/// `weighted_clusters[]`: `{"cluster": {"name", "weight", "metadata_match"}}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WeightedCluster {
    pub cluster: ClusterWeight,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClusterWeight {
    pub name: String,
    pub weight: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata_match: Option<Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RetryPolicy {
    pub retry_on: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_timeout: Option<GoDuration>,
    pub num_retries: u32,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub status_codes: Vec<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RedirectAction {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_code: Option<u16>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub path_redirect: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub host_redirect: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub scheme_redirect: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DirectResponseAction {
    pub status: u16,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub body: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MirrorPolicy {
    pub cluster: String,
    pub percent: u32,
    pub trace_sampled: bool,
}
