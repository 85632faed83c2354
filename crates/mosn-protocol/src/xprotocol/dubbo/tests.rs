use super::*;
use crate::xprotocol::DEFAULT_MAX_FRAME;

/// A hessian2 request body as a Dubbo consumer writes one: one String and one int argument.
fn request_body(attachments: &[(&str, &str)]) -> Vec<u8> {
    let mut body = Vec::new();
    for text in [
        "2.0.2",
        "org.apache.dubbo.demo.DemoService",
        "1.0.0",
        "sayHello",
    ] {
        write_string(&mut body, text);
    }
    write_string(&mut body, "Ljava/lang/String;I");
    write_string(&mut body, "world");
    body.push(0x9a); // int 10
    body.push(b'H');
    for (key, value) in attachments {
        write_string(&mut body, key);
        write_string(&mut body, value);
    }
    body.push(b'Z');
    body
}

fn request(id: u64, attachments: &[(&str, &str)]) -> BytesMut {
    frame(
        FLAG_REQUEST | FLAG_TWO_WAY | HESSIAN2,
        0,
        id,
        &request_body(attachments),
    )
}

fn decode(bytes: &mut BytesMut) -> Frame {
    Dubbo.decode(bytes, DEFAULT_MAX_FRAME).unwrap().unwrap()
}

#[test]
fn a_request_body_becomes_routing_headers() {
    let frame = decode(&mut request(
        1 << 40,
        &[("group", "g1"), ("timeout", "2500")],
    ));
    assert_eq!(frame.kind, Kind::Request);
    assert_eq!(frame.request_id, 1 << 40);
    assert_eq!(frame.header("dubbo"), Some("2.0.2"));
    assert_eq!(
        frame.header("service"),
        Some("org.apache.dubbo.demo.DemoService")
    );
    assert_eq!(frame.header("version"), Some("1.0.0"));
    assert_eq!(frame.header("method"), Some("sayHello"));
    assert_eq!(frame.header("group"), Some("g1"));
    assert_eq!(frame.timeout, Some(Duration::from_millis(2500)));
}

#[test]
fn the_interface_attachment_names_the_service() {
    let frame = decode(&mut request(1, &[("interface", "com.example.Other")]));
    assert_eq!(frame.header("service"), Some("com.example.Other"));
}

#[test]
fn argument_descriptors_are_counted() {
    assert_eq!(argument_count(""), 0);
    assert_eq!(argument_count("I"), 1);
    assert_eq!(argument_count("Ljava/lang/String;[I[[Ljava/util/Map;JZ"), 5);
}

#[test]
fn partial_frames_wait_and_the_id_is_rewritten() {
    let bytes = request(5, &[]);
    for cut in 0..bytes.len() {
        let mut buf = BytesMut::from(&bytes[..cut]);
        assert!(
            Dubbo.decode(&mut buf, DEFAULT_MAX_FRAME).unwrap().is_none(),
            "{cut}"
        );
    }
    let mut rewritten = BytesMut::new();
    Dubbo.write_with_id(&bytes, u64::MAX, &mut rewritten);
    assert_eq!(decode(&mut rewritten).request_id, u64::MAX);
}

#[test]
fn bad_frames_are_refused_with_a_bad_request_answer() {
    let mut bad_magic = BytesMut::from(&b"\xda\xbcxxxxxxxxxxxxxx"[..]);
    assert!(Dubbo.decode(&mut bad_magic, DEFAULT_MAX_FRAME).is_err());
    let mut huge = request(8, &[]);
    let err = Dubbo.decode(&mut huge, 20).unwrap_err();
    let answer = decode(&mut err.reply.unwrap());
    assert_eq!((answer.request_id, answer.status), (8, status::BAD_REQUEST));
    let mut garbled = frame(FLAG_REQUEST | FLAG_TWO_WAY | HESSIAN2, 0, 9, b"\x05abc");
    let err = Dubbo.decode(&mut garbled, DEFAULT_MAX_FRAME).unwrap_err();
    assert!(err.problem.contains("unreadable"), "{err}");
    assert!(err.reply.is_some());
}

#[test]
fn heartbeats_and_hijacks_are_well_formed() {
    let mut beat = Dubbo.heartbeat(3).unwrap();
    let beat = decode(&mut beat);
    assert_eq!((beat.kind, beat.request_id), (Kind::Heartbeat, 3));
    let reply = decode(&mut Dubbo.heartbeat_reply(&beat));
    assert_eq!(
        (reply.kind, reply.request_id, reply.status),
        (Kind::HeartbeatReply, 3, 20)
    );
    assert_eq!(
        &reply.raw[..],
        b"\xda\xbb\x22\x14\0\0\0\0\0\0\0\x03\0\0\0\x01N"
    );
    let request = decode(&mut request(4, &[]));
    let answer = decode(&mut Dubbo.hijack(&request, Failure::Timeout));
    assert_eq!((answer.kind, answer.request_id), (Kind::Response, 4));
    assert_eq!(answer.status, status::CLIENT_TIMEOUT);
    assert_eq!(&answer.raw[16..], b"\x0b504|timeout");
    let answer = decode(&mut Dubbo.hijack(&request, Failure::NoRoute));
    assert_eq!(answer.status, status::SERVICE_NOT_FOUND);
}

#[test]
fn detection_needs_both_magic_bytes() {
    assert_eq!(Dubbo.detect(b""), Detection::NeedMore);
    assert_eq!(Dubbo.detect(b"\xda"), Detection::NeedMore);
    assert_eq!(Dubbo.detect(b"\xda\xbb"), Detection::Yes);
    assert_eq!(Dubbo.detect(b"\x01"), Detection::No);
}
