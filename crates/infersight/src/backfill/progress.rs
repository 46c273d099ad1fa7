//! How far a backfill running beside the server has got: the demo's progress
//! line, `/api/v1/infersight/backfill` and `infersight_backfill_progress_ratio`.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// A backfill's progress through simulated time, shared by the task that
/// writes it and those that report it.
#[derive(Debug)]
pub(crate) struct Progress {
    from_ms: i64,
    to_ms: i64,
    /// Simulated time written, in milliseconds (spans may be written out of order).
    written_ms: AtomicI64,
    started: Instant,
    /// The real time it took, once done.
    took: OnceLock<Duration>,
    /// `infersight_backfill_progress_ratio`.
    ratio: Gauge<f64, AtomicU64>,
}

impl Progress {
    /// A backfill of `[from_ms, to_ms)` starting now.
    pub(crate) fn new(from_ms: i64, to_ms: i64) -> Progress {
        Progress {
            from_ms,
            to_ms,
            written_ms: AtomicI64::new(0),
            started: Instant::now(),
            took: OnceLock::new(),
            ratio: Gauge::default(),
        }
    }

    /// Registers `infersight_backfill_progress_ratio` in `registry`.
    pub(crate) fn register(&self, registry: &mut Registry) {
        registry.register(
            "infersight_backfill_progress_ratio",
            "Share of the simulated history written so far by the backfill running beside the server (1 when done)",
            self.ratio.clone(),
        );
    }

    /// Notes that `span_ms` more of simulated time is written.
    pub(crate) fn advance(&self, span_ms: i64) {
        self.written_ms.fetch_add(span_ms.max(0), Ordering::Relaxed);
        self.ratio.set(self.ratio());
    }

    /// Notes that the backfill ended (done, or stopped by a shutdown).
    pub(crate) fn finish(&self) {
        let _ = self.took.set(self.started.elapsed());
        self.ratio.set(self.ratio());
    }

    /// Whether it ended.
    pub(crate) fn is_finished(&self) -> bool {
        self.took.get().is_some()
    }

    /// The share of the history written, in `[0, 1]`.
    pub(crate) fn ratio(&self) -> f64 {
        let span = (self.to_ms - self.from_ms).max(1) as f64;
        (self.written_ms.load(Ordering::Relaxed) as f64 / span).clamp(0.0, 1.0)
    }

    /// The figures `/api/v1/infersight/backfill` serves.
    pub(crate) fn status(&self) -> api::BackfillStatus {
        let took = self.took.get().copied();
        let elapsed = took.unwrap_or_else(|| self.started.elapsed()).as_secs_f64();
        let ratio = self.ratio();
        // Too early to tell until a little is written.
        let remaining = (ratio >= 0.01).then(|| elapsed * (1.0 - ratio) / ratio);
        api::BackfillStatus {
            running: took.is_none(),
            from_ms: self.from_ms,
            to_ms: self.to_ms,
            progress: ratio,
            elapsed_seconds: elapsed,
            remaining_seconds: remaining,
        }
    }

    /// One line for a terminal: percent, simulated time written and time left.
    pub(crate) fn line(&self) -> String {
        let status = self.status();
        let done = Duration::from_millis(u64::try_from(self.written_ms.load(Ordering::Relaxed)).unwrap_or(0));
        let total = Duration::from_millis(u64::try_from(self.to_ms - self.from_ms).unwrap_or(0));
        let width = 24;
        let filled = (self.ratio() * f64::from(width)).round() as usize;
        let bar: String = "#".repeat(filled) + &"-".repeat(width as usize - filled.min(width as usize));
        let tail = match (status.running, status.remaining_seconds) {
            (false, _) => format!("done in {:.1} s", status.elapsed_seconds),
            (true, Some(left)) => format!("about {left:.0} s left"),
            (true, None) => "starting".to_owned(),
        };
        format!("history [{bar}] {:>3.0}%  {} of {} simulated  {tail}", self.ratio() * 100.0, clock(done), clock(total))
    }
}

/// `1h05m`, `42m`, `30s`.
fn clock(d: Duration) -> String {
    let secs = d.as_secs();
    match (secs / 3600, secs / 60 % 60) {
        (0, 0) => format!("{secs}s"),
        (0, m) => format!("{m}m"),
        (h, m) => format!("{h}h{m:02}m"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_is_the_share_of_simulated_time_written() {
        let progress = Progress::new(0, 3_600_000);
        assert_eq!(progress.status().remaining_seconds, None, "too early to tell");
        progress.advance(900_000);
        assert!((progress.ratio() - 0.25).abs() < 1e-9);
        let status = progress.status();
        assert!(status.running && status.remaining_seconds.is_some());
        assert!(progress.line().contains(" 25%  15m of 1h00m simulated"), "{}", progress.line());
        progress.advance(-5);
        assert!((progress.ratio() - 0.25).abs() < 1e-9, "never moves back");
        progress.advance(3_600_000);
        assert!((progress.ratio() - 1.0).abs() < 1e-9, "at most all of it");
        progress.finish();
        assert!(!progress.status().running && progress.is_finished());
        assert!(progress.line().contains("100%") && progress.line().contains("done in"), "{}", progress.line());
    }
}
