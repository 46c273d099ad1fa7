//! The [`Guard`] every request of a listener passes: the origin rules
//! (CORS preflights answered, state-changing requests from other sites
//! refused with 403), the rate limit, the credentials and the role its
//! route needs, then the CORS and configured response headers.
//!
//! A request without credentials gets 401 with `WWW-Authenticate: Basic`
//! (a browser asks for a password), one whose credentials lack the route's
//! role 403 naming the role. The body never repeats what the client sent.
//! Handlers find the [`Principal`] among the request's extensions.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header::{ORIGIN, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;
use tracing::debug;

use crate::auth::{Authenticator, Credentials, Principal, Verdict};
use crate::metrics::Metrics;
use crate::origin::{self, CorsOrigins};
use crate::policy::{self, Need};
use crate::web_config::{RateLimit, WebSettings};

/// The wall clock in milliseconds since the Unix epoch, injectable for tests.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// What one listener checks and adds.
pub struct Guard {
    authenticator: Option<Arc<Authenticator>>,
    headers: Vec<(HeaderName, HeaderValue)>,
    bucket: Option<Mutex<Bucket>>,
    cors: CorsOrigins,
    metrics: Metrics,
    clock: Clock,
}

impl fmt::Debug for Guard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Guard").field("authenticator", &self.authenticator).finish_non_exhaustive()
    }
}

impl Guard {
    /// The guard of the API and dashboard listener: `credentials` checked
    /// on every route but health and readiness, when any are configured.
    pub fn new(web: &WebSettings, credentials: Credentials, metrics: Metrics, clock: Clock) -> Guard {
        let authenticator = credentials.is_enabled().then(|| Arc::new(Authenticator::new(credentials)));
        Guard { authenticator, ..Guard::headers_only(web, metrics, clock) }
    }

    /// The guard of the gateway's listener: the web configuration's
    /// headers and rate limit; its clients authenticate with the gateway's
    /// own keys, which OpenAI clients send as a bearer token.
    pub fn headers_only(web: &WebSettings, metrics: Metrics, clock: Clock) -> Guard {
        Guard {
            authenticator: None,
            headers: web.headers.clone(),
            bucket: web.rate_limit.map(|limit| Mutex::new(Bucket::new(limit))),
            cors: CorsOrigins::default(),
            metrics,
            clock,
        }
    }

    /// The guard with `cors` allowed to call across origins; without,
    /// no origin is.
    pub fn with_cors(self, cors: CorsOrigins) -> Guard {
        Guard { cors, ..self }
    }

    /// Applies the guard to every route of `router` (and its fallback).
    pub fn protect(self: Arc<Self>, router: Router) -> Router {
        router.layer(middleware::from_fn_with_state(self, check))
    }

    fn refuse(&self, status: StatusCode, reason: &'static str, body: String) -> Response {
        self.metrics.refused(reason);
        let mut response = (status, body).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"infersight\""));
        }
        response
    }
}

async fn check(State(guard): State<Arc<Guard>>, mut request: Request, next: Next) -> Response {
    let origin = request.headers().get(ORIGIN).cloned();
    let verdict = origin::judge(&guard.cors, &request);
    let mut response = match verdict {
        origin::Verdict::Preflight => StatusCode::NO_CONTENT.into_response(),
        origin::Verdict::CrossOrigin => {
            debug!(method = %request.method(), origin = ?origin, "Request refused: cross-origin");
            guard.refuse(
                StatusCode::FORBIDDEN,
                "cross_origin",
                "cross-origin request refused: add its origin to [server] cors_origins to allow it\n".into(),
            )
        }
        origin::Verdict::Pass => match decide(&guard, &mut request).await {
            Some(refused) => refused,
            None => next.run(request).await,
        },
    };
    origin::add_headers(&guard.cors, origin, verdict == origin::Verdict::Preflight, response.headers_mut());
    for (name, value) in &guard.headers {
        response.headers_mut().insert(name.clone(), value.clone());
    }
    response
}

/// `Some(response)` to refuse the request; `None` to let it through, with
/// its principal among the extensions.
async fn decide(guard: &Arc<Guard>, request: &mut Request) -> Option<Response> {
    if let Some(bucket) = &guard.bucket
        && let Err(wait) = bucket.lock().take(Instant::now())
    {
        let mut response = guard.refuse(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "too many requests\n".into());
        let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
        response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(seconds));
        return Some(response);
    }
    let Some(authenticator) = &guard.authenticator else {
        request.extensions_mut().insert(Principal::anonymous());
        return None;
    };
    let matched = request.extensions().get::<MatchedPath>().map(|m| m.as_str().to_owned());
    let Need::Role(role) = policy::need(request.method(), matched.as_deref()) else { return None };
    let headers = request.headers().clone();
    let now_ms = (guard.clock)();
    let authenticator = Arc::clone(authenticator);
    let verdict = tokio::task::spawn_blocking(move || authenticator.authenticate(&headers, now_ms))
        .await
        .unwrap_or(Verdict::Invalid);
    match verdict {
        Verdict::Allowed(principal) if principal.roles.has(role) => {
            request.extensions_mut().insert(principal);
            None
        }
        Verdict::Allowed(principal) => {
            debug!(principal = %principal.name, role = role.as_str(), route = ?matched, "Request refused: role missing");
            let body = format!("{:?} lacks the {:?} role this endpoint needs\n", principal.name, role.as_str());
            Some(guard.refuse(StatusCode::FORBIDDEN, "forbidden", body))
        }
        Verdict::Missing => Some(guard.refuse(
            StatusCode::UNAUTHORIZED,
            "missing",
            "authentication required: basic auth or a bearer token\n".into(),
        )),
        Verdict::Invalid => Some(guard.refuse(StatusCode::UNAUTHORIZED, "invalid", "invalid credentials\n".into())),
        Verdict::Expired => Some(guard.refuse(StatusCode::UNAUTHORIZED, "expired", "token expired\n".into())),
    }
}

/// exporter-toolkit's token bucket: one request per `interval`, `burst` at once.
#[derive(Debug)]
struct Bucket {
    limit: RateLimit,
    tokens: f64,
    last: Option<Instant>,
}

impl Bucket {
    fn new(limit: RateLimit) -> Bucket {
        Bucket { limit, tokens: f64::from(limit.burst), last: None }
    }

    /// Takes a token, or says how long until one is there.
    fn take(&mut self, now: Instant) -> Result<(), std::time::Duration> {
        let interval = self.limit.interval.as_secs_f64();
        if let Some(last) = self.last {
            let refill = now.saturating_duration_since(last).as_secs_f64() / interval;
            self.tokens = (self.tokens + refill).min(f64::from(self.limit.burst));
        }
        self.last = Some(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(std::time::Duration::from_secs_f64((1.0 - self.tokens) * interval))
        }
    }
}
