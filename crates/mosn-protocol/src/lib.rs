//! Protocol codecs. `http1` is our own, on httparse: zero-copy heads that keep the case and
//! order of header names, and strict RFC 9112 framing so that nothing can be smuggled. `http2`
//! maps the `h2` crate's messages to the same heads. `xprotocol` holds the RPC codecs (bolt,
//! boltv2, dubbo). `detect` tells the HTTP versions apart for `Auto`.

pub mod detect;
pub mod grpc;
pub mod http1;
pub mod http2;
pub mod xprotocol;
