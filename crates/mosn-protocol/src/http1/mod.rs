//! HTTP/1.x: heads, framing, chunked coding, hop-by-hop fields.

pub mod chunked;
pub mod encode;
pub mod error;
pub mod framing;
pub mod head;
pub mod headers;
pub mod hop;

pub use error::Error;
pub use framing::BodyKind;
pub use head::{Limits, RequestHead, ResponseHead, Version};
pub use headers::Headers;
