//! Native histograms in query results, in Prometheus's JSON shape:
//! `[<time>, {"count": "…", "sum": "…", "buckets": [[<boundary rule>, "<lower>", "<upper>", "<count>"], …]}]`.

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use series::{FloatHistogram, HistogramSample};

use super::Time;

/// Which ends of a bucket belong to it, as Prometheus numbers them.
const OPEN_LEFT: u8 = 0;
const OPEN_RIGHT: u8 = 1;
const CLOSED_BOTH: u8 = 3;

/// `[<time>, <histogram>]`.
pub(super) struct HistogramPoint<'a>(pub &'a HistogramSample);

impl Serialize for HistogramPoint<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        (Time(self.0.t), HistogramJson(&self.0.h)).serialize(serializer)
    }
}

/// `[[<time>, <histogram>], …]`.
pub(super) struct HistogramPoints<'a>(pub &'a [HistogramSample]);

impl Serialize for HistogramPoints<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for sample in self.0 {
            seq.serialize_element(&HistogramPoint(sample))?;
        }
        seq.end()
    }
}

struct HistogramJson<'a>(&'a FloatHistogram);

impl Serialize for HistogramJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let h = self.0;
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("count", &promql::format_value(h.count))?;
        map.serialize_entry("sum", &promql::format_value(h.sum))?;
        let buckets = buckets(h);
        if !buckets.is_empty() {
            map.serialize_entry("buckets", &buckets)?;
        }
        map.end()
    }
}

/// The populated buckets from the lowest values to the highest.
fn buckets(h: &FloatHistogram) -> Vec<(u8, String, String, String)> {
    let f = promql::format_value;
    let mut out = Vec::new();
    for b in h.negative.iter().rev().filter(|b| b.count != 0.0) {
        let (lower, upper) = h.bucket_bounds(b.index, false);
        out.push((OPEN_RIGHT, f(lower), f(upper), f(b.count)));
    }
    if h.zero_count != 0.0 {
        out.push((CLOSED_BOTH, f(-h.zero_threshold), f(h.zero_threshold), f(h.zero_count)));
    }
    for b in h.positive.iter().filter(|b| b.count != 0.0) {
        let (lower, upper) = h.bucket_bounds(b.index, true);
        out.push((OPEN_LEFT, f(lower), f(upper), f(b.count)));
    }
    out
}
