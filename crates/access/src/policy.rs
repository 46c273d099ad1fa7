//! Which role each route needs, by its matched route pattern.
//!
//! The decision uses the pattern axum matched (`/api/v1/infersight/exchanges/{id}`),
//! not the raw path, so no spelling of a path (percent-encoding, extra
//! segments) reaches a handler under a weaker rule than its route's.

use axum::http::Method;

use crate::auth::Role;

/// What a request needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Nothing: liveness and readiness, for load balancers and kubelets.
    Nothing,
    /// Credentials with this role.
    Role(Role),
}

/// What a request to the route `matched` (none for a path no route
/// matched) with `method` needs.
pub fn need(method: &Method, matched: Option<&str>) -> Need {
    let Some(route) = matched else { return Need::Role(Role::Metrics) };
    if route == "/-/healthy" || route == "/-/ready" {
        return Need::Nothing;
    }
    let role = if route == "/api/v1/write"
        || route.starts_with("/api/v1/otlp/")
        || route == "/api/v1/infersight/exchanges/{id}/feedback"
    {
        Role::Ingest
    } else if *method == Method::DELETE
        || route.starts_with("/api/v1/admin/")
        || route.starts_with("/-/")
        || route.starts_with("/api/v1/status/config")
        || route.starts_with("/api/v1/status/flags")
    {
        Role::Admin
    } else if route.starts_with("/api/v1/infersight/exchanges") {
        Role::Exchanges
    } else {
        Role::Metrics
    };
    Need::Role(role)
}

#[cfg(test)]
mod tests;
