//! Tests of which role each route needs.

use super::*;

#[track_caller]
fn check(method: Method, route: Option<&str>, expect: Need) {
    assert_eq!(need(&method, route), expect, "{method} {route:?}");
}

#[test]
fn each_route_needs_its_role() {
    use Need::Role as R;
    check(Method::GET, Some("/-/healthy"), Need::Nothing);
    check(Method::GET, Some("/-/ready"), Need::Nothing);
    check(Method::POST, Some("/-/reload"), R(Role::Admin));
    check(Method::POST, Some("/api/v1/write"), R(Role::Ingest));
    check(Method::POST, Some("/api/v1/otlp/v1/metrics"), R(Role::Ingest));
    check(Method::POST, Some("/api/v1/infersight/exchanges/{id}/feedback"), R(Role::Ingest));
    check(Method::GET, Some("/api/v1/infersight/exchanges"), R(Role::Exchanges));
    check(Method::GET, Some("/api/v1/infersight/exchanges/{id}"), R(Role::Exchanges));
    check(Method::DELETE, Some("/api/v1/infersight/exchanges"), R(Role::Admin));
    check(Method::POST, Some("/api/v1/admin/tsdb/flush"), R(Role::Admin));
    check(Method::GET, Some("/api/v1/query"), R(Role::Metrics));
    check(Method::GET, Some("/metrics"), R(Role::Metrics));
    check(Method::GET, Some("/"), R(Role::Metrics));
    check(Method::GET, None, R(Role::Metrics));
}
