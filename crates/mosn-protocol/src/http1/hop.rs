//! Hop-by-hop fields (RFC 9110 section 7.6.1): they describe one connection, so a proxy
//! removes them, along with every field the Connection header names.

use super::headers::{Headers, name_bit, name_bits, tokens};

const HOP_BY_HOP: &[&str] = &[
    "connection",
    "proxy-connection",
    "keep-alive",
    "te",
    "transfer-encoding",
    "upgrade",
];

const HOP_BY_HOP_BITS: u64 = name_bits(HOP_BY_HOP);

/// Whether `name` is one of the fixed hop-by-hop fields (not counting those Connection names).
pub fn is_hop_by_hop(name: &[u8]) -> bool {
    name_bit(name) & HOP_BY_HOP_BITS != 0
        && HOP_BY_HOP
            .iter()
            .any(|h| name.eq_ignore_ascii_case(h.as_bytes()))
}

pub fn remove_hop_by_hop(headers: &mut Headers) {
    // Connection is one of them: with none of their names, there is nothing to remove.
    if !headers.may_have_any(HOP_BY_HOP_BITS) {
        return;
    }
    let named_bits = connection_named(headers).fold(0, |bits, name| bits | name_bit(name));
    if named_bits == 0 {
        headers.remove_where(HOP_BY_HOP_BITS, is_hop_by_hop);
        return;
    }
    // Connection names other fields: rare, so only then are their names copied.
    let named: Vec<Vec<u8>> = connection_named(headers).map(<[u8]>::to_vec).collect();
    headers.remove_where(HOP_BY_HOP_BITS | named_bits, |name| {
        is_hop_by_hop(name) || named.iter().any(|n| name.eq_ignore_ascii_case(n))
    });
}

/// The fields Connection names besides the fixed hop-by-hop ones (`close` names none).
fn connection_named(headers: &Headers) -> impl Iterator<Item = &[u8]> {
    headers
        .get_all("connection")
        .flat_map(tokens)
        .filter(|t| !is_hop_by_hop(t) && !t.eq_ignore_ascii_case(b"close"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names of `fields` left once the hop-by-hop ones are removed.
    fn kept(fields: &[(&str, &str)]) -> Vec<String> {
        let mut h = Headers::default();
        for (n, v) in fields {
            h.push(n, v);
        }
        remove_hop_by_hop(&mut h);
        h.iter()
            .map(|(n, _)| String::from_utf8_lossy(n).into_owned())
            .collect()
    }

    #[test]
    fn removes_fixed_and_named_fields() {
        let fields = [
            ("Host", "a"),
            ("Connection", "keep-alive, X-Secret, close"),
            ("Keep-Alive", "5"),
            ("x-secret", "1"),
            ("TE", "trailers"),
            ("X-Kept", "yes"),
        ];
        assert_eq!(kept(&fields), ["Host", "X-Kept"]);
    }

    #[test]
    fn removes_fixed_fields_when_connection_names_no_other() {
        let fields = [
            ("Server", "nginx"),
            ("Connection", "keep-alive"),
            ("Keep-Alive", "timeout=5"),
            ("Content-Length", "7"),
        ];
        assert_eq!(kept(&fields), ["Server", "Content-Length"]);
    }
}
