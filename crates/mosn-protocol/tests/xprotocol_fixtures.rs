//! Frames captured from the real peers (sofa-rpc-node, sofa-bolt-node, dubbo-js, @tars/rpc; see
//! `mosn/tests/peers/relay.js`), decoded by our codecs.

use bytes::BytesMut;
use mosn_protocol::xprotocol::bolt::{BOLT, BOLTV2, status};
use mosn_protocol::xprotocol::dubbo::Dubbo;
use mosn_protocol::xprotocol::tars::{self, Tars};
use mosn_protocol::xprotocol::{Codec, DEFAULT_MAX_FRAME, Frame, Kind};

fn fixture(name: &str) -> BytesMut {
    let path = format!("{}/tests/fixtures/{name}.hex", env!("CARGO_MANIFEST_DIR"));
    let hex = std::fs::read_to_string(&path).unwrap();
    let hex = hex.trim();
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect::<Vec<u8>>();
    BytesMut::from(&bytes[..])
}

/// Decodes the fixture, which must be exactly one frame.
fn decode(codec: &dyn Codec, name: &str) -> Frame {
    decode_bytes(codec, fixture(name))
}

fn decode_bytes(codec: &dyn Codec, mut buf: BytesMut) -> Frame {
    let frame = codec.decode(&mut buf, DEFAULT_MAX_FRAME).unwrap().unwrap();
    assert!(buf.is_empty(), "one whole frame");
    frame
}

#[test]
fn sofa_rpc_frames() {
    let request = decode(&BOLT, "bolt_v1_request");
    assert_eq!((request.kind, request.request_id), (Kind::Request, 1));
    assert_eq!(
        request.header("service"),
        Some("com.alipay.test.EchoService:1.0")
    );
    assert_eq!(request.timeout, Some(std::time::Duration::from_secs(3)));
    let response = decode(&BOLT, "bolt_v1_response");
    assert_eq!(
        (response.kind, response.status),
        (Kind::Response, status::SUCCESS)
    );
    let error = decode(&BOLT, "bolt_v1_error_response");
    assert_eq!(error.status, status::SERVER_EXCEPTION);
    let beat = decode(&BOLT, "bolt_v1_heartbeat");
    assert_eq!(beat.kind, Kind::Heartbeat);
    assert_eq!(
        &BOLT.heartbeat_reply(&beat)[..],
        &fixture("bolt_v1_heartbeat_reply")[..]
    );
}

#[test]
fn bolt_v2_frames_with_their_crc() {
    let request = decode(&BOLTV2, "bolt_v2_crc_request");
    assert_eq!(
        request.header("service"),
        Some("com.alipay.test.EchoService:1.0")
    );
    let mut moved = BytesMut::new();
    BOLTV2.write_with_id(&request.raw, 1, &mut moved);
    assert_eq!(
        moved,
        fixture("bolt_v2_crc_request"),
        "the same id gives the same CRC"
    );
    assert_eq!(
        decode(&BOLTV2, "bolt_v2_crc_response").status,
        status::SUCCESS
    );
}

#[test]
fn dubbo_js_frames() {
    let request = decode(&Dubbo, "dubbo_request");
    assert_eq!((request.kind, request.request_id), (Kind::Request, 1));
    for (name, value) in [
        ("dubbo", "2.0.2"),
        ("service", "org.apache.dubbo.demo.DemoService"),
        ("version", "1.0.0"),
        ("method", "sayHello"),
        ("application", "dubbo-js"),
        ("timeout", "5000"),
    ] {
        assert_eq!(request.header(name), Some(value), "{name}");
    }
    let sleep = decode(&Dubbo, "dubbo_sleep_request");
    assert_eq!(
        sleep.header("method"),
        Some("sleep"),
        "an int argument is skipped"
    );
    assert_eq!(
        sleep.header("path"),
        Some("org.apache.dubbo.demo.DemoService")
    );
    assert_eq!(decode(&Dubbo, "dubbo_response").status, 20);
    assert_eq!(decode(&Dubbo, "dubbo_unknown_method_response").status, 60);
    assert_eq!(decode(&Dubbo, "dubbo_heartbeat").kind, Kind::Heartbeat);
    // dubbo-js answers with status 0 and id 0; it is still a heartbeat reply.
    let reply = decode(&Dubbo, "dubbo_heartbeat_reply");
    assert_eq!(
        (reply.kind, reply.request_id, reply.status),
        (Kind::HeartbeatReply, 0, 0)
    );
}

#[test]
fn tars_node_frames() {
    let request = decode(&Tars, "tars_request");
    assert_eq!((request.kind, request.request_id), (Kind::Request, 2));
    assert_eq!(request.header("service"), Some("Test.EchoServer.EchoObj"));
    assert_eq!(request.header("method"), Some("echo"));
    assert_eq!(request.timeout, Some(std::time::Duration::from_secs(3)));
    assert_eq!(
        decode(&Tars, "tars_sleep_request").header("method"),
        Some("sleep")
    );
    let response = decode(&Tars, "tars_response");
    assert_eq!(
        (response.kind, response.request_id, response.status),
        (Kind::Response, 2, 0)
    );
    let failed = decode(&Tars, "tars_fail_response");
    assert_eq!(failed.status as i32, tars::status::UNKNOWN_ERROR);
    let mut moved = BytesMut::new();
    Tars.write_with_id(&request.raw, 100_000, &mut moved);
    assert_eq!(decode_bytes(&Tars, moved).request_id, 100_000);
}
