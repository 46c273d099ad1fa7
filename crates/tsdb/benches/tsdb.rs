//! Store hot paths: WAL append, head append through the appender, and
//! postings intersection, on vLLM-shaped series.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use series::{Appendable, LabelRef, Labels, Matcher, Querier, SelectHints};
use tsdb::{Db, Metrics, Options};

/// 10,000 series shaped like a vLLM fleet: 100 instances × 10 models × 10 metrics.
fn fleet() -> Vec<Labels> {
    let mut out = Vec::new();
    for instance in 0..100 {
        for model in 0..10 {
            for metric in 0..10 {
                out.push(Labels::from_pairs([
                    ("__name__", format!("vllm:metric_{metric}").as_str()),
                    ("instance", format!("vllm-{instance:03}.inference.svc:8000").as_str()),
                    ("job", "vllm"),
                    ("model_name", format!("model-{model}").as_str()),
                    ("namespace", "inference"),
                ]));
            }
        }
    }
    out
}

fn append_step(db: &Db, fleet: &[Labels], step: i64) {
    let mut app = db.appender();
    let mut refs: Vec<LabelRef<'_>> = Vec::with_capacity(8);
    for labels in fleet {
        refs.clear();
        refs.extend(labels.iter());
        app.append(&refs, 1_790_000_000_000 + step * 15_000, step as f64 * 1.5);
    }
    app.commit().expect("commit");
}

/// Head appends of 10k existing series: in order, and behind live data, as
/// a backfill written beside live data is (each series already has a newer
/// sample, so every history sample takes the out-of-order path).
fn bench_append(c: &mut Criterion) {
    let fleet = fleet();
    let mut group = c.benchmark_group("head_append");
    group.throughput(Throughput::Elements(fleet.len() as u64));
    group.sample_size(20);
    // (name, the step of the sample each series has first, the first step written)
    let cases = [
        ("commit_10k_existing_series_with_wal", 0, 1),
        // The live sample, far ahead of every history sample the bench writes.
        ("commit_10k_series_behind_live_with_wal", 1_000_000, 0),
    ];
    for (name, seeded, first) in cases {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Db::open(dir.path(), Options::default(), Metrics::default()).expect("open");
        append_step(&db, &fleet, seeded);
        let mut step = first;
        group.bench_function(name, |b| {
            b.iter(|| {
                append_step(&db, &fleet, step);
                step += 1;
            })
        });
    }
    group.finish();
}

fn bench_postings(c: &mut Criterion) {
    let fleet = fleet();
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Db::open(dir.path(), Options::default(), Metrics::default()).expect("open");
    append_step(&db, &fleet, 0);
    db.flush().expect("flush");
    append_step(&db, &fleet, 1);
    let mut group = c.benchmark_group("postings");
    let matchers = [
        Matcher::equal("__name__", "vllm:metric_3"),
        Matcher::equal("model_name", "model-7"),
        Matcher::new(series::MatchOp::Regex, "instance", "vllm-0[0-4].*").expect("regex"),
    ];
    let hints = SelectHints { mint: i64::MIN, maxt: i64::MAX, labels_only: true };
    let q = db.querier();
    {
        let place = "block_and_head";
        group.bench_function(format!("select_3_matchers_{place}"), |b| {
            b.iter(|| q.select(&hints, &matchers).expect("select").len())
        });
    }
    group.finish();
}

fn bench_wal_replay(c: &mut Criterion) {
    let fleet = fleet();
    let mut group = c.benchmark_group("wal");
    group.sample_size(10);
    group.throughput(Throughput::Elements(fleet.len() as u64 * 20));
    group.bench_function("replay_200k_samples", |b| {
        b.iter_batched(
            || {
                let dir = tempfile::tempdir().expect("tempdir");
                {
                    let db = Db::open(dir.path(), Options::default(), Metrics::default()).expect("open");
                    for step in 0..20 {
                        append_step(&db, &fleet, step);
                    }
                }
                dir
            },
            |dir| Db::open(dir.path(), Options::default(), Metrics::default()).expect("reopen").stats().head_samples,
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

fn bench_wal_append(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut wal = tsdb::internals::WalAppender::open(dir.path()).expect("open");
    let batch: Vec<(u64, i64, f64)> =
        (0..5000u64).map(|i| (i, 1_790_000_000_000 + (i as i64 % 15) * 1000, i as f64 * 0.5)).collect();
    let mut group = c.benchmark_group("wal");
    group.throughput(Throughput::Elements(batch.len() as u64));
    group.bench_function("append_5000_sample_record", |b| b.iter(|| wal.append(&batch).expect("append")));
    group.finish();
}

fn bench_intersect(c: &mut Criterion) {
    // `job="vllm"` (nearly every series) against `model_name="m"` (one in ten).
    let dense: Vec<u32> = (0..100_000).filter(|i| i % 17 != 0).collect();
    let sparse: Vec<u32> = (0..100_000).filter(|i| i % 10 == 3).collect();
    let rare: Vec<u32> = (0..100_000).filter(|i| i % 1000 == 7).collect();
    let mut group = c.benchmark_group("postings");
    group
        .bench_function("intersect_94k_10k", |b| b.iter(|| tsdb::internals::intersect_postings(&dense, &sparse).len()));
    group.bench_function("intersect_94k_100_galloping", |b| {
        b.iter(|| tsdb::internals::intersect_postings(&dense, &rare).len())
    });
    group.finish();
}

criterion_group!(benches, bench_append, bench_postings, bench_wal_replay, bench_wal_append, bench_intersect);
criterion_main!(benches);
