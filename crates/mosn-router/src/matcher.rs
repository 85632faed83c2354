//! Route matchers: `prefix`, `path`, `regex` on the path, and `headers`. A route with no path
//! matcher is MOSN's headers-only "RPC rule".

use mosn_config::model::{HeaderMatcher, RouteMatch as MatchConfig};
use regex::Regex;

/// What a matcher looks at in a request.
pub trait Request {
    /// The path, without the query.
    fn path(&self) -> &str;
    fn header(&self, name: &str) -> Option<&str>;
    /// A request variable: MOSN's protocol variables (`x-mosn-method`, `x-mosn-host`,
    /// `x-mosn-path`, `x-mosn-querystring`) or one a stream filter set.
    fn variable(&self, name: &str) -> Option<String>;
}

#[derive(Debug)]
enum PathMatch {
    Prefix(String),
    Exact(String),
    Regex(Regex),
    Any,
}

#[derive(Debug)]
enum ValueMatch {
    Exact(String),
    Regex(Regex),
    /// `.*`: present with any value, as MOSN reads it.
    Any,
}

#[derive(Debug)]
pub struct Matcher {
    path: PathMatch,
    case_sensitive: bool,
    headers: Vec<(String, ValueMatch)>,
    /// Each variable matcher and whether it joins the next one with "or" (else "and").
    variables: Vec<(String, ValueMatch, bool)>,
}

/// A regex that must match the whole value.
fn anchored(pattern: &str) -> Result<Regex, String> {
    Regex::new(&format!("^(?:{pattern})$"))
        .map_err(|err| format!("invalid regex {pattern:?}: {err}"))
}

impl Matcher {
    /// Precedence as in MOSN: prefix, then path, then regex.
    pub fn new(config: &MatchConfig) -> Result<Matcher, String> {
        let case_sensitive = config.case_sensitive.unwrap_or(true);
        let path = if !config.prefix.is_empty() {
            PathMatch::Prefix(fold(&config.prefix, case_sensitive))
        } else if !config.path.is_empty() {
            PathMatch::Exact(fold(&config.path, case_sensitive))
        } else if !config.regex.is_empty() {
            PathMatch::Regex(anchored(&config.regex)?)
        } else {
            PathMatch::Any
        };
        let headers = config
            .headers
            .iter()
            .map(header_match)
            .collect::<Result<_, _>>()?;
        let variables = config
            .variables
            .iter()
            .map(|v| {
                let value = match (v.regex.as_str(), v.value.as_str()) {
                    ("", ".*") => ValueMatch::Any,
                    ("", exact) => ValueMatch::Exact(exact.to_string()),
                    (pattern, _) => ValueMatch::Regex(anchored(pattern)?),
                };
                Ok((v.name.clone(), value, v.model.eq_ignore_ascii_case("or")))
            })
            .collect::<Result<_, String>>()?;
        Ok(Matcher {
            path,
            case_sensitive,
            headers,
            variables,
        })
    }

    /// The prefix this matcher matches on, for `prefix_rewrite`.
    pub fn prefix(&self) -> Option<&str> {
        match &self.path {
            PathMatch::Prefix(prefix) => Some(prefix),
            _ => None,
        }
    }

    /// The header and value this matcher looks for, when that is all it matches on.
    pub fn single_exact_header(&self) -> Option<(&str, &str)> {
        match (
            &self.path,
            self.headers.as_slice(),
            self.variables.is_empty(),
        ) {
            (PathMatch::Any, [(name, ValueMatch::Exact(value))], true) => Some((name, value)),
            _ => None,
        }
    }

    pub fn matches(&self, request: &dyn Request) -> bool {
        let path = request.path();
        let path_ok = match &self.path {
            PathMatch::Any => true,
            PathMatch::Prefix(prefix) if self.case_sensitive => path.starts_with(prefix.as_str()),
            PathMatch::Prefix(prefix) => path
                .get(..prefix.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(prefix)),
            PathMatch::Exact(exact) if self.case_sensitive => path == exact,
            PathMatch::Exact(exact) => path.eq_ignore_ascii_case(exact),
            PathMatch::Regex(regex) => regex.is_match(path),
        };
        path_ok
            && self.headers.iter().all(|(name, value)| {
                request
                    .header(name)
                    .is_some_and(|actual| value.matches(actual))
            })
            && self.variables_match(request)
    }

    /// Variable matchers read left to right, each joined to the next by its model.
    fn variables_match(&self, request: &dyn Request) -> bool {
        let mut result = true;
        let mut join_or = false;
        for (i, (name, value, or_next)) in self.variables.iter().enumerate() {
            let hit = request
                .variable(name)
                .is_some_and(|actual| value.matches(&actual));
            result = match (i, join_or) {
                (0, _) => hit,
                (_, true) => result || hit,
                (_, false) => result && hit,
            };
            join_or = *or_next;
        }
        result
    }
}

impl ValueMatch {
    fn matches(&self, actual: &str) -> bool {
        match self {
            ValueMatch::Any => true,
            ValueMatch::Exact(want) => actual == want,
            ValueMatch::Regex(regex) => regex.is_match(actual),
        }
    }
}

fn fold(text: &str, case_sensitive: bool) -> String {
    if case_sensitive {
        text.to_string()
    } else {
        text.to_ascii_lowercase()
    }
}

fn header_match(config: &HeaderMatcher) -> Result<(String, ValueMatch), String> {
    let value = match (config.regex, config.value.as_str()) {
        (_, ".*") => ValueMatch::Any,
        (true, pattern) => ValueMatch::Regex(anchored(pattern)?),
        (false, exact) => ValueMatch::Exact(exact.to_string()),
    };
    Ok((config.name.clone(), value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mosn_config::model::VariableMatcher;

    struct Req(&'static str, &'static [(&'static str, &'static str)]);

    impl Request for Req {
        fn path(&self) -> &str {
            self.0
        }
        fn header(&self, name: &str) -> Option<&str> {
            self.1
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| *v)
        }
        fn variable(&self, name: &str) -> Option<String> {
            self.header(&format!("var-{name}")).map(str::to_string)
        }
    }

    fn matcher(config: MatchConfig) -> Matcher {
        Matcher::new(&config).unwrap()
    }

    #[test]
    fn paths_match_by_prefix_exact_and_regex() {
        let prefix = matcher(MatchConfig {
            prefix: "/api".into(),
            ..Default::default()
        });
        assert!(prefix.matches(&Req("/api/v1", &[])) && !prefix.matches(&Req("/API", &[])));
        let folded = matcher(MatchConfig {
            prefix: "/api".into(),
            case_sensitive: Some(false),
            ..Default::default()
        });
        assert!(folded.matches(&Req("/API/x", &[])));
        let exact = matcher(MatchConfig {
            path: "/a".into(),
            ..Default::default()
        });
        assert!(exact.matches(&Req("/a", &[])) && !exact.matches(&Req("/ab", &[])));
        let regex = matcher(MatchConfig {
            regex: "/u/[0-9]+".into(),
            ..Default::default()
        });
        assert!(regex.matches(&Req("/u/42", &[])) && !regex.matches(&Req("/u/42/x", &[])));
    }

    #[test]
    fn headers_only_rules_match_exact_regex_and_wildcard() {
        let header = |name: &str, value: &str, regex: bool| HeaderMatcher {
            name: name.into(),
            value: value.into(),
            regex,
        };
        let rpc = matcher(MatchConfig {
            headers: vec![header("service", ".*", false)],
            ..Default::default()
        });
        assert!(rpc.matches(&Req("/", &[("service", "com.a.B")])) && !rpc.matches(&Req("/", &[])));
        let both = matcher(MatchConfig {
            prefix: "/".into(),
            headers: vec![
                header("x-env", "prod", false),
                header("x-ver", "v[12]", true),
            ],
            ..Default::default()
        });
        assert!(both.matches(&Req("/", &[("X-Env", "prod"), ("x-ver", "v2")])));
        assert!(!both.matches(&Req("/", &[("X-Env", "prod"), ("x-ver", "v3")])));
        assert!(!both.matches(&Req("/", &[("X-Env", "dev"), ("x-ver", "v1")])));
    }

    #[test]
    fn variables_combine_with_and_and_or() {
        let var = |name: &str, value: &str, regex: &str, model: &str| VariableMatcher {
            name: name.into(),
            value: value.into(),
            regex: regex.into(),
            model: model.into(),
        };
        let either = matcher(MatchConfig {
            variables: vec![
                var("x-mosn-method", "GET", "", "or"),
                var("x-mosn-path", "", "/admin.*", ""),
            ],
            ..Default::default()
        });
        assert!(either.matches(&Req("/", &[("var-x-mosn-method", "GET")])));
        assert!(either.matches(&Req(
            "/",
            &[
                ("var-x-mosn-method", "PUT"),
                ("var-x-mosn-path", "/admin/x")
            ]
        )));
        assert!(!either.matches(&Req(
            "/",
            &[("var-x-mosn-method", "PUT"), ("var-x-mosn-path", "/a")]
        )));
        let both = matcher(MatchConfig {
            variables: vec![var("a", "1", "", "and"), var("b", "2", "", "")],
            ..Default::default()
        });
        assert!(both.matches(&Req("/", &[("var-a", "1"), ("var-b", "2")])));
        assert!(!both.matches(&Req("/", &[("var-a", "1")])));
    }

    #[test]
    fn a_bad_regex_is_an_error() {
        assert!(
            Matcher::new(&MatchConfig {
                regex: "(".into(),
                ..Default::default()
            })
            .is_err()
        );
    }
}
