//! Head series: chunk cutting, retries, out-of-order samples, selection.

use series::is_stale_nan;

use super::data::CHUNK_SAMPLES;
use super::*;

const RANGE: i64 = 7_200_000;

fn samples(data: &SeriesData) -> Vec<(i64, f64)> {
    let chunks = data.chunks(i64::MIN, i64::MAX);
    series::SampleIter::new(&chunks, i64::MIN, i64::MAX).map(|s| (s.t, s.v)).collect()
}

#[test]
fn in_order_samples_fill_chunks_of_240() {
    let mut data = SeriesData::default();
    for i in 0..600 {
        assert_eq!(data.append(i * 1000, i as f64, RANGE), Appended::New);
    }
    assert_eq!(data.num_chunks(), 3);
    assert_eq!(samples(&data).len(), 600);
    assert_eq!(CHUNK_SAMPLES, 240);
}

#[test]
fn chunks_never_straddle_a_block_window() {
    let mut data = SeriesData::default();
    data.append(RANGE - 1000, 1.0, RANGE);
    data.append(RANGE, 2.0, RANGE);
    assert_eq!(data.num_chunks(), 2);
}

#[test]
fn retry_is_a_duplicate_and_new_value_overwrites() {
    let mut data = SeriesData::default();
    data.append(1000, 1.0, RANGE);
    data.append(2000, 2.0, RANGE);
    assert_eq!(data.append(2000, 2.0, RANGE), Appended::Duplicate);
    assert_eq!(data.append(2000, 5.0, RANGE), Appended::New);
    assert_eq!(data.append(1000, 7.0, RANGE), Appended::New);
    assert_eq!(samples(&data), vec![(1000, 7.0), (2000, 5.0)]);
}

#[test]
fn out_of_order_samples_of_any_age_are_kept_sorted() {
    let mut data = SeriesData::default();
    data.append(10 * RANGE, 10.0, RANGE);
    for i in (0..200).rev() {
        data.append(i * 1000, i as f64, RANGE);
    }
    data.append(10 * RANGE + 1, f64::from_bits(series::STALE_NAN.to_bits()), RANGE);
    let got = samples(&data);
    assert_eq!(got.len(), 202);
    assert!(got.windows(2).all(|w| w[0].0 < w[1].0));
    assert!(is_stale_nan(got[201].1));
}

#[test]
fn head_selects_by_matchers_and_time() {
    let head = Head::new(RANGE);
    let mut next = 0;
    for (job, t) in [("vllm", 1000), ("sglang", 5000)] {
        let labels = Labels::from_pairs([("__name__", "up"), ("job", job)]);
        let s = head.get_or_create(labels.hash64(), labels.as_bytes(), || {
            next += 1;
            next
        });
        head.append(&s, t, 1.0);
        head.record_appends(1, t, t);
    }
    let m = [Matcher::equal("__name__", "up")];
    assert_eq!(head.select(&SelectHints::range(0, 10_000), &m).len(), 2);
    assert_eq!(head.select(&SelectHints::range(2000, 10_000), &m).len(), 1);
    assert_eq!(head.num_samples(), 2);
    assert_eq!(head.time_range(), Some((1000, 5000)));
}
