//! The response on its way to the client: the head (framing, hop-by-hop fields, the route's
//! header mutations), the body, and the answers the proxy gives itself.

use bytes::{Bytes, BytesMut};
use mosn_protocol::grpc;
use mosn_protocol::http1::encode::encode_response_head;
use mosn_protocol::http1::hop::remove_hop_by_hop;
use mosn_protocol::http1::{BodyKind, Version, framing};
use mosn_protocol::http2::convert;
use mosn_router::Action;

use super::request::apply;
use super::route::host_of;
use super::upstream::{Upstream, upstream_body_into};
use super::{Exchange, Stop};
use crate::ConnectionNext;
use crate::body::{BodyError, Out, WithPrefix};
use crate::client::Client;
use crate::h2_body::H2Sink;
use crate::reply::{Local, local_reply};

impl Exchange<'_> {
    /// How the upstream's response body is framed as it comes in.
    fn incoming_response_body(&self) -> Result<BodyKind, Stop> {
        let response = self.response.as_ref().ok_or(Stop::Close)?;
        let kind = framing::response_body(&self.head.method, response)
            .map_err(|_| Stop::Reply(Local::BAD_UPSTREAM))?;
        Ok(match &self.upstream {
            // Over HTTP/2 the stream's end ends the body, whatever its length.
            Some(Upstream::H2(h2)) if h2.recv.as_ref().is_none_or(|r| r.is_end_stream()) => {
                BodyKind::Empty
            }
            Some(Upstream::H2(_)) if kind == BodyKind::UntilClose => BodyKind::Chunked,
            _ => kind,
        })
    }

    pub(super) async fn send_response_head(&mut self) -> Result<(), Stop> {
        if self.response.as_ref().is_some_and(|r| r.status == 101) {
            return self.switch_protocols().await;
        }
        let kind = self.incoming_response_body()?;
        let mut response = self.response.take().ok_or(Stop::Close)?;
        let upstream_closes = matches!(self.upstream, Some(Upstream::H1(_)))
            && (response.headers.has_token("connection", "close")
                || response.version == Version::Http10);
        remove_hop_by_hop(&mut response.headers);
        if let Some(route) = &self.route {
            apply(route.mutations, &mut response.headers, |m| {
                (&m.response_add, &m.response_remove)
            });
        }
        if let BodyKind::Length(n) = kind {
            response
                .headers
                .set("content-length", itoa::Buffer::new().format(n));
        }
        if let Client::H2(stream) = &mut self.client {
            let outgoing = convert::response(&response).ok_or(Stop::Reply(Local::BAD_UPSTREAM))?;
            let send = stream
                .respond
                .send_response(outgoing, kind == BodyKind::Empty)
                .map_err(|_| Stop::Close)?;
            self.response_stream = Some(send);
            self.response = Some(response);
            self.response_body = Some((kind, Out::Raw, upstream_closes));
            return Ok(());
        }
        let chunked_out = self.head.version == Version::Http11;
        let out = match kind {
            BodyKind::Empty | BodyKind::Length(_) => Out::Raw,
            BodyKind::Chunked | BodyKind::UntilClose if chunked_out => {
                response.headers.remove("content-length");
                response.headers.push("Transfer-Encoding", "chunked");
                Out::Chunked
            }
            BodyKind::Chunked | BodyKind::UntilClose => {
                response.headers.remove("content-length");
                self.close_after = true;
                Out::Raw
            }
        };
        if self.client.is_draining() {
            self.keep_alive = false;
        }
        if !self.keep_alive || self.close_after {
            response.headers.push("Connection", "close");
        } else if self.head.version == Version::Http10 {
            response.headers.push("Connection", "keep-alive");
        }
        response.version = Version::Http11;
        let mut out_head = BytesMut::with_capacity(1024);
        encode_response_head(&response, &mut out_head);
        // Sent with the first bytes of the body (UpRecvData): one write where there would be two.
        self.response_head = Some(out_head);
        self.response = Some(response);
        self.response_body = Some((kind, out, upstream_closes));
        Ok(())
    }

    /// Passes the upstream's 101 on; the response "body" is then the tunnel.
    async fn switch_protocols(&mut self) -> Result<(), Stop> {
        let mut response = self.response.take().ok_or(Stop::Close)?;
        let protocol = response.headers.get("upgrade").map(Bytes::copy_from_slice);
        remove_hop_by_hop(&mut response.headers);
        let protocol = protocol.ok_or(Stop::Reply(Local::BAD_UPSTREAM))?;
        response.headers.push("Connection", "Upgrade");
        response.headers.push("Upgrade", protocol);
        let mut out_head = BytesMut::with_capacity(512);
        encode_response_head(&response, &mut out_head);
        let Client::H1(down) = &mut self.client else {
            return Err(Stop::Close);
        };
        down.write(&mut out_head).await.map_err(|_| Stop::Close)?;
        self.response = Some(response);
        self.tunnel = true;
        self.keep_alive = false;
        Ok(())
    }

    pub(super) async fn send_response_body(&mut self) -> Result<(), Stop> {
        let idle = self.client.idle();
        if self.tunnel {
            let (Client::H1(down), Some(Upstream::H1(upstream))) =
                (&mut self.client, self.upstream.take())
            else {
                return Err(Stop::Close);
            };
            let early = (&down.buf[..], &upstream.buf[..]);
            crate::tunnel::tunnel(&down.connection.stream, &upstream.stream, early, idle).await;
            return Ok(());
        }
        let (kind, out, upstream_closes) = self.response_body.take().ok_or(Stop::Close)?;
        let limits = self.shared.settings.limits;
        let upstream = self.upstream.as_mut().ok_or(Stop::Close)?;
        let result = match &mut self.client {
            Client::H1(down) => {
                let mut client = WithPrefix {
                    prefix: self.response_head.take(),
                    sink: &mut **down,
                };
                let mut result =
                    upstream_body_into(upstream, idle, kind, &mut client, out, &limits).await;
                if result.is_ok() && client.finish().await.is_err() {
                    result = Err(BodyError::Write);
                }
                result
            }
            // The head ended the stream already.
            Client::H2(_) if kind == BodyKind::Empty => Ok(0),
            Client::H2(_) => {
                let stream = self.response_stream.as_mut().ok_or(Stop::Close)?;
                let mut client = H2Sink::new(stream);
                let result =
                    upstream_body_into(upstream, idle, kind, &mut client, out, &limits).await;
                match result {
                    Ok(size) => client.end().map(|()| size).map_err(|_| BodyError::Write),
                    Err(err) => Err(err),
                }
            }
        };
        if let Ok(size) = result {
            self.record.bytes_sent = size;
        }
        match result {
            Ok(_) if upstream_closes || kind == BodyKind::UntilClose => {
                self.upstream = None;
                Ok(())
            }
            Ok(_) => Ok(()),
            Err(_) => Err(Stop::Close),
        }
    }

    /// A direct response or a redirect, as the matched route says.
    pub(super) async fn answer_route(&mut self) -> ConnectionNext {
        let action = self.route.as_ref().map(|r| r.action);
        match action {
            Some(Action::DirectResponse { status, body }) => self.reply(*status, body, None).await,
            Some(Action::Redirect(redirect)) => {
                let target = String::from_utf8_lossy(&self.head.target).into_owned();
                let location = redirect.location(host_of(&self.head), &target);
                self.reply(redirect.status, "", Some(&location)).await
            }
            _ => ConnectionNext::Close,
        }
    }

    /// The proxy's own response. A gRPC call gets it as a gRPC status (HTTP 200 with
    /// `grpc-status` and `grpc-message`, no body), which its client understands. A request
    /// body that was not read makes an HTTP/1 connection unusable for another request.
    pub(super) async fn reply(
        &mut self,
        status: u16,
        body: &str,
        location: Option<&str>,
    ) -> ConnectionNext {
        self.record.status = status;
        let grpc_status;
        let mut headers: Vec<(&str, &str)> = Vec::new();
        let (status, body) = if grpc::is_grpc(&self.head.headers) {
            grpc_status = grpc::status_for_http(status).to_string();
            headers.push(("content-type", "application/grpc"));
            headers.push(("grpc-status", &grpc_status));
            headers.push(("grpc-message", body.trim_end()));
            (200, "")
        } else {
            headers.extend(location.map(|l| ("Location", l)));
            (status, body)
        };
        self.record.bytes_sent = body.len() as u64;
        let close = !self.keep_alive || !self.body_consumed || self.client.is_draining();
        let http10 = self.head.version == Version::Http10;
        match &mut self.client {
            Client::H1(down) => {
                let mut out = BytesMut::with_capacity(256 + body.len());
                local_reply(status, body, close, http10, &headers, &mut out);
                match (down.write(&mut out).await, close) {
                    (Ok(()), false) => ConnectionNext::KeepAlive,
                    _ => ConnectionNext::Close,
                }
            }
            Client::H2(stream) => {
                crate::reply::h2_local_reply(&mut stream.respond, status, body, &headers);
                ConnectionNext::Close
            }
        }
    }
}
