//! Protocol codecs. `http1` is our own, on httparse: zero-copy heads that keep the case and
//! order of header names, and strict RFC 9112 framing so that nothing can be smuggled.

pub mod http1;
