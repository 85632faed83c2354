//! Bytes a client may send: the request head parser, the framing decision and the chunked
//! decoder never panic, never take more than they were given, and stay within their limits.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use mosn_protocol::http1::chunked::{ChunkedDecoder, Piece};
use mosn_protocol::http1::head::parse_request;
use mosn_protocol::http1::{BodyKind, Limits, framing};

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    let mut buf = BytesMut::from(data);
    let Ok(Some(head)) = parse_request(&mut buf, &limits) else {
        return;
    };
    assert!(data.len() - buf.len() <= limits.max_head);
    if framing::request_body(&head) == Ok(BodyKind::Chunked) {
        let mut decoder = ChunkedDecoder::default();
        let mut total = 0;
        while let Ok(Some(piece)) = decoder.decode(&mut buf, &limits) {
            match piece {
                Piece::Data(bytes) => total += bytes.len(),
                Piece::End(_) => break,
            }
        }
        assert!(total <= data.len());
    }
});
