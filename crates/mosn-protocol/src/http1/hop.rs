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
    // The other fields Connection names (`close` names none): usually there are none, and
    // nothing is allocated.
    let named: Vec<Vec<u8>> = headers
        .get_all("connection")
        .flat_map(tokens)
        .filter(|t| !is_hop_by_hop(t) && !t.eq_ignore_ascii_case(b"close"))
        .map(<[u8]>::to_vec)
        .collect();
    let bits = named
        .iter()
        .fold(HOP_BY_HOP_BITS, |bits, name| bits | name_bit(name));
    headers.remove_where(bits, |name| {
        is_hop_by_hop(name) || named.iter().any(|n| name.eq_ignore_ascii_case(n))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_fixed_and_named_fields() {
        let mut h = Headers::default();
        for (n, v) in [
            ("Host", "a"),
            ("Connection", "keep-alive, X-Secret, close"),
            ("Keep-Alive", "5"),
            ("x-secret", "1"),
            ("TE", "trailers"),
            ("X-Kept", "yes"),
        ] {
            h.push(n, v);
        }
        remove_hop_by_hop(&mut h);
        let names: Vec<_> = h
            .iter()
            .map(|(n, _)| String::from_utf8_lossy(n).into_owned())
            .collect();
        assert_eq!(names, ["Host", "X-Kept"]);
    }
}
