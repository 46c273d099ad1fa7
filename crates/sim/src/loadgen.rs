//! A live load generator: sends the load profile's requests over HTTP (to the gateway, in the demo) at their simulated times.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::debug;

use crate::fleet::Fleet;
use crate::traffic::Arrival;

/// How much of the schedule is fetched at once, in simulated milliseconds.
const WINDOW_MS: i64 = 250;

/// What a load generator did so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadStats {
    /// Requests sent.
    pub sent: u64,
    /// Requests answered with a 2xx status and read to the end.
    pub ok: u64,
    /// Requests that failed: non-2xx status, connection error or a cut stream.
    pub failed: u64,
    /// Requests not sent because too many were in flight.
    pub dropped: u64,
}

#[derive(Debug, Default)]
struct Counters {
    sent: AtomicU64,
    ok: AtomicU64,
    failed: AtomicU64,
    dropped: AtomicU64,
}

/// Sends the fleet's load profile ([`Fleet::arrivals`]) as OpenAI requests to `base_url`.
#[derive(Debug, Clone)]
pub struct LoadGen {
    fleet: Fleet,
    base_url: String,
    api_key: Option<String>,
    client: reqwest::Client,
    in_flight: Arc<Semaphore>,
    counters: Arc<Counters>,
}

impl LoadGen {
    /// A generator for `base_url` (like `http://127.0.0.1:8491`), with at most
    /// `max_in_flight` requests outstanding; `api_key` is sent as a bearer token.
    pub fn new(fleet: Fleet, base_url: &str, api_key: Option<String>, max_in_flight: usize) -> LoadGen {
        LoadGen {
            fleet,
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key,
            client: reqwest::Client::new(),
            in_flight: Arc::new(Semaphore::new(max_in_flight.max(1))),
            counters: Arc::new(Counters::default()),
        }
    }

    /// Counts so far.
    pub fn stats(&self) -> LoadStats {
        LoadStats {
            sent: self.counters.sent.load(Ordering::Relaxed),
            ok: self.counters.ok.load(Ordering::Relaxed),
            failed: self.counters.failed.load(Ordering::Relaxed),
            dropped: self.counters.dropped.load(Ordering::Relaxed),
        }
    }

    /// Sends requests from the clock's current time until `shutdown`, each at
    /// its simulated time; requests still in flight are abandoned at shutdown.
    pub async fn run(&self, shutdown: CancellationToken) -> LoadStats {
        let clock = self.fleet.clock().clone();
        let mut window_start = clock.now_ms();
        let mut tasks = JoinSet::new();
        loop {
            let window_end = window_start + WINDOW_MS;
            for arrival in self.fleet.arrivals(window_start, window_end) {
                let Ok(permit) = Arc::clone(&self.in_flight).try_acquire_owned() else {
                    self.counters.dropped.fetch_add(1, Ordering::Relaxed);
                    continue;
                };
                let this = self.clone();
                let clock = clock.clone();
                tasks.spawn(async move {
                    clock.sleep_until(arrival.at_ms).await;
                    this.send(&arrival).await;
                    drop(permit);
                });
            }
            while tasks.try_join_next().is_some() {}
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = clock.sleep_until(window_start as f64) => {}
            }
            window_start = window_end;
        }
        tasks.abort_all();
        self.stats()
    }

    async fn send(&self, arrival: &Arrival) {
        self.counters.sent.fetch_add(1, Ordering::Relaxed);
        let mut request = self
            .client
            .post(format!("{}{}", self.base_url, arrival.path()))
            .header("content-type", "application/json")
            .body(arrival.body().to_string());
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key);
        }
        let outcome = async {
            let mut response = request.send().await?;
            let ok = response.status().is_success();
            while response.chunk().await?.is_some() {}
            Ok::<bool, reqwest::Error>(ok)
        }
        .await;
        match outcome {
            Ok(true) => self.counters.ok.fetch_add(1, Ordering::Relaxed),
            Ok(false) => self.counters.failed.fetch_add(1, Ordering::Relaxed),
            Err(err) => {
                debug!(error = %err, model = %arrival.model, "Load generator request failed");
                self.counters.failed.fetch_add(1, Ordering::Relaxed)
            }
        };
    }
}
