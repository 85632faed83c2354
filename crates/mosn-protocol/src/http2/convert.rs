//! Heads to and from `h2`'s `http` types. HTTP/2 has no connection-specific fields (RFC 9113
//! section 8.2.2): they are dropped on the way in and on the way out, except `te: trailers`,
//! which gRPC servers require. `:authority` and Host are one field in our heads: `host`.

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method, Request, Response, StatusCode, Uri};

use crate::http1::encode::reason;
use crate::http1::headers::HeadWriter;
use crate::http1::hop::is_hop_by_hop;
use crate::http1::{Headers, RequestHead, ResponseHead, Version};

#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("invalid method")]
    Method,
    #[error("invalid request target or authority")]
    Target,
}

/// Header fields from an HTTP/2 message, in the order `h2` gives them, in one buffer.
pub fn headers_from_map(map: &HeaderMap) -> Headers {
    let mut writer = HeadWriter::new(b"", map.len(), field_bytes(map));
    push_fields(map, &mut writer);
    writer.finish().1
}

/// The bytes the names and values of `map` take.
fn field_bytes(map: &HeaderMap) -> usize {
    map.iter().map(|(n, v)| n.as_str().len() + v.len()).sum()
}

fn push_fields(map: &HeaderMap, writer: &mut HeadWriter) {
    for (name, value) in map {
        writer.push(name.as_str().as_bytes(), value.as_bytes());
    }
}

/// Header fields for an HTTP/2 message: names lowercased; connection-specific fields (Host
/// goes in `:authority`), and fields HTTP/2 cannot carry, left out. Values of a received head
/// are shared with it, not copied.
pub fn headers_to_map(headers: &Headers) -> HeaderMap {
    let mut map = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers.iter_shared() {
        let te_trailers =
            name.eq_ignore_ascii_case(b"te") && value.eq_ignore_ascii_case(b"trailers");
        if (is_hop_by_hop(name) && !te_trailers) || name.eq_ignore_ascii_case(b"host") {
            continue;
        }
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name),
            HeaderValue::from_maybe_shared(value),
        ) else {
            continue;
        };
        map.append(name, value);
    }
    map
}

/// The head of a request that came over HTTP/2: `:authority` becomes `host`, first. The
/// target and the fields share one buffer.
pub fn request_head(request: &http::request::Parts) -> RequestHead {
    let authority = request
        .uri
        .authority()
        .filter(|_| !request.headers.contains_key(http::header::HOST));
    let target = match (&request.method, request.uri.path_and_query()) {
        (&Method::CONNECT, _) => request.uri.authority().map(|a| a.as_str()),
        (_, Some(path)) => Some(path.as_str()),
        (_, None) => None,
    };
    let mut writer = HeadWriter::new(
        target.unwrap_or("/").as_bytes(),
        request.headers.len() + 1,
        field_bytes(&request.headers) + authority.map_or(0, |a| "host".len() + a.as_str().len()),
    );
    if let Some(authority) = authority {
        writer.push(b"host", authority.as_str().as_bytes());
    }
    push_fields(&request.headers, &mut writer);
    let (target, headers) = writer.finish();
    RequestHead {
        method: method_bytes(&request.method),
        target,
        version: Version::Http2,
        headers,
    }
}

/// The method's name: a static one for the standard methods, saving an allocation.
fn method_bytes(method: &Method) -> Bytes {
    const STANDARD: [&str; 9] = [
        "GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "CONNECT", "PATCH", "TRACE",
    ];
    match STANDARD.iter().find(|name| **name == method.as_str()) {
        Some(name) => Bytes::from_static(name.as_bytes()),
        None => Bytes::copy_from_slice(method.as_str().as_bytes()),
    }
}

/// An HTTP/2 request for `head` (in origin form, its authority in `host`).
pub fn request(head: &RequestHead, scheme: &str) -> Result<Request<()>, ConvertError> {
    let method = Method::from_bytes(&head.method).map_err(|_| ConvertError::Method)?;
    let authority = head.headers.get("host").unwrap_or(b"localhost");
    let uri = if method == Method::CONNECT {
        Uri::builder().authority(authority)
    } else {
        Uri::builder()
            .scheme(scheme)
            .authority(authority)
            .path_and_query(head.target.as_ref())
    }
    .build()
    .map_err(|_| ConvertError::Target)?;
    let mut request = Request::new(());
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    *request.headers_mut() = headers_to_map(&head.headers);
    Ok(request)
}

/// The head of a response that came over HTTP/2.
pub fn response_head(response: &http::response::Parts) -> ResponseHead {
    let status = response.status.as_u16();
    ResponseHead {
        version: Version::Http2,
        status,
        reason: Bytes::from_static(reason(status).as_bytes()),
        headers: headers_from_map(&response.headers),
    }
}

/// An HTTP/2 response for `head`; `None` when its status cannot be sent (under 100 or over 999).
pub fn response(head: &ResponseHead) -> Option<Response<()>> {
    let mut response = Response::new(());
    *response.status_mut() = StatusCode::from_u16(head.status).ok()?;
    *response.headers_mut() = headers_to_map(&head.headers);
    Some(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authority_becomes_host_and_back() {
        let (parts, ()) = Request::builder()
            .uri("http://example.com:8080/a/b?c=d")
            .header("x-one", "1")
            .body(())
            .unwrap()
            .into_parts();
        let head = request_head(&parts);
        assert_eq!(&head.target[..], b"/a/b?c=d");
        let names: Vec<&[u8]> = head.headers.iter().map(|(n, _)| n).collect();
        assert_eq!(names, [&b"host"[..], b"x-one"]);
        assert_eq!(head.headers.get("host"), Some(&b"example.com:8080"[..]));
        let again = request(&head, "http").unwrap();
        assert_eq!(again.uri(), "http://example.com:8080/a/b?c=d");
        assert!(
            !again.headers().contains_key("host"),
            "host goes in :authority"
        );
    }

    #[test]
    fn connection_fields_are_dropped_but_te_trailers_stays() {
        let mut headers = Headers::default();
        for (name, value) in [
            ("Connection", "keep-alive"),
            ("Keep-Alive", "5"),
            ("Transfer-Encoding", "chunked"),
            ("TE", "trailers"),
            ("X-Kept", "yes"),
            ("Bad Name", "x"),
        ] {
            headers.push(name, value);
        }
        let map = headers_to_map(&headers);
        let names: Vec<&str> = map.keys().map(|n| n.as_str()).collect();
        assert_eq!(names, ["te", "x-kept"]);
        let mut gzip = Headers::default();
        gzip.push("te", "gzip");
        assert!(headers_to_map(&gzip).is_empty(), "only te: trailers passes");
    }

    #[test]
    fn a_status_http2_cannot_carry_is_refused() {
        let head = ResponseHead {
            version: Version::Http11,
            status: 42,
            reason: Bytes::new(),
            headers: Headers::default(),
        };
        assert!(response(&head).is_none());
    }
}
