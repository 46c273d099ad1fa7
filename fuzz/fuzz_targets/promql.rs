//! Any query text, parsed and evaluated (instant and range) over a small
//! fixed store: errors are fine, panics are not.
#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use promql::{Engine, EngineOptions};
use series::Labels;
use testkit::MemStorage;

fn store() -> &'static MemStorage {
    static STORE: OnceLock<MemStorage> = OnceLock::new();
    STORE.get_or_init(|| {
        let store = MemStorage::new();
        for (i, le) in ["0.1", "0.5", "+Inf"].iter().enumerate() {
            let labels = Labels::from_pairs([("__name__", "ttft_bucket"), ("le", le), ("model", "m")]);
            let points: Vec<(i64, f64)> = (0..40).map(|s| (s * 15_000, (s * (i as i64 + 1)) as f64)).collect();
            store.add(labels, &points);
        }
        for (job, stale_at) in [("vllm", 20), ("sglang", 35)] {
            let labels = Labels::from_pairs([("__name__", "up"), ("job", job)]);
            let points: Vec<(i64, f64)> = (0..40)
                .map(|s| (s * 15_000, if s == stale_at { series::STALE_NAN } else { (s % 3) as f64 }))
                .collect();
            store.add(labels, &points);
        }
        store
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(query) = std::str::from_utf8(data) else { return };
    let engine = Engine::new(EngineOptions {
        timeout: Duration::from_secs(2),
        max_samples: 100_000,
        ..EngineOptions::default()
    });
    let _ = engine.instant_query(store(), query, 300_000);
    let _ = engine.range_query(store(), query, 0, 600_000, 15_000);
});
