//! What a client controls on the way to and from HTTP/2: protocol detection, `grpc-timeout`,
//! and the conversion of any head our HTTP/1 parser accepts into an HTTP/2 request and back.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use mosn_protocol::detect::{Protocol, detect};
use mosn_protocol::grpc;
use mosn_protocol::http1::Limits;
use mosn_protocol::http1::head::parse_request;
use mosn_protocol::http2::convert;

fuzz_target!(|data: &[u8]| {
    let _ = detect(data, &[Protocol::Http1, Protocol::Http2]);
    let mut buf = BytesMut::from(data);
    if let Ok(Some(head)) = parse_request(&mut buf, &Limits::default()) {
        let _ = grpc::timeout(&head.headers);
        let _ = grpc::is_grpc(&head.headers);
        if let Ok(request) = convert::request(&head, "http") {
            let (parts, ()) = request.into_parts();
            let back = convert::request_head(&parts);
            let _ = convert::headers_to_map(&back.headers);
        }
    }
});
