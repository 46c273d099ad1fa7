//! Self-metrics of the HTTP server: request counts and durations per route.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Request-duration buckets in seconds: from a cached label lookup to a query
/// that reads weeks of blocks.
const DURATION_BUCKETS: [f64; 12] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 60.0];

/// The `handler` label of requests that matched no route, so a scanner
/// probing random paths cannot grow the label set.
const UNMATCHED: &str = "unmatched";

/// The HTTP server's metrics, shared by every router the binary serves.
#[derive(Debug)]
pub struct Metrics {
    request_duration: Family<RequestLabels, Histogram, fn() -> Histogram>,
    requests: Family<RequestLabels, Counter>,
}

/// Labels of one request: the route pattern (never the raw path, which would
/// make the set unbounded) and the response status code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    handler: String,
    code: String,
}

impl Metrics {
    /// Registers `infersight_http_request_duration_seconds` and
    /// `infersight_http_requests_total`, labelled by `handler` and `code`.
    pub fn new(registry: &mut Registry) -> Metrics {
        let request_duration: Family<RequestLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(|| Histogram::new(DURATION_BUCKETS.iter().copied()));
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "infersight_http_request_duration_seconds",
            "Time taken to answer HTTP requests, by route and status code",
            request_duration.clone(),
        );
        // The encoder appends `_total` to counters.
        registry.register(
            "infersight_http_requests",
            "HTTP requests answered, by route and status code",
            requests.clone(),
        );
        Metrics { request_duration, requests }
    }

    /// Records one answered request.
    fn observe(&self, handler: &str, code: u16, seconds: f64) {
        let labels = RequestLabels { handler: handler.to_owned(), code: code.to_string() };
        self.request_duration.get_or_create(&labels).observe(seconds);
        self.requests.get_or_create(&labels).inc();
    }
}

/// Measures every request `router` answers into `metrics`.
///
/// Apply it to the router the binary serves, after merging the crates'
/// routers, so every route is measured once with its matched path.
pub fn instrument(router: Router, metrics: Arc<Metrics>) -> Router {
    router.layer(middleware::from_fn_with_state(metrics, measure))
}

async fn measure(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let handler = request.extensions().get::<MatchedPath>().map(|path| path.as_str().to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    let handler = handler.as_deref().unwrap_or(UNMATCHED);
    metrics.observe(handler, response.status().as_u16(), started.elapsed().as_secs_f64());
    response
}
