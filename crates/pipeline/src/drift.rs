//! Drift on a schedule: each model's current window of stored exchanges against its baseline window.
//!
//! A window found drifted is remembered and never used as a baseline:
//! comparing healthy traffic against an incident would report the incident
//! a second time, one baseline offset after it. The baseline then moves
//! back to the latest window before the drifted ones, at most one more
//! baseline offset back; past that the model gets no verdict, so a lasting
//! change stops alerting once its windows fill the reach of the baseline.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use quality::drift::{Described, Drift, DriftConfig, DriftReport, Exchange};
use tokio_util::sync::CancellationToken;

use crate::Pipeline;

/// When and on what the drift test runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    /// How often it runs (default 1 h).
    pub interval: Duration,
    /// Width of the current and baseline windows (default 1 h).
    pub window: Duration,
    /// How far back the baseline window ends (default 7 days: the same
    /// hour of last week).
    pub baseline_offset: Duration,
    /// Fewer stored exchanges than this in either window: no verdict.
    pub min_exchanges: usize,
    /// Most exchanges read per window.
    pub max_exchanges: usize,
    /// Family-wise false-alarm rate.
    pub alpha: f64,
}

impl Default for Schedule {
    fn default() -> Schedule {
        Schedule {
            interval: Duration::from_secs(3600),
            window: Duration::from_secs(3600),
            baseline_offset: Duration::from_secs(7 * 24 * 3600),
            min_exchanges: 30,
            max_exchanges: 500,
            alpha: 0.01,
        }
    }
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// What the drift test said of one model.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Both windows were compared; the baseline ended at `baseline_end`.
    Tested {
        /// The test's report.
        report: DriftReport,
        /// Where the baseline window ended (milliseconds): `baseline_offset`
        /// back, or earlier when windows found drifted were in the way.
        baseline_end: i64,
    },
    /// Every window within reach of the baseline holds drift found earlier,
    /// so no comparison was made.
    BaselineDrifted,
}

/// The current windows found drifted, per model, kept while a later
/// baseline can still overlap them; and the exchanges the last run
/// described, by a hash of their text: a run's windows overlap the last
/// one's, so most exchanges are described once, not at every run.
#[derive(Debug, Default)]
pub(crate) struct Drifted {
    windows: HashMap<String, Vec<(i64, i64)>>,
    described: HashMap<u64, Arc<Described>>,
}

impl Drifted {
    fn flag(&mut self, model: &str, start: i64, end: i64) {
        self.windows.entry(model.to_owned()).or_default().push((start, end));
    }

    /// The latest end, at most `end` and at least `earliest`, of a window
    /// `width` wide that overlaps no window found drifted for `model`.
    fn clean_end(&self, model: &str, mut end: i64, width: i64, earliest: i64) -> Option<i64> {
        let windows = self.windows.get(model).map_or(&[][..], Vec::as_slice);
        loop {
            let start = end.saturating_sub(width);
            let overlapping = windows.iter().filter(|&&(s, e)| s < end && start < e).map(|&(s, _)| s).min();
            match overlapping {
                None => return Some(end),
                Some(s) if s < earliest => return None,
                Some(s) => end = s,
            }
        }
    }

    /// Forgets windows that end at or before `t`.
    fn forget_until(&mut self, t: i64) {
        self.windows.retain(|_, windows| {
            windows.retain(|&(_, end)| end > t);
            !windows.is_empty()
        });
    }
}

/// The drift test of every model seen in the current window.
pub(crate) fn run(
    store: &records::Store,
    schedule: &Schedule,
    drifted: &mut Drifted,
    now_ms: i64,
) -> records::Result<Vec<(String, Verdict)>> {
    let window = ms(schedule.window);
    let offset = ms(schedule.baseline_offset);
    let latest_baseline = now_ms.saturating_sub(offset);
    let earliest_baseline = latest_baseline.saturating_sub(offset);
    drifted.forget_until(earliest_baseline.saturating_sub(window));
    let drift = Drift::new(DriftConfig { alpha: schedule.alpha, ..DriftConfig::default() });
    let earlier = std::mem::take(&mut drifted.described);
    let mut described: HashMap<u64, Arc<Described>> = HashMap::new();
    let mut read = |model: &str, end: i64| -> records::Result<Vec<Arc<Described>>> {
        Ok(store
            .texts(model, end.saturating_sub(window), end, schedule.max_exchanges)?
            .into_iter()
            .map(|(prompt, response)| {
                // A collision of 64-bit hashes would describe one exchange as another: negligible.
                let key = {
                    let mut hasher = std::hash::DefaultHasher::new();
                    std::hash::Hash::hash(&(&prompt, &response), &mut hasher);
                    std::hash::Hasher::finish(&hasher)
                };
                let found = described.get(&key).or_else(|| earlier.get(&key)).cloned();
                let description = found.unwrap_or_else(|| Arc::new(Described::of(&Exchange { prompt, response })));
                described.insert(key, Arc::clone(&description));
                description
            })
            .collect())
    };
    let mut verdicts = Vec::new();
    for model in store.models(now_ms.saturating_sub(window), now_ms)? {
        let Some(baseline_end) = drifted.clean_end(&model, latest_baseline, window, earliest_baseline) else {
            verdicts.push((model, Verdict::BaselineDrifted));
            continue;
        };
        let current = read(&model, now_ms)?;
        let baseline = read(&model, baseline_end)?;
        if current.len() < schedule.min_exchanges || baseline.len() < schedule.min_exchanges {
            continue;
        }
        let report = drift.test_described(&as_refs(&baseline), &as_refs(&current));
        if report.drift {
            drifted.flag(&model, now_ms.saturating_sub(window), now_ms);
        }
        verdicts.push((model, Verdict::Tested { report, baseline_end }));
    }
    drifted.described = described;
    Ok(verdicts)
}

fn as_refs(window: &[Arc<Described>]) -> Vec<&Described> {
    window.iter().map(AsRef::as_ref).collect()
}

/// Runs [`Pipeline::run_drift`] every `interval` of `clock` (milliseconds)
/// until `shutdown`.
pub async fn schedule(pipeline: Arc<Pipeline>, clock: impl Fn() -> i64 + Send + 'static, shutdown: CancellationToken) {
    let interval = pipeline.config().drift.interval;
    let mut ticks =
        tokio::time::interval_at(tokio::time::Instant::now() + crate::DRIFT_FIRST_RUN.min(interval), interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = ticks.tick() => {
                let pipeline = Arc::clone(&pipeline);
                let now = clock();
                let _ = tokio::task::spawn_blocking(move || pipeline.run_drift(now)).await;
            }
        }
    }
}
