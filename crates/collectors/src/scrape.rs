//! The scrape manager: scrapes every configured target on its interval and
//! appends what it exposes.
//!
//! The binary validates `[[scrape]]` blocks into [`ScrapeJob`]s
//! ([`validate_all`]), creates a [`Manager`], spawns [`Manager::run`] and
//! hands jobs to [`Manager::apply`], at start and on every reload. `run`
//! owns one task per target; it starts, restarts (job changed) and stops
//! (target gone: its series are marked stale) them as the jobs and file_sd
//! files change, and joins them all when `shutdown` fires. The targets API,
//! `GET /api/v1/targets`, is [`Manager::router`].

mod api;
mod config;
mod error;
mod file_sd;
mod metrics;
mod replay;
mod target;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;
use series::Appendable;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info};

pub use api::{TargetInfo, TargetsResponse};
pub use config::{Auth, BasicAuth, ConfigProblem, Limits, Scheme, ScrapeConfig, ScrapeJob, Secret, validate_all};
pub use error::{Error, ScrapeError};
pub use file_sd::{TargetGroup, parse_groups};
pub use metrics::ScrapeMetrics;
pub use replay::Replay;
pub use target::Health;

use target::{Context, SeriesCache, StopReason, Target};

/// How often file_sd files are checked for changes, by default.
pub const DEFAULT_FILE_SD_INTERVAL: Duration = Duration::from_secs(5);

/// Runs the scrape loops. Cloning gives another handle to the same manager.
#[derive(Debug, Clone)]
pub struct Manager {
    shared: Arc<Shared>,
    file_sd_interval: Duration,
}

#[derive(Debug)]
struct Shared {
    context: Arc<Context>,
    jobs: watch::Sender<Arc<Vec<Arc<ScrapeJob>>>>,
    /// The targets being scraped, for the targets API, sorted by job and key.
    active: RwLock<Vec<Arc<Target>>>,
}

struct Running {
    target: Arc<Target>,
    stop: watch::Sender<Option<StopReason>>,
    handle: JoinHandle<SeriesCache>,
}

impl Manager {
    /// A manager that appends to `storage` and counts in `metrics`. It
    /// scrapes nothing until [`Manager::run`] runs and jobs are applied.
    ///
    /// # Errors
    ///
    /// [`Error::Client`] when the HTTP client cannot be built.
    pub fn new(storage: Arc<dyn Appendable>, metrics: ScrapeMetrics) -> Result<Manager, Error> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("infersight/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|source| Error::Client { source })?;
        let (jobs, _) = watch::channel(Arc::new(Vec::new()));
        Ok(Manager {
            shared: Arc::new(Shared {
                context: Arc::new(Context { storage, client, metrics }),
                jobs,
                active: RwLock::new(Vec::new()),
            }),
            file_sd_interval: DEFAULT_FILE_SD_INTERVAL,
        })
    }

    /// Checks file_sd files every `interval` instead of every 5 seconds.
    pub fn with_file_sd_interval(mut self, interval: Duration) -> Manager {
        self.file_sd_interval = interval.max(Duration::from_millis(1));
        self
    }

    /// Replaces the jobs. Targets whose job did not change keep running;
    /// removed targets stop and their series are marked stale.
    pub fn apply(&self, jobs: Vec<ScrapeJob>) {
        self.shared.jobs.send_replace(Arc::new(jobs.into_iter().map(Arc::new).collect()));
    }

    /// What the targets API shows: every active target, sorted by job.
    pub fn targets(&self) -> Vec<TargetInfo> {
        self.shared.active.read().iter().map(|target| TargetInfo::of(target)).collect()
    }

    /// `GET /api/v1/targets`, for the binary to merge into its server.
    pub fn router(&self) -> axum::Router {
        api::router(self.clone())
    }

    /// Runs the target loops until `shutdown` fires, then stops them (their
    /// series are left as they are, as Prometheus leaves them at shutdown)
    /// and waits for them.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut jobs_rx = self.shared.jobs.subscribe();
        let mut running: HashMap<String, Running> = HashMap::new();
        let mut file_sd = file_sd::FileSd::default();
        let mut poll = tokio::time::interval(self.file_sd_interval);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        info!("Scrape manager started");
        loop {
            let jobs = Arc::clone(&jobs_rx.borrow_and_update());
            let desired = desired_targets(&jobs, &mut file_sd);
            self.reconcile(&mut running, desired).await;
            tokio::select! {
                () = shutdown.cancelled() => break,
                changed = jobs_rx.changed() => {
                    if changed.is_err() {
                        shutdown.cancelled().await;
                        break;
                    }
                }
                _ = poll.tick() => {}
            }
        }
        let stopping: Vec<Running> = running.into_values().collect();
        for run in &stopping {
            run.stop.send_replace(Some(StopReason::Shutdown));
        }
        for run in stopping {
            let _ = run.handle.await;
        }
        self.shared.active.write().clear();
        self.shared.context.metrics.set_targets([]);
        info!("Scrape manager stopped");
    }

    /// Starts, restarts and stops loops so that exactly `desired` run.
    async fn reconcile(&self, running: &mut HashMap<String, Running>, desired: BTreeMap<String, Target>) {
        let removed: Vec<String> = running.keys().filter(|key| !desired.contains_key(*key)).cloned().collect();
        for key in removed {
            if let Some(run) = running.remove(&key) {
                debug!(url = %run.target.url, "Target removed");
                run.stop.send_replace(Some(StopReason::Removed));
                let _ = run.handle.await;
            }
        }
        let mut changed = false;
        for (key, target) in desired {
            let cache = match running.get(&key) {
                Some(run) if run.target.job == target.job => continue,
                Some(_) => {
                    let Some(run) = running.remove(&key) else { continue };
                    run.stop.send_replace(Some(StopReason::Reload));
                    let mut cache = run.handle.await.unwrap_or_default();
                    cache.reset_labels();
                    *target.status.lock() = run.target.status.lock().clone();
                    cache
                }
                None => SeriesCache::default(),
            };
            changed = true;
            let target = Arc::new(target);
            let (stop, stop_rx) = watch::channel(None);
            let handle =
                tokio::spawn(target::run(Arc::clone(&target), Arc::clone(&self.shared.context), stop_rx, cache));
            running.insert(key, Running { target, stop, handle });
        }
        let mut active: Vec<Arc<Target>> = running.values().map(|run| Arc::clone(&run.target)).collect();
        active.sort_by(|a, b| (&a.job.job_name, &a.key).cmp(&(&b.job.job_name, &b.key)));
        if changed || active.len() != self.shared.active.read().len() {
            let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
            for target in &active {
                *counts.entry(target.job.job_name.as_str()).or_default() += 1;
            }
            self.shared.context.metrics.set_targets(counts);
        }
        *self.shared.active.write() = active;
    }
}

/// Every target the jobs and their file_sd files name now, by key.
fn desired_targets(jobs: &[Arc<ScrapeJob>], file_sd: &mut file_sd::FileSd) -> BTreeMap<String, Target> {
    let mut targets = BTreeMap::new();
    let no_labels = BTreeMap::new();
    for job in jobs {
        for address in &job.targets {
            let target = Target::new(Arc::clone(job), address, &no_labels);
            targets.insert(target.key.clone(), target);
        }
        for path in &job.file_sd {
            for group in file_sd.groups(path) {
                for address in &group.targets {
                    match config::normalize_address(address, job.default_port()) {
                        Ok(address) => {
                            let target = Target::new(Arc::clone(job), &address, &group.labels);
                            targets.insert(target.key.clone(), target);
                        }
                        Err(error) => debug!(file = %path.display(), error = %error, "Skipping a file_sd target"),
                    }
                }
            }
        }
    }
    file_sd.retain(|path| jobs.iter().any(|job| job.file_sd.iter().any(|p| p == path)));
    targets
}

#[cfg(test)]
mod tests;
