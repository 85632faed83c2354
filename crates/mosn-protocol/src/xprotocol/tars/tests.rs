use bytes::{BufMut, BytesMut};

use super::encoding::{put_bytes, put_int, put_string, put_string_map};
use super::*;
use crate::xprotocol::DEFAULT_MAX_FRAME;

/// A RequestPacket as TARS clients write it, with `context` as its context map.
fn request(id: i64, packet_type: i64, context: &[(&str, &str)]) -> BytesMut {
    request_packet(TARS_VERSION, id, packet_type, context, &[])
}

/// A RequestPacket of any version: TUP answers with these too, `status` saying how it went.
fn request_packet(
    version: i64,
    id: i64,
    packet_type: i64,
    context: &[(&str, &str)],
    status: &[(&str, &str)],
) -> BytesMut {
    let mut out = BytesMut::new();
    out.put_u32(0);
    put_int(&mut out, 1, version);
    put_int(&mut out, 2, packet_type);
    put_int(&mut out, 3, 0);
    put_int(&mut out, 4, id);
    put_string(&mut out, 5, "Test.EchoServer.EchoObj");
    put_string(&mut out, 6, "echo");
    put_bytes(&mut out, 7, b"\x16\x05hello");
    put_int(&mut out, 8, 3000);
    put_string_map(&mut out, 9, context);
    put_string_map(&mut out, 10, status);
    set_length(&mut out, 0);
    out
}

fn decode(bytes: &[u8]) -> Frame {
    let mut buf = BytesMut::from(bytes);
    let frame = Tars.decode(&mut buf, DEFAULT_MAX_FRAME).unwrap().unwrap();
    assert!(buf.is_empty(), "the whole packet is one frame");
    frame
}

fn with_id(frame: &[u8], id: u64) -> BytesMut {
    let mut out = BytesMut::new();
    Tars.write_with_id(frame, id, &mut out);
    out
}

#[test]
fn a_request_gives_its_servant_function_timeout_and_context() {
    let frame = decode(&request(7, 0, &[("zone", "gz")]));
    assert_eq!((frame.kind, frame.request_id), (Kind::Request, 7));
    assert_eq!(frame.header("service"), Some("Test.EchoServer.EchoObj"));
    assert_eq!(frame.header("method"), Some("echo"));
    assert_eq!(frame.header("zone"), Some("gz"));
    assert_eq!(frame.timeout, Some(Duration::from_millis(3000)));
    assert_eq!(decode(&request(7, ONEWAY, &[])).kind, Kind::Oneway);
}

#[test]
fn incomplete_packets_wait_and_a_second_one_stays() {
    let bytes = request(1, 0, &[]);
    for cut in 0..bytes.len() {
        let mut buf = BytesMut::from(&bytes[..cut]);
        assert!(
            Tars.decode(&mut buf, DEFAULT_MAX_FRAME).unwrap().is_none(),
            "{cut}"
        );
        assert_eq!(buf.len(), cut, "nothing consumed at {cut}");
    }
    let mut two = bytes.clone();
    two.extend_from_slice(&bytes);
    assert!(Tars.decode(&mut two, DEFAULT_MAX_FRAME).unwrap().is_some());
    assert_eq!(two.len(), bytes.len());
}

#[test]
fn a_new_id_of_another_width_rewrites_the_packet_and_its_length() {
    let small = request(1, 0, &[("k", "v")]);
    for id in [
        0,
        1,
        300,
        70_000,
        u64::from(i32::MAX as u32),
        u64::from(u32::MAX),
    ] {
        let moved = with_id(&small, id);
        let frame = decode(&moved);
        assert_eq!(frame.request_id, id);
        assert_eq!(frame.header("k"), Some("v"), "the rest is kept");
        assert_eq!(decode(&with_id(&moved, 1)).raw, small, "and back again");
    }
}

#[test]
fn an_error_answer_is_a_response_with_a_tars_return_code() {
    let request = decode(&request(42, 0, &[]));
    for (failure, ret) in [
        (Failure::Timeout, status::INVOKE_TIMEOUT),
        (Failure::NoRoute, status::NO_SERVANT),
        (Failure::NoHealthyUpstream, status::PROXY_CONNECT_ERROR),
        (Failure::Overflow, status::OVERLOAD),
    ] {
        let answer = decode(&Tars.hijack(&request, failure));
        assert_eq!(
            (answer.kind, answer.request_id, answer.status as i32),
            (Kind::Response, 42, ret)
        );
        assert_eq!(Tars.http_status(answer.status), failure.http_status());
    }
}

#[test]
fn bad_packets_are_refused_answering_the_request_when_its_id_is_readable() {
    let mut short = BytesMut::from(&[0, 0, 0, 3, 0][..]);
    assert!(Tars.decode(&mut short, DEFAULT_MAX_FRAME).is_err());

    let mut cut_body = request(9, 0, &[]);
    let len = cut_body.len();
    cut_body[len - 3] = 0x9f; // the head of the context map's size, now of no known type
    let err = Tars.decode(&mut cut_body, DEFAULT_MAX_FRAME).unwrap_err();
    let answer = decode(&err.reply.expect("an answer"));
    assert_eq!(
        (answer.request_id, answer.status as i32),
        (9, status::DECODE_ERROR)
    );

    let mut large = request(5, 0, &[]);
    let err = Tars.decode(&mut large, 16).unwrap_err();
    assert!(err.problem.contains("over the limit"), "{}", err.problem);
    assert_eq!(decode(&err.reply.unwrap()).request_id, 5);
}

#[test]
fn deep_nesting_is_refused_not_recursed_into() {
    let mut out = BytesMut::new();
    out.put_u32(0);
    put_int(&mut out, 1, TARS_VERSION);
    for _ in 0..10_000 {
        out.put_u8(0x09); // a list of one list of one ...
        put_int(&mut out, 0, 1);
    }
    set_length(&mut out, 0);
    assert!(Tars.decode(&mut out, DEFAULT_MAX_FRAME).is_err());
}

#[test]
fn detection_reads_the_length_and_the_version_field() {
    let bytes = request(1, 0, &[]);
    assert_eq!(Tars.detect(&bytes), Detection::Yes);
    assert_eq!(Tars.detect(&bytes[..5]), Detection::NeedMore);
    assert_eq!(Tars.detect(b"GET / HTTP/1.1\r\n"), Detection::No);
    assert_eq!(Tars.detect(&[0, 0, 0, 9, 0x10, 2]), Detection::Yes, "TUP");
    assert_eq!(Tars.detect(&[0, 0, 0, 9, 0x10, 4]), Detection::No);
}

#[test]
fn tup_answers_are_request_packets_with_their_code_in_the_status_map() {
    let tup_request = decode(&request_packet(3, 11, 0, &[], &[]));
    assert_eq!(
        (tup_request.kind, tup_request.request_id),
        (Kind::Request, 11)
    );
    let answer = request_packet(3, 11, 0, &[], &[(RESULT_CODE, "-3"), (RESULT_DESC, "")]);
    let answer = decode(&answer);
    assert_eq!(
        (answer.kind, answer.status as i32),
        (Kind::Response, status::NO_FUNCTION)
    );
    let ours = decode(&Tars.hijack(&tup_request, Failure::Timeout));
    assert_eq!(
        (ours.kind, ours.request_id, ours.status as i32),
        (Kind::Response, 11, status::INVOKE_TIMEOUT)
    );
    assert_eq!(&ours.raw[4..6], &[0x10, 3], "in the request's version");
    let plain = request_packet(TARS_VERSION, 11, 0, &[], &[(RESULT_CODE, "-3")]);
    assert_eq!(decode(&plain).kind, Kind::Request, "only TUP answers so");
}

#[test]
fn fields_are_read_in_any_order_and_a_repeated_tag_counts_once() {
    // Field 3 (a response's id) twice: the first is the one read and rewritten.
    let repeated = b"\x00\x00\x00\x1c\xf0\x01\x2c\x31\x02\x4c\x5c\x00\x00\x00\x00\x1c\xf0\x01\x2c\x31\x02\x4c\x5c\x00\x86\x00\x98\x0c";
    // Field 5 (iRet) before field 3.
    let unordered = b"\x00\x00\x00\x0c\x10\x01\x2c\x5c\x4c\x31\x02\x4c";
    for bytes in [&repeated[..], &unordered[..]] {
        let frame = decode(bytes);
        assert_eq!((frame.kind, frame.request_id), (Kind::Response, 0x024c));
        assert_eq!(decode(&with_id(bytes, 0x024d)).request_id, 0x024d);
    }
}
