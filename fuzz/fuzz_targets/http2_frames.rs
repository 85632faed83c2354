//! Arbitrary bytes after the HTTP/2 preface, read by an `h2` server built with our settings
//! (the limits against floods), each accepted request turned into our head as the proxy
//! does and answered: whatever the frames, nothing panics and every call returns.
#![no_main]

use std::time::Duration;

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use mosn_protocol::grpc;
use mosn_protocol::http1::framing;
use mosn_protocol::http2::{Settings, convert};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

fuzz_target!(|data: &[u8]| {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (client, server) = tokio::io::duplex(64 * 1024);
        let (mut from_server, mut to_server) = tokio::io::split(client);
        let send = async {
            let _ = to_server.write_all(PREFACE).await;
            let _ = to_server.write_all(data).await;
            let _ = to_server.shutdown().await;
        };
        let drain = async {
            let mut sink = [0u8; 4096];
            while matches!(from_server.read(&mut sink).await, Ok(n) if n > 0) {}
        };
        let serve = async {
            let Ok(mut connection) = Settings::default()
                .server()
                .handshake::<_, Bytes>(server)
                .await
            else {
                return;
            };
            while let Some(Ok((request, mut respond))) = connection.accept().await {
                let (parts, _body) = request.into_parts();
                let head = convert::request_head(&parts);
                let _ = framing::request_body(&head);
                let _ = grpc::timeout(&head.headers);
                let _ = respond.send_response(http::Response::new(()), true);
            }
        };
        // Bytes that end mid-frame leave the server waiting for more: a bound, not a hang.
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            tokio::join!(send, drain, serve)
        })
        .await;
    });
});
