//! Tests of origin parsing, the forgery check and the CORS headers.

use axum::http::{HeaderMap, Method, Request};

use super::*;

#[track_caller]
fn check_origin(text: &str, expect: Result<&str, &str>) {
    match (parse_origin(text), expect) {
        (Ok(got), Ok(want)) => assert_eq!(got, want),
        (Err(got), Err(want)) => assert!(got.contains(want), "{got}"),
        (got, want) => panic!("{text:?}: got {got:?}, want {want:?}"),
    }
}

#[test]
fn origins_are_stored_as_browsers_send_them() {
    check_origin("https://grafana.example.com", Ok("https://grafana.example.com"));
    check_origin("HTTPS://Grafana.Example.com:443", Ok("https://grafana.example.com"));
    check_origin("http://localhost:3000", Ok("http://localhost:3000"));
    check_origin("http://127.0.0.1:80", Ok("http://127.0.0.1"));
    check_origin("http://[::1]:3000", Ok("http://[::1]:3000"));
    check_origin("http://[::1]", Ok("http://[::1]"));
    check_origin("grafana.example.com", Err("is not an origin"));
    check_origin("ftp://example.com", Err("is not an http or https origin"));
    check_origin("https://grafana.example.com/", Err("has more than a host and port (a path"));
    check_origin("https://u@example.com", Err("a user"));
    check_origin("https://example.com:http", Err("port that is not a number"));
    check_origin("https://", Err("no host"));
    check_origin("*", Err("is not an origin"));
}

#[test]
fn every_bad_origin_is_reported_with_its_index() {
    let problems = CorsOrigins::new(&["https://ok.example.com", "nope", "https://a/b"]).expect_err("bad");
    assert_eq!(problems.iter().map(|(i, _)| *i).collect::<Vec<_>>(), [1, 2]);
    assert!(!CorsOrigins::default().is_enabled());
}

fn request(method: Method, headers: &[(&str, &str)]) -> Request<()> {
    let mut builder = Request::builder().method(method).uri("/api/v1/admin/tsdb/flush");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(()).expect("request")
}

#[track_caller]
fn check(cors: &[&str], method: Method, headers: &[(&str, &str)], expect: Verdict) {
    let cors = CorsOrigins::new(cors).expect("origins");
    assert_eq!(judge(&cors, &request(method, headers)), expect);
}

#[test]
fn state_changing_requests_from_other_sites_are_refused() {
    use Verdict::{CrossOrigin, Pass, Preflight};
    let host = ("host", "infersight.example.com:8490");
    let grafana = "https://grafana.example.com";
    // Not a browser: no Origin, no Sec-Fetch-Site.
    check(&[], Method::POST, &[host], Pass);
    // Safe methods always pass.
    check(&[], Method::GET, &[host, ("origin", "https://evil.example"), ("sec-fetch-site", "cross-site")], Pass);
    check(&[], Method::HEAD, &[host, ("sec-fetch-site", "cross-site")], Pass);
    // The browser's own word.
    check(&[], Method::POST, &[host, ("sec-fetch-site", "same-origin")], Pass);
    check(&[], Method::POST, &[host, ("sec-fetch-site", "none")], Pass);
    check(&[], Method::POST, &[host, ("sec-fetch-site", "cross-site")], CrossOrigin);
    check(&[], Method::DELETE, &[host, ("sec-fetch-site", "same-site")], CrossOrigin);
    // Browsers without Sec-Fetch-Site: Origin against Host.
    check(&[], Method::POST, &[host, ("origin", "http://infersight.example.com:8490")], Pass);
    check(&[], Method::POST, &[host, ("origin", "https://INFERSIGHT.example.com:8490")], Pass);
    check(&[], Method::PUT, &[host, ("origin", "http://infersight.example.com:9999")], CrossOrigin);
    check(&[], Method::PATCH, &[host, ("origin", "null")], CrossOrigin);
    check(&[], Method::POST, &[("origin", "http://infersight.example.com:8490")], CrossOrigin);
    // A CORS origin may.
    check(&[grafana], Method::POST, &[host, ("origin", grafana), ("sec-fetch-site", "cross-site")], Pass);
    check(
        &[grafana],
        Method::POST,
        &[host, ("origin", "https://evil.example"), ("sec-fetch-site", "cross-site")],
        CrossOrigin,
    );
    // Preflights: answered for allowed origins only.
    let preflight = [host, ("origin", grafana), ("access-control-request-method", "POST")];
    check(&[grafana], Method::OPTIONS, &preflight, Preflight);
    check(&[], Method::OPTIONS, &preflight, Pass);
}

#[test]
fn only_allowed_origins_get_cors_headers() {
    let grafana = "https://grafana.example.com";
    let cors = CorsOrigins::new(&[grafana]).expect("origins");
    let mut response = HeaderMap::new();
    add_headers(&CorsOrigins::default(), Some(HeaderValue::from_static(grafana)), false, &mut response);
    assert!(response.is_empty(), "CORS is off by default: {response:?}");

    add_headers(&cors, Some(HeaderValue::from_static("https://evil.example")), false, &mut response);
    assert_eq!(response.get(VARY).expect("vary"), "Origin");
    assert!(!response.contains_key(ACCESS_CONTROL_ALLOW_ORIGIN));

    let mut response = HeaderMap::new();
    add_headers(&cors, Some(HeaderValue::from_static(grafana)), false, &mut response);
    assert_eq!(response.get(ACCESS_CONTROL_ALLOW_ORIGIN).expect("allowed"), grafana);
    assert!(!response.contains_key(ACCESS_CONTROL_ALLOW_METHODS));

    let mut response = HeaderMap::new();
    add_headers(&cors, Some(HeaderValue::from_static(grafana)), true, &mut response);
    assert_eq!(response.get(ACCESS_CONTROL_ALLOW_METHODS).expect("methods"), "GET, POST, OPTIONS");
    assert_eq!(
        response.get(ACCESS_CONTROL_ALLOW_HEADERS).expect("headers"),
        "Accept, Authorization, Content-Type, Origin"
    );
}
