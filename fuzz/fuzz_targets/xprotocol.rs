//! Every RPC codec of the registry fed what a peer controls: a byte stream cut into frames,
//! each frame's id rewritten and answered (error, heartbeat reply) as the proxy would. The
//! first byte picks the codec and the frame size limit, so one target covers them all.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use mosn_protocol::xprotocol::{Failure, Registry};

fuzz_target!(|data: &[u8]| {
    let Some((choice, stream)) = data.split_first() else {
        return;
    };
    let registry = Registry::default();
    let names: Vec<&str> = registry.names().collect();
    let codec = registry
        .get(names[usize::from(*choice) % names.len()])
        .unwrap();
    let max_frame = if choice & 0x80 != 0 { 64 } else { 1 << 20 };
    let _ = codec.detect(stream);
    let mut buf = BytesMut::from(stream);
    // Each decoded frame consumes bytes, so this ends.
    while let Ok(Some(frame)) = codec.decode(&mut buf, max_frame) {
        let mut again = BytesMut::new();
        codec.write_with_id(&frame.raw, frame.request_id.wrapping_add(1), &mut again);
        let reread = codec.decode(&mut again, usize::MAX).unwrap().unwrap();
        assert_eq!(
            reread.request_id,
            (frame.request_id.wrapping_add(1)) & codec.max_request_id()
        );
        assert!(again.is_empty());
        for answer in [
            codec.hijack(&frame, Failure::Timeout),
            codec.heartbeat_reply(&frame),
        ] {
            let mut answer = answer;
            assert!(
                codec.decode(&mut answer, usize::MAX).unwrap().is_some(),
                "our answers decode"
            );
        }
    }
});
