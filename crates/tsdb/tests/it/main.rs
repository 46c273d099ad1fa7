//! The store through its public API: what a writer and a reader can rely on.

use std::path::Path;
use std::time::Duration;

use series::{Appendable, LabelRef, Labels, MatchOp, Matcher, Querier, SelectHints, is_stale_nan};
use tsdb::{Db, Error, Metrics, Options};

const H: i64 = 3_600_000;
/// A recent timestamp so that time-based retention keeps the data.
const T0: i64 = 1_790_000_000_000;

fn open(dir: &Path) -> Db {
    Db::open(dir, Options::default(), Metrics::default()).expect("open")
}

fn labels(name: &str, job: &str) -> Labels {
    Labels::from_pairs([("__name__", name), ("job", job)])
}

fn append(db: &Db, batch: &[(&Labels, i64, f64)]) {
    let mut app = db.appender();
    for (labels, t, v) in batch {
        let refs: Vec<LabelRef<'_>> = labels.iter().collect();
        app.append(&refs, *t, *v);
    }
    app.commit().expect("commit");
}

fn read(db: &Db, name: &str) -> Vec<(String, Vec<(i64, f64)>)> {
    let q = db.querier();
    let series =
        q.select(&SelectHints::range(i64::MIN, i64::MAX), &[Matcher::equal("__name__", name)]).expect("select");
    series
        .iter()
        .map(|s| {
            (s.labels.get("job").unwrap_or("").to_owned(), s.samples(i64::MIN, i64::MAX).map(|x| (x.t, x.v)).collect())
        })
        .collect()
}

#[test]
fn committed_samples_are_visible_and_uncommitted_are_not() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = open(dir.path());
    let up = labels("up", "vllm");
    let mut app = db.appender();
    let refs: Vec<LabelRef<'_>> = up.iter().collect();
    app.append(&refs, T0, 1.0);
    assert!(read(&db, "up").is_empty());
    assert_eq!(app.commit().expect("commit"), 1);
    app.append(&refs, T0 + 1, 2.0);
    app.rollback();
    assert_eq!(read(&db, "up"), vec![("vllm".into(), vec![(T0, 1.0)])]);
}

#[test]
fn retries_are_accepted_and_a_new_value_at_the_same_time_wins() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = open(dir.path());
    let up = labels("up", "vllm");
    append(&db, &[(&up, T0, 1.0), (&up, T0 + 15_000, 2.0)]);
    append(&db, &[(&up, T0 + 15_000, 2.0)]);
    append(&db, &[(&up, T0, 5.0)]);
    let expect = vec![("vllm".to_owned(), vec![(T0, 5.0), (T0 + 15_000, 2.0)])];
    assert_eq!(read(&db, "up"), expect);
    db.flush().expect("flush");
    assert_eq!(read(&db, "up"), expect, "same answer from blocks");
    append(&db, &[(&up, T0 + 15_000, 7.0)]);
    db.flush().expect("flush");
    assert_eq!(read(&db, "up"), vec![("vllm".to_owned(), vec![(T0, 5.0), (T0 + 15_000, 7.0)])]);
}

#[test]
fn backfill_of_any_age_lands_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = open(dir.path());
    let up = labels("up", "vllm");
    append(&db, &[(&up, T0, 1.0)]);
    let old: Vec<(&Labels, i64, f64)> = (0..100).map(|i| (&up, T0 - 48 * H + i * 60_000, i as f64)).collect();
    append(&db, &old);
    let got = &read(&db, "up")[0].1;
    assert_eq!(got.len(), 101);
    assert!(got.windows(2).all(|w| w[0].0 < w[1].0));
    db.flush().expect("flush");
    assert_eq!(read(&db, "up")[0].1.len(), 101);
}

#[test]
fn stale_markers_are_stored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = open(dir.path());
    let up = labels("up", "vllm");
    append(&db, &[(&up, T0, 1.0), (&up, T0 + 1000, series::STALE_NAN)]);
    db.flush().expect("flush");
    assert!(is_stale_nan(read(&db, "up")[0].1[1].1));
}

#[test]
fn unflushed_data_survives_reopen_through_the_wal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let up = labels("up", "vllm");
    let down = labels("down", "vllm");
    {
        let db = open(dir.path());
        append(&db, &[(&up, T0, 1.0), (&down, T0, 0.0)]);
        db.flush().expect("flush");
        append(&db, &[(&up, T0 + 1000, 2.0)]);
        // Dropped without close: what a killed process leaves behind.
    }
    let db = open(dir.path());
    assert_eq!(read(&db, "up"), vec![("vllm".into(), vec![(T0, 1.0), (T0 + 1000, 2.0)])]);
    append(&db, &[(&down, T0 + 1000, 1.0)]);
    drop(db);
    let db = open(dir.path());
    assert_eq!(read(&db, "down")[0].1, vec![(T0, 0.0), (T0 + 1000, 1.0)]);
}

#[test]
fn torn_wal_tail_is_cut_and_startup_continues() {
    let dir = tempfile::tempdir().expect("tempdir");
    let up = labels("up", "vllm");
    {
        let db = open(dir.path());
        append(&db, &[(&up, T0, 1.0)]);
        append(&db, &[(&up, T0 + 1000, 2.0)]);
    }
    let segment = std::fs::read_dir(dir.path().join("wal"))
        .expect("wal dir")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| std::fs::metadata(p).map(|m| m.len() > 0).unwrap_or(false))
        .max()
        .expect("a segment");
    let len = std::fs::metadata(&segment).expect("stat").len();
    std::fs::OpenOptions::new().write(true).open(&segment).expect("open").set_len(len - 5).expect("truncate");
    let db = open(dir.path());
    assert_eq!(read(&db, "up")[0].1, vec![(T0, 1.0)]);
}

#[test]
fn flush_writes_blocks_and_truncates_the_wal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = open(dir.path());
    let batch: Vec<Labels> = (0..50).map(|i| labels("vllm:num_requests_running", &format!("j{i}"))).collect();
    for step in 0..600 {
        let samples: Vec<(&Labels, i64, f64)> = batch.iter().map(|l| (l, T0 + step * 15_000, step as f64)).collect();
        append(&db, &samples);
    }
    let before = db.stats();
    assert_eq!(before.head_samples, 30_000);
    db.flush().expect("flush");
    let after = db.stats();
    assert_eq!(after.head_samples, 0);
    assert_eq!(after.block_samples, 30_000);
    assert!(after.wal_bytes < 100, "WAL truncated, {} bytes left", after.wal_bytes);
    assert_eq!(after.blocks, 1, "the 2 h blocks of one 6 h window are force-merged by flush");
    drop(db);
    let db = open(dir.path());
    assert_eq!(read(&db, "vllm:num_requests_running").len(), 50);
    let bytes_per_sample = db.stats().blocks_bytes as f64 / 30_000.0;
    assert!(bytes_per_sample < 2.0, "{bytes_per_sample} bytes per sample");
}

#[test]
fn overlapping_flushes_are_compacted_into_one_block() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = open(dir.path());
    let up = labels("up", "vllm");
    let window = T0 - T0.rem_euclid(2 * H);
    append(&db, &[(&up, window + 1000, 1.0)]);
    db.flush().expect("flush");
    append(&db, &[(&up, window + 2000, 2.0), (&up, window + 1000, 9.0)]);
    db.flush().expect("flush");
    assert_eq!(db.stats().blocks, 1);
    assert_eq!(read(&db, "up")[0].1, vec![(window + 1000, 9.0), (window + 2000, 2.0)]);
}

#[test]
fn a_second_process_cannot_open_the_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let _db = open(dir.path());
    assert!(matches!(Db::open(dir.path(), Options::default(), Metrics::default()), Err(Error::Locked { .. })));
}

#[test]
fn retention_deletes_blocks_by_age_and_by_size() {
    let dir = tempfile::tempdir().expect("tempdir");
    let options = Options { retention: Duration::from_secs(24 * 3600), ..Options::default() };
    let db = Db::open(dir.path(), options, Metrics::default()).expect("open");
    let up = labels("up", "vllm");
    append(&db, &[(&up, T0 - 72 * H, 1.0), (&up, T0, 2.0)]);
    db.flush().expect("flush");
    assert_eq!(db.stats().blocks, 2);
    db.maintain(T0 + H).expect("maintain");
    assert_eq!(read(&db, "up")[0].1, vec![(T0, 2.0)]);
    drop(db);

    let options = Options { retention_size: Some(1), ..Options::default() };
    let db = Db::open(dir.path(), options, Metrics::default()).expect("open");
    db.maintain(T0 + H).expect("maintain");
    assert_eq!(db.stats().blocks, 0);
}

#[test]
fn label_names_and_values_follow_matchers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = open(dir.path());
    let a = Labels::from_pairs([("__name__", "up"), ("job", "vllm"), ("zone", "a")]);
    let b = labels("up", "sglang");
    let c = labels("down", "tgi");
    append(&db, &[(&a, T0, 1.0), (&b, T0, 1.0)]);
    db.flush().expect("flush");
    append(&db, &[(&c, T0, 1.0)]);
    let q = db.querier();
    let all = SelectHints::range(i64::MIN, i64::MAX);
    assert_eq!(q.label_names(&all, &[]).expect("names"), vec!["__name__", "job", "zone"]);
    assert_eq!(q.label_values("job", &all, &[]).expect("values"), vec!["sglang", "tgi", "vllm"]);
    let up = [Matcher::new(MatchOp::NotEqual, "zone", "a").expect("m"), Matcher::equal("__name__", "up")];
    assert_eq!(q.label_values("job", &all, &up).expect("values"), vec!["sglang"]);
    let recent = SelectHints::range(T0 + 1, i64::MAX);
    assert!(q.label_values("job", &recent, &up).expect("values").is_empty());
}

/// Regression: a batch that reuses a series another batch is still creating
/// can reach the WAL first; replay must still find the series' definition.
#[test]
fn concurrent_batches_on_new_series_replay_completely() {
    const THREADS: i64 = 4;
    const BATCHES: i64 = 20;
    let series: Vec<Labels> = (0..50).map(|i| labels("race", &format!("j{i}"))).collect();
    for round in 0..5 {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let db = open(dir.path());
            std::thread::scope(|scope| {
                for thread in 0..THREADS {
                    let (db, series) = (&db, &series);
                    scope.spawn(move || {
                        for batch in 0..BATCHES {
                            let t = T0 + (batch * THREADS + thread) * 1000;
                            let samples: Vec<(&Labels, i64, f64)> = series.iter().map(|l| (l, t, 1.0)).collect();
                            append(db, &samples);
                        }
                    });
                }
            });
        }
        let db = open(dir.path());
        let got: usize = read(&db, "race").iter().map(|(_, samples)| samples.len()).sum();
        assert_eq!(got, series.len() * (THREADS * BATCHES) as usize, "round {round}: samples lost on replay");
    }
}

/// Flushes while writers commit: every committed sample is found, in
/// blocks or in the WAL, exactly once, after a reopen.
#[test]
fn flushes_during_writes_lose_and_duplicate_nothing() {
    const WRITERS: i64 = 2;
    const BATCHES: i64 = 150;
    let series: Vec<Labels> = (0..20).map(|i| labels("busy", &format!("j{i}"))).collect();
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let db = open(dir.path());
        let done = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|scope| {
            let writers: Vec<_> = (0..WRITERS)
                .map(|writer| {
                    let (db, series) = (&db, &series);
                    scope.spawn(move || {
                        for batch in 0..BATCHES {
                            let t = T0 + (batch * WRITERS + writer) * 15_000;
                            let samples: Vec<(&Labels, i64, f64)> =
                                series.iter().map(|l| (l, t, batch as f64)).collect();
                            append(db, &samples);
                        }
                    })
                })
                .collect();
            scope.spawn(|| {
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    db.flush().expect("flush");
                    assert!(!read(&db, "busy").is_empty() || db.stats().head_samples == 0);
                }
            });
            for writer in writers {
                writer.join().expect("writer");
            }
            done.store(true, std::sync::atomic::Ordering::Relaxed);
        });
        assert!(db.stats().blocks >= 1, "flushes wrote blocks");
    }
    let db = open(dir.path());
    for (job, samples) in read(&db, "busy") {
        assert_eq!(samples.len(), (WRITERS * BATCHES) as usize, "{job}");
        assert!(samples.windows(2).all(|w| w[0].0 < w[1].0), "{job}: sorted and unique");
    }
    assert_eq!(read(&db, "busy").len(), series.len());
}
