//! Telling protocols apart from the first bytes of a connection, for `Auto`.

/// The connection preface every HTTP/2 client sends first (RFC 9113 section 3.4).
pub const HTTP2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Methods an HTTP/1 request can start with, as MOSN's detection knows them.
const HTTP1_METHODS: &[&[u8]] = &[
    b"GET ",
    b"POST ",
    b"PUT ",
    b"DELETE ",
    b"HEAD ",
    b"OPTIONS ",
    b"PATCH ",
    b"CONNECT ",
    b"TRACE ",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Http1,
    Http2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detection {
    Found(Protocol),
    /// The bytes so far fit more than one protocol, or none yet: read more.
    NeedMore,
    /// No candidate sends these bytes.
    Unknown,
}

/// Which of `candidates` the connection speaks, from its first bytes.
pub fn detect(start: &[u8], candidates: &[Protocol]) -> Detection {
    let mut undecided = false;
    for protocol in candidates {
        let prefixes: &[&[u8]] = match protocol {
            Protocol::Http2 => &[HTTP2_PREFACE],
            Protocol::Http1 => HTTP1_METHODS,
        };
        for prefix in prefixes {
            if start.starts_with(prefix) {
                return Detection::Found(*protocol);
            }
            undecided |= prefix.starts_with(start);
        }
    }
    match undecided {
        true => Detection::NeedMore,
        false => Detection::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOTH: &[Protocol] = &[Protocol::Http1, Protocol::Http2];

    #[test]
    fn the_preface_and_methods_are_told_apart() {
        assert_eq!(
            detect(HTTP2_PREFACE, BOTH),
            Detection::Found(Protocol::Http2)
        );
        assert_eq!(
            detect(b"GET / HTTP/1.1\r\n", BOTH),
            Detection::Found(Protocol::Http1)
        );
        assert_eq!(
            detect(b"P", BOTH),
            Detection::NeedMore,
            "PUT, POST, PATCH or PRI"
        );
        assert_eq!(detect(b"PRI * HTTP/2", BOTH), Detection::NeedMore);
        assert_eq!(detect(b"\x16\x03\x01", BOTH), Detection::Unknown);
        assert_eq!(detect(b"", BOTH), Detection::NeedMore);
    }

    #[test]
    fn only_candidates_are_found() {
        assert_eq!(
            detect(HTTP2_PREFACE, &[Protocol::Http1]),
            Detection::Unknown
        );
        assert_eq!(detect(b"GET /", &[Protocol::Http2]), Detection::Unknown);
    }
}
