//! `/api/v1/labels` and `/api/v1/label/{name}/values`: label names and values.

use std::collections::BTreeSet;

use axum::extract::State;
use series::{Matcher, Querier, SelectHints};

use crate::params::{MAX_TIME_MS, MIN_TIME_MS, Params, PathSegment};
use crate::series::TRUNCATED_WARNING;
use crate::{ApiState, Error, Result, Success};

/// `GET|POST /api/v1/labels`: the sorted label names of the series matching
/// any `match[]` selector (of all series without one) in `[start, end]`.
pub(crate) async fn label_names(State(state): State<ApiState>, params: Params) -> Result<Success<Vec<String>>> {
    let query = LabelQuery::from_params(&params)?;
    let names = query.run(state, |querier, hints, matchers| querier.label_names(hints, matchers)).await?;
    Ok(query.answer(names))
}

/// `GET /api/v1/label/{name}/values`: the sorted values of label `name` over
/// the series matching any `match[]` selector in `[start, end]`.
pub(crate) async fn label_values(
    State(state): State<ApiState>,
    PathSegment(name): PathSegment,
    params: Params,
) -> Result<Success<Vec<String>>> {
    if !series::is_valid_label_name(&name) {
        return Err(Error::InvalidLabelName { name });
    }
    let query = LabelQuery::from_params(&params)?;
    let values = query.run(state, move |querier, hints, matchers| querier.label_values(&name, hints, matchers)).await?;
    Ok(query.answer(values))
}

/// The parameters both label endpoints take, in the order Prometheus checks them.
struct LabelQuery {
    limit: Option<usize>,
    hints: SelectHints,
    matcher_sets: Vec<Vec<Matcher>>,
}

impl LabelQuery {
    fn from_params(params: &Params) -> Result<LabelQuery> {
        let limit = params.limit()?;
        let start = params.time("start", MIN_TIME_MS)?;
        let end = params.time("end", MAX_TIME_MS)?;
        // Unlike /series, Prometheus does not prefix these errors with the parameter name.
        let matcher_sets = params.matcher_sets()?;
        Ok(LabelQuery { limit, hints: SelectHints { mint: start, maxt: end, labels_only: true }, matcher_sets })
    }

    /// Runs `read` once per matcher set (once with no matchers if there is
    /// none) on a blocking thread and returns the sorted union of the answers.
    async fn run<F>(&self, state: ApiState, read: F) -> Result<Vec<String>>
    where
        F: Fn(&dyn Querier, &SelectHints, &[Matcher]) -> series::Result<Vec<String>> + Send + 'static,
    {
        let queryable = state.queryable.clone();
        let hints = self.hints;
        let matcher_sets = if self.matcher_sets.is_empty() { vec![Vec::new()] } else { self.matcher_sets.clone() };
        tokio::task::spawn_blocking(move || -> Result<Vec<String>> {
            let querier = queryable.querier()?;
            let mut union = BTreeSet::new();
            for matchers in &matcher_sets {
                union.extend(read(querier.as_ref(), &hints, matchers)?);
            }
            Ok(union.into_iter().collect())
        })
        .await
        .map_err(|source| Error::Task { source })?
    }

    /// The answer, cut to `limit` with Prometheus's warning.
    fn answer(&self, mut strings: Vec<String>) -> Success<Vec<String>> {
        let truncated = self.limit.is_some_and(|limit| strings.len() > limit);
        if let Some(limit) = self.limit {
            strings.truncate(limit);
        }
        let mut success = Success::new(strings);
        if truncated {
            success.warn(TRUNCATED_WARNING);
        }
        success
    }
}
