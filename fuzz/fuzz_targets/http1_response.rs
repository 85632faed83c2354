//! Bytes an upstream may send: the response head parser and framing never panic.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use mosn_protocol::http1::head::parse_response;
use mosn_protocol::http1::{Limits, framing};

fuzz_target!(|data: &[u8]| {
    let mut buf = BytesMut::from(data);
    if let Ok(Some(head)) = parse_response(&mut buf, &Limits::default()) {
        let _ = framing::response_body(b"GET", &head);
        let _ = framing::response_body(b"HEAD", &head);
    }
});
