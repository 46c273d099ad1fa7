//! Which browser origins may call a listener: CORS for the origins of
//! `[server] cors_origins` ([`CorsOrigins`]), and the cross-site request
//! forgery check on every request that can change state.
//!
//! CORS is off unless origins are configured: no response carries
//! `Access-Control-Allow-Origin`, as with Prometheus's `--web.cors.origin`
//! left unset, except that infersight's default allows no origin rather
//! than every one. A configured origin gets `Access-Control-Allow-Origin`
//! with its own name on every response, and its preflight requests are
//! answered before credentials are checked (browsers send none with them).
//!
//! The forgery check follows Go's `http.CrossOriginProtection`: a request
//! with a method other than GET, HEAD or OPTIONS is refused when the
//! browser says it comes from another site (`Sec-Fetch-Site` other than
//! `same-origin` or `none`) or, from browsers that do not send that header,
//! when its `Origin` names another host than the request's `Host`, unless
//! that origin is one of the CORS origins. Requests without either header
//! (remote write, OTLP exporters, curl, Grafana's server side) are not
//! browsers' and pass.

use axum::http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE, ACCESS_CONTROL_REQUEST_METHOD, HOST, ORIGIN, VARY,
};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request};

/// The browser origins allowed to read a listener's responses and to send
/// it requests that change state: `[server] cors_origins`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorsOrigins {
    /// Each origin as browsers send it: `https://grafana.example.com`,
    /// lowercase, without a default port.
    allowed: Vec<String>,
}

impl CorsOrigins {
    /// Allows `origins`, each as written in `[server] cors_origins`.
    ///
    /// # Errors
    ///
    /// The index and the problem of each origin that is not `http://` or
    /// `https://` with a host, an optional port and nothing else.
    pub fn new<S: AsRef<str>>(origins: &[S]) -> Result<CorsOrigins, Vec<(usize, String)>> {
        let mut allowed = Vec::new();
        let mut problems = Vec::new();
        for (i, origin) in origins.iter().enumerate() {
            match parse_origin(origin.as_ref()) {
                Ok(origin) if !allowed.contains(&origin) => allowed.push(origin),
                Ok(_) => {}
                Err(message) => problems.push((i, message)),
            }
        }
        if problems.is_empty() { Ok(CorsOrigins { allowed }) } else { Err(problems) }
    }

    /// Whether any origin is allowed.
    pub fn is_enabled(&self) -> bool {
        !self.allowed.is_empty()
    }

    /// Whether `origin`, a request's `Origin` header, is allowed.
    fn allows(&self, origin: Option<&HeaderValue>) -> bool {
        let Some(text) = origin.and_then(|origin| origin.to_str().ok()) else { return false };
        self.allowed.iter().any(|allowed| allowed.eq_ignore_ascii_case(text))
    }
}

/// The methods allowed across origins, Prometheus's.
const ALLOW_METHODS: HeaderValue = HeaderValue::from_static("GET, POST, OPTIONS");
/// The request headers allowed across origins, Prometheus's.
const ALLOW_HEADERS: HeaderValue = HeaderValue::from_static("Accept, Authorization, Content-Type, Origin");
/// How long a browser may cache a preflight answer: ten minutes.
const MAX_AGE: HeaderValue = HeaderValue::from_static("600");
const SEC_FETCH_SITE: HeaderName = HeaderName::from_static("sec-fetch-site");

/// How a request stands with the origin rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Served as usual.
    Pass,
    /// A CORS preflight from an allowed origin: answered at once.
    Preflight,
    /// A state-changing request from another site: refused.
    CrossOrigin,
}

/// What `cors` says of `request`.
pub(crate) fn judge<B>(cors: &CorsOrigins, request: &Request<B>) -> Verdict {
    let headers = request.headers();
    let method = request.method();
    if *method == Method::OPTIONS && headers.contains_key(ACCESS_CONTROL_REQUEST_METHOD) {
        return if cors.allows(headers.get(ORIGIN)) { Verdict::Preflight } else { Verdict::Pass };
    }
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) || cors.allows(headers.get(ORIGIN)) {
        return Verdict::Pass;
    }
    match headers.get(SEC_FETCH_SITE).map(HeaderValue::as_bytes) {
        Some(b"same-origin" | b"none") => return Verdict::Pass,
        Some(_) => return Verdict::CrossOrigin,
        None => {}
    }
    let Some(origin) = headers.get(ORIGIN) else { return Verdict::Pass };
    let host =
        request.uri().authority().map(|a| a.as_str().as_bytes()).or_else(|| headers.get(HOST).map(|h| h.as_bytes()));
    let origin_host = origin.as_bytes().splitn(2, |&b| b == b':').nth(1).and_then(|rest| rest.strip_prefix(b"//"));
    match (origin_host, host) {
        (Some(origin_host), Some(host)) if origin_host.eq_ignore_ascii_case(host) => Verdict::Pass,
        _ => Verdict::CrossOrigin,
    }
}

/// Adds the CORS headers a response to a request from `origin` (its
/// `Origin` header) gets: `Vary: Origin` whenever origins are configured,
/// and for an allowed origin `Access-Control-Allow-Origin` naming it (with
/// the allowed methods and headers on a preflight answer).
pub(crate) fn add_headers(cors: &CorsOrigins, origin: Option<HeaderValue>, preflight: bool, response: &mut HeaderMap) {
    if !cors.is_enabled() {
        return;
    }
    response.append(VARY, HeaderValue::from_static("Origin"));
    let Some(origin) = origin.filter(|origin| cors.allows(Some(origin))) else { return };
    response.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    response.insert(ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static("Date"));
    if preflight {
        response.insert(ACCESS_CONTROL_ALLOW_METHODS, ALLOW_METHODS);
        response.insert(ACCESS_CONTROL_ALLOW_HEADERS, ALLOW_HEADERS);
        response.insert(ACCESS_CONTROL_MAX_AGE, MAX_AGE);
    }
}

/// An origin as written in the configuration, in the form browsers send:
/// lowercase, without a default port.
fn parse_origin(text: &str) -> Result<String, String> {
    let example = "an origin is a scheme and a host, with a port if not the default: \"https://grafana.example.com\"";
    let (scheme, rest) = text.split_once("://").ok_or_else(|| format!("{text:?} is not an origin; {example}"))?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => "80",
        "https" => "443",
        _ => return Err(format!("{text:?} is not an http or https origin; {example}")),
    };
    if rest.contains(['/', '?', '#', '@', ' ']) {
        return Err(format!("{text:?} has more than a host and port (a path, a query or a user); {example}"));
    }
    let (host, port) = match rest.rfind(':') {
        Some(colon) if !rest[colon..].contains(']') => (&rest[..colon], Some(&rest[colon + 1..])),
        _ => (rest, None),
    };
    if host.is_empty() || host.starts_with('[') != host.ends_with(']') {
        return Err(format!("{text:?} has no host; {example}"));
    }
    let host = host.to_ascii_lowercase();
    match port {
        None => Ok(format!("{scheme}://{host}")),
        Some(port) if port.parse::<u16>().is_err() => {
            Err(format!("{text:?} has a port that is not a number; {example}"))
        }
        Some(port) if port == default_port => Ok(format!("{scheme}://{host}")),
        Some(port) => Ok(format!("{scheme}://{host}:{port}")),
    }
}

#[cfg(test)]
mod tests;
