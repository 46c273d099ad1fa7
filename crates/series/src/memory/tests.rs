//! The in-memory store keeps the embedded store's contract.

use super::*;

fn labels(name: &str, instance: &str) -> Labels {
    Labels::from_pairs([("__name__", name), ("instance", instance)])
}

fn refs(labels: &Labels) -> Vec<LabelRef<'_>> {
    labels.iter().collect()
}

fn select(store: &MemStorage, mint: i64, maxt: i64, matchers: &[Matcher]) -> Vec<Series> {
    store.select(&SelectHints::range(mint, maxt), matchers).expect("in-memory reads do not fail")
}

#[test]
fn a_batch_is_visible_only_after_commit_and_a_repeated_time_keeps_the_last_value() {
    let store = MemStorage::new();
    let up = labels("up", "a");
    let mut appender = store.appender();
    appender.append(&refs(&up), 1_000, 1.0);
    appender.append(&refs(&up), 2_000, 1.0);
    assert!(store.samples(&up).is_empty(), "nothing before commit");
    assert_eq!(appender.commit().expect("commit"), 2);
    let mut appender = store.appender();
    appender.append(&refs(&up), 2_000, 0.0);
    appender.append(&refs(&up), 500, 7.0);
    appender.rollback();
    appender.append(&refs(&up), 2_000, 0.0);
    appender.commit().expect("commit");
    assert_eq!(store.samples(&up), [Sample { t: 1_000, v: 1.0 }, Sample { t: 2_000, v: 0.0 }]);
    let selected = select(&store, 0, 10_000, &[Matcher::equal("__name__", "up")]);
    assert_eq!(selected[0].decode(0, 10_000), store.samples(&up), "chunks are encoded again after a write");
}

#[test]
fn a_failing_store_refuses_commits_and_keeps_what_it_had() {
    let store = MemStorage::new();
    let up = labels("up", "a");
    store.add(up.clone(), &[(1_000, 1.0)]);
    store.set_fail_commits(true);
    let mut appender = store.appender();
    appender.append(&refs(&up), 2_000, 1.0);
    assert!(matches!(appender.commit(), Err(Error::Unavailable { .. })));
    store.set_fail_commits(false);
    assert_eq!(store.samples(&up), [Sample { t: 1_000, v: 1.0 }]);
}

#[test]
fn selects_are_sorted_by_labels_and_need_samples_in_the_range() {
    let store = MemStorage::new();
    store.add(labels("up", "b"), &[(1_000, 1.0)]);
    store.add(labels("up", "a"), &[(5_000, 1.0)]);
    store.add(labels("errors_total", "a"), &[(1_000, 3.0)]);
    let instance_a = [Matcher::equal("instance", "a")];
    let names: Vec<String> = select(&store, 0, 10_000, &instance_a).iter().map(|s| s.labels.to_string()).collect();
    assert_eq!(names, [r#"{__name__="errors_total", instance="a"}"#, r#"{__name__="up", instance="a"}"#]);
    let early = select(&store, 0, 2_000, &[Matcher::equal("__name__", "up")]);
    assert_eq!(early.iter().map(|s| s.labels.get("instance")).collect::<Vec<_>>(), [Some("b")]);
    let hints = SelectHints::range(0, 2_000);
    assert_eq!(store.label_values("instance", &hints, &[]).expect("values"), ["a", "b"]);
    assert_eq!(store.label_names(&hints, &instance_a).expect("names"), ["__name__", "instance"]);
    assert_eq!((store.num_series(), store.num_samples()), (3, 3));
}

#[test]
fn histograms_and_start_timestamps_come_back_through_their_chunks() {
    let store = MemStorage::new();
    let latency = labels("latency_seconds", "a");
    let histogram = FloatHistogram { schema: 0, count: 2.0, sum: 3.0, ..FloatHistogram::default() };
    store.add_histograms(latency.clone(), &[(1_000, histogram.clone()), (2_000, histogram.clone())]);
    store.set_start_timestamps(&latency, &[(2_000, 500), (9_000, 1)]);
    assert_eq!(store.histograms(&latency).len(), 2);
    assert!(store.samples(&latency).is_empty(), "no float samples");
    let selected = select(&store, 0, 10_000, &[Matcher::equal("__name__", "latency_seconds")]);
    let decoded = selected[0].decode_histograms(0, 10_000);
    assert_eq!(decoded.iter().map(|s| s.t).collect::<Vec<_>>(), [1_000, 2_000]);
    assert_eq!(*decoded[1].h, histogram);
    assert_eq!(selected[0].decode_start_timestamps(0, 10_000), [StartTimestamp { t: 2_000, start: 500 }]);
}
