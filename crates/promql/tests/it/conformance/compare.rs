//! Comparing an answer with what a script expects: per grid position, within Prometheus's tolerance.

use series::{Labels, is_stale_nan};

use super::histogram::{self, Point};

/// A series' samples as one optional value per grid position.
pub(super) fn on_grid(
    series: &promql::RangeSeries,
    start: i64,
    end: i64,
    step: i64,
) -> Result<Vec<Option<Point>>, String> {
    let n = ((end - start) / step + 1) as usize;
    let mut values = vec![None; n];
    let floats = series.samples.iter().map(|s| (s.t, Point::Float(s.v)));
    let histograms = series.histograms.iter().map(|s| (s.t, Point::Histogram(Box::new((*s.h).clone()), false)));
    for (t, point) in floats.chain(histograms) {
        if t < start || t > end || (t - start) % step != 0 {
            return Err(format!("sample at {t} is off the grid"));
        }
        values[((t - start) / step) as usize] = Some(point);
    }
    Ok(values)
}

/// Whether a returned point matches an expected one.
pub(super) fn point_matches(expected: &Point, got: &Point) -> bool {
    match (expected, got) {
        (Point::Float(e), Point::Float(g)) => almost_equal(*e, *g),
        (Point::Histogram(e, hint_stated), Point::Histogram(g, _)) => histogram::matches(e, *hint_stated, g),
        _ => false,
    }
}

pub(super) fn compare_series(
    expected: &[(Labels, Vec<Option<Point>>)],
    got: &[(Labels, Vec<Option<Point>>)],
    ordered: bool,
) -> Result<(), String> {
    let trim = |values: &[Option<Point>]| {
        let mut v = values.to_vec();
        while v.last().is_some_and(Option::is_none) {
            v.pop();
        }
        v
    };
    let expected: Vec<(&Labels, Vec<Option<Point>>)> =
        expected.iter().map(|(l, v)| (l, trim(v))).filter(|(_, v)| !v.is_empty()).collect();
    let got: Vec<(&Labels, Vec<Option<Point>>)> =
        got.iter().map(|(l, v)| (l, trim(v))).filter(|(_, v)| !v.is_empty()).collect();
    if expected.len() != got.len() {
        return Err(format!("got {} series, expected {}: {:?}", got.len(), expected.len(), summary(&got)));
    }
    for (i, (labels, values)) in expected.iter().enumerate() {
        let found =
            if ordered { got.get(i).filter(|(l, _)| l == labels) } else { got.iter().find(|(l, _)| l == labels) };
        let Some((_, got_values)) = found else {
            return Err(format!("missing series {labels} (got {:?})", summary(&got)));
        };
        let equal = values.len() == got_values.len()
            && values.iter().zip(got_values).all(|(e, g)| match (e, g) {
                (Some(e), Some(g)) => point_matches(e, g),
                (None, None) => true,
                _ => false,
            });
        if !equal {
            return Err(format!("series {labels}: got {got_values:?}, expected {values:?}"));
        }
    }
    Ok(())
}

pub(super) fn summary(series: &[(&Labels, Vec<Option<Point>>)]) -> Vec<String> {
    series.iter().take(5).map(|(l, v)| format!("{l} {v:?}")).collect()
}

/// Prometheus's test tolerance (`almost.Equal` with epsilon 1e-6).
pub(super) fn almost_equal(a: f64, b: f64) -> bool {
    if is_stale_nan(a) || is_stale_nan(b) {
        return is_stale_nan(a) && is_stale_nan(b);
    }
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let abs_sum = a.abs() + b.abs();
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || abs_sum < f64::MIN_POSITIVE {
        return diff < 1e-6 * f64::MIN_POSITIVE;
    }
    diff / abs_sum.min(f64::MAX) < 1e-6
}
