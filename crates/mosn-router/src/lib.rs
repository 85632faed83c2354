//! Route tables built from MOSN's `routers`: virtual hosts chosen by domain, routes matched by
//! path and headers, and what each route does with a request.

mod action;
mod domain;
mod fast_index;
mod matcher;
mod mutation;
mod table;

pub use action::{
    Action, ClusterChoice, DEFAULT_TIMEOUT, ForwardAction, Mirror, Redirect, RetryPolicy,
};
pub use matcher::{Matcher, Request};
pub use mutation::{HeaderEdit, HeaderMutations};
pub use table::{RouteMatch, RouteTable, Routers};
