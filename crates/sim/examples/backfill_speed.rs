//! Times a backfill of the demo fleet: `cargo run --release -p sim --example backfill_speed -- [hours]`.

use std::time::Instant;

use sim::{Clock, Fleet, Scrape, SimConfig, Sink};

/// Counts what a store and the quality pipeline would receive, and the bytes of the pages.
#[derive(Default)]
struct Count {
    pages: u64,
    page_bytes: u64,
    exchanges: u64,
    errors: u64,
    /// Errors by (upstream, error type, hour before the end).
    error_kinds: std::collections::BTreeMap<(String, String, i64), u64>,
    end_ms: i64,
}

impl Sink for Count {
    fn scrape(&mut self, scrape: Scrape<'_>) {
        self.pages += 1;
        self.page_bytes += scrape.engine_page.map_or(0, str::len) as u64 + scrape.dcgm_page.len() as u64;
    }

    fn exchange(&mut self, exchange: inference::Exchange) {
        self.exchanges += 1;
        if exchange.is_error() {
            self.errors += 1;
            let kind = exchange.error_type.clone().unwrap_or_default();
            let hour = (self.end_ms - exchange.time_ms) / 3_600_000;
            *self.error_kinds.entry((exchange.upstream.clone(), kind, hour)).or_default() += 1;
        }
    }
}

fn main() {
    let hours: i64 = std::env::args().nth(1).and_then(|h| h.parse().ok()).unwrap_or(6);
    let now = 1_795_420_800_000;
    let config = SimConfig::demo();
    let replicas = config.replicas.len();
    let fleet = match Fleet::new(config, Clock::manual(now)) {
        Ok(fleet) => fleet,
        Err(err) => {
            eprintln!("{err}");
            std::process::exit(1);
        }
    };
    let mut count = Count { end_ms: now, ..Count::default() };
    let started = Instant::now();
    let interval = std::env::args().nth(2).and_then(|s| s.parse().ok()).unwrap_or(15_000);
    let report = fleet.run_backfill(now - hours * 3_600_000, now, interval, &mut count);
    println!(
        "backfilled {hours}h of {replicas} replicas in {:.2?} ({:.2?} in the sink loop): {} scrape rounds, {} pages ({} MiB), {} exchanges ({} errors)",
        started.elapsed(),
        report.elapsed,
        report.scrapes,
        count.pages,
        count.page_bytes / (1 << 20),
        count.exchanges,
        count.errors,
    );
    for ((upstream, kind, hour), n) in &count.error_kinds {
        println!("  {n:6} errors {kind:>20} from {upstream:16} {hour}h before the end");
    }
}
