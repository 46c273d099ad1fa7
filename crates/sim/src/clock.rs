//! Simulated time: real time, real time sped up, or time the caller advances by hand.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use crate::error::{Error, Result};

/// The simulation's clock, in milliseconds since the Unix epoch.
///
/// Cloning shares the clock. Everything time-dependent in the simulator reads
/// it, so one fleet can run against the wall clock (`infersight sim`), sped up
/// (tests, 60× and more), or in discrete steps (backfill, where the caller
/// moves time forward as fast as it can compute).
#[derive(Debug, Clone)]
pub struct Clock {
    inner: Arc<Inner>,
}

#[derive(Debug)]
enum Inner {
    Scaled { origin: Instant, origin_ms: i64, speed: f64 },
    Manual { now_ms: watch::Sender<i64> },
}

impl Clock {
    /// Real time, starting at `start_ms` (usually the current Unix time).
    pub fn realtime(start_ms: i64) -> Clock {
        Clock::scaled(start_ms, 1.0)
    }

    /// Time that runs `speed` times faster than the wall clock, starting at
    /// `start_ms` now. Non-positive or non-finite speeds are taken as 1.
    pub fn scaled(start_ms: i64, speed: f64) -> Clock {
        let speed = if speed.is_finite() && speed > 0.0 { speed } else { 1.0 };
        Clock { inner: Arc::new(Inner::Scaled { origin: Instant::now(), origin_ms: start_ms, speed }) }
    }

    /// Time that stands still until [`Clock::advance`] or [`Clock::set`] moves it.
    pub fn manual(start_ms: i64) -> Clock {
        let (now_ms, _) = watch::channel(start_ms);
        Clock { inner: Arc::new(Inner::Manual { now_ms }) }
    }

    /// The current simulated time in milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        match &*self.inner {
            Inner::Scaled { origin, origin_ms, speed } => {
                origin_ms + (origin.elapsed().as_secs_f64() * 1000.0 * speed) as i64
            }
            Inner::Manual { now_ms } => *now_ms.borrow(),
        }
    }

    /// How many simulated seconds pass per real second; `None` for a manual clock.
    pub fn speed(&self) -> Option<f64> {
        match &*self.inner {
            Inner::Scaled { speed, .. } => Some(*speed),
            Inner::Manual { .. } => None,
        }
    }

    /// Whether the caller moves time.
    pub fn is_manual(&self) -> bool {
        matches!(&*self.inner, Inner::Manual { .. })
    }

    /// Moves a manual clock forward by `ms`.
    ///
    /// # Errors
    ///
    /// [`Error::ClockNotManual`] for a clock that follows real time.
    pub fn advance(&self, ms: i64) -> Result<()> {
        match &*self.inner {
            Inner::Manual { now_ms } => {
                now_ms.send_modify(|now| *now += ms.max(0));
                Ok(())
            }
            Inner::Scaled { .. } => Err(Error::ClockNotManual),
        }
    }

    /// Sets a manual clock to `ms`; it never goes backwards.
    ///
    /// # Errors
    ///
    /// [`Error::ClockNotManual`] for a clock that follows real time.
    pub fn set(&self, ms: i64) -> Result<()> {
        match &*self.inner {
            Inner::Manual { now_ms } => {
                now_ms.send_modify(|now| *now = (*now).max(ms));
                Ok(())
            }
            Inner::Scaled { .. } => Err(Error::ClockNotManual),
        }
    }

    /// The real time that `sim_ms` of simulated time takes.
    pub fn real_duration(&self, sim_ms: f64) -> Duration {
        let speed = self.speed().unwrap_or(1.0);
        Duration::from_secs_f64((sim_ms / speed / 1000.0).max(0.0))
    }

    /// Waits until simulated time reaches `sim_ms`.
    pub async fn sleep_until(&self, sim_ms: f64) {
        match &*self.inner {
            Inner::Scaled { origin, origin_ms, speed } => {
                let real_secs = ((sim_ms - *origin_ms as f64) / 1000.0 / speed).max(0.0);
                tokio::time::sleep_until(*origin + Duration::from_secs_f64(real_secs)).await;
            }
            Inner::Manual { now_ms } => {
                let mut rx = now_ms.subscribe();
                // The sender lives as long as the clock, which `self` holds.
                let _ = rx.wait_for(|now| *now as f64 >= sim_ms).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Clock;

    #[test]
    fn manual_clock_moves_only_when_told_and_never_backwards() {
        let clock = Clock::manual(1_000);
        assert_eq!(clock.now_ms(), 1_000);
        clock.advance(500).expect("manual");
        assert_eq!(clock.now_ms(), 1_500);
        clock.set(1_200).expect("manual");
        assert_eq!(clock.now_ms(), 1_500);
        assert!(Clock::realtime(0).advance(1).is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn scaled_clock_runs_speed_times_faster() {
        let clock = Clock::scaled(0, 60.0);
        tokio::time::advance(std::time::Duration::from_secs(1)).await;
        let now = clock.now_ms();
        assert!((59_900..=60_100).contains(&now), "{now}");
        clock.sleep_until(120_000.0).await;
        assert!(clock.now_ms() >= 120_000);
    }

    #[tokio::test]
    async fn manual_sleep_wakes_when_time_is_advanced() {
        let clock = Clock::manual(0);
        let waiter = {
            let clock = clock.clone();
            tokio::spawn(async move { clock.sleep_until(1_000.0).await })
        };
        clock.advance(1_000).expect("manual");
        waiter.await.expect("waiter finishes");
    }
}
