//! Local collectors: what infersight reads off its own machine, and the loop that stores it.
//!
//! A [`Collector`] reads one source (NVML, `/proc`) and returns samples; the
//! [`Runner`] calls every collector each interval and writes what it returned
//! to a [`series::Appendable`], the way a scrape loop writes a target:
//!
//! - all samples of one collection share one timestamp and one commit;
//! - `job` (the collector's name) and `instance` (the host name) are added to
//!   every series;
//! - `up{job,instance}` is 1 when the collection succeeded, 0 when it failed,
//!   and `scrape_duration_seconds` says how long it took;
//! - a series that a collection no longer returns (a GPU process exited, a
//!   disk was removed), and every series of a failed collection, gets
//!   Prometheus's stale marker, so queries stop seeing it at once instead of
//!   five minutes later. Shutdown marks every series stale too.

mod config;
mod error;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use series::{Appendable, Appender, LabelRef, Labels, STALE_NAN};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

pub use config::{LocalConfig, LocalSettings};
pub use error::{Error, Result};

/// A source of samples on this machine, read on demand.
///
/// Implementations do blocking reads (files under `/proc`, NVML calls); the
/// runner calls them on tokio's blocking pool.
pub trait Collector: Send {
    /// The collector's name, used as the `job` label (`"node"`, `"nvml"`).
    fn name(&self) -> &str;

    /// Appends one sample per series to `out`. Each label set includes
    /// `__name__` and is unique within one call; `job` and `instance` are
    /// added by the runner.
    ///
    /// # Errors
    ///
    /// When the source cannot be read at all; the runner then reports the
    /// collector down (`up` = 0). A field the source does not support is
    /// left out, not an error.
    fn collect(&mut self, out: &mut Vec<(Labels, f64)>) -> Result<()>;
}

/// Calls each collector every interval and appends what it returns.
pub struct Runner {
    appendable: Arc<dyn Appendable>,
    interval: Duration,
    instance: String,
    slots: Vec<Slot>,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("interval", &self.interval)
            .field("instance", &self.instance)
            .field("collectors", &self.slots.iter().map(|slot| slot.collector.name()).collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// One collector and what the runner remembers about it between collections.
struct Slot {
    collector: Box<dyn Collector>,
    /// The labels `up` is written with: `job` and `instance` only.
    up_labels: Labels,
    /// The labels `scrape_duration_seconds` is written with.
    duration_labels: Labels,
    /// The series written by the last collection, with `job` and `instance`.
    previous: HashSet<Labels>,
    /// Whether the last collection succeeded; `None` before the first.
    was_up: Option<bool>,
    /// Whether the last commit failed, so a failing store is logged once.
    commit_failed: bool,
    /// Reused between collections.
    buffer: Vec<(Labels, f64)>,
}

impl Runner {
    /// A runner for the collectors the settings enable: the host collector,
    /// and the NVML collector where an NVIDIA driver is present (where there
    /// is none it is left out, with one INFO line).
    pub fn new(settings: &LocalSettings, appendable: Arc<dyn Appendable>) -> Runner {
        let mut collectors: Vec<Box<dyn Collector>> = Vec::new();
        if settings.host {
            collectors.push(Box::new(crate::host::HostCollector::new(&settings.root)));
        }
        if settings.nvml
            && let Some(collector) = crate::nvml::NvmlCollector::open_system(&settings.instance, &settings.root)
        {
            collectors.push(Box::new(collector));
        }
        Runner::with_collectors(collectors, settings.interval, &settings.instance, appendable)
    }

    /// A runner for the given collectors; `instance` becomes every series'
    /// `instance` label.
    pub fn with_collectors(
        collectors: Vec<Box<dyn Collector>>,
        interval: Duration,
        instance: &str,
        appendable: Arc<dyn Appendable>,
    ) -> Runner {
        let slots = collectors
            .into_iter()
            .map(|collector| Slot {
                up_labels: Labels::from_pairs([
                    (series::METRIC_NAME, "up"),
                    ("instance", instance),
                    ("job", collector.name()),
                ]),
                duration_labels: Labels::from_pairs([
                    (series::METRIC_NAME, "scrape_duration_seconds"),
                    ("instance", instance),
                    ("job", collector.name()),
                ]),
                collector,
                previous: HashSet::new(),
                was_up: None,
                commit_failed: false,
                buffer: Vec::new(),
            })
            .collect();
        Runner { appendable, interval, instance: instance.to_owned(), slots }
    }

    /// The names of the collectors this runner calls, in order.
    pub fn collector_names(&self) -> Vec<&str> {
        self.slots.iter().map(|slot| slot.collector.name()).collect()
    }

    /// Runs every collector once and appends its samples at timestamp `t`
    /// (milliseconds since the Unix epoch), one commit per collector.
    /// Returns the number of samples committed, stale markers included.
    pub fn collect_once(&mut self, t: i64) -> usize {
        let mut committed = 0;
        for slot in &mut self.slots {
            committed += slot.collect_and_append(&*self.appendable, &self.instance, t);
        }
        committed
    }

    /// Collects every interval, starting at once, until `shutdown` fires;
    /// then writes stale markers for every series it was writing.
    ///
    /// # Errors
    ///
    /// None so far: a failing collector is reported as `up` = 0 and a failing
    /// store is logged; the result is kept for the runtime shape every
    /// long-running part shares.
    pub async fn run(self, shutdown: CancellationToken) -> Result<()> {
        info!(
            collectors = ?self.collector_names(),
            interval = ?self.interval,
            instance = %self.instance,
            "Local collectors started"
        );
        let mut ticker = tokio::time::interval(self.interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut runner = self;
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = ticker.tick() => {}
            }
            // Collectors block: file reads, and NVML calls that can hang for
            // seconds on a GPU that fell off the bus. They run on the blocking
            // pool so they never hold up a runtime worker.
            let collection = tokio::task::spawn_blocking(move || {
                runner.collect_once(now_millis());
                runner
            });
            tokio::select! {
                joined = collection => match joined {
                    Ok(back) => runner = back,
                    Err(err) => match err.try_into_panic() {
                        Ok(panic) => std::panic::resume_unwind(panic),
                        // Cancelled: the runtime is shutting down.
                        Err(_) => return Ok(()),
                    },
                },
                () = shutdown.cancelled() => {
                    warn!("Shutdown during a hung local collection, its series are not marked stale");
                    return Ok(());
                }
            }
        }
        let t = now_millis();
        for slot in &mut runner.slots {
            slot.mark_all_stale(&*runner.appendable, t);
        }
        info!("Local collectors stopped");
        Ok(())
    }
}

impl Slot {
    fn collect_and_append(&mut self, appendable: &dyn Appendable, instance: &str, t: i64) -> usize {
        let job = self.collector.name().to_owned();
        self.buffer.clear();
        let started = Instant::now();
        let result = self.collector.collect(&mut self.buffer);
        let duration = started.elapsed().as_secs_f64();
        let is_up = result.is_ok();
        match (&result, self.was_up) {
            (Err(err), Some(true) | None) => warn!(job = %job, error = %err, "Local collector failed, marked down"),
            (Ok(()), Some(false)) => info!(job = %job, "Local collector recovered"),
            (Err(err), Some(false)) => debug!(job = %job, error = %err, "Local collector still failing"),
            (Ok(()), _) => {}
        }
        self.was_up = Some(is_up);
        if !is_up {
            self.buffer.clear();
        }

        let mut appender = appendable.appender();
        let mut current = HashSet::with_capacity(self.buffer.len());
        for (labels, value) in self.buffer.drain(..) {
            let full = with_target(&labels, &job, instance);
            append(&mut *appender, &full, t, value);
            current.insert(full);
        }
        for stale in self.previous.difference(&current) {
            append(&mut *appender, stale, t, STALE_NAN);
        }
        append(&mut *appender, &self.up_labels, t, if is_up { 1.0 } else { 0.0 });
        append(&mut *appender, &self.duration_labels, t, duration);
        match appender.commit() {
            Ok(n) => {
                if self.commit_failed {
                    info!(job = %job, "Local collector samples stored again");
                }
                self.commit_failed = false;
                self.previous = current;
                n
            }
            Err(err) => {
                if !self.commit_failed {
                    warn!(job = %job, error = %err, "Cannot store local collector samples, dropping them");
                }
                self.commit_failed = true;
                // The store has none of this batch; what it last holds is still
                // `previous`, so stale markers stay owed for those series.
                self.previous.extend(current);
                0
            }
        }
    }

    fn mark_all_stale(&mut self, appendable: &dyn Appendable, t: i64) {
        if self.was_up.is_none() {
            return;
        }
        let mut appender = appendable.appender();
        for stale in self.previous.drain().chain([self.up_labels.clone(), self.duration_labels.clone()]) {
            append(&mut *appender, &stale, t, STALE_NAN);
        }
        if let Err(err) = appender.commit() {
            warn!(job = %self.collector.name(), error = %err, "Cannot store stale markers at shutdown");
        }
    }
}

/// Appends one sample of the series `labels`.
fn append(appender: &mut dyn Appender, labels: &Labels, t: i64, value: f64) {
    let refs: Vec<LabelRef<'_>> = labels.iter().collect();
    appender.append(&refs, t, value);
}

/// `labels` with `job` and `instance` set, replacing any the collector set.
fn with_target(labels: &Labels, job: &str, instance: &str) -> Labels {
    let mut builder = labels.to_builder();
    builder.set("job", job).set("instance", instance);
    builder.build()
}

/// The wall clock in milliseconds since the Unix epoch.
fn now_millis() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A sample for `name` with `labels` (any order; empty values are dropped).
pub(crate) fn sample(name: &str, labels: &[(&str, &str)], value: f64) -> (Labels, f64) {
    let pairs = std::iter::once((series::METRIC_NAME, name)).chain(labels.iter().copied());
    (Labels::from_pairs(pairs), value)
}
