//! Header fields as they arrived: names keep their case and order, so that an upstream sees
//! what the client wrote. Lookups ignore case.

use bytes::Bytes;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers {
    fields: Vec<(Bytes, Bytes)>,
}

impl Headers {
    pub fn with_capacity(capacity: usize) -> Headers {
        Headers {
            fields: Vec::with_capacity(capacity),
        }
    }

    pub fn push(&mut self, name: impl Into<Bytes>, value: impl Into<Bytes>) {
        self.fields.push((name.into(), value.into()));
    }

    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.fields.iter().map(|(n, v)| (n.as_ref(), v.as_ref()))
    }

    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v.as_ref())
    }

    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(|v| std::str::from_utf8(v).ok())
    }

    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.fields
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v.as_ref())
    }

    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Removes every field named `name`.
    pub fn remove(&mut self, name: &str) {
        self.fields
            .retain(|(n, _)| !n.eq_ignore_ascii_case(name.as_bytes()));
    }

    /// Replaces every field named `name` by one with `value`, in place of the first.
    pub fn set(&mut self, name: &str, value: impl Into<Bytes>) {
        let value = value.into();
        match self
            .fields
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
        {
            Some(first) => {
                self.fields[first].1 = value;
                let mut i = 0;
                self.fields.retain(|(n, _)| {
                    i += 1;
                    i - 1 == first || !n.eq_ignore_ascii_case(name.as_bytes())
                });
            }
            None => self.push(Bytes::copy_from_slice(name.as_bytes()), value),
        }
    }

    /// Whether a comma-separated field (`Connection: keep-alive, Upgrade`) lists `token`.
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.get_all(name)
            .any(|value| tokens(value).any(|t| t.eq_ignore_ascii_case(token.as_bytes())))
    }

    pub fn retain(&mut self, mut keep: impl FnMut(&[u8], &[u8]) -> bool) {
        self.fields.retain(|(n, v)| keep(n, v));
    }
}

/// The comma-separated, trimmed, non-empty items of a field value.
pub fn tokens(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|b| *b == b',')
        .map(|t| t.trim_ascii())
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_ignore_case_and_order_is_kept() {
        let mut h = Headers::default();
        h.push("X-Trace", "a");
        h.push("content-TYPE", "text/plain");
        h.push("x-trace", "b");
        assert_eq!(h.get("CONTENT-type"), Some(&b"text/plain"[..]));
        assert_eq!(h.get_all("x-trace").collect::<Vec<_>>(), [&b"a"[..], b"b"]);
        h.set("X-TRACE", "c");
        let names: Vec<_> = h.iter().map(|(n, v)| (n.to_vec(), v.to_vec())).collect();
        assert_eq!(
            names,
            [
                (b"X-Trace".to_vec(), b"c".to_vec()),
                (b"content-TYPE".to_vec(), b"text/plain".to_vec())
            ]
        );
    }

    #[test]
    fn tokens_are_found_in_lists() {
        let mut h = Headers::default();
        h.push("Connection", "keep-alive , Upgrade");
        assert!(h.has_token("connection", "upgrade"));
        assert!(!h.has_token("connection", "close"));
    }
}
