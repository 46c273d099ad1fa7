//! Request parameters, read as Prometheus reads them: from the query string
//! and a form-encoded POST body, with its time format and `match[]` selectors.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{Method, header};
use promql_parser::parser::Expr;
use series::Matcher;

use crate::{Error, Result};

/// The start of time when `start` is absent: Prometheus's `MinTime` in
/// milliseconds (year -292273086, not `i64::MIN`, for historical reasons).
pub(crate) const MIN_TIME_MS: i64 = -9_223_309_901_257_974_000;

/// The end of time when `end` is absent: Prometheus's `MaxTime` in milliseconds.
pub(crate) const MAX_TIME_MS: i64 = 9_223_309_901_257_974_999;

/// How Prometheus writes [`MIN_TIME_MS`] and [`MAX_TIME_MS`]; clients echo
/// these strings back (Go's parser cannot read years past 9999, so Prometheus
/// matches them literally, and so do we).
const MIN_TIME_FORMATTED: &str = "-292273086-05-16T16:47:06Z";
const MAX_TIME_FORMATTED: &str = "292277025-08-18T07:12:54.999999999Z";

/// What promql-parser reports for a selector without a non-empty matcher; we
/// answer with Prometheus's API wording instead.
const PARSER_EMPTY_SELECTOR: &str = "vector selector must contain at least one non-empty matcher";

/// The parameters of one request, in Go's `Request.Form` order: body values
/// first, then query-string values, so the body wins where a name is in both.
#[derive(Debug, Default)]
pub(crate) struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// Parameters from a query string and a form-encoded body.
    pub(crate) fn parse(query: Option<&str>, form: Option<&[u8]>) -> Params {
        let form_pairs = form.into_iter().flat_map(form_urlencoded::parse);
        let query_pairs = query.into_iter().flat_map(|query| form_urlencoded::parse(query.as_bytes()));
        let pairs =
            form_pairs.chain(query_pairs).map(|(name, value)| (name.into_owned(), value.into_owned())).collect();
        Params { pairs }
    }

    /// The first value of `name`, or `None` if it is absent or empty (Go's
    /// `FormValue` returns `""` for both, and Prometheus treats them alike).
    pub(crate) fn value(&self, name: &str) -> Option<&str> {
        self.values(name).next().filter(|value| !value.is_empty())
    }

    /// Every value of `name`, in order.
    pub(crate) fn values<'a, 'n>(&'a self, name: &'n str) -> impl Iterator<Item = &'a str> + use<'a, 'n> {
        self.pairs.iter().filter(move |(n, _)| n == name).map(|(_, value)| value.as_str())
    }

    /// The names of the parameters given, in order, repeated as given.
    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.pairs.iter().map(|(name, _)| name.as_str())
    }

    /// Time parameter `name` in milliseconds, or `default` when absent.
    pub(crate) fn time(&self, name: &'static str, default: i64) -> Result<i64> {
        let Some(value) = self.value(name) else {
            return Ok(default);
        };
        parse_time(value).ok_or_else(|| Error::InvalidTime { name, value: value.to_owned() }.in_parameter(name))
    }

    /// The `limit` parameter; `None` when absent or 0 (no limit).
    pub(crate) fn limit(&self) -> Result<Option<usize>> {
        self.value("limit").map_or(Ok(None), parse_limit).map_err(|error| error.in_parameter("limit"))
    }

    /// The `match[]` selectors, each as one or more sets of matchers.
    pub(crate) fn matcher_sets(&self) -> Result<Vec<Vec<Matcher>>> {
        let mut sets = Vec::new();
        for selector in self.values("match[]") {
            sets.extend(parse_selector(selector)?);
        }
        Ok(sets)
    }
}

impl<S: Send + Sync> FromRequest<S> for Params {
    type Rejection = Error;

    async fn from_request(request: Request, state: &S) -> Result<Params> {
        let query = request.uri().query().map(str::to_owned);
        let body = if has_form_body(&request) {
            Some(Bytes::from_request(request, state).await.map_err(|source| Error::ReadForm { source })?)
        } else {
            None
        };
        Ok(Params::parse(query.as_deref(), body.as_deref()))
    }
}

/// Whether Go's `ParseForm` would read the body: a POST, PUT or PATCH with a
/// form-encoded content type.
fn has_form_body(request: &Request) -> bool {
    let method = request.method();
    if !(method == Method::POST || method == Method::PUT || method == Method::PATCH) {
        return false;
    }
    let Some(content_type) = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    media_type.eq_ignore_ascii_case("application/x-www-form-urlencoded")
}

/// A time as Prometheus's `parseTime` reads it, in milliseconds: Unix seconds
/// with an optional fraction (rounded to the millisecond), RFC 3339, or one of
/// Prometheus's two boundary times. `None` if it is none of these.
pub(crate) fn parse_time(value: &str) -> Option<i64> {
    if let Ok(seconds) = value.parse::<f64>() {
        if !seconds.is_finite() {
            return None;
        }
        // Mirrors Go's arithmetic: split off the fraction, round it to
        // milliseconds, convert to nanoseconds truncating, then floor to
        // milliseconds, so the same input gives the same millisecond.
        let whole = seconds.trunc();
        let fraction = ((seconds - whole) * 1000.0).round() / 1000.0;
        // `as` saturates, so a value past i64 overflows the multiplication below.
        let nanos = (fraction * 1e9) as i64;
        return (whole as i64).checked_mul(1000)?.checked_add(nanos.div_euclid(1_000_000));
    }
    if let Ok(time) = chrono::DateTime::parse_from_rfc3339(value) {
        return Some(time.timestamp_millis());
    }
    match value {
        MIN_TIME_FORMATTED => Some(MIN_TIME_MS),
        MAX_TIME_FORMATTED => Some(MAX_TIME_MS),
        _ => None,
    }
}

/// A `limit` value: a non-negative integer, where 0 means no limit.
fn parse_limit(value: &str) -> Result<Option<usize>> {
    let limit: i64 = value.parse().map_err(|source| Error::InvalidLimit { value: value.to_owned(), source })?;
    if limit < 0 {
        return Err(Error::NegativeLimit);
    }
    // A limit beyond usize is no limit at all.
    Ok(usize::try_from(limit).ok().filter(|&limit| limit > 0))
}

/// A `match[]` selector (`up{job="x"}`, `{__name__=~"vllm:.*"}`) as sets of
/// matchers; a selector is one set unless it uses `or` inside its braces.
///
/// # Errors
///
/// When the selector does not parse, is not a plain selector (no functions,
/// ranges, offsets or `@`), or a set would match every series.
pub(crate) fn parse_selector(selector: &str) -> Result<Vec<Vec<Matcher>>> {
    let expr = promql::parse(selector).map_err(|error| {
        let message = error.to_string();
        if message.contains(PARSER_EMPTY_SELECTOR) {
            Error::EmptyMatchers { selector: selector.to_owned() }
        } else {
            Error::InvalidSelector { selector: selector.to_owned(), message }
        }
    })?;
    let Expr::VectorSelector(vector) = expr else {
        return Err(Error::NotASelector { selector: selector.to_owned() });
    };
    if vector.offset.is_some() || vector.at.is_some() {
        return Err(Error::NotASelector { selector: selector.to_owned() });
    }
    let sets = promql::matcher_sets(&vector)
        .map_err(|source| Error::InvalidMatcher { selector: selector.to_owned(), source })?;
    if sets.iter().any(|set| set.iter().all(Matcher::matches_empty)) {
        return Err(Error::EmptyMatchers { selector: selector.to_owned() });
    }
    Ok(sets)
}

#[cfg(test)]
mod tests;

/// The one segment a route captures (`{name}`, `{id}`), as text. Unlike
/// axum's `Path`, a segment that is not percent-encoded UTF-8 is a
/// `bad_data` error in Prometheus's error JSON, not a plain-text 400.
#[derive(Debug)]
pub(crate) struct PathSegment(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for PathSegment {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<PathSegment> {
        match axum::extract::Path::<String>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(segment)) => Ok(PathSegment(segment)),
            Err(rejection) => Err(Error::InvalidPath { message: rejection.body_text() }),
        }
    }
}
