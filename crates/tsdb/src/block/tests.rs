//! Blocks: writing, reading back, merging, corruption.

use proptest::prelude::*;
use series::{Chunk, Labels, MatchOp, Sample};

use super::writer::{Origin, Partition};
use super::*;

const RANGE: i64 = 7_200_000;

fn series(name: &str, job: &str, points: &[(i64, f64)]) -> Series {
    let samples: Vec<Sample> = points.iter().map(|&(t, v)| Sample { t, v }).collect();
    Series {
        labels: Labels::from_pairs([("__name__", name), ("job", job)]),
        chunks: vec![Chunk::from_samples(&samples)],
    }
}

fn write(dir: &Path, input: &[Series], partition: Partition) -> Vec<Block> {
    let mut seq = 0;
    let origin = Origin { level: 1, sources: Vec::new() };
    let dirs = write_blocks(
        dir,
        input,
        partition,
        || {
            seq += 1;
            seq
        },
        &origin,
    )
    .expect("write");
    dirs.iter().map(|d| Block::open(d).expect("open")).collect()
}

#[test]
fn blocks_split_by_window_and_read_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let points: Vec<(i64, f64)> = (0..1000).map(|i| (i * 15_000, i as f64)).collect();
    let input = vec![series("a", "x", &points), series("b", "y", &points[..10])];
    let blocks = write(dir.path(), &input, Partition::Windows(RANGE));
    assert_eq!(blocks.len(), 3, "1000 × 15 s spans three 2 h windows");
    assert_eq!(blocks[0].meta.stats.num_series, 2);
    assert_eq!(blocks.iter().map(|b| b.meta.stats.num_samples).sum::<u64>(), 1010);
    let m = [series::Matcher::new(MatchOp::Regex, "job", "x|y").expect("regex")];
    let got = blocks[1].select(&SelectHints::range(i64::MIN, i64::MAX), &m).expect("select");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].samples(i64::MIN, i64::MAX).count(), 480);
    assert_eq!(got[0].chunks.len(), 1, "a 2 h window of 15 s samples is one chunk");
    let all = blocks[0].all_series().expect("all");
    assert_eq!(all[1].samples(i64::MIN, i64::MAX).count(), 10);
    assert_eq!(blocks[0].label_names_or_values(Some("job")), vec!["x", "y"]);
}

#[test]
fn overlapping_input_chunks_are_merged_last_write_wins() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = series("a", "x", &[(1, 1.0), (2, 2.0)]);
    s.chunks.push(Chunk::from_samples(&[Sample { t: 2, v: 9.0 }, Sample { t: 3, v: 3.0 }]));
    let blocks = write(dir.path(), &[s], Partition::Single);
    let all = blocks[0].all_series().expect("all");
    let got: Vec<(i64, f64)> = all[0].samples(i64::MIN, i64::MAX).map(|s| (s.t, s.v)).collect();
    assert_eq!(got, vec![(1, 1.0), (2, 9.0), (3, 3.0)]);
}

#[test]
fn corrupt_index_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let blocks = write(dir.path(), &[series("a", "x", &[(1, 1.0)])], Partition::Single);
    let index = blocks[0].dir.join("index");
    let mut bytes = fs::read(&index).expect("read");
    bytes[7] ^= 0xff;
    fs::write(&index, bytes).expect("write");
    assert!(matches!(Block::open(&blocks[0].dir), Err(Error::CorruptBlock { .. })));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Whatever series go in come back out of the block: labels, samples, order.
    #[test]
    fn blocks_round_trip(input in prop::collection::btree_map(
        prop::collection::btree_map("[a-c]{1,2}", "[a-z0-9]{1,3}", 1..4),
        prop::collection::btree_map(0i64..50_000_000, any::<u32>().prop_map(|v| f64::from(v) / 8.0), 1..40),
        1..20,
    )) {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut series: Vec<Series> = input
            .iter()
            .map(|(labels, points)| {
                let samples: Vec<Sample> = points.iter().map(|(&t, &v)| Sample { t, v }).collect();
                Series {
                    labels: Labels::from_pairs(labels.iter().map(|(n, v)| (n.as_str(), v.as_str()))),
                    chunks: vec![Chunk::from_samples(&samples)],
                }
            })
            .collect();
        series.sort_by(|a, b| a.labels.cmp(&b.labels));
        let blocks = write(dir.path(), &series, Partition::Windows(RANGE));
        let mut got: Vec<(Labels, Vec<(i64, u64)>)> = Vec::new();
        for block in &blocks {
            for s in block.all_series().expect("read") {
                let samples: Vec<(i64, u64)> = s.samples(i64::MIN, i64::MAX).map(|x| (x.t, x.v.to_bits())).collect();
                match got.iter_mut().find(|(l, _)| *l == s.labels) {
                    Some((_, existing)) => existing.extend(samples),
                    None => got.push((s.labels, samples)),
                }
            }
        }
        got.sort_by(|a, b| a.0.cmp(&b.0));
        let expect: Vec<(Labels, Vec<(i64, u64)>)> = series
            .iter()
            .map(|s| (s.labels.clone(), s.samples(i64::MIN, i64::MAX).map(|x| (x.t, x.v.to_bits())).collect()))
            .collect();
        prop_assert_eq!(got, expect);
    }
}
