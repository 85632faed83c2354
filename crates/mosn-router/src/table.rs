//! A route table (one `routers[]` entry) and the set of them by `router_config_name`.

use std::collections::HashMap;
use std::sync::Arc;

use mosn_config::Diagnostics;
use mosn_config::diagnostics::{index, join};
use mosn_config::model::{Route, RouterConfiguration, VirtualHost};
use mosn_protocol::detect::Protocol;

use crate::action::{Action, ForwardAction, Mirror, Redirect};
use crate::domain::DomainIndex;
use crate::fast_index::FastIndex;
use crate::matcher::{Matcher, Request};
use crate::mutation::HeaderMutations;

#[derive(Debug)]
struct RouteEntry {
    matcher: Matcher,
    action: Action,
    headers: HeaderMutations,
}

#[derive(Debug)]
struct VirtualHostEntry {
    routes: Vec<RouteEntry>,
    index: FastIndex,
    headers: HeaderMutations,
}

#[derive(Debug)]
pub struct RouteTable {
    domains: DomainIndex,
    vhosts: Vec<VirtualHostEntry>,
    headers: HeaderMutations,
}

/// A route found for a request: its action, and the header mutations that apply, most
/// specific first (route, virtual host, router).
pub struct RouteMatch<'a> {
    pub action: &'a Action,
    pub mutations: [&'a HeaderMutations; 3],
    /// The path prefix the route matched, if it matches on one.
    pub prefix: Option<&'a str>,
}

impl RouteTable {
    pub fn new(config: &RouterConfiguration, path: &str, diags: &mut Diagnostics) -> RouteTable {
        let mut domains = DomainIndex::default();
        let mut vhosts = Vec::new();
        for (i, vhost) in config.virtual_hosts.iter().enumerate() {
            for (j, domain) in vhost.domains.iter().enumerate() {
                if !domains.add(domain, i) {
                    let at = index(&join(&index(&join(path, "virtual_hosts"), i), "domains"), j);
                    diags.warn(at, format!("{domain:?} is already a domain of an earlier virtual host, which keeps it"));
                }
            }
            vhosts.push(virtual_host(
                vhost,
                &index(&join(path, "virtual_hosts"), i),
                diags,
            ));
        }
        RouteTable {
            domains,
            vhosts,
            headers: HeaderMutations::new(
                &config.request_headers_to_add,
                &config.request_headers_to_remove,
                &config.response_headers_to_add,
                &config.response_headers_to_remove,
            ),
        }
    }

    /// The first route of the virtual host for `host` that matches the request.
    pub fn route(&self, host: &str, request: &dyn Request) -> Option<RouteMatch<'_>> {
        let vhost = &self.vhosts[self.domains.find(host)?];
        let place = vhost.index.find(request, |place| {
            vhost.routes[place].matcher.matches(request)
        })?;
        let route = &vhost.routes[place];
        Some(RouteMatch {
            action: &route.action,
            mutations: [&route.headers, &vhost.headers, &self.headers],
            prefix: route.matcher.prefix(),
        })
    }
}

fn virtual_host(config: &VirtualHost, path: &str, diags: &mut Diagnostics) -> VirtualHostEntry {
    let routes: Vec<RouteEntry> = config
        .routers
        .iter()
        .enumerate()
        .filter_map(|(i, route)| route_entry(route, &index(&join(path, "routers"), i), diags))
        .collect();
    VirtualHostEntry {
        index: FastIndex::new(routes.iter().map(|r| &r.matcher)),
        routes,
        headers: HeaderMutations::new(
            &config.request_headers_to_add,
            &config.request_headers_to_remove,
            &config.response_headers_to_add,
            &config.response_headers_to_remove,
        ),
    }
}

fn route_entry(config: &Route, path: &str, diags: &mut Diagnostics) -> Option<RouteEntry> {
    let matcher = Matcher::new(&config.route_match)
        .map_err(|problem| diags.error(join(path, "match"), problem))
        .ok()?;
    if config.route_match.dsl_expressions.is_some() {
        diags.warn(
            join(path, "match.dsl_expressions"),
            "dsl_expressions are not supported yet: this route is skipped",
        );
        return None;
    }
    let action = if let Some(direct) = &config.direct_response {
        if !(100..=599).contains(&direct.status) {
            diags.error(
                join(path, "direct_response.status"),
                format!("{} is not an HTTP status", direct.status),
            );
            return None;
        }
        Action::DirectResponse {
            status: direct.status,
            body: direct.body.clone(),
        }
    } else if let Some(redirect) = &config.redirect {
        let redirect = Redirect::new(redirect);
        if ![301, 302, 303, 307, 308].contains(&redirect.status) {
            diags.error(
                join(path, "redirect.response_code"),
                format!("{} is not a redirect status", redirect.status),
            );
            return None;
        }
        Action::Redirect(redirect)
    } else if let Some(route) = &config.route {
        let mut forward = ForwardAction::new(route)
            .map_err(|problem| diags.error(join(path, "route"), problem))
            .ok()?;
        forward.upstream_protocol =
            upstream_protocol(&route.upstream_protocol, &join(path, "route"), diags);
        forward.mirror = config
            .request_mirror_policies
            .as_ref()
            .filter(|m| !m.cluster.is_empty())
            .map(|m| Mirror {
                cluster: m.cluster.clone(),
                percent: m.percent.min(100),
            });
        Action::Forward(forward)
    } else {
        return None; // validation warned: nothing to do
    };
    let headers = match &config.route {
        Some(route) => HeaderMutations::new(
            &route.request_headers_to_add,
            &route.request_headers_to_remove,
            &route.response_headers_to_add,
            &route.response_headers_to_remove,
        ),
        None => HeaderMutations::default(),
    };
    Some(RouteEntry {
        matcher,
        action,
        headers,
    })
}

/// A route's `upstream_protocol`: `Http1` or `Http2` is the HTTP version its requests go
/// upstream in, over the proxy's; empty or `Auto` leaves the proxy's. Another name (an RPC
/// protocol) changes nothing: RPC requests go upstream in the client's protocol.
fn upstream_protocol(name: &str, path: &str, diags: &mut Diagnostics) -> Option<Protocol> {
    match name {
        "" | "Auto" => None,
        "Http1" => Some(Protocol::Http1),
        "Http2" => Some(Protocol::Http2),
        other => {
            diags.warn(
                join(path, "upstream_protocol"),
                format!(
                    "{other:?} is not Http1, Http2 or Auto: requests on this route go upstream in \
                     the proxy's upstream_protocol (RPC requests in the client's)"
                ),
            );
            None
        }
    }
}

/// Every route table, by `router_config_name`.
#[derive(Debug, Default)]
pub struct Routers {
    tables: HashMap<String, Arc<RouteTable>>,
}

impl Routers {
    /// `configs` are (JSON path, router) pairs; a later router of the same name wins, as in MOSN.
    pub fn new<'a>(
        configs: impl Iterator<Item = (String, &'a RouterConfiguration)>,
        diags: &mut Diagnostics,
    ) -> Routers {
        let tables = configs
            .map(|(path, config)| {
                (
                    config.router_config_name.clone(),
                    Arc::new(RouteTable::new(config, &path, diags)),
                )
            })
            .collect();
        Routers { tables }
    }

    pub fn get(&self, name: &str) -> Option<Arc<RouteTable>> {
        self.tables.get(name).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ClusterChoice;
    use mosn_config::decode::decode;
    use serde_json::json;

    struct Req(&'static str);
    impl Request for Req {
        fn path(&self) -> &str {
            self.0
        }
        fn header(&self, _: &str) -> Option<&str> {
            None
        }
        fn variable(&self, _: &str) -> Option<String> {
            None
        }
    }

    #[test]
    fn the_first_matching_route_of_the_chosen_vhost_wins() {
        let config = json!({
            "router_config_name": "r",
            "response_headers_to_add": [{ "header": { "key": "x-router", "value": "1" } }],
            "virtual_hosts": [
                { "name": "api", "domains": ["api.example.com"], "routers": [
                    { "match": { "prefix": "/static" }, "direct_response": { "status": 200, "body": "static" } },
                    { "match": { "prefix": "/" }, "route": { "cluster_name": "api", "timeout": "2s" } }
                ] },
                { "name": "other", "domains": ["*"], "routers": [
                    { "match": { "path": "/old" }, "redirect": { "path_redirect": "/new", "response_code": 302 } }
                ] }
            ]
        });
        let mut diags = Diagnostics::default();
        let router: RouterConfiguration = decode(&config, "", &mut diags).unwrap();
        let table = RouteTable::new(&router, "routers[0]", &mut diags);
        assert!(!diags.has_errors());
        let hit = table
            .route("api.example.com", &Req("/static/a.css"))
            .unwrap();
        assert!(matches!(
            hit.action,
            Action::DirectResponse { status: 200, .. }
        ));
        assert_eq!(hit.mutations[2].response_add[0].name, "x-router");
        let hit = table.route("API.example.com:80", &Req("/x")).unwrap();
        assert!(matches!(hit.action, Action::Forward(f) if f.timeout.as_secs() == 2));
        assert!(
            matches!(table.route("else.com", &Req("/old")).unwrap().action, Action::Redirect(r) if r.status == 302)
        );
        assert!(table.route("else.com", &Req("/x")).is_none());
    }

    #[test]
    fn a_route_may_choose_the_upstream_http_version() {
        let route = |prefix: &str, protocol: &str| {
            json!({ "match": { "prefix": prefix },
            "route": { "cluster_name": "c", "upstream_protocol": protocol } })
        };
        let config = json!({ "router_config_name": "r", "virtual_hosts": [{ "name": "all",
            "domains": ["*"], "routers": [route("/h2", "Http2"), route("/rpc", "bolt"),
            route("/auto", "Auto"), route("/", "")] }] });
        let mut diags = Diagnostics::default();
        let router: RouterConfiguration = decode(&config, "", &mut diags).unwrap();
        let table = RouteTable::new(&router, "routers[0]", &mut diags);
        let chosen = |path| match table.route("", &Req(path)).unwrap().action {
            Action::Forward(forward) => forward.upstream_protocol,
            _ => panic!("{path} is not forwarded"),
        };
        assert_eq!(chosen("/h2/x"), Some(Protocol::Http2));
        assert_eq!(chosen("/rpc"), None);
        assert_eq!(chosen("/auto"), None);
        assert_eq!(chosen("/other"), None);
        let warnings: Vec<_> = diags.items().iter().map(|d| d.path.as_str()).collect();
        assert_eq!(
            warnings,
            ["routers[0].virtual_hosts[0].routers[1].route.upstream_protocol"]
        );
    }

    /// A request with headers only, as RPC requests are routed.
    struct Rpc(&'static [(&'static str, &'static str)]);
    impl Request for Rpc {
        fn path(&self) -> &str {
            ""
        }
        fn header(&self, name: &str) -> Option<&str> {
            self.0.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
        }
        fn variable(&self, _: &str) -> Option<String> {
            None
        }
    }

    #[test]
    fn service_routes_are_found_by_value_and_the_first_match_still_wins() {
        let route = |headers: serde_json::Value, cluster: &str| json!({ "match": { "headers": headers }, "route": { "cluster_name": cluster } });
        let service = |value: &str| json!([{ "name": "service", "value": value }]);
        let mut routers: Vec<_> = (0..1000)
            .map(|i| route(service(&format!("s{i}")), &format!("c{i}")))
            .collect();
        routers.insert(
            1,
            route(json!([{ "name": "method", "value": "m" }]), "by-method"),
        );
        routers.push(route(service("s0"), "second-s0"));
        routers.push(route(service(".*"), "any"));
        let config = json!({ "router_config_name": "r", "virtual_hosts": [
            { "name": "rpc", "domains": ["*"], "routers": routers } ] });
        let mut diags = Diagnostics::default();
        let router: RouterConfiguration = decode(&config, "", &mut diags).unwrap();
        let table = RouteTable::new(&router, "routers[0]", &mut diags);
        let cluster = |headers| match table.route("", &Rpc(headers)).map(|m| m.action) {
            Some(Action::Forward(ForwardAction {
                cluster: ClusterChoice::Named(name),
                ..
            })) => name.clone(),
            _ => panic!("no route to a named cluster for {headers:?}"),
        };
        assert_eq!(cluster(&[("service", "s999")]), "c999");
        assert_eq!(
            cluster(&[("service", "s0"), ("method", "m")]),
            "c0",
            "s0 comes first"
        );
        assert_eq!(cluster(&[("service", "s5"), ("method", "m")]), "by-method");
        assert_eq!(cluster(&[("service", "other")]), "any");
        assert_eq!(cluster(&[("method", "x"), ("service", "s0")]), "c0");
    }
}
