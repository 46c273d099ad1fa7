//! Native histograms in query results, in Prometheus's JSON shape:
//! `[<time>, {"count": "…", "sum": "…", "buckets": [[<boundary rule>, "<lower>", "<upper>", "<count>"], …]}]`.

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use series::{BucketEnds, FloatHistogram, HistogramSample};

use super::Time;

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

/// The populated buckets from the lowest values to the highest, each with
/// Prometheus's boundary rule: 0 open left, 1 open right, 3 closed.
fn buckets(h: &FloatHistogram) -> Vec<(u8, String, String, String)> {
    let f = promql::format_value;
    h.populated_buckets()
        .map(|b| {
            let rule = match b.ends {
                BucketEnds::OpenLeft => 0,
                BucketEnds::OpenRight => 1,
                BucketEnds::Closed => 3,
            };
            (rule, f(b.lower), f(b.upper), f(b.count))
        })
        .collect()
}
