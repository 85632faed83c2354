//! Choosing the virtual host by the Host header, in MOSN's order: exact `host:port`, exact
//! host on any port, wildcard suffix with port, wildcard suffix on any port, then `*`.

use std::collections::HashMap;

#[derive(Debug, Default)]
pub struct DomainIndex {
    exact: HashMap<String, usize>,
    /// (suffix after `*`, e.g. `.example.com` or `.example.com:8080`, virtual host), longest first.
    wildcard: Vec<(String, usize)>,
    default: Option<usize>,
}

impl DomainIndex {
    /// Adds a virtual host's domain; the first virtual host to claim a domain keeps it, and
    /// `false` says this one came too late. `*` and `*:*` are the default.
    pub fn add(&mut self, domain: &str, vhost: usize) -> bool {
        let domain = domain.to_ascii_lowercase();
        if domain == "*" || domain == "*:*" {
            return *self.default.get_or_insert(vhost) == vhost;
        }
        if let Some(suffix) = domain.strip_prefix('*') {
            if self.wildcard.iter().any(|(s, _)| *s == suffix) {
                return false;
            }
            self.wildcard.push((suffix.to_string(), vhost));
            self.wildcard
                .sort_by_key(|(s, _)| std::cmp::Reverse(s.len()));
            return true;
        }
        *self.exact.entry(domain).or_insert(vhost) == vhost
    }

    pub fn find(&self, host: &str) -> Option<usize> {
        if self.exact.is_empty() && self.wildcard.is_empty() {
            return self.default; // `*` alone, the common case: nothing to compare
        }
        let host = host.to_ascii_lowercase();
        let without_port = strip_port(&host);
        let has_port = without_port.len() != host.len();
        let exact = self
            .exact
            .get(&host)
            .or_else(|| self.exact.get(without_port));
        let wildcard = |name: &str| {
            self.wildcard
                .iter()
                .find(|(suffix, _)| name.len() > suffix.len() && name.ends_with(suffix.as_str()))
        };
        exact
            .copied()
            .or_else(|| has_port.then(|| wildcard(&host)).flatten().map(|(_, v)| *v))
            .or_else(|| wildcard(without_port).map(|(_, v)| *v))
            .or(self.default)
    }
}

/// `host:port` to `host`; `[v6]:port` to `[v6]`.
fn strip_port(host: &str) -> &str {
    match host.rfind(':') {
        Some(colon)
            if !host[colon..].contains(']')
                && host[colon + 1..].bytes().all(|b| b.is_ascii_digit()) =>
        {
            &host[..colon]
        }
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mosn_priority_order() {
        let mut index = DomainIndex::default();
        assert!(index.add("*:*", 0));
        assert!(!index.add("*", 9), "the default is taken");
        index.add("*.example.com", 1);
        index.add("*.example.com:8080", 2);
        index.add("api.example.com", 3);
        index.add("api.example.com:8080", 4);
        index.add("*.deep.example.com", 5);
        assert_eq!(index.find("api.example.com:8080"), Some(4));
        assert_eq!(index.find("API.example.com:9090"), Some(3));
        assert_eq!(index.find("www.example.com:8080"), Some(2));
        assert_eq!(index.find("www.example.com"), Some(1));
        assert_eq!(index.find("a.deep.example.com"), Some(5));
        assert_eq!(
            index.find("example.com"),
            Some(0),
            "a wildcard needs something before its suffix"
        );
        assert_eq!(index.find("[::1]:80"), Some(0));
    }

    #[test]
    fn no_default_means_no_match() {
        let mut index = DomainIndex::default();
        index.add("a.com", 0);
        assert_eq!(index.find("b.com"), None);
    }
}
