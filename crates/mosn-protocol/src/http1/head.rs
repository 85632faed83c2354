//! Request and response heads, parsed with httparse and then held as `Bytes`: a request head
//! as a slice of the received data, a response head copied out once. Names keep their case.

use std::mem::MaybeUninit;
use std::ops::Range;

use bytes::{Buf, Bytes, BytesMut};

use super::encode;
use super::error::Error;
use super::headers::{Headers, Parsed};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    Http10,
    Http11,
    /// A head that came over HTTP/2 (see `http2::convert`).
    Http2,
}

/// The most header fields any head may have (`Limits::max_headers` is capped by it).
pub const MAX_HEADERS: usize = 128;

/// How large a head may be.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Request line, or status line, plus header fields (431 beyond).
    pub max_head: usize,
    pub max_headers: usize,
    /// The request line alone (400 beyond).
    pub max_request_line: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_head: 64 * 1024,
            max_headers: 128,
            max_request_line: 16 * 1024,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    pub method: Bytes,
    /// The request target as sent: origin form (`/a?b`), absolute form, or `*`.
    pub target: Bytes,
    pub version: Version,
    pub headers: Headers,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    pub version: Version,
    pub status: u16,
    pub reason: Bytes,
    pub headers: Headers,
}

impl RequestHead {
    /// For an absolute-form target (`http://host/path?q`): the authority, and the target in
    /// origin form (`/path?q`, `/` when it has no path).
    pub fn absolute_form(&self) -> Option<(&[u8], &[u8])> {
        let target = self.target.as_ref();
        let scheme_end = target.windows(3).position(|w| w == b"://")?;
        if !target[..scheme_end].iter().all(u8::is_ascii_alphabetic) {
            return None;
        }
        let rest = &target[scheme_end + 3..];
        let split = rest
            .iter()
            .position(|b| *b == b'/' || *b == b'?')
            .unwrap_or(rest.len());
        let origin: &[u8] = match &rest[split..] {
            [] => b"/",
            origin => origin,
        };
        Some((&rest[..split], origin))
    }

    /// The target in origin form: the target itself, or the path part of an absolute form.
    pub fn origin_target(&self) -> &[u8] {
        self.absolute_form()
            .map_or(self.target.as_ref(), |(_, origin)| origin)
    }

    /// The path part of the target (before `?`).
    pub fn path(&self) -> &[u8] {
        let target = self.origin_target();
        target.split(|b| *b == b'?').next().unwrap_or(target)
    }
}

fn version(minor: Option<u8>) -> Result<Version, Error> {
    match minor {
        Some(0) => Ok(Version::Http10),
        Some(1) => Ok(Version::Http11),
        _ => Err(Error::Malformed("unsupported HTTP version")),
    }
}

fn malformed(err: httparse::Error, limits: &Limits) -> Error {
    match err {
        httparse::Error::TooManyHeaders => Error::TooManyHeaders(limits.max_headers),
        httparse::Error::HeaderName => Error::Malformed("invalid header name"),
        httparse::Error::HeaderValue => Error::Malformed("invalid header value"),
        httparse::Error::NewLine => Error::Malformed("invalid line ending"),
        httparse::Error::Status => Error::Malformed("invalid status"),
        httparse::Error::Token => Error::Malformed("invalid token"),
        httparse::Error::Version => Error::Malformed("invalid HTTP version"),
    }
}

/// Until a head is complete: refuse it as soon as it is too big to ever be.
fn check_partial(
    buf: &[u8],
    limits: &Limits,
    first_line_limit: Option<usize>,
) -> Result<(), Error> {
    if buf.len() > limits.max_head {
        return Err(Error::HeadTooLarge(limits.max_head));
    }
    if let Some(max) = first_line_limit {
        let line_end = buf.iter().position(|b| *b == b'\n');
        if line_end.unwrap_or(buf.len()) > max {
            return Err(Error::Malformed("the request line is too long"));
        }
    }
    Ok(())
}

/// Offsets of a slice inside the buffer it was parsed from. httparse hands back a static `""`
/// for an empty part (a missing reason phrase), which is not inside the buffer: an empty range.
pub(super) fn range_in(base: &[u8], part: &[u8]) -> Range<usize> {
    let start = (part.as_ptr() as usize).checked_sub(base.as_ptr() as usize);
    match start {
        Some(start) if start + part.len() <= base.len() => start..start + part.len(),
        _ => 0..0,
    }
}

/// Room for httparse's field slices, left uninitialized: it writes each before it is read, and
/// clearing 4 KiB for every head would cost more than parsing a small one.
fn uninit_headers<'b>() -> [MaybeUninit<httparse::Header<'b>>; MAX_HEADERS] {
    [const { MaybeUninit::uninit() }; MAX_HEADERS]
}

/// Parses a request head from the front of `buf`, taking it out of `buf` when complete.
/// `Ok(None)`: more bytes are needed.
pub fn parse_request(buf: &mut BytesMut, limits: &Limits) -> Result<Option<RequestHead>, Error> {
    let mut storage = uninit_headers();
    let mut request = httparse::Request::new(&mut []);
    let storage = &mut storage[..limits.max_headers.min(MAX_HEADERS)];
    let length = match request.parse_with_uninit_headers(buf, storage) {
        Ok(httparse::Status::Partial) => {
            check_partial(buf, limits, Some(limits.max_request_line))?;
            return Ok(None);
        }
        Ok(httparse::Status::Complete(length)) => length,
        Err(err) => return Err(malformed(err, limits)),
    };
    if length > limits.max_head {
        return Err(Error::HeadTooLarge(limits.max_head));
    }
    let version = version(request.version)?;
    let method = range_in(buf, request.method.unwrap_or_default().as_bytes());
    let target = range_in(buf, request.path.unwrap_or_default().as_bytes());
    if target.len() > limits.max_request_line {
        return Err(Error::Malformed("the request line is too long"));
    }
    let fields = Parsed::of(buf, request.headers);
    let head = buf.split_to(length).freeze();
    Ok(Some(RequestHead {
        method: head.slice(method),
        target: head.slice(target),
        version,
        headers: fields.on(head),
    }))
}

/// Parses a response head from the front of `buf`, taking it out when complete.
pub fn parse_response(buf: &mut BytesMut, limits: &Limits) -> Result<Option<ResponseHead>, Error> {
    let mut storage = uninit_headers();
    let mut response = httparse::Response::new(&mut []);
    let storage = &mut storage[..limits.max_headers.min(MAX_HEADERS)];
    let length = match httparse::ParserConfig::default().parse_response_with_uninit_headers(
        &mut response,
        buf,
        storage,
    ) {
        Ok(httparse::Status::Partial) => {
            check_partial(buf, limits, None)?;
            return Ok(None);
        }
        Ok(httparse::Status::Complete(length)) => length,
        Err(err) => return Err(malformed(err, limits)),
    };
    if length > limits.max_head {
        return Err(Error::HeadTooLarge(limits.max_head));
    }
    let version = version(response.version)?;
    let status = response.code.ok_or(Error::Malformed("no status"))?;
    let reason = response.reason.unwrap_or_default();
    let standard_reason = Some(encode::reason(status)).filter(|standard| *standard == reason);
    let reason = range_in(buf, reason.as_bytes());
    let fields = Parsed::of(buf, response.headers);
    // The head is copied out: it lives as long as the exchange, and should not hold the whole
    // read buffer, which then stays unshared, and so reusable, for the body.
    let head = Bytes::copy_from_slice(&buf[..length]);
    buf.advance(length);
    Ok(Some(ResponseHead {
        version,
        status,
        reason: match standard_reason {
            Some(standard) => Bytes::from_static(standard.as_bytes()),
            None => head.slice(reason),
        },
        headers: fields.on(head),
    }))
}

/// Parses trailer fields (a header block without a start line) at the front of `buf`.
pub fn parse_fields(buf: &mut BytesMut, limits: &Limits) -> Result<Option<Headers>, Error> {
    let mut storage = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let (length, fields) =
        match httparse::parse_headers(buf, &mut storage[..limits.max_headers.min(MAX_HEADERS)]) {
            Ok(httparse::Status::Partial) => {
                check_partial(buf, limits, None)?;
                return Ok(None);
            }
            Ok(httparse::Status::Complete((length, parsed))) => (length, Parsed::of(buf, parsed)),
            Err(err) => return Err(malformed(err, limits)),
        };
    let block = buf.split_to(length).freeze();
    Ok(Some(fields.on(block)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &[u8]) -> Result<Option<RequestHead>, Error> {
        parse_request(&mut BytesMut::from(raw), &Limits::default())
    }

    #[test]
    fn a_request_head_keeps_case_order_and_the_rest_of_the_buffer() {
        let mut buf =
            BytesMut::from(&b"POST /a?b=1 HTTP/1.1\r\nHost: x\r\nX-Mixed-Case: 1\r\n\r\nBODY"[..]);
        let head = parse_request(&mut buf, &Limits::default())
            .unwrap()
            .unwrap();
        assert_eq!(&head.method[..], b"POST");
        assert_eq!(head.path(), b"/a");
        let names: Vec<_> = head.headers.iter().map(|(n, _)| n.to_vec()).collect();
        assert_eq!(names, [b"Host".to_vec(), b"X-Mixed-Case".to_vec()]);
        assert_eq!(&buf[..], b"BODY");
    }

    #[test]
    fn a_response_without_reason_phrase_parses() {
        let mut buf = BytesMut::from(&b"\nHTTP/1.0 000\n\nz"[..]);
        let head = parse_response(&mut buf, &Limits::default())
            .unwrap()
            .unwrap();
        assert_eq!((head.status, &head.reason[..]), (0, &b""[..]));
        let mut buf = BytesMut::from(&b"HTTP/1.1 204\r\n\r\n"[..]);
        assert_eq!(
            parse_response(&mut buf, &Limits::default())
                .unwrap()
                .unwrap()
                .status,
            204
        );
    }

    #[test]
    fn absolute_form_targets_give_their_authority_and_path() {
        let head = parse(b"GET http://example.com:8080/a/b?c=1 HTTP/1.1\r\nHost: other\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(
            head.absolute_form(),
            Some((&b"example.com:8080"[..], &b"/a/b?c=1"[..]))
        );
        assert_eq!(head.path(), b"/a/b");
        let bare = parse(b"GET http://example.com HTTP/1.1\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(bare.origin_target(), b"/");
        let origin = parse(b"GET /x://y HTTP/1.1\r\n\r\n").unwrap().unwrap();
        assert_eq!(
            (origin.absolute_form(), origin.path()),
            (None, &b"/x://y"[..])
        );
    }

    #[test]
    fn partial_heads_wait_for_more() {
        assert_eq!(parse(b"GET / HTTP/1.1\r\nHost: x\r\n"), Ok(None));
    }

    #[test]
    fn each_malformed_shape_gets_400() {
        let cases: [&[u8]; 7] = [
            b"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost : x\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: x\rY: z\r\n\r\n",
            b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
            b"GET / HTTP/1.1\r\n(bad): x\r\n\r\n",
            b"GET / HTTP/2.0\r\n\r\n",
            b"GET /\x01 HTTP/1.1\r\n\r\n",
        ];
        for raw in cases {
            let result = parse(raw);
            assert!(
                result.as_ref().is_err_and(|e| e.status() == 400),
                "{:?} gave {result:?}",
                String::from_utf8_lossy(raw)
            );
        }
    }

    #[test]
    fn a_request_line_that_is_too_long_gets_400_before_it_ends() {
        let mut raw = b"GET /".to_vec();
        raw.extend(std::iter::repeat_n(
            b'a',
            Limits::default().max_request_line + 1,
        ));
        let result = parse(&raw);
        assert!(result.is_err_and(|e| e.status() == 400));
    }

    #[test]
    fn a_head_over_the_limit_or_with_too_many_fields_gets_431() {
        let mut raw = b"GET / HTTP/1.1\r\n".to_vec();
        while raw.len() <= Limits::default().max_head {
            raw.extend_from_slice(b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
        }
        let too_large = parse(&raw);
        assert!(too_large.is_err_and(|e| e.status() == 431));
        let mut many = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..=MAX_HEADERS {
            many.extend_from_slice(format!("X-{i}: 1\r\n").as_bytes());
        }
        many.extend_from_slice(b"\r\n");
        assert_eq!(parse(&many), Err(Error::TooManyHeaders(MAX_HEADERS)));
    }
}
