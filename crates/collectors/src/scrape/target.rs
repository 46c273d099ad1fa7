//! One target: its identity and labels, its health, and the loop that
//! scrapes it.
//!
//! A scrape is all or nothing. The page is fetched, parsed, relabelled and
//! checked against the limits before anything is appended; then its samples,
//! the stale markers of series that vanished since the last scrape and the
//! five report series (`up`, `scrape_duration_seconds`, ...) go into one
//! appender and one commit. When any step fails, none of the page is stored:
//! a second batch writes `up = 0` and stale markers for every series of the
//! previous scrape, as Prometheus does.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use series::{Appendable, LabelRef, Labels, LabelsBuilder, METRIC_NAME, STALE_NAN};
use tokio::sync::watch;
use tracing::{Instrument, debug, debug_span, warn};

use crate::exposition::{self, Entry, Format, Sample};
use crate::relabel::{self, LabelSet};
use crate::scrape::{ScrapeError, ScrapeJob, ScrapeMetrics};

/// The largest response body read; a larger one fails the scrape.
const BODY_LIMIT: usize = 256 << 20;

/// The series every scrape writes about itself, in this order.
const REPORT_NAMES: [&str; 5] = [
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
];

/// Whether the last scrape of a target succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// Not scraped yet.
    Unknown,
    /// The last scrape succeeded.
    Up,
    /// The last scrape failed.
    Down,
}

impl Health {
    /// `up`, `down` or `unknown`, as Prometheus's targets API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Unknown => "unknown",
            Health::Up => "up",
            Health::Down => "down",
        }
    }
}

/// What the targets API shows about a target's last scrape.
#[derive(Debug, Clone)]
pub(crate) struct TargetStatus {
    pub(crate) health: Health,
    pub(crate) last_error: String,
    pub(crate) last_scrape: Option<SystemTime>,
    pub(crate) last_duration: Duration,
}

/// A target of a job: an address with its labels.
#[derive(Debug)]
pub(crate) struct Target {
    pub(crate) job: Arc<ScrapeJob>,
    pub(crate) url: String,
    /// Identity within the manager: job, URL and labels.
    pub(crate) key: String,
    /// The labels before relabelling, as Prometheus's targets API shows them.
    pub(crate) discovered: BTreeMap<String, String>,
    /// `job`, `instance`, the preset's and the configured labels, sorted by name.
    pub(crate) labels: Vec<(String, String)>,
    report: Vec<Labels>,
    pub(crate) status: Mutex<TargetStatus>,
}

impl Target {
    /// A target of `job` at `address` (`host:port`), with the labels its
    /// discovery gave it (file_sd), which win over the job's.
    pub(crate) fn new(job: Arc<ScrapeJob>, address: &str, discovered_labels: &BTreeMap<String, String>) -> Target {
        let url = format!("{}://{address}{}", job.scheme.as_str(), job.path);
        let mut labels: BTreeMap<String, String> = BTreeMap::new();
        labels.insert("job".into(), job.job_name.clone());
        labels.extend(job.labels.iter().map(|(n, v)| (n.clone(), v.clone())));
        labels.extend(discovered_labels.iter().map(|(n, v)| (n.clone(), v.clone())));
        labels.entry("instance".into()).or_insert_with(|| address.to_owned());
        // Discovery may hand over reserved (`__`) or invalid names; neither becomes a label.
        labels.retain(|n, v| !v.is_empty() && series::is_valid_label_name(n) && !n.starts_with("__"));
        let mut discovered = BTreeMap::new();
        discovered.insert("__address__".to_owned(), address.to_owned());
        discovered.insert("__metrics_path__".to_owned(), job.path.clone());
        discovered.insert("__scheme__".to_owned(), job.scheme.as_str().to_owned());
        discovered.insert("__scrape_interval__".to_owned(), format_duration(job.interval));
        discovered.insert("__scrape_timeout__".to_owned(), format_duration(job.timeout));
        discovered.insert("job".to_owned(), job.job_name.clone());
        discovered.extend(job.labels.iter().map(|(n, v)| (n.clone(), v.clone())));
        discovered.extend(discovered_labels.iter().map(|(n, v)| (n.clone(), v.clone())));
        let mut key = format!("{}\u{0}{url}", job.job_name);
        for (name, value) in &labels {
            key.push('\u{0}');
            key.push_str(name);
            key.push('=');
            key.push_str(value);
        }
        let report = REPORT_NAMES
            .iter()
            .map(|name| {
                let mut builder = LabelsBuilder::default();
                for (n, v) in &labels {
                    builder.set(n, v);
                }
                builder.set(METRIC_NAME, name);
                builder.build()
            })
            .collect();
        Target {
            job,
            url,
            key,
            discovered,
            labels: labels.into_iter().collect(),
            report,
            status: Mutex::new(TargetStatus {
                health: Health::Unknown,
                last_error: String::new(),
                last_scrape: None,
                last_duration: Duration::ZERO,
            }),
        }
    }

    /// When the first scrape happens: a fixed offset within the interval,
    /// from a hash of the target, so targets spread over the interval and
    /// each keeps its phase across restarts (as Prometheus does).
    pub(crate) fn first_scrape_delay(&self, now: SystemTime) -> Duration {
        let interval_ns = self.job.interval.as_nanos().max(1);
        let now_ns = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let hash = u128::from(xxhash_rust::xxh3::xxh3_64(self.key.as_bytes()));
        let delay = (hash % interval_ns + interval_ns - now_ns % interval_ns) % interval_ns;
        Duration::from_nanos(u64::try_from(delay).unwrap_or(u64::MAX))
    }
}

/// Why a target loop is told to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StopReason {
    /// The target left the configuration or its file_sd file: its series go stale.
    Removed,
    /// Its job's configuration changed: a new loop takes over the series.
    Reload,
    /// The process is shutting down: series are left as they are.
    Shutdown,
}

/// What a target loop needs besides its target.
pub(crate) struct Context {
    pub(crate) storage: Arc<dyn Appendable>,
    pub(crate) client: reqwest::Client,
    pub(crate) metrics: ScrapeMetrics,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context").field("metrics", &self.metrics).finish_non_exhaustive()
    }
}

/// What a target remembers between scrapes: the labels each series of the
/// page became (so relabelling runs once per series, not once per scrape),
/// and the series the last scrape stored (for stale markers).
#[derive(Debug, Default)]
pub(crate) struct SeriesCache {
    /// Series text as written in the page → its labels, `None` when relabelling drops it.
    entries: HashMap<Box<str>, CacheEntry>,
    /// Series stored by the last successful scrape.
    previous: HashSet<Labels>,
    iteration: u64,
    scratch: LabelSet,
}

#[derive(Debug)]
struct CacheEntry {
    labels: Option<Labels>,
    iteration: u64,
}

/// A parsed and relabelled page, not yet stored.
pub(crate) struct Ingested {
    batch: Vec<(Labels, i64, f64)>,
    current: HashSet<Labels>,
    n_scraped: usize,
}

impl SeriesCache {
    /// Forgets how series were labelled (the job's configuration changed) but
    /// keeps what was stored, so the next scrape still writes stale markers.
    pub(crate) fn reset_labels(&mut self) {
        self.entries.clear();
    }

    pub(crate) fn ingest(
        &mut self,
        page: &str,
        format: Format,
        scrape_ms: i64,
        target: &Target,
    ) -> Result<Ingested, ScrapeError> {
        self.iteration += 1;
        let job = &target.job;
        let mut batch = Vec::with_capacity(self.previous.len());
        let mut current = HashSet::with_capacity(self.previous.len());
        let mut n_scraped = 0;
        for entry in exposition::parse(page, format) {
            let sample = match entry {
                Ok(Entry::Sample(sample)) => sample,
                Ok(_) => continue,
                Err(source) => return Err(ScrapeError::Parse { format, source }),
            };
            if sample.is_created {
                continue;
            }
            n_scraped += 1;
            let labels = match self.entries.get_mut(sample.series) {
                Some(entry) => {
                    entry.iteration = self.iteration;
                    entry.labels.clone()
                }
                None => {
                    let labels = label_sample(&sample, target, &mut self.scratch)?;
                    self.entries
                        .insert(sample.series.into(), CacheEntry { labels: labels.clone(), iteration: self.iteration });
                    labels
                }
            };
            let Some(labels) = labels else { continue };
            let t = match sample.timestamp_ms {
                Some(t) if job.honor_timestamps => t,
                _ => scrape_ms,
            };
            // A series repeated within a page keeps its first sample, as in Prometheus.
            if !current.insert(labels.clone()) {
                continue;
            }
            batch.push((labels, t, sample.value));
            if job.limits.sample_limit > 0 && batch.len() > job.limits.sample_limit {
                return Err(ScrapeError::SampleLimit { limit: job.limits.sample_limit });
            }
        }
        Ok(Ingested { batch, current, n_scraped })
    }
}

/// The labels a sample's series gets: its own, the target's, then the
/// job's relabelling. `None` when relabelling drops it.
fn label_sample(sample: &Sample<'_>, target: &Target, set: &mut LabelSet) -> Result<Option<Labels>, ScrapeError> {
    let job = &target.job;
    set.clear();
    set.set(METRIC_NAME, sample.name);
    for (name, value) in sample.labels() {
        if name == METRIC_NAME || !set.get(name).is_empty() {
            return Err(ScrapeError::DuplicateLabel { name: name.to_owned(), series: sample.series.to_owned() });
        }
        set.set(name, &value);
    }
    for (name, value) in &target.labels {
        let scraped = set.get(name);
        if job.honor_labels {
            if scraped.is_empty() {
                set.set(name, value);
            }
            continue;
        }
        if !scraped.is_empty() {
            let scraped = scraped.to_owned();
            let mut exported = format!("exported_{name}");
            while !set.get(&exported).is_empty() {
                exported.insert_str(0, "exported_");
            }
            set.set(&exported, &scraped);
        }
        set.set(name, value);
    }
    if !relabel::process(&job.metric_relabel, set) || set.get(METRIC_NAME).is_empty() {
        return Ok(None);
    }
    let limits = &job.limits;
    let too_many = limits.label_limit > 0 && set.len() > limits.label_limit;
    let long_name =
        limits.label_name_length_limit > 0 && set.iter().any(|(name, _)| name.len() > limits.label_name_length_limit);
    let long_value = limits.label_value_length_limit > 0
        && set.iter().any(|(_, value)| value.len() > limits.label_value_length_limit);
    let broken = [
        (too_many, "label_limit", limits.label_limit),
        (long_name, "label_name_length_limit", limits.label_name_length_limit),
        (long_value, "label_value_length_limit", limits.label_value_length_limit),
    ]
    .into_iter()
    .find(|(broken, _, _)| *broken);
    let labels = set.to_labels();
    if let Some((_, limit_name, limit)) = broken {
        return Err(ScrapeError::LabelLimit { limit_name, limit, series: labels.to_string() });
    }
    Ok(Some(labels))
}

/// Scrapes `target` every interval until told to stop; returns what it
/// remembers, for a loop that takes over after a reload.
pub(crate) async fn run(
    target: Arc<Target>,
    context: Arc<Context>,
    mut stop: watch::Receiver<Option<StopReason>>,
    mut cache: SeriesCache,
) -> SeriesCache {
    let span = debug_span!("scrape_target", job = %target.job.job_name, url = %target.url);
    async {
        let delay = target.first_scrape_delay(SystemTime::now());
        let stopped = tokio::select! {
            biased;
            _ = stop.changed() => true,
            () = tokio::time::sleep(delay) => false,
        };
        if !stopped {
            let mut ticker = tokio::time::interval(target.job.interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    biased;
                    _ = stop.changed() => break,
                    _ = ticker.tick() => {}
                }
                tokio::select! {
                    biased;
                    _ = stop.changed() => break,
                    () = scrape_once(&target, &context, &mut cache) => {}
                }
            }
        }
        let reason = (*stop.borrow()).unwrap_or(StopReason::Shutdown);
        if reason == StopReason::Removed {
            mark_stale(&target, &context, &mut cache, now_ms());
        }
        cache
    }
    .instrument(span)
    .await
}

/// Writes stale markers for every series of the target and its report series.
fn mark_stale(target: &Target, context: &Context, cache: &mut SeriesCache, t: i64) {
    let mut appender = context.storage.appender();
    let mut refs: Vec<LabelRef<'_>> = Vec::new();
    let mut n_stale = 0;
    for labels in cache.previous.iter().chain(&target.report) {
        refs.clear();
        refs.extend(labels.iter());
        appender.append(&refs, t, STALE_NAN);
        n_stale += 1;
    }
    match appender.commit() {
        Ok(_) => context.metrics.count_samples(&target.job.job_name, 0, n_stale),
        Err(error) => warn!(error = %error, "Cannot write stale markers for a removed target"),
    }
    cache.previous.clear();
}

/// One scrape: fetch, parse, relabel, store, report.
pub(crate) async fn scrape_once(target: &Target, context: &Context, cache: &mut SeriesCache) {
    let job_name = target.job.job_name.as_str();
    let started = Instant::now();
    let started_at = SystemTime::now();
    let scrape_ms = to_ms(started_at);
    context.metrics.count_scrape(job_name);
    let fetched = match tokio::time::timeout(target.job.timeout, fetch(&context.client, target)).await {
        Ok(fetched) => fetched,
        Err(_) => Err(ScrapeError::Timeout { timeout: target.job.timeout }),
    };
    let ingested = fetched.and_then(|(format, body)| {
        let page = std::str::from_utf8(&body).map_err(|e| ScrapeError::NotUtf8 { offset: e.valid_up_to() })?;
        cache.ingest(page, format, scrape_ms, target)
    });
    let duration = started.elapsed();
    // The status is held while the samples are committed, so whoever sees
    // this scrape's `up` sees its health and error too.
    let mut status = target.status.lock();
    let result = match ingested {
        Ok(ingested) => store(target, &*context.storage, &context.metrics, cache, ingested, scrape_ms, duration),
        Err(error) => Err(error),
    };
    if let Err(error) = &result {
        context.metrics.count_failure(job_name, error.reason());
        store_failure(target, &*context.storage, &context.metrics, cache, scrape_ms, duration);
    }
    let before = status.health;
    status.last_scrape = Some(started_at);
    status.last_duration = duration;
    match result {
        Ok(()) => {
            status.health = Health::Up;
            status.last_error.clear();
            if before == Health::Down {
                warn!(job = job_name, url = %target.url, "Scrape succeeded, target back up");
            }
        }
        Err(error) => {
            let message = error.describe();
            if before != Health::Down {
                warn!(job = job_name, url = %target.url, error = %message, "Scrape failed, target marked down");
            } else {
                debug!(error = %message, "Scrape failed again");
            }
            status.health = Health::Down;
            status.last_error = message;
        }
    }
}

/// Appends a good scrape, its stale markers and its report in one commit.
pub(crate) fn store(
    target: &Target,
    storage: &dyn Appendable,
    metrics: &ScrapeMetrics,
    cache: &mut SeriesCache,
    ingested: Ingested,
    scrape_ms: i64,
    duration: Duration,
) -> Result<(), ScrapeError> {
    let mut appender = storage.appender();
    let mut refs: Vec<LabelRef<'_>> = Vec::new();
    for (labels, t, v) in &ingested.batch {
        refs.clear();
        refs.extend(labels.iter());
        appender.append(&refs, *t, *v);
    }
    let mut n_stale = 0;
    for labels in cache.previous.difference(&ingested.current) {
        refs.clear();
        refs.extend(labels.iter());
        appender.append(&refs, scrape_ms, STALE_NAN);
        n_stale += 1;
    }
    let n_added = ingested.current.difference(&cache.previous).count();
    let values = [1.0, duration.as_secs_f64(), ingested.n_scraped as f64, ingested.batch.len() as f64, n_added as f64];
    for (labels, value) in target.report.iter().zip(values) {
        refs.clear();
        refs.extend(labels.iter());
        appender.append(&refs, scrape_ms, value);
    }
    appender.commit().map_err(|source| ScrapeError::Commit { source })?;
    metrics.count_samples(&target.job.job_name, ingested.batch.len(), n_stale);
    cache.previous = ingested.current;
    let iteration = cache.iteration;
    cache.entries.retain(|_, entry| entry.iteration == iteration);
    Ok(())
}

/// After a failed scrape: `up = 0` and stale markers for what the last scrape stored.
pub(crate) fn store_failure(
    target: &Target,
    storage: &dyn Appendable,
    metrics: &ScrapeMetrics,
    cache: &mut SeriesCache,
    scrape_ms: i64,
    duration: Duration,
) {
    let mut appender = storage.appender();
    let mut refs: Vec<LabelRef<'_>> = Vec::new();
    let n_stale = cache.previous.len();
    for labels in &cache.previous {
        refs.clear();
        refs.extend(labels.iter());
        appender.append(&refs, scrape_ms, STALE_NAN);
    }
    let values = [0.0, duration.as_secs_f64(), 0.0, 0.0, 0.0];
    for (labels, value) in target.report.iter().zip(values) {
        refs.clear();
        refs.extend(labels.iter());
        appender.append(&refs, scrape_ms, value);
    }
    match appender.commit() {
        Ok(_) => {
            metrics.count_samples(&target.job.job_name, 0, n_stale);
            cache.previous.clear();
        }
        Err(error) => debug!(error = %error, "Cannot store the report of a failed scrape"),
    }
}

/// GETs the page with the job's headers; returns its format and body.
async fn fetch(client: &reqwest::Client, target: &Target) -> Result<(Format, Vec<u8>), ScrapeError> {
    let job = &target.job;
    let mut request = client
        .get(&target.url)
        .header(ACCEPT, job.accept)
        .header("X-Prometheus-Scrape-Timeout-Seconds", job.timeout.as_secs_f64().to_string());
    request = match &job.auth {
        Some(crate::scrape::Auth::Basic { username, password }) => request.basic_auth(username, Some(password)),
        Some(crate::scrape::Auth::Bearer(token)) => request.bearer_auth(token),
        None => request,
    };
    let mut response = request.send().await.map_err(|source| ScrapeError::Request { source })?;
    if !response.status().is_success() {
        return Err(ScrapeError::Status { status: response.status().as_u16() });
    }
    // A page without a Content-Type is read as text 0.0.4, the oldest format.
    let format = match response.headers().get(CONTENT_TYPE) {
        None => Format::Text,
        Some(value) => {
            let content_type = String::from_utf8_lossy(value.as_bytes());
            Format::from_content_type(&content_type)
                .ok_or_else(|| ScrapeError::ContentType { content_type: content_type.into_owned() })?
        }
    };
    let capacity = response.content_length().map_or(0, |n| usize::try_from(n).unwrap_or(BODY_LIMIT).min(BODY_LIMIT));
    let mut body = Vec::with_capacity(capacity);
    while let Some(chunk) = response.chunk().await.map_err(|source| ScrapeError::Body { source })? {
        if body.len() + chunk.len() > BODY_LIMIT {
            return Err(ScrapeError::BodyTooLarge { limit: BODY_LIMIT });
        }
        body.extend_from_slice(&chunk);
    }
    Ok((format, body))
}

/// Formats a duration as Prometheus does (`15s`, `1m30s`, `100ms`).
pub(crate) fn format_duration(duration: Duration) -> String {
    let mut ms = duration.as_millis();
    if ms == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for (unit, size) in [
        ("y", 31_536_000_000),
        ("w", 604_800_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1000),
        ("ms", 1),
    ] {
        if ms >= size {
            out.push_str(&format!("{}{unit}", ms / size));
            ms %= size;
        }
    }
    out
}

fn to_ms(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn now_ms() -> i64 {
    to_ms(SystemTime::now())
}
