//! How a message body is delimited (RFC 9112 section 6), decided strictly: every ambiguity a
//! request smuggler could use is an error.

use super::error::Error;
use super::head::{RequestHead, ResponseHead, Version};
use super::headers::{Headers, tokens};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    Empty,
    Length(u64),
    Chunked,
    /// A response that ends when the server closes.
    UntilClose,
}

/// The body framing of a request.
pub fn request_body(head: &RequestHead) -> Result<BodyKind, Error> {
    let length = content_length(&head.headers)?;
    if !head.headers.contains("transfer-encoding") {
        return Ok(length.map_or(BodyKind::Empty, BodyKind::Length));
    }
    if length.is_some() {
        return Err(Error::Framing("both Content-Length and Transfer-Encoding"));
    }
    if head.version == Version::Http10 {
        return Err(Error::Framing("Transfer-Encoding in an HTTP/1.0 request"));
    }
    match chunked_last(&head.headers)? {
        true => Ok(BodyKind::Chunked),
        false => Err(Error::Framing("Transfer-Encoding does not end in chunked")),
    }
}

/// The body framing of a response to a request with `method`.
pub fn response_body(method: &[u8], head: &ResponseHead) -> Result<BodyKind, Error> {
    if method == b"HEAD" || head.status < 200 || head.status == 204 || head.status == 304 {
        return Ok(BodyKind::Empty);
    }
    let length = content_length(&head.headers)?;
    if !head.headers.contains("transfer-encoding") {
        return Ok(length.map_or(BodyKind::UntilClose, BodyKind::Length));
    }
    if length.is_some() {
        return Err(Error::Framing("both Content-Length and Transfer-Encoding"));
    }
    match chunked_last(&head.headers)? {
        true => Ok(BodyKind::Chunked),
        false => Ok(BodyKind::UntilClose),
    }
}

/// Whether chunked is the final transfer coding. Chunked alone is all we decode: another coding
/// (gzip, chunked) would have to be passed on, and a proxy re-frames bodies.
fn chunked_last(headers: &Headers) -> Result<bool, Error> {
    let codings: Vec<&[u8]> = headers
        .get_all("transfer-encoding")
        .flat_map(tokens)
        .collect();
    let chunked = |c: &&[u8]| c.eq_ignore_ascii_case(b"chunked");
    match codings.as_slice() {
        [] => Err(Error::Framing("empty Transfer-Encoding")),
        [only] if chunked(only) => Ok(true),
        [.., last] if !chunked(last) && !codings.iter().any(chunked) => Ok(false),
        _ if codings.iter().filter(|c| chunked(c)).count() > 1 => {
            Err(Error::Framing("chunked applied twice"))
        }
        [.., last] if chunked(last) => Err(Error::UnsupportedTransferCoding),
        _ => Err(Error::Framing("chunked is not the final transfer coding")),
    }
}

/// The Content-Length, if any: every value (repeated fields, comma lists) must be the same
/// run of digits.
fn content_length(headers: &Headers) -> Result<Option<u64>, Error> {
    let mut found: Option<u64> = None;
    for value in headers.get_all("content-length") {
        for item in value.split(|b| *b == b',').map(<[u8]>::trim_ascii) {
            if item.is_empty() || item.len() > 19 || !item.iter().all(u8::is_ascii_digit) {
                return Err(Error::Framing("invalid Content-Length"));
            }
            // At most 19 digits: below 10^19, so no overflow.
            let n = item
                .iter()
                .fold(0u64, |n, digit| n * 10 + u64::from(digit - b'0'));
            if found.is_some_and(|f| f != n) {
                return Err(Error::Framing("differing Content-Length values"));
            }
            found = Some(n);
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http1::head::Limits;
    use crate::http1::head::parse_request;
    use bytes::BytesMut;

    fn framing(raw: &str) -> Result<BodyKind, Error> {
        let mut buf = BytesMut::from(raw);
        let head = parse_request(&mut buf, &Limits::default())?.expect("a complete head");
        request_body(&head)
    }

    #[test]
    fn plain_framings() {
        assert_eq!(
            framing("GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
            Ok(BodyKind::Empty)
        );
        assert_eq!(
            framing("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n"),
            Ok(BodyKind::Length(5))
        );
        assert_eq!(
            framing("POST / HTTP/1.1\r\nContent-Length: 5, 5\r\nContent-Length: 5\r\n\r\n"),
            Ok(BodyKind::Length(5))
        );
        assert_eq!(
            framing("POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n"),
            Ok(BodyKind::Chunked)
        );
    }

    #[test]
    fn smuggling_shapes_are_refused() {
        let cases = [
            "POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: 5, 6\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: 0x5\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: \r\n\r\n",
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
            "POST / HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\n",
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST / HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n",
            "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
        ];
        for raw in cases {
            let result = framing(raw);
            assert!(
                matches!(result, Err(Error::Framing(_))),
                "{raw:?} gave {result:?}"
            );
            assert_eq!(result.unwrap_err().status(), 400);
        }
        let gzip = framing("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
        assert_eq!(gzip, Err(Error::UnsupportedTransferCoding));
    }

    #[test]
    fn response_framing_follows_method_and_status() {
        let head = |status: u16, field: Option<(&str, &str)>| {
            let mut headers = Headers::default();
            if let Some((n, v)) = field {
                headers.push(n, v);
            }
            ResponseHead {
                version: Version::Http11,
                status,
                reason: "".into(),
                headers,
            }
        };
        let cl = Some(("Content-Length", "10"));
        assert_eq!(response_body(b"HEAD", &head(200, cl)), Ok(BodyKind::Empty));
        assert_eq!(response_body(b"GET", &head(204, cl)), Ok(BodyKind::Empty));
        assert_eq!(response_body(b"GET", &head(304, cl)), Ok(BodyKind::Empty));
        assert_eq!(
            response_body(b"GET", &head(200, cl)),
            Ok(BodyKind::Length(10))
        );
        assert_eq!(
            response_body(b"GET", &head(200, None)),
            Ok(BodyKind::UntilClose)
        );
        assert_eq!(
            response_body(b"GET", &head(200, Some(("Transfer-Encoding", "chunked")))),
            Ok(BodyKind::Chunked)
        );
    }
}
