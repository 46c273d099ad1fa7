//! The rule manager: loads and reloads groups, evaluates them on their
//! intervals, and hands alerts to the notifier.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;
use promql::{Engine, EngineOptions};
use series::{Appendable, LabelRef, Queryable, STALE_NAN};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::config::{AlertingSettings, RuleFiles, RuleSource};
use crate::error::{Error, Position, Problem, Result};
use crate::file::{self, GroupSpec};
use crate::group::{Alert, Env, Group, Restore};
use crate::metrics::RuleMetrics;
use crate::notify::Notifier;

/// Where the manager reads the time: the system clock, or a test's.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> i64 + Send + Sync>);

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Clock")
    }
}

impl Clock {
    /// The system's wall clock.
    pub fn system() -> Clock {
        Clock(Arc::new(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
        }))
    }

    /// A clock that reads `now_ms` (milliseconds since the epoch) from a function.
    pub fn from_fn(now_ms: impl Fn() -> i64 + Send + Sync + 'static) -> Clock {
        Clock(Arc::new(now_ms))
    }

    /// The time now, in milliseconds since the epoch.
    pub fn now_ms(&self) -> i64 {
        (self.0)()
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::system()
    }
}

/// How the manager evaluates.
#[derive(Debug, Clone)]
pub struct ManagerOptions {
    /// The interval of groups that set none.
    pub evaluation_interval: Duration,
    /// Labels added to sent alerts, and `$externalLabels` in templates.
    pub external_labels: BTreeMap<String, String>,
    /// `$externalURL`, and the base of alerts' generator URLs.
    pub external_url: String,
    /// How often firing alerts are re-sent.
    pub resend_delay: Duration,
    /// Restore alert state from `ALERTS_FOR_STATE` at each group's first evaluation.
    pub restore_for_state: bool,
    /// How old `ALERTS_FOR_STATE` may be to be restored.
    pub outage_tolerance: Duration,
    /// The least time left to an alert's `for` after a restore; shorter `for`s are not restored.
    pub for_grace_period: Duration,
    /// The query engine's limits (its default subquery step becomes the evaluation interval).
    pub engine: EngineOptions,
    /// The clock that [`Manager::run`] and reloads read.
    pub clock: Clock,
}

impl Default for ManagerOptions {
    fn default() -> Self {
        ManagerOptions::from_settings(&AlertingSettings::default())
    }
}

impl ManagerOptions {
    /// Options from the validated `[alerting]` section.
    pub fn from_settings(settings: &AlertingSettings) -> ManagerOptions {
        ManagerOptions {
            evaluation_interval: settings.evaluation_interval,
            external_labels: settings.external_labels.clone(),
            external_url: settings.external_url.clone(),
            resend_delay: settings.resend_delay,
            restore_for_state: true,
            outage_tolerance: settings.outage_tolerance,
            for_grace_period: settings.for_grace_period,
            engine: EngineOptions::default(),
            clock: Clock::system(),
        }
    }
}

/// Evaluates rule groups. Cloning gives another handle to the same manager.
#[derive(Debug, Clone)]
pub struct Manager {
    inner: Arc<Inner>,
}

struct Inner {
    queryable: Arc<dyn Queryable>,
    appendable: Arc<dyn Appendable>,
    engine: Engine,
    options: ManagerOptions,
    metrics: RuleMetrics,
    notifier: Option<Notifier>,
    groups: RwLock<Arc<Vec<Arc<Group>>>>,
    changed: Notify,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner").field("options", &self.options).field("groups", &self.groups.read().len()).finish()
    }
}

impl Manager {
    /// A manager that reads `queryable`, writes `appendable` and counts in
    /// `metrics`. It has no rules until [`Manager::load`].
    pub fn new(
        queryable: Arc<dyn Queryable>,
        appendable: Arc<dyn Appendable>,
        options: ManagerOptions,
        metrics: RuleMetrics,
    ) -> Manager {
        let mut engine_options = options.engine.clone();
        engine_options.default_subquery_step = options.evaluation_interval;
        Manager {
            inner: Arc::new(Inner {
                queryable,
                appendable,
                engine: Engine::new(engine_options),
                options,
                metrics,
                notifier: None,
                groups: RwLock::new(Arc::new(Vec::new())),
                changed: Notify::new(),
            }),
        }
    }

    /// Sends alerts through `notifier` (before the manager is cloned or run).
    ///
    /// # Panics
    ///
    /// If the manager was cloned already.
    pub fn with_notifier(mut self, notifier: Notifier) -> Manager {
        Arc::get_mut(&mut self.inner).expect("with_notifier is called before the manager is shared").notifier =
            Some(notifier);
        self
    }

    /// Loads the rule files and swaps them in: groups that stay (same file
    /// and name) keep their rules' state, so unchanged alerts keep their
    /// `activeAt`; series of removed groups are marked stale. On error the
    /// previous rules stay. Returns the number of groups loaded.
    ///
    /// # Errors
    ///
    /// [`Error::Pattern`], [`Error::Read`] or [`Error::Invalid`] with every problem found.
    pub fn load(&self, files: &[RuleFiles]) -> Result<usize> {
        let mut specs = Vec::new();
        let mut problems = Vec::new();
        for entry in files {
            let loaded = match &entry.source {
                RuleSource::Glob(pattern) => file::load_files(std::slice::from_ref(pattern)),
                RuleSource::Builtin => crate::pack::groups(),
                RuleSource::Generated { file, yaml } => {
                    file::parse_file(file, yaml).map_err(|problems| Error::Invalid { problems })
                }
            };
            match loaded {
                Ok(groups) => specs.extend(groups.into_iter().map(|mut group| {
                    group.interval = group.interval.or(entry.interval);
                    group
                })),
                Err(Error::Invalid { problems: mut found }) => problems.append(&mut found),
                Err(other) => return Err(other),
            }
        }
        let mut keys = HashSet::new();
        for spec in &specs {
            if !keys.insert(spec.key()) {
                problems.push(Problem {
                    position: Position {
                        file: spec.file.clone(),
                        group: Some(spec.name.clone()),
                        ..Position::default()
                    },
                    message: "group loaded twice (the file matches two rule_files entries)".to_owned(),
                });
            }
        }
        if !problems.is_empty() {
            return Err(Error::Invalid { problems });
        }
        let n = specs.len();
        self.set_groups(specs);
        info!(groups = n, "Rules loaded");
        Ok(n)
    }

    /// Swaps in already validated groups, keeping the state of those that stay.
    pub fn set_groups(&self, specs: Vec<GroupSpec>) {
        let old = Arc::clone(&self.inner.groups.read());
        let old_by_key: HashMap<&str, &Arc<Group>> = old.iter().map(|g| (g.key.as_str(), g)).collect();
        let mut new_groups = Vec::with_capacity(specs.len());
        for spec in specs {
            let group = Group::new(spec, self.inner.options.evaluation_interval);
            if let Some(previous) = old_by_key.get(group.key.as_str()) {
                group.copy_state(previous);
            }
            new_groups.push(Arc::new(group));
        }
        let new_keys: HashSet<&str> = new_groups.iter().map(|g| g.key.as_str()).collect();
        let removed: Vec<&Arc<Group>> = old.iter().filter(|g| !new_keys.contains(g.key.as_str())).collect();
        if !removed.is_empty() {
            let now = self.inner.options.clock.now_ms();
            let mut appender = self.inner.appendable.appender();
            for group in removed {
                for labels in group.written_series() {
                    let refs: Vec<LabelRef<'_>> = labels.iter().collect();
                    appender.append(&refs, now, STALE_NAN);
                }
            }
            if let Err(error) = appender.commit() {
                warn!(error = %error, "Stale markers of removed rule groups could not be stored");
            }
        }
        self.inner
            .metrics
            .set_groups(new_groups.iter().map(|g| (g.key.as_str(), g.interval.as_secs_f64(), g.rules.len())));
        *self.inner.groups.write() = Arc::new(new_groups);
        self.inner.changed.notify_one();
    }

    pub(crate) fn groups(&self) -> Arc<Vec<Arc<Group>>> {
        Arc::clone(&self.inner.groups.read())
    }

    fn env(&self) -> Env<'_> {
        let options = &self.inner.options;
        Env {
            queryable: self.inner.queryable.as_ref(),
            appendable: self.inner.appendable.as_ref(),
            engine: &self.inner.engine,
            metrics: &self.inner.metrics,
            external_labels: &options.external_labels,
            external_url: &options.external_url,
            resend_delay: options.resend_delay,
            restore: options.restore_for_state.then_some(Restore {
                outage_tolerance: options.outage_tolerance,
                for_grace_period: options.for_grace_period,
            }),
        }
    }

    fn evaluate_group(&self, group: &Group, t_ms: i64) {
        let notifications = group.evaluate(&self.env(), t_ms);
        if let Some(notifier) = &self.inner.notifier {
            notifier.send(notifications);
        }
    }

    /// Evaluates every group at `t_ms` (milliseconds since the epoch), in
    /// load order, whatever their intervals: what tests and `test-rules` use.
    pub fn evaluate_all_at(&self, t_ms: i64) {
        for group in self.groups().iter() {
            self.evaluate_group(group, t_ms);
        }
    }

    /// Evaluates every group at each time of its grid (the times [`Manager::run`]
    /// would pick) in `(from_ms, to_ms]`, oldest first, groups of one time in
    /// load order. This drives rules on simulated time, such as a backfill
    /// that moves its clock as fast as it computes: unlike [`Manager::run`] it
    /// skips no evaluation. Returns the number of group evaluations.
    pub fn evaluate_between(&self, from_ms: i64, to_ms: i64) -> usize {
        let groups = self.groups();
        let mut due: Vec<(i64, usize)> = Vec::new();
        for (index, group) in groups.iter().enumerate() {
            let interval = group.interval_ms();
            let mut at = group.aligned_at_or_before(to_ms);
            while at > from_ms {
                due.push((at, index));
                at -= interval;
            }
        }
        due.sort_unstable();
        for &(at, index) in &due {
            self.evaluate_group(&groups[index], at);
        }
        due.len()
    }

    /// Evaluates the group named `name` (or keyed `file;name`) at `t_ms`.
    /// Returns whether such a group exists.
    pub fn evaluate_group_at(&self, name: &str, t_ms: i64) -> bool {
        let groups = self.groups();
        let Some(group) = groups.iter().find(|g| g.spec.name == name || g.key == name) else { return false };
        self.evaluate_group(group, t_ms);
        true
    }

    /// The alerts (pending, firing and recently resolved) of every alerting
    /// rule named `alertname`.
    pub fn alerts(&self, alertname: &str) -> Vec<Alert> {
        self.groups()
            .iter()
            .flat_map(|g| g.rules.iter())
            .filter(|r| r.spec.is_alert() && r.spec.name == alertname)
            .flat_map(|r| r.state.lock().alerts.values().cloned().collect::<Vec<_>>())
            .collect()
    }

    /// The number of groups loaded.
    pub fn num_groups(&self) -> usize {
        self.groups().len()
    }

    /// `GET /api/v1/rules` and `GET /api/v1/alerts`, for the binary to merge into its server.
    pub fn router(&self) -> axum::Router {
        crate::api::router(self.clone())
    }

    /// Evaluates each group on its interval, at times aligned to a grid
    /// offset by a hash of the group (as Prometheus spreads groups), until
    /// `shutdown` fires. Evaluations that fall behind are skipped and
    /// counted. Reloads take effect at once.
    pub async fn run(self, shutdown: CancellationToken) {
        info!(groups = self.num_groups(), "Rule manager started");
        let mut next: HashMap<(String, i64), i64> = HashMap::new();
        loop {
            let groups = self.groups();
            let now = self.inner.options.clock.now_ms();
            let mut live = HashSet::new();
            for group in groups.iter() {
                let key = (group.key.clone(), group.interval_ms());
                next.entry(key.clone()).or_insert_with(|| group.aligned_at_or_before(now) + group.interval_ms());
                live.insert(key);
            }
            next.retain(|key, _| live.contains(key));
            let mut due = Vec::new();
            for group in groups.iter() {
                let key = (group.key.clone(), group.interval_ms());
                let Some(at) = next.get_mut(&key) else { continue };
                if *at <= now {
                    due.push((Arc::clone(group), *at));
                    let interval = group.interval_ms();
                    *at += interval;
                    if *at <= now {
                        let missed = (now - *at) / interval + 1;
                        *at += missed * interval;
                        self.inner.metrics.count_missed(&group.key, missed as u64);
                    }
                }
            }
            if !due.is_empty() {
                let mut tasks = tokio::task::JoinSet::new();
                for (group, at) in due {
                    let manager = self.clone();
                    tasks.spawn_blocking(move || manager.evaluate_group(&group, at));
                }
                while tasks.join_next().await.is_some() {}
                continue;
            }
            let wait_ms = next.values().min().map_or(60_000, |earliest| (earliest - now).max(1));
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = self.inner.changed.notified() => {}
                () = tokio::time::sleep(Duration::from_millis(wait_ms as u64)) => {}
            }
        }
        info!("Rule manager stopped");
    }
}
