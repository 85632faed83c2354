use bytes::BytesMut;

use super::*;
use crate::xprotocol::DEFAULT_MAX_FRAME;

const CMD_REQUEST: u16 = 1;

/// A v1 request frame with a class, a header map and content, as SOFARPC sends one.
fn v1_request(id: u32, headers: &[(&str, &str)], timeout: i32) -> BytesMut {
    let class = b"com.alipay.sofa.rpc.core.request.SofaRequest";
    let map = header_map::encode(headers);
    let content = b"\x4fcontent";
    let mut out = BytesMut::new();
    out.put_u8(0x01);
    out.put_u8(TYPE_REQUEST);
    out.put_u16(CMD_REQUEST);
    out.put_u8(1);
    out.put_u32(id);
    out.put_u8(HESSIAN2);
    out.put_i32(timeout);
    out.put_u16(class.len() as u16);
    out.put_u16(map.len() as u16);
    out.put_u32(content.len() as u32);
    out.put_slice(class);
    out.put_slice(&map);
    out.put_slice(content);
    out
}

/// The same request in v2, with or without a CRC.
fn v2_request(id: u32, crc: bool) -> BytesMut {
    let v1 = v1_request(id, &[("service", "s")], 3000);
    let mut out = BytesMut::new();
    out.put_u8(0x02);
    out.put_u8(if crc { 2 } else { 1 });
    out.put_slice(&v1[1..10]);
    out.put_u8(if crc { SWITCH_CRC } else { 0 });
    out.put_slice(&v1[10..]);
    if crc {
        let sum = crc32fast::hash(&out);
        out.put_u32(sum);
    }
    out
}

fn decode_all(bytes: &[u8]) -> Frame {
    let mut buf = BytesMut::from(bytes);
    let frame = BOLT.decode(&mut buf, DEFAULT_MAX_FRAME).unwrap().unwrap();
    assert!(buf.is_empty(), "the whole frame is taken");
    frame
}

#[test]
fn a_request_reads_its_id_timeout_and_headers() {
    let bytes = v1_request(7, &[("service", "com.example.Echo:1.0"), ("k", "v")], 3000);
    let frame = decode_all(&bytes);
    assert_eq!(frame.kind, Kind::Request);
    assert_eq!(frame.request_id, 7);
    assert_eq!(frame.timeout, Some(Duration::from_millis(3000)));
    assert_eq!(frame.header("service"), Some("com.example.Echo:1.0"));
    assert_eq!(frame.header("k"), Some("v"));
    assert_eq!(
        &frame.raw[..],
        &bytes[..],
        "the frame passes through unchanged"
    );
}

#[test]
fn every_cut_of_a_frame_waits_for_more() {
    let bytes = v1_request(1, &[("service", "s")], 0);
    for cut in 0..bytes.len() {
        let mut buf = BytesMut::from(&bytes[..cut]);
        assert!(
            BOLT.decode(&mut buf, DEFAULT_MAX_FRAME).unwrap().is_none(),
            "{cut}"
        );
        assert_eq!(buf.len(), cut, "nothing consumed at {cut}");
    }
    let mut two = bytes.clone();
    two.extend_from_slice(&bytes);
    let mut buf = two;
    assert!(BOLT.decode(&mut buf, DEFAULT_MAX_FRAME).unwrap().is_some());
    assert_eq!(buf.len(), bytes.len(), "the second frame stays");
}

#[test]
fn the_request_id_is_rewritten() {
    let mut raw = BytesMut::new();
    BOLT.write_with_id(&v1_request(1, &[], 0), u64::from(u32::MAX) + 5, &mut raw);
    assert_eq!(decode_all(&raw).request_id, 4, "ids are u32 and wrap");
}

#[test]
fn v2_frames_are_read_by_both_codecs_and_their_crc_is_kept_true() {
    for crc in [false, true] {
        let bytes = v2_request(9, crc);
        for codec in [&BOLT, &BOLTV2] {
            let mut buf = BytesMut::from(&bytes[..]);
            let frame = codec.decode(&mut buf, DEFAULT_MAX_FRAME).unwrap().unwrap();
            assert!(buf.is_empty());
            assert_eq!((frame.request_id, frame.header("service")), (9, Some("s")));
            let mut again = BytesMut::new();
            codec.write_with_id(&frame.raw, 77, &mut again);
            let reread = codec
                .decode(&mut again, DEFAULT_MAX_FRAME)
                .unwrap()
                .unwrap();
            assert_eq!(
                reread.request_id, 77,
                "crc {crc}: the CRC follows the new id"
            );
        }
    }
}

#[test]
fn a_crc_mismatch_is_refused_with_a_codec_exception() {
    let mut bytes = v2_request(3, true);
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    let err = BOLTV2.decode(&mut bytes, DEFAULT_MAX_FRAME).unwrap_err();
    assert!(err.problem.contains("CRC"), "{err}");
    let reply = err.reply.expect("a request gets an answer");
    let mut reply = reply;
    let answer = BOLTV2
        .decode(&mut reply, DEFAULT_MAX_FRAME)
        .unwrap()
        .unwrap();
    assert_eq!((answer.kind, answer.request_id), (Kind::Response, 3));
    assert_eq!(answer.status, status::CODEC_EXCEPTION);
}

#[test]
fn an_oversized_frame_is_refused_from_its_header_alone() {
    let bytes = v1_request(5, &[], 0);
    let mut header_only = BytesMut::from(&bytes[..22]);
    let err = BOLT.decode(&mut header_only, 30).unwrap_err();
    assert!(err.problem.contains("over the limit"), "{err}");
    let mut reply = err.reply.unwrap();
    let answer = BOLT.decode(&mut reply, DEFAULT_MAX_FRAME).unwrap().unwrap();
    assert_eq!(
        (answer.request_id, answer.status),
        (5, status::CODEC_EXCEPTION)
    );
}

#[test]
fn unknown_protos_types_and_bad_header_maps_are_errors() {
    let mut bytes = BytesMut::from(&b"\x07rest"[..]);
    assert!(BOLT.decode(&mut bytes, DEFAULT_MAX_FRAME).is_err());
    let mut bytes = v1_request(1, &[], 0);
    bytes[1] = 9;
    assert!(
        BOLT.decode(&mut bytes, DEFAULT_MAX_FRAME)
            .unwrap_err()
            .reply
            .is_none()
    );
    let mut bytes = v1_request(1, &[("a", "b")], 0);
    // The header map claims a key longer than the map itself.
    let map_at = 22 + usize::from(u16_at(&bytes, 14));
    bytes[map_at..map_at + 4].copy_from_slice(&100u32.to_be_bytes());
    let err = BOLT.decode(&mut bytes, DEFAULT_MAX_FRAME).unwrap_err();
    assert!(err.problem.contains("header map"), "{err}");
}

#[test]
fn heartbeats_hijacks_and_goaways_are_well_formed() {
    for codec in [&BOLT, &BOLTV2] {
        let mut beat = codec.heartbeat(42).unwrap();
        let beat = codec.decode(&mut beat, DEFAULT_MAX_FRAME).unwrap().unwrap();
        assert_eq!((beat.kind, beat.request_id), (Kind::Heartbeat, 42));
        let mut reply = codec.heartbeat_reply(&beat);
        let reply = codec
            .decode(&mut reply, DEFAULT_MAX_FRAME)
            .unwrap()
            .unwrap();
        assert_eq!(
            (reply.kind, reply.request_id, reply.status),
            (Kind::HeartbeatReply, 42, 0)
        );
        let mut goaway = codec.goaway().unwrap();
        let goaway = codec
            .decode(&mut goaway, DEFAULT_MAX_FRAME)
            .unwrap()
            .unwrap();
        assert_eq!(goaway.kind, Kind::Goaway);
    }
    let request = decode_all(&v1_request(11, &[], 0));
    for (failure, want) in [
        (Failure::Timeout, status::TIMEOUT),
        (Failure::NoRoute, status::NO_PROCESSOR),
        (Failure::NoHealthyUpstream, status::NO_PROCESSOR),
        (Failure::Overflow, status::THREADPOOL_BUSY),
        (Failure::Codec, status::CODEC_EXCEPTION),
    ] {
        let mut answer = BOLT.hijack(&request, failure);
        let answer = BOLT
            .decode(&mut answer, DEFAULT_MAX_FRAME)
            .unwrap()
            .unwrap();
        assert_eq!((answer.kind, answer.request_id), (Kind::Response, 11));
        assert_eq!(answer.status, want, "{failure:?}");
    }
    let v2_crc = BOLTV2
        .decode(&mut v2_request(12, true), DEFAULT_MAX_FRAME)
        .unwrap()
        .unwrap();
    let mut answer = BOLTV2.hijack(&v2_crc, Failure::Timeout);
    let answer = BOLTV2
        .decode(&mut answer, DEFAULT_MAX_FRAME)
        .unwrap()
        .unwrap();
    assert_eq!(
        (answer.request_id, answer.status),
        (12, status::TIMEOUT),
        "answered in v2 with a CRC"
    );
}

#[test]
fn statuses_map_to_http() {
    assert_eq!(BOLT.http_status(status::SUCCESS), 200);
    assert_eq!(BOLT.http_status(status::TIMEOUT), 504);
    assert_eq!(BOLT.http_status(status::CONNECTION_CLOSED), 502);
    assert_eq!(BOLT.http_status(status::SERVER_EXCEPTION), 500);
    assert_eq!(BOLT.status_for_http(200), status::SUCCESS);
    assert_eq!(BOLT.status_for_http(418), status::UNKNOWN);
}
