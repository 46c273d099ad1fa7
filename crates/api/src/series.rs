//! `/api/v1/series`: the label sets of the series that match `match[]`.

use axum::extract::State;
use serde::ser::{Serialize, SerializeMap, Serializer};
use series::{Labels, SelectHints};

use crate::params::{MAX_TIME_MS, MIN_TIME_MS, Params};
use crate::{ApiState, Error, Result, Success};

/// The warning Prometheus adds when `limit` cut a result short.
pub(crate) const TRUNCATED_WARNING: &str = "results truncated due to limit";

/// `GET|POST /api/v1/series`: the series matching any `match[]` selector with
/// samples in `[start, end]`, as objects of label name to value, sorted as
/// Prometheus sorts label sets.
pub(crate) async fn series(State(state): State<ApiState>, params: Params) -> Result<Success<Vec<LabelsJson>>> {
    if params.values("match[]").next().is_none() {
        return Err(Error::MissingMatch);
    }
    let limit = params.limit()?;
    let start = params.time("start", MIN_TIME_MS)?;
    let end = params.time("end", MAX_TIME_MS)?;
    let matcher_sets = params.matcher_sets().map_err(|error| error.in_parameter("match[]"))?;
    let hints = SelectHints { mint: start, maxt: end, labels_only: true };

    let queryable = state.queryable.clone();
    let mut found = tokio::task::spawn_blocking(move || -> Result<Vec<Labels>> {
        let querier = queryable.querier()?;
        let mut found = Vec::new();
        for matchers in &matcher_sets {
            found.extend(querier.select(&hints, matchers)?.into_iter().map(|series| series.labels));
        }
        Ok(found)
    })
    .await
    .map_err(|source| Error::Task { source })??;

    // Several selectors may match the same series: merge as Prometheus's
    // merged series set does, in its label order (`Labels`' own order).
    found.sort();
    found.dedup();

    let truncated = limit.is_some_and(|limit| found.len() > limit);
    if let Some(limit) = limit {
        found.truncate(limit);
    }
    let mut success = Success::new(found.into_iter().map(LabelsJson).collect());
    if truncated {
        success.warn(TRUNCATED_WARNING);
    }
    Ok(success)
}

/// A label set as Prometheus writes it in JSON: `{"name": "value", ...}`.
#[derive(Debug)]
pub(crate) struct LabelsJson(Labels);

impl Serialize for LabelsJson {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for label in &self.0 {
            map.serialize_entry(label.name, label.value)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn label_sets_sort_as_in_prometheus() {
        // The encoding starts with each name's length, so by bytes `b` would
        // sort before `ab`.
        let mut sets = vec![labels(&[("b", "1")]), labels(&[("ab", "1")]), labels(&[("ab", "1"), ("c", "2")])];
        sets.sort();
        let expect = vec![labels(&[("ab", "1")]), labels(&[("ab", "1"), ("c", "2")]), labels(&[("b", "1")])];
        assert_eq!(sets, expect);
    }
}
