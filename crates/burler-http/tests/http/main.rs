//! Behaviour tests of burler-http against loopback servers.

mod auth;
mod endpoints;
mod faults;
mod graphql;
mod metrics;
mod middleware;
mod paginate;
mod pipeline;
mod rate_limit;
mod resume;
mod retry;
mod support;
