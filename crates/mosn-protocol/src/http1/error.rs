//! What can be wrong with an HTTP/1 message, and the status a server answers it with.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("malformed message: {0}")]
    Malformed(&'static str),
    #[error("the header block is over {0} bytes")]
    HeadTooLarge(usize),
    #[error("more than {0} header fields")]
    TooManyHeaders(usize),
    #[error("invalid framing: {0}")]
    Framing(&'static str),
    #[error("unsupported transfer coding")]
    UnsupportedTransferCoding,
    #[error("invalid chunked body: {0}")]
    Chunked(&'static str),
    #[error("the body is over {0} bytes")]
    BodyTooLarge(u64),
}

impl Error {
    /// The status a server sends back for a request with this problem (then it closes).
    pub fn status(&self) -> u16 {
        match self {
            Error::HeadTooLarge(_) | Error::TooManyHeaders(_) => 431,
            Error::UnsupportedTransferCoding => 501,
            Error::BodyTooLarge(_) => 413,
            Error::Malformed(_) | Error::Framing(_) | Error::Chunked(_) => 400,
        }
    }
}
