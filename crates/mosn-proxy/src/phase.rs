//! MOSN's phases of a proxied request, in order. A request walks them one by one; a stream
//! filter or an error can end the walk early with a response of the proxy's own.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    DownFilter,
    MatchRoute,
    DownFilterAfterRoute,
    ChooseHost,
    DownFilterAfterChooseHost,
    DownRecvHeader,
    DownRecvData,
    DownRecvTrailer,
    // MOSN's Oneway phase belongs to RPC protocols; it comes with them.
    Retry,
    WaitNotify,
    UpFilter,
    UpRecvHeader,
    UpRecvData,
    UpRecvTrailer,
    End,
}
