//! The web dashboard, built from `web/` and embedded in the binary.
//!
//! `build.rs` runs the `web/` build (npm and Vite) when its output is
//! missing or stale and embeds every file of `web/dist`; [`router`] serves
//! them at `/`. Hashed files under `assets/` are cached for a year, everything
//! else is revalidated. A path that names no file and looks like a page (no
//! file extension, not under `/api/`, `/metrics` or `/-/`) gets `index.html`,
//! so the single-page app's links work after a reload. This crate knows
//! nothing about the API: the app talks to it over HTTP like any client.
//!
//! Every answer carries [`CONTENT_SECURITY_POLICY`] (no inline script or
//! style, nothing from another origin, no framing), `X-Content-Type-Options:
//! nosniff` and `Referrer-Policy: same-origin`. The listener's web.yml
//! `http_server_config.headers` are set after these, so a configured
//! `Content-Security-Policy` or `X-Content-Type-Options` wins.
#![warn(missing_docs)]

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// The dashboard's Content-Security-Policy. Scripts and styles come only
/// from the bundle's files (the app sets styles through the CSSOM, which
/// the policy allows, never as inline `style` attributes); the one image
/// from elsewhere is the empty `data:` favicon. Nothing may frame the
/// dashboard, and forms and `<base>` stay on this origin.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; \
     form-action 'self'";

/// One embedded file of `web/dist`.
#[derive(Debug)]
struct Asset {
    /// The path relative to `web/dist`, with `/` separators.
    path: &'static str,
    /// The file's bytes.
    bytes: &'static [u8],
    /// A gzip copy, when compressing made the file smaller.
    gzip: Option<&'static [u8]>,
}

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// Prefixes that belong to other routers: never answered with `index.html`.
const RESERVED: &[&str] = &["api/", "api", "metrics", "-/", "-"];

/// The dashboard's routes: `/` and every embedded file, with the
/// single-page-app fallback. Merge it with the API router; the API's own
/// routes take precedence because they are more specific.
pub fn router() -> Router {
    Router::new().route("/", get(index)).route("/{*path}", get(file)).layer(middleware::map_response(secure))
}

/// Adds the security headers every dashboard answer carries.
async fn secure(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    response
}

/// Whether this binary embeds a real build of `web/`, rather than the page
/// saying it was not built.
pub fn is_built() -> bool {
    BUILT
}

async fn index(headers: HeaderMap) -> Response {
    match find("index.html") {
        Some(asset) => respond(asset, &headers),
        None => not_found(),
    }
}

async fn file(Path(path): Path<String>, headers: HeaderMap) -> Response {
    // No file is ever served by walking up, but such a path is an attack, not
    // an address of the app: it gets a 400, not the page.
    if path.contains(['\0', '\\']) || path.split('/').any(|segment| segment == "..") {
        return (StatusCode::BAD_REQUEST, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "400 bad path\n")
            .into_response();
    }
    if let Some(asset) = find(&path) {
        return respond(asset, &headers);
    }
    let reserved = RESERVED.iter().any(|p| path == *p || (p.ends_with('/') && path.starts_with(p)));
    let last = path.rsplit('/').next().unwrap_or(&path);
    if reserved || path.starts_with("assets/") || last.contains('.') {
        return not_found();
    }
    index(headers).await
}

fn find(path: &str) -> Option<&'static Asset> {
    ASSETS.binary_search_by(|asset| asset.path.cmp(path)).ok().and_then(|i| ASSETS.get(i))
}

fn respond(asset: &'static Asset, headers: &HeaderMap) -> Response {
    let cache = if asset.path.starts_with("assets/") { "public, max-age=31536000, immutable" } else { "no-cache" };
    let accepts_gzip = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().split(';').next() == Some("gzip")));
    let (body, encoding) = match asset.gzip {
        Some(gz) if accepts_gzip => (gz, Some("gzip")),
        _ => (asset.bytes, None),
    };
    let mut response = Response::new(Body::from(body));
    let out = response.headers_mut();
    out.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(asset.path)));
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if asset.gzip.is_some() {
        out.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    if let Some(encoding) = encoding {
        out.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
    }
    response
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "404 page not found\n")
        .into_response()
}

/// The `Content-Type` for a file name.
fn content_type(path: &str) -> &'static str {
    let extension = path.rsplit('.').next().unwrap_or("");
    match extension {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "webp" => "image/webp",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        "webmanifest" => "application/manifest+json",
        _ => "application/octet-stream",
    }
}
