//! What a matched route does: forward to a cluster, answer directly, or redirect.

use std::time::Duration;

use mosn_config::model::{HashPolicy, RedirectAction, RouteAction, WeightedCluster};
use mosn_protocol::detect::Protocol;

use regex::Regex;

use crate::matcher::Request;

/// MOSN's route timeout when `timeout` is not set.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug)]
pub enum Action {
    Forward(ForwardAction),
    DirectResponse { status: u16, body: String },
    Redirect(Redirect),
}

#[derive(Debug)]
pub struct ForwardAction {
    pub cluster: ClusterChoice,
    /// How long the whole upstream exchange may take (504 after).
    pub timeout: Duration,
    pub prefix_rewrite: Option<String>,
    /// Applied to the path when no prefix rewrite is: every match is replaced.
    pub regex_rewrite: Option<(Regex, String)>,
    pub host_rewrite: Option<String>,
    /// Host becomes the address (or hostname) of the upstream host chosen.
    pub auto_host_rewrite: bool,
    pub retry: Option<RetryPolicy>,
    /// What LB_MAGLEV hashes, first found first.
    pub hash_policy: Vec<HashPolicy>,
    /// `request_mirror_policies`: a copy of `percent` of the requests goes to this cluster.
    pub mirror: Option<Mirror>,
    /// The HTTP version requests on this route go upstream in, over the proxy's.
    pub upstream_protocol: Option<Protocol>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mirror {
    pub cluster: String,
    /// 0..=100.
    pub percent: u32,
}

/// `retry_policy` with `retry_on: true`: how many more tries a request may get, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    pub num_retries: u32,
    /// Each try's wait for the response head (the route timeout when unset).
    pub per_try_timeout: Option<Duration>,
    /// Response statuses that make a try fail (a failed connect, a reset and a timeout always do).
    pub status_codes: Vec<u16>,
}

#[derive(Debug)]
pub enum ClusterChoice {
    Named(String),
    /// The cluster named by this request header.
    FromHeader(String),
    /// Chosen at random in proportion to the weights.
    Weighted {
        clusters: Vec<(String, u32)>,
        total: u32,
    },
}

impl ClusterChoice {
    pub fn pick<'a>(&'a self, request: &'a dyn Request) -> Option<&'a str> {
        match self {
            ClusterChoice::Named(name) => Some(name),
            ClusterChoice::FromHeader(header) => request.header(header),
            ClusterChoice::Weighted { clusters, total } => {
                let mut point = fastrand::u32(..(*total).max(1));
                clusters
                    .iter()
                    .find(|(_, weight)| {
                        let hit = point < *weight;
                        point = point.saturating_sub(*weight);
                        hit
                    })
                    .map(|(name, _)| name.as_str())
            }
        }
    }
}

#[derive(Debug)]
pub struct Redirect {
    pub status: u16,
    pub scheme: Option<String>,
    pub host: Option<String>,
    pub path: Option<String>,
}

impl ForwardAction {
    pub fn new(config: &RouteAction) -> Result<ForwardAction, String> {
        let cluster = if !config.cluster_name.is_empty() {
            ClusterChoice::Named(config.cluster_name.clone())
        } else if !config.cluster_header.is_empty() {
            ClusterChoice::FromHeader(config.cluster_header.clone())
        } else if !config.weighted_clusters.is_empty() {
            weighted(&config.weighted_clusters)?
        } else {
            return Err(
                "a route needs cluster_name, cluster_header or weighted_clusters".to_string(),
            );
        };
        let some = |text: &str| Some(text.to_string()).filter(|t| !t.is_empty());
        Ok(ForwardAction {
            cluster,
            timeout: config
                .timeout
                .map(|t| t.get())
                .filter(|t| !t.is_zero())
                .unwrap_or(DEFAULT_TIMEOUT),
            prefix_rewrite: some(&config.prefix_rewrite),
            regex_rewrite: match &config.regex_rewrite {
                Some(rewrite) if !rewrite.pattern.regex.is_empty() => {
                    let regex = Regex::new(&rewrite.pattern.regex).map_err(|err| {
                        format!(
                            "regex_rewrite: invalid regex {:?}: {err}",
                            rewrite.pattern.regex
                        )
                    })?;
                    Some((regex, rewrite.substitution.clone()))
                }
                _ => None,
            },
            host_rewrite: some(&config.host_rewrite),
            auto_host_rewrite: config.auto_host_rewrite,
            hash_policy: config.hash_policy.clone(),
            mirror: None,
            upstream_protocol: None,
            retry: config
                .retry_policy
                .as_ref()
                .filter(|p| p.retry_on && p.num_retries > 0)
                .map(|p| RetryPolicy {
                    num_retries: p.num_retries,
                    per_try_timeout: p.retry_timeout.map(|t| t.get()).filter(|t| !t.is_zero()),
                    status_codes: p
                        .status_codes
                        .iter()
                        .filter_map(|c| u16::try_from(*c).ok())
                        .collect(),
                }),
        })
    }
}

fn weighted(config: &[WeightedCluster]) -> Result<ClusterChoice, String> {
    let clusters: Vec<(String, u32)> = config
        .iter()
        .map(|w| (w.cluster.name.clone(), w.cluster.weight))
        .collect();
    let total = clusters.iter().map(|(_, w)| *w).sum();
    if total == 0 {
        return Err("weighted_clusters weigh nothing".to_string());
    }
    Ok(ClusterChoice::Weighted { clusters, total })
}

impl Redirect {
    pub fn new(config: &RedirectAction) -> Redirect {
        let some = |text: &str| Some(text.to_string()).filter(|t| !t.is_empty());
        Redirect {
            status: config.response_code.filter(|c| *c != 0).unwrap_or(301),
            scheme: some(&config.scheme_redirect),
            host: some(&config.host_redirect),
            path: some(&config.path_redirect),
        }
    }

    /// The Location for a request that came for `host` and `path` (with its query).
    pub fn location(&self, host: &str, path_and_query: &str) -> String {
        let scheme = self.scheme.as_deref().unwrap_or("http");
        let host = self.host.as_deref().unwrap_or(host);
        let path = self.path.as_deref().unwrap_or(path_and_query);
        format!("{scheme}://{host}{path}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct NoHeaders;
    impl Request for NoHeaders {
        fn path(&self) -> &str {
            "/"
        }
        fn header(&self, _: &str) -> Option<&str> {
            None
        }
        fn variable(&self, _: &str) -> Option<String> {
            None
        }
    }

    #[test]
    fn weighted_clusters_follow_their_weights() {
        let choice = ClusterChoice::Weighted {
            clusters: vec![("a".into(), 90), ("b".into(), 10), ("c".into(), 0)],
            total: 100,
        };
        let picks: Vec<_> = (0..2000)
            .map(|_| choice.pick(&NoHeaders).unwrap())
            .collect();
        let a = picks.iter().filter(|p| **p == "a").count();
        assert!((1600..1990).contains(&a), "{a} of 2000 went to a");
        assert!(!picks.contains(&"c"));
    }

    #[test]
    fn redirects_keep_what_they_do_not_replace() {
        let redirect = Redirect {
            status: 302,
            scheme: Some("https".into()),
            host: None,
            path: None,
        };
        assert_eq!(
            redirect.location("example.com", "/a?b"),
            "https://example.com/a?b"
        );
    }
}
