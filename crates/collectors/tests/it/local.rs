//! The local collectors end to end: the runner writing to an in-memory store,
//! with fake GPUs and a fake `/proc`.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use collectors::host::HostCollector;
use collectors::local::{Collector, LocalConfig, Result, Runner};
use collectors::nvml::{FakeGpus, NvmlCollector};
use series::{Labels, Sample, is_stale_nan};
use testkit::MemStorage;
use tokio_util::sync::CancellationToken;

const INSTANCE: &str = "gpu-node-1";

fn runner(store: &MemStorage, collectors: Vec<Box<dyn Collector>>) -> Runner {
    Runner::with_collectors(collectors, Duration::from_secs(15), INSTANCE, Arc::new(store.clone()))
}

/// `labels` as written to the store: with `job` and `instance`.
fn stored(name: &str, job: &str, labels: &[(&str, &str)]) -> Labels {
    let pairs = [("__name__", name), ("job", job), ("instance", INSTANCE)];
    Labels::from_pairs(pairs.into_iter().chain(labels.iter().copied()))
}

/// The series of `store` named `name` whose labels include `having`.
fn series_named(store: &MemStorage, name: &str, having: &[(&str, &str)]) -> Vec<Labels> {
    store
        .series()
        .into_iter()
        .filter(|l| l.metric_name() == Some(name) && having.iter().all(|(k, v)| l.get(k) == Some(*v)))
        .collect()
}

fn values(samples: &[Sample]) -> Vec<(i64, String)> {
    samples.iter().map(|s| (s.t, if is_stale_nan(s.v) { "stale".to_owned() } else { s.v.to_string() })).collect()
}

/// A collector that returns what it is given, and counts its calls.
struct Scripted {
    samples: Vec<(Labels, f64)>,
    calls: Arc<AtomicUsize>,
}

impl Collector for Scripted {
    fn name(&self) -> &str {
        "scripted"
    }

    fn collect(&mut self, out: &mut Vec<(Labels, f64)>) -> Result<()> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        out.extend(self.samples.iter().cloned());
        Ok(())
    }
}

fn scripted(calls: &Arc<AtomicUsize>) -> Box<dyn Collector> {
    Box::new(Scripted {
        samples: vec![
            (Labels::from_pairs([("__name__", "temperature_celsius"), ("sensor", "a")]), 41.0),
            (Labels::from_pairs([("__name__", "temperature_celsius"), ("sensor", "b")]), 43.5),
        ],
        calls: calls.clone(),
    })
}

#[test]
fn one_collection_is_one_timestamp_with_job_instance_and_up() {
    let store = MemStorage::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let mut runner = runner(&store, vec![scripted(&calls)]);

    let committed = runner.collect_once(1_000);

    assert_eq!(committed, 4, "two samples, up and scrape_duration_seconds");
    let a = stored("temperature_celsius", "scripted", &[("sensor", "a")]);
    assert_eq!(values(&store.samples(&a)), [(1_000, "41".to_owned())]);
    assert_eq!(values(&store.samples(&stored("up", "scripted", &[]))), [(1_000, "1".to_owned())]);
    let duration = store.samples(&stored("scrape_duration_seconds", "scripted", &[]));
    assert_eq!(duration.len(), 1);
    assert_eq!(duration[0].t, 1_000);
    assert!(store.series().iter().all(|l| store.samples(l).iter().all(|s| s.t == 1_000)));
}

#[test]
fn an_exited_gpu_process_gets_a_stale_marker() {
    let store = MemStorage::new();
    let gpus = FakeGpus::fixture();
    let mut runner = runner(&store, vec![Box::new(NvmlCollector::new(gpus.clone(), INSTANCE))]);

    runner.collect_once(1_000);
    gpus.update(|gpus| gpus[0].processes.clear());
    runner.collect_once(16_000);

    let vllm = series_named(&store, "infersight_gpu_process_memory_bytes", &[("pid", "4242")]);
    assert_eq!(vllm.len(), 1);
    assert_eq!(vllm[0].get("process_name"), Some("vllm"));
    assert_eq!(vllm[0].get("job"), Some("nvml"));
    assert_eq!(vllm[0].get("instance"), Some(INSTANCE));
    assert_eq!(values(&store.samples(&vllm[0])), [(1_000, "77309411328".to_owned()), (16_000, "stale".to_owned())]);
    let sglang = series_named(&store, "infersight_gpu_process_memory_bytes", &[("pid", "4243")]);
    assert_eq!(store.samples(&sglang[0]).len(), 2, "the other process goes on");
    assert!(!is_stale_nan(store.samples(&sglang[0])[1].v));
}

#[test]
fn a_failing_collector_is_down_and_its_series_go_stale() {
    let store = MemStorage::new();
    let gpus = FakeGpus::fixture();
    let mut runner = runner(&store, vec![Box::new(NvmlCollector::new(gpus.clone(), INSTANCE))]);

    runner.collect_once(1_000);
    gpus.set_failing(true);
    runner.collect_once(16_000);
    gpus.set_failing(false);
    runner.collect_once(31_000);

    let up = stored("up", "nvml", &[]);
    assert_eq!(values(&store.samples(&up)), [(1_000, "1".into()), (16_000, "0".into()), (31_000, "1".into())]);
    let util = series_named(&store, "DCGM_FI_DEV_GPU_UTIL", &[("gpu", "0")]);
    assert_eq!(
        values(&store.samples(&util[0])),
        [(1_000, "97".into()), (16_000, "stale".into()), (31_000, "97".into())]
    );
}

#[test]
fn stale_markers_wait_for_a_store_that_refused_a_commit() {
    let store = MemStorage::new();
    let gpus = FakeGpus::fixture();
    let mut runner = runner(&store, vec![Box::new(NvmlCollector::new(gpus.clone(), INSTANCE))]);

    runner.collect_once(1_000);
    gpus.update(|gpus| gpus[0].processes.clear());
    store.set_fail_commits(true);
    assert_eq!(runner.collect_once(16_000), 0);
    store.set_fail_commits(false);
    runner.collect_once(31_000);

    let vllm = series_named(&store, "infersight_gpu_process_memory_bytes", &[("pid", "4242")]);
    assert_eq!(values(&store.samples(&vllm[0])), [(1_000, "77309411328".to_owned()), (31_000, "stale".to_owned())]);
}

#[tokio::test(start_paused = true)]
async fn run_collects_every_interval_and_marks_everything_stale_at_shutdown() {
    let store = MemStorage::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let runner = runner(&store, vec![scripted(&calls)]);
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(runner.run(shutdown.clone()));

    // Collections at 0 s, 15 s and 30 s.
    tokio::time::sleep(Duration::from_secs(31)).await;
    shutdown.cancel();
    task.await.expect("runner task").expect("runner result");

    assert_eq!(calls.load(Ordering::SeqCst), 3);
    for labels in store.series() {
        let last = store.samples(&labels).last().copied().expect("each series has samples");
        assert!(is_stale_nan(last.v), "{labels} ends with a stale marker");
    }
}

/// A fake root holding this machine's captured `/proc` files.
fn fake_root(dir: &Path) {
    let testdata = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/host");
    std::fs::create_dir_all(dir.join("proc/net")).expect("proc dir");
    std::fs::create_dir_all(dir.join("proc/sys/kernel")).expect("proc dir");
    for (from, to) in [
        ("stat", "proc/stat"),
        ("meminfo", "proc/meminfo"),
        ("loadavg", "proc/loadavg"),
        ("diskstats", "proc/diskstats"),
        ("net_dev", "proc/net/dev"),
    ] {
        std::fs::copy(testdata.join(from), dir.join(to)).expect("copy fixture");
    }
    std::fs::write(dir.join("proc/sys/kernel/hostname"), "fake-host\n").expect("hostname");
}

#[test]
fn the_host_collector_reads_a_fake_root() {
    let root = tempfile::tempdir().expect("temp dir");
    fake_root(root.path());
    let store = MemStorage::new();
    let mut runner = runner(&store, vec![Box::new(HostCollector::new(root.path()))]);

    runner.collect_once(1_000);

    let user = stored("node_cpu_seconds_total", "node", &[("cpu", "1"), ("mode", "user")]);
    assert_eq!(values(&store.samples(&user)), [(1_000, "5173.37".to_owned())]);
    let total = stored("node_memory_MemTotal_bytes", "node", &[]);
    assert_eq!(values(&store.samples(&total)), [(1_000, "25276514304".to_owned())]);
    assert_eq!(series_named(&store, "node_network_receive_bytes_total", &[]).len(), 4);
    assert_eq!(series_named(&store, "node_time_seconds", &[]).len(), 1);
    assert_eq!(values(&store.samples(&stored("up", "node", &[]))), [(1_000, "1".to_owned())]);
    assert!(series_named(&store, "container_memory_usage_bytes", &[]).is_empty(), "no cgroup files, no cgroup series");
    assert_eq!(collectors::host::hostname(root.path()), "fake-host");
}

#[test]
fn a_root_without_proc_stat_is_down() {
    let root = tempfile::tempdir().expect("temp dir");
    let store = MemStorage::new();
    let mut runner = runner(&store, vec![Box::new(HostCollector::new(root.path()))]);

    runner.collect_once(1_000);

    assert_eq!(values(&store.samples(&stored("up", "node", &[]))), [(1_000, "0".to_owned())]);
}

#[test]
fn config_defaults_to_both_collectors_every_15s() {
    let config: LocalConfig = serde_json::from_str("{}").expect("empty section");
    assert_eq!(config, LocalConfig::default());
    let settings = LocalConfig { instance: "node-7".into(), ..config }.validate().expect("defaults are valid");
    assert!(settings.nvml && settings.host);
    assert_eq!(settings.interval, Duration::from_secs(15));
    assert_eq!(settings.instance, "node-7");
}

#[test]
fn config_reports_every_problem_and_unknown_keys() {
    let config: LocalConfig =
        serde_json::from_str(r#"{"interval": "0s", "root": "relative"}"#).expect("known keys parse");
    let problems = config.validate().expect_err("two problems");
    let keys: Vec<&str> = problems.iter().map(|(key, _)| *key).collect();
    assert_eq!(keys, ["interval", "root"]);
    assert!(serde_json::from_str::<LocalConfig>(r#"{"gpu": true}"#).is_err(), "unknown keys are rejected");
}

#[test]
fn without_an_nvidia_driver_the_runner_has_no_gpu_collector_and_no_error() {
    let root = tempfile::tempdir().expect("temp dir");
    fake_root(root.path());
    let config = LocalConfig { root: root.path().to_path_buf(), ..LocalConfig::default() };
    let settings = config.validate().expect("valid");
    assert_eq!(settings.instance, "fake-host", "the host name comes from the root");
    let store = MemStorage::new();

    let mut runner = Runner::new(&settings, Arc::new(store.clone()));
    runner.collect_once(1_000);

    // On a machine with NVIDIA GPUs the NVML collector runs too; everywhere
    // else (CI, this repository's development machines) it is left out.
    let names = runner.collector_names();
    assert_eq!(names[0], "node");
    assert!(names == ["node"] || names == ["node", "nvml"], "{names:?}");
}
