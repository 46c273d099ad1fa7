//! Drift on a schedule: each model's current window of stored exchanges against its baseline window.
//!
//! A window found drifted is remembered. When it later becomes a baseline,
//! the model gets no verdict: comparing healthy traffic against an incident
//! would report the incident a second time, one baseline offset after it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use quality::drift::{Drift, DriftConfig, DriftReport, Exchange};
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
    /// Both windows were compared.
    Tested(DriftReport),
    /// The baseline window overlaps a window found drifted earlier, so no
    /// comparison was made.
    BaselineDrifted,
}

/// The current windows found drifted, per model, kept while a later
/// baseline can still overlap them.
#[derive(Debug, Default)]
pub(crate) struct Drifted {
    windows: HashMap<String, Vec<(i64, i64)>>,
}

impl Drifted {
    fn flag(&mut self, model: &str, start: i64, end: i64) {
        self.windows.entry(model.to_owned()).or_default().push((start, end));
    }

    fn overlaps(&self, model: &str, start: i64, end: i64) -> bool {
        self.windows.get(model).is_some_and(|windows| windows.iter().any(|&(s, e)| s < end && start < e))
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
    let baseline_end = now_ms.saturating_sub(offset);
    drifted.forget_until(baseline_end.saturating_sub(window));
    let drift = Drift::new(DriftConfig { alpha: schedule.alpha, ..DriftConfig::default() });
    let read = |model: &str, end: i64| -> records::Result<Vec<Exchange>> {
        Ok(store
            .texts(model, end.saturating_sub(window), end, schedule.max_exchanges)?
            .into_iter()
            .map(|(prompt, response)| Exchange { prompt, response })
            .collect())
    };
    let mut verdicts = Vec::new();
    for model in store.models(now_ms.saturating_sub(window), now_ms)? {
        if drifted.overlaps(&model, baseline_end.saturating_sub(window), baseline_end) {
            verdicts.push((model, Verdict::BaselineDrifted));
            continue;
        }
        let current = read(&model, now_ms)?;
        let baseline = read(&model, baseline_end)?;
        if current.len() < schedule.min_exchanges || baseline.len() < schedule.min_exchanges {
            continue;
        }
        let report = drift.test(&baseline, &current);
        if report.drift {
            drifted.flag(&model, now_ms.saturating_sub(window), now_ms);
        }
        verdicts.push((model, Verdict::Tested(report)));
    }
    Ok(verdicts)
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
