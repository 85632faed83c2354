//! Routing a request and choosing its upstream host: the route table, the cluster, the
//! circuit breakers, the load balancer's hash, and the mirror copy.

use std::collections::HashMap;

use bytes::{Bytes, BytesMut};
use mosn_protocol::http1::{BodyKind, Headers, RequestHead};
use mosn_router::{Action, ForwardAction, Request};
use mosn_upstream::lb::{LbContext, hash_key};

use super::{Exchange, Stop};
use crate::reply::Local;

/// What the router sees of a request.
pub(super) struct RequestView<'a>(pub &'a RequestHead, pub &'a HashMap<String, String>);

impl Request for RequestView<'_> {
    fn path(&self) -> &str {
        std::str::from_utf8(self.0.path()).unwrap_or("")
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.0.headers.get_str(name)
    }

    fn variable(&self, name: &str) -> Option<String> {
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        match name {
            "x-mosn-method" => Some(text(&self.0.method)),
            "x-mosn-host" => self.0.headers.get("host").map(text),
            "x-mosn-path" => Some(text(self.0.path())),
            "x-mosn-querystring" => self.0.target.splitn(2, |b| *b == b'?').nth(1).map(text),
            _ => self.1.get(name).cloned(),
        }
    }
}

impl<'a> Exchange<'a> {
    pub(super) fn match_route(&mut self) -> Result<(), Stop> {
        let host = host_of(&self.head);
        let table = &self.shared.table;
        let route = table
            .route(host, &RequestView(&self.head, &self.variables))
            .ok_or(Stop::Reply(Local::NO_ROUTE))?;
        self.route = Some(route);
        Ok(())
    }

    pub(super) fn mirror(&self) -> Option<&'a mosn_router::Mirror> {
        match self.route.as_ref()?.action {
            Action::Forward(forward) => forward.mirror.as_ref(),
            _ => None,
        }
    }

    /// Sends a copy of the request (its HTTP/1 `head`) to the mirror cluster, for the route's
    /// share of requests whose body is in memory (or that have none).
    pub(super) fn send_mirror(&self, method: &Bytes, head: &[u8]) {
        let Some(mirror) = self.mirror().filter(|_| self.mirror_chosen) else {
            return;
        };
        let body = match (self.buffered_wire(), self.body) {
            (Some(body), _) => body,
            (None, BodyKind::Empty) => BytesMut::new(),
            (None, _) => {
                tracing::debug!("mirror skipped: the body is streamed, not held");
                return;
            }
        };
        let Some(cluster) = self.shared.clusters.get(&mirror.cluster) else {
            return;
        };
        let mut request = BytesMut::with_capacity(head.len() + body.len());
        request.extend_from_slice(head);
        request.extend_from_slice(&body);
        crate::mirror::spawn(
            cluster,
            method.clone(),
            request.freeze(),
            self.shared.settings.limits,
        );
    }

    /// The hash of the first value the route's `hash_policy` finds in the request.
    fn lb_context(&self, forward: &ForwardAction) -> LbContext {
        let headers = &self.head.headers;
        let hash = forward.hash_policy.iter().find_map(|policy| {
            if let Some(header) = &policy.header {
                return headers.get(&header.key).map(hash_key);
            }
            if let Some(cookie) = &policy.cookie {
                return cookie_value(headers, &cookie.name).map(hash_key);
            }
            let remote = policy
                .source_ip
                .as_ref()
                .and(self.client.info().remote.ip())?;
            Some(hash_key(remote.ip().to_string().as_bytes()))
        });
        LbContext { hash }
    }

    pub(super) fn choose_host(&mut self) -> Result<(), Stop> {
        let route = self.route.as_ref().ok_or(Stop::Close)?;
        let forward = match route.action {
            Action::Forward(forward) => forward,
            Action::DirectResponse { .. } | Action::Redirect(_) => return Err(Stop::RouteAnswer),
        };
        let view = RequestView(&self.head, &self.variables);
        let name = forward
            .cluster
            .pick(&view)
            .ok_or(Stop::Reply(Local::NO_CLUSTER))?;
        let cluster = self
            .shared
            .clusters
            .get(name)
            .ok_or(Stop::Reply(Local::NO_CLUSTER))?;
        if self.request_slot.is_none() {
            self.request_slot = Some(
                cluster
                    .resources
                    .requests
                    .acquire()
                    .ok_or(Stop::Reply(Local::OVERFLOW))?,
            );
        }
        let context = self.lb_context(forward);
        if let Some(earlier) = self.host.take() {
            self.tried.push(earlier);
        }
        let host = cluster
            .choose_host(&self.tried, &context)
            .ok_or(Stop::Reply(Local::NO_HOST))?;
        self.host_request = host.requests.acquire();
        self.host = Some(host);
        if self.logging() {
            self.record.upstream_cluster = Some(cluster.name.clone());
            self.record.upstream_host = self.host.as_ref().map(|h| h.address.to_string());
        }
        self.cluster = Some(cluster);
        self.forward = Some(forward);
        if let Some(protocol) = forward.upstream_protocol {
            self.upstream_protocol = protocol;
        }
        Ok(())
    }
}

/// The value of cookie `name` in the Cookie header.
fn cookie_value<'h>(headers: &'h Headers, name: &str) -> Option<&'h [u8]> {
    headers
        .get_all("cookie")
        .flat_map(|value| value.split(|b| *b == b';'))
        .find_map(|pair| {
            let pair = pair.trim_ascii();
            let (key, value) = pair.split_at(pair.iter().position(|b| *b == b'=')?);
            (key == name.as_bytes()).then(|| &value[1..])
        })
}

/// The authority of an absolute-form target, which wins over Host (RFC 9112), or Host; empty
/// when there is neither (or it is not text).
pub(super) fn host_of(head: &RequestHead) -> &str {
    let host = match head.absolute_form() {
        Some((authority, _)) => authority,
        None => head.headers.get("host").unwrap_or_default(),
    };
    std::str::from_utf8(host).unwrap_or_default()
}
