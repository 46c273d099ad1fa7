//! XOR and packed chunks: round trips, sizes, overlap merging; start-timestamp chunks.

use proptest::prelude::*;

use super::*;
use crate::STALE_NAN;
use start::StartTimestamp;

fn samples(points: &[(i64, f64)]) -> Vec<Sample> {
    points.iter().map(|&(t, v)| Sample { t, v }).collect()
}

fn decode(chunk: &Chunk) -> Vec<(i64, u64)> {
    chunk.iter().map(|s| (s.t, s.v.to_bits())).collect()
}

#[test]
fn regular_scrapes_cost_about_a_bit_per_timestamp() {
    let points: Vec<(i64, f64)> = (0..120).map(|i| (1_700_000_000_000 + i * 15_000, 42.0)).collect();
    let chunk = Chunk::from_samples(&samples(&points));
    // Header, first sample (~14 bytes), then 2 bits per sample.
    assert!(chunk.data.len() < 50, "{} bytes", chunk.data.len());
    assert_eq!(chunk.num_samples(), 120);
    assert_eq!(chunk.iter().count(), 120);
}

#[test]
fn stale_markers_survive_encoding() {
    let chunk = Chunk::from_samples(&samples(&[(1, 1.0), (2, STALE_NAN), (3, 2.0)]));
    let got: Vec<Sample> = chunk.iter().collect();
    assert!(crate::is_stale_nan(got[1].v));
}

#[test]
fn truncated_chunk_stops_early_and_says_so() {
    let chunk = Chunk::from_samples(&samples(&[(1, 1.0), (2, 2.5), (3, 7.25)]));
    let short = &chunk.data[..chunk.data.len() - 2];
    let mut it = XorIter::new(short);
    let n = it.by_ref().count();
    assert!(n < 3);
    assert!(it.is_corrupt());
}

#[test]
fn overlapping_chunks_merge_and_later_write_wins() {
    let old = Chunk::from_samples(&samples(&[(10, 1.0), (20, 2.0), (30, 3.0)]));
    let new = Chunk::from_samples(&samples(&[(15, 9.0), (20, 8.0)]));
    let tail = Chunk::from_samples(&samples(&[(40, 4.0)]));
    let chunks = vec![tail, old, new];
    let got: Vec<(i64, f64)> = SampleIter::new(&chunks, i64::MIN, i64::MAX).map(|s| (s.t, s.v)).collect();
    assert_eq!(got, vec![(10, 1.0), (15, 9.0), (20, 8.0), (30, 3.0), (40, 4.0)]);
    let window: Vec<i64> = SampleIter::new(&chunks, 15, 30).map(|s| s.t).collect();
    assert_eq!(window, vec![15, 20, 30]);
}

proptest! {
    #[test]
    fn xor_round_trips(start in any::<i64>().prop_map(|t| t / 4), deltas in prop::collection::vec(1i64..1_000_000_000, 0..300), values in prop::collection::vec(any::<u64>(), 301)) {
        let mut t = start;
        let mut points = vec![(t, f64::from_bits(values[0]))];
        for (i, d) in deltas.iter().enumerate() {
            t += d;
            points.push((t, f64::from_bits(values[i + 1])));
        }
        let chunk = Chunk::from_samples(&samples(&points));
        let expect: Vec<(i64, u64)> = points.iter().map(|&(t, v)| (t, v.to_bits())).collect();
        prop_assert_eq!(decode(&chunk), expect);
    }

    #[test]
    fn xor_round_trips_realistic_values(n in 1usize..500, step in 1i64..60_000, jitter in prop::collection::vec(-50i64..50, 500), walk in prop::collection::vec(-3i32..4, 500)) {
        let mut points = Vec::new();
        let mut v = 100.0;
        for i in 0..n {
            v += f64::from(walk[i]) * 0.25;
            points.push((i as i64 * (step + 100) + jitter[i], v));
        }
        let chunk = Chunk::from_samples(&samples(&points));
        let expect: Vec<(i64, u64)> = points.iter().map(|&(t, v)| (t, v.to_bits())).collect();
        prop_assert_eq!(decode(&chunk), expect);
    }

    #[test]
    fn decoding_garbage_never_panics(data in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = XorIter::new(&data).count();
    }
}

fn check_packed(points: &[(i64, f64)], max_bytes: usize) {
    let chunk = Chunk::packed(&samples(points));
    let expect: Vec<(i64, u64)> = points.iter().map(|&(t, v)| (t, v.to_bits())).collect();
    assert_eq!(decode(&chunk), expect);
    assert!(chunk.data.len() <= max_bytes, "{} bytes > {max_bytes}", chunk.data.len());
}

#[test]
fn packed_counters_with_regular_scrapes_cost_under_a_byte_a_sample() {
    let t0 = 1_790_000_000_000;
    let mut v = 1000.0;
    let points: Vec<(i64, f64)> = (0..480)
        .map(|i| {
            v += ((i * 7919) % 40) as f64;
            (t0 + i * 15_000, v)
        })
        .collect();
    check_packed(&points, 480 * 6 / 8 + 40);
    let flat: Vec<(i64, f64)> = (0..480).map(|i| (t0 + i * 15_000, 7.0)).collect();
    check_packed(&flat, 32);
}

#[test]
fn packed_keeps_decimals_floats_and_irregular_times_exact() {
    check_packed(&[(1, 0.1), (2, 0.25), (4, 0.333), (7, 400.123)], 40);
    check_packed(&[(-5, 1.0 / 3.0), (10, f64::MAX), (11, STALE_NAN), (12, -0.0), (13, f64::INFINITY)], 64);
    check_packed(&[(0, 1.0)], 16);
}

#[test]
fn packed_growing_float_sums_beat_xor() {
    let mut sum = 1234.5678f64;
    let points: Vec<(i64, f64)> = (0..480)
        .map(|i| {
            sum += 0.37 * (1.0 + ((i * 7919) % 13) as f64 / 7.0);
            (i * 15_000, sum)
        })
        .collect();
    let xor = Chunk::from_samples(&samples(&points)).data.len();
    let packed = Chunk::packed(&samples(&points));
    assert!(packed.data.len() < xor, "packed {} >= xor {xor}", packed.data.len());
    check_packed(&points, xor);
}

proptest! {
    #[test]
    fn packed_round_trips(start in any::<i64>().prop_map(|t| t / 4), deltas in prop::collection::vec(1i64..1_000_000, 0..300), values in prop::collection::vec(prop_oneof![any::<u64>().prop_map(f64::from_bits), (-1_000_000i64..1_000_000).prop_map(|m| m as f64 / 1000.0), (0i64..1000).prop_map(|m| m as f64)], 301)) {
        let mut t = start;
        let mut points = vec![(t, values[0])];
        for (i, d) in deltas.iter().enumerate() {
            t += d;
            points.push((t, values[i + 1]));
        }
        let chunk = Chunk::packed(&samples(&points));
        let expect: Vec<(i64, u64)> = points.iter().map(|&(t, v)| (t, v.to_bits())).collect();
        prop_assert_eq!(decode(&chunk), expect);
    }

    #[test]
    fn packed_decoding_garbage_never_panics(data in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = packed::decode(&data);
    }
}

proptest! {
    #[test]
    fn series_decode_matches_the_iterator(
        regular in any::<bool>(),
        n in 1usize..600,
        window in (0i64..700, 0i64..700),
        values in prop::collection::vec(prop_oneof![(0i64..1000).prop_map(|m| m as f64), any::<u64>().prop_map(f64::from_bits)], 600),
    ) {
        let points: Vec<(i64, f64)> = (0..n)
            .map(|i| (if regular { i as i64 * 15 } else { i as i64 * 15 + (i as i64 * 7) % 5 }, values[i]))
            .collect();
        let all = samples(&points);
        // Block-sized packed chunks, plus an XOR chunk after them.
        let split = n * 2 / 3;
        let mut chunks: Vec<Chunk> = all[..split.max(1)].chunks(240).map(Chunk::packed).collect();
        if split.max(1) < n {
            chunks.push(Chunk::from_samples(&all[split.max(1)..]));
        }
        let series = crate::Series { labels: crate::Labels::empty(), chunks };
        let (mint, maxt) = (window.0.min(window.1) * 15, window.0.max(window.1) * 15);
        let bits = |s: &[Sample]| s.iter().map(|x| (x.t, x.v.to_bits())).collect::<Vec<_>>();
        let expect: Vec<Sample> = series.samples(mint, maxt).collect();
        prop_assert_eq!(bits(&series.decode(mint, maxt)), bits(&expect));
    }
}

#[test]
fn histogram_chunks_round_trip_and_hold_no_floats() {
    use std::sync::Arc;

    use crate::{Bucket, CounterResetHint, FloatHistogram, HistogramSample, Series};
    let h = |count: f64| FloatHistogram {
        schema: 1,
        zero_threshold: 0.001,
        zero_count: 1.0,
        count,
        sum: 2.5,
        positive: vec![Bucket { index: -3, count: 1.0 }, Bucket { index: 4, count: count - 2.0 }],
        negative: vec![Bucket { index: 0, count: 0.0 }],
        counter_reset_hint: CounterResetHint::Gauge,
        ..FloatHistogram::default()
    };
    let samples: Vec<HistogramSample> =
        [(10, 3.0), (20, 5.0), (35, 9.0)].iter().map(|&(t, c)| HistogramSample { t, h: Arc::new(h(c)) }).collect();
    let chunk = Chunk::from_histograms(&samples);
    assert_eq!(chunk.num_samples(), 3);
    assert_eq!(chunk.iter().count(), 0);
    let series = Series { labels: crate::Labels::empty(), chunks: vec![chunk] };
    assert!(series.has_histograms());
    assert_eq!(series.decode_histograms(0, 100), samples);
    assert_eq!(series.decode_histograms(15, 20), samples[1..2].to_vec());
    assert!(series.decode(0, 100).is_empty());
}

#[test]
fn start_timestamps_round_trip_and_stay_out_of_the_float_samples() {
    let starts = [
        StartTimestamp { t: 60_000, start: 30_000 },
        StartTimestamp { t: 120_000, start: 120_001 },
        StartTimestamp { t: 180_000, start: -5 },
    ];
    let chunk = Chunk::from_start_timestamps(&starts);
    assert_eq!(chunk.num_samples(), 3);
    assert!(!chunk.holds_floats());
    assert_eq!(chunk.iter().count(), 0);
    let series = crate::Series {
        labels: crate::Labels::empty(),
        chunks: vec![Chunk::from_samples(&samples(&[(60_000, 1.0)])), chunk],
    };
    assert!(series.has_start_timestamps());
    assert_eq!(series.decode(0, i64::MAX), samples(&[(60_000, 1.0)]));
    assert_eq!(series.decode_start_timestamps(100_000, 200_000), starts[1..]);
}
