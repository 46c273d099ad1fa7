//! The router serves the embedded bundle: content types, cache headers, gzip, SPA fallback.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

async fn get(path: &str, gzip: bool) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let mut request = Request::get(path);
    if gzip {
        request = request.header(header::ACCEPT_ENCODING, "br, gzip;q=0.9");
    }
    let response =
        dashboard::router().oneshot(request.body(Body::empty()).expect("request")).await.expect("the router answers");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.expect("body").to_bytes().to_vec();
    (status, headers, body)
}

fn header_of(headers: &axum::http::HeaderMap, name: header::HeaderName) -> &str {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

#[tokio::test]
async fn index_is_html_and_revalidated() {
    let (status, headers, body) = get("/", false).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header_of(&headers, header::CONTENT_TYPE), "text/html; charset=utf-8");
    assert_eq!(header_of(&headers, header::CACHE_CONTROL), "no-cache");
    assert!(String::from_utf8_lossy(&body).contains("infersight"));
}

#[tokio::test]
async fn page_paths_fall_back_to_index() {
    let (_, _, index) = get("/", false).await;
    for path in ["/overview", "/quality/exchange/12", "/index.html"] {
        let (status, headers, body) = get(path, false).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(header_of(&headers, header::CONTENT_TYPE).starts_with("text/html"), "{path}");
        assert_eq!(body, index, "{path}");
    }
}

#[tokio::test]
async fn reserved_and_missing_assets_are_not_found() {
    for path in ["/api/v1/nope", "/api", "/metrics", "/-/nope", "/assets/missing-123.js", "/favicon.ico"] {
        let (status, _, _) = get(path, false).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn hashed_assets_are_immutable_with_their_type_and_gzip() {
    let (_, _, index) = get("/", false).await;
    let index = String::from_utf8_lossy(&index).into_owned();
    if !dashboard::is_built() {
        eprintln!("skipping: the dashboard was not built (no npm), the fallback page is embedded");
        assert!(index.contains("not built"));
        return;
    }
    let script =
        index.split("src=\"").nth(1).and_then(|rest| rest.split('"').next()).expect("index.html loads a script");
    assert!(script.starts_with("/assets/"), "{script}");
    let (status, headers, plain) = get(script, false).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header_of(&headers, header::CONTENT_TYPE), "text/javascript; charset=utf-8");
    assert_eq!(header_of(&headers, header::CACHE_CONTROL), "public, max-age=31536000, immutable");
    assert_eq!(header_of(&headers, header::CONTENT_ENCODING), "");
    let (status, headers, gz) = get(script, true).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header_of(&headers, header::CONTENT_ENCODING), "gzip");
    assert_eq!(header_of(&headers, header::VARY), "accept-encoding");
    assert!(gz.len() < plain.len() && gz.starts_with(&[0x1f, 0x8b]));
}

#[tokio::test]
async fn merged_with_the_api_the_api_routes_win() {
    use axum::Router;
    use axum::routing::get;
    let app = Router::new()
        .route("/api/v1/query", get(|| async { "api" }))
        .route("/api/v1/label/{name}/values", get(|| async { "values" }))
        .route("/metrics", get(|| async { "metrics" }))
        .merge(dashboard::router());
    for (path, expected) in [("/api/v1/query", "api"), ("/api/v1/label/job/values", "values"), ("/metrics", "metrics")]
    {
        let response =
            app.clone().oneshot(Request::get(path).body(Body::empty()).expect("request")).await.expect("answer");
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let body = response.into_body().collect().await.expect("body").to_bytes();
        assert_eq!(&body[..], expected.as_bytes(), "{path}");
    }
    let response = app.oneshot(Request::get("/quality").body(Body::empty()).expect("request")).await.expect("answer");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header_of(response.headers(), header::CONTENT_TYPE), "text/html; charset=utf-8");
}

#[tokio::test]
async fn issue_20_every_answer_forbids_inline_script_and_framing() {
    let policy = dashboard::CONTENT_SECURITY_POLICY;
    for directive in
        ["default-src 'self'", "script-src 'self'", "object-src 'none'", "frame-ancestors 'none'", "base-uri 'self'"]
    {
        assert!(policy.contains(directive), "{directive} in {policy}");
    }
    assert!(!policy.contains("unsafe"), "no inline script or style, no eval: {policy}");

    let (_, _, index) = get("/", false).await;
    let index = String::from_utf8_lossy(&index).into_owned();
    let styles = if dashboard::is_built() {
        let css = index.split("href=\"").find_map(|rest| rest.split('"').next().filter(|href| href.ends_with(".css")));
        css.expect("index.html links its style sheet").to_owned()
    } else {
        "/fallback.css".to_owned()
    };
    for path in ["/", "/overview", "/api/v1/nope", "/assets/missing-123.js", styles.as_str()] {
        let (_, headers, _) = get(path, false).await;
        assert_eq!(header_of(&headers, header::CONTENT_SECURITY_POLICY), policy, "{path}");
        assert_eq!(header_of(&headers, header::X_CONTENT_TYPE_OPTIONS), "nosniff", "{path}");
        assert_eq!(header_of(&headers, header::REFERRER_POLICY), "same-origin", "{path}");
    }
    let (status, headers, _) = get(&styles, false).await;
    assert_eq!((status, header_of(&headers, header::CONTENT_TYPE)), (StatusCode::OK, "text/css; charset=utf-8"));

    // Nothing inline for the policy to block: every script has a src, no style element or attribute, no handler.
    let lower = index.to_ascii_lowercase();
    for script in lower.split("<script").skip(1) {
        let tag = script.split('>').next().unwrap_or_default();
        assert!(tag.contains(" src="), "an inline script: <script{tag}>");
    }
    assert!(!lower.contains("<style"), "an inline style element in {index}");
    assert!(!lower.contains(" style="), "an inline style attribute in {index}");
    let handler = lower.match_indices(" on").any(|(at, _)| {
        lower[at + 3..].chars().take_while(char::is_ascii_alphabetic).count() > 0
            && lower[at + 3..].trim_start_matches(|c: char| c.is_ascii_alphabetic()).starts_with('=')
    });
    assert!(!handler, "an inline event handler in {index}");
}

#[test]
fn issue_20_the_fixture_server_sends_the_dashboard_policy() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/tests/fixture-server.mjs");
    let fixture = std::fs::read_to_string(path).expect("web/tests/fixture-server.mjs");
    let expected = format!("const CSP = \"{}\";", dashboard::CONTENT_SECURITY_POLICY);
    assert!(fixture.contains(&expected), "the browser test must run under the dashboard's policy: {expected}");
}
