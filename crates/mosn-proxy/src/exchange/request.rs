//! The request as it goes upstream: rewrites, header mutations, framing, and the client's
//! `100 Continue`.

use bytes::{Bytes, BytesMut};
use mosn_config::address::UpstreamAddress;
use mosn_protocol::detect::Protocol;
use mosn_protocol::http1::chunked::{encode_chunk, encode_end};
use mosn_protocol::http1::hop::remove_hop_by_hop;
use mosn_protocol::http1::{BodyKind, Headers, RequestHead, Version};
use mosn_router::HeaderMutations;

use super::{Exchange, Stop};
use crate::client::Client;

impl Exchange<'_> {
    /// Tells an HTTP/1.1 client that sent `Expect: 100-continue` to send its body, once, just
    /// before the proxy reads it (the proxy takes the body whatever the upstream would say).
    pub(super) async fn continue_if_expected(&mut self) -> Result<(), Stop> {
        let expected = self.head.version == Version::Http11
            && self.head.headers.has_token("expect", "100-continue");
        if !expected || self.body_consumed || std::mem::replace(&mut self.continue_sent, true) {
            return Ok(());
        }
        let Client::H1(down) = &mut self.client else {
            return Ok(());
        };
        let mut go_on = BytesMut::from(&b"HTTP/1.1 100 Continue\r\n\r\n"[..]);
        down.write(&mut go_on).await.map_err(|_| Stop::Close)
    }

    /// The framing of the body going upstream: a body held in memory is framed by what it holds
    /// now (filters may have changed it); trailers need chunks.
    pub(super) fn outgoing_body_kind(&self) -> BodyKind {
        match &self.buffered_body {
            Some(_) if !self.buffered_trailers.is_empty() => BodyKind::Chunked,
            Some(body) => BodyKind::Length(body.len() as u64),
            None => self.body,
        }
    }

    /// A buffered body as it goes on an HTTP/1 wire: as is, or as one chunk with its trailers.
    pub(super) fn buffered_wire(&self) -> Option<BytesMut> {
        let body = self.buffered_body.as_ref()?;
        let mut wire = BytesMut::with_capacity(body.len() + 64);
        match self.outgoing_body_kind() {
            BodyKind::Chunked => {
                encode_chunk(body, &mut wire);
                encode_end(&self.buffered_trailers, &mut wire);
            }
            _ => wire.extend_from_slice(body),
        }
        Some(wire)
    }

    /// The request as the upstream sees it: HTTP/1.1, hop-by-hop fields gone, the route's
    /// rewrites and header mutations applied, framing set for the body.
    pub(super) fn upstream_request_head(&self) -> RequestHead {
        let mut head = self.head.clone();
        head.version = Version::Http11;
        remove_hop_by_hop(&mut head.headers);
        // gRPC servers want to hear that trailers are welcome; HTTP/2 lets exactly this through.
        if self.upstream_protocol == Protocol::Http2
            && self.head.headers.has_token("te", "trailers")
        {
            head.headers.push("te", "trailers");
        }
        // Upstreams get origin form, and the absolute form's authority as Host.
        if let Some((authority, origin)) = self.head.absolute_form() {
            head.target = Bytes::copy_from_slice(origin);
            head.headers.set("host", authority);
        }
        if let Some(protocol) = &self.upgrade {
            head.headers.push("Connection", "Upgrade");
            head.headers.push("Upgrade", protocol);
        }
        if let (Some(forward), Some(route)) = (self.forward, &self.route) {
            if let (Some(rewrite), Some(prefix)) = (&forward.prefix_rewrite, route.prefix) {
                head.target = rewrite_prefix(&head.target, prefix, rewrite);
            } else if let Some((regex, substitution)) = &forward.regex_rewrite {
                head.target = rewrite_path(&head.target, regex, substitution);
            }
            if let Some(host) = &forward.host_rewrite {
                head.headers.set("host", host);
            } else if forward.auto_host_rewrite
                && let Some(host) = &self.host
            {
                let authority = if host.hostname.is_empty() {
                    host.address.to_string()
                } else {
                    host.hostname.clone()
                };
                head.headers.set("host", authority);
            }
            apply(route.mutations, &mut head.headers, |m| {
                (&m.request_add, &m.request_remove)
            });
        }
        if !head.headers.contains("host")
            && let Some(host) = &self.host
        {
            // HTTP/1.0 clients may leave Host out; an HTTP/1.1 upstream needs one.
            let authority = match &host.address {
                UpstreamAddress::Unix(_) => "localhost".to_string(),
                address => address.to_string(),
            };
            head.headers.push("Host", authority);
        }
        head.headers.remove("content-length");
        match self.outgoing_body_kind() {
            BodyKind::Length(n) => head
                .headers
                .push("Content-Length", itoa::Buffer::new().format(n)),
            BodyKind::Chunked => head.headers.push("Transfer-Encoding", "chunked"),
            BodyKind::Empty | BodyKind::UntilClose => {}
        }
        head
    }
}

/// Replaces the matched prefix (the route matched it, maybe ignoring case) with `rewrite`.
fn rewrite_prefix(target: &Bytes, prefix: &str, rewrite: &str) -> Bytes {
    match target
        .get(prefix.len()..)
        .filter(|_| target[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes()))
    {
        Some(rest) => {
            let mut out = Vec::with_capacity(rewrite.len() + rest.len());
            out.extend_from_slice(rewrite.as_bytes());
            out.extend_from_slice(rest);
            Bytes::from(out)
        }
        None => target.clone(),
    }
}

/// Replaces every match of `regex` in the path (the query stays as it was).
fn rewrite_path(target: &Bytes, regex: &regex::Regex, substitution: &str) -> Bytes {
    let text = String::from_utf8_lossy(target);
    let (path, query) = match text.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (text.as_ref(), None),
    };
    let mut rewritten = regex.replace_all(path, substitution).into_owned();
    if let Some(query) = query {
        rewritten.push('?');
        rewritten.push_str(query);
    }
    Bytes::from(rewritten)
}

/// Applies removals then additions, most specific level first.
pub(super) fn apply(
    levels: [&HeaderMutations; 3],
    headers: &mut Headers,
    pick: impl Fn(&HeaderMutations) -> (&Vec<mosn_router::HeaderEdit>, &Vec<String>),
) {
    for level in levels {
        let (add, remove) = pick(level);
        for name in remove {
            headers.remove(name);
        }
        for edit in add {
            if edit.append {
                headers.push(&edit.name, &edit.value);
            } else {
                headers.set(&edit.name, &edit.value);
            }
        }
    }
}
