//! Small fleets, a sink that keeps everything, and helpers shared by the tests.

use inference::Exchange;
use sim::{
    Clock, EngineKind, Fleet, LoadConfig, Millis, ModelConfig, ModelLoad, ReplicaConfig, ReplicaInfo, ScenarioConfig,
    ScenarioKind, Scrape, SimConfig, Sink,
};

/// Start of every test simulation (a whole hour, Unix milliseconds).
pub const T0: i64 = 1_795_420_800_000;
pub const MINUTE: i64 = 60_000;

pub const LLAMA: &str = "meta-llama/Llama-3.1-8B-Instruct";
pub const QWEN: &str = "Qwen/Qwen2.5-14B-Instruct";

/// One scrape as the sink kept it.
#[derive(Debug, Clone)]
pub struct Page {
    pub t_ms: i64,
    pub replica: ReplicaInfo,
    pub engine: Option<String>,
    pub dcgm: String,
}

/// Keeps every page and exchange.
#[derive(Debug, Default)]
pub struct Collected {
    pub pages: Vec<Page>,
    pub exchanges: Vec<Exchange>,
}

impl Sink for Collected {
    fn scrape(&mut self, scrape: Scrape<'_>) {
        self.pages.push(Page {
            t_ms: scrape.t_ms,
            replica: scrape.replica.clone(),
            engine: scrape.engine_page.map(str::to_owned),
            dcgm: scrape.dcgm_page.to_owned(),
        });
    }

    fn exchange(&mut self, exchange: Exchange) {
        self.exchanges.push(exchange);
    }
}

impl Collected {
    /// The last page of `replica` scraped at or before `t_ms`.
    pub fn page_at(&self, replica: &str, t_ms: i64) -> &Page {
        self.pages
            .iter()
            .rev()
            .find(|p| p.replica.name == replica && p.t_ms <= t_ms)
            .expect("a page of the replica at or before that time")
    }

    /// Exchanges that started in `[from, to)`.
    pub fn exchanges_between(&self, from: i64, to: i64) -> impl Iterator<Item = &Exchange> {
        self.exchanges.iter().filter(move |e| from <= e.time_ms && e.time_ms < to)
    }
}

pub fn model(name: &str) -> ModelConfig {
    ModelConfig { name: name.to_owned(), ..ModelConfig::default() }
}

pub fn replica(name: &str, engine: EngineKind, model: &str, zone: &str) -> ReplicaConfig {
    ReplicaConfig {
        name: name.to_owned(),
        engine,
        model: model.to_owned(),
        zone: zone.to_owned(),
        max_batch: 32,
        kv_blocks: 8_192,
        ..ReplicaConfig::default()
    }
}

/// A flat (no daily curve, no noise) load.
pub fn load(model: &str, rate_per_s: f64) -> ModelLoad {
    ModelLoad {
        model: model.to_owned(),
        rate_per_s,
        diurnal_amplitude: 0.0,
        noise: 0.0,
        prompt_tokens_median: 500.0,
        output_tokens_median: 120.0,
        stream_share: 1.0,
        ..ModelLoad::default()
    }
}

/// A scenario `start` minutes after T0 lasting `minutes`.
pub fn scenario(name: ScenarioKind, target: &str, start: i64, minutes: i64) -> ScenarioConfig {
    ScenarioConfig {
        name,
        target: target.to_owned(),
        start: Millis(start * MINUTE),
        duration: Millis(minutes * MINUTE),
    }
}

pub fn config(models: &[&str], replicas: Vec<ReplicaConfig>, loads: Vec<ModelLoad>) -> SimConfig {
    SimConfig {
        models: models.iter().map(|m| model(m)).collect(),
        replicas,
        load: LoadConfig { models: loads },
        ..SimConfig::default()
    }
}

/// Backfills `minutes` from T0 with 15-second scrapes.
pub fn backfill(config: SimConfig, minutes: i64) -> Collected {
    let fleet = Fleet::new(config, Clock::manual(T0)).expect("valid test config");
    let mut sink = Collected::default();
    fleet.run_backfill(T0, T0 + minutes * MINUTE, 15_000, &mut sink);
    sink
}

/// Parses a page, failing the test with every format problem.
pub fn parse(page: &str) -> Vec<crate::prom::Family> {
    match crate::prom::parse(page) {
        Ok(families) => families,
        Err(problems) => panic!("page breaks the text format:\n{}", problems.join("\n")),
    }
}

/// The increase of counter sample `name` (summed over label sets) between the pages of `replica` at two times.
pub fn increase(sink: &Collected, replica: &str, name: &str, from: i64, to: i64) -> f64 {
    let at = |t| {
        let page = sink.page_at(replica, t);
        crate::prom::sum(&parse(page.engine.as_deref().expect("replica up")), name)
    };
    at(to) - at(from)
}

/// The `q` quantile of a list.
pub fn quantile(mut values: Vec<f64>, q: f64) -> f64 {
    assert!(!values.is_empty(), "no values");
    values.sort_by(f64::total_cmp);
    values[((values.len() - 1) as f64 * q).round() as usize]
}

pub fn mean(values: &[f64]) -> f64 {
    assert!(!values.is_empty(), "no values");
    values.iter().sum::<f64>() / values.len() as f64
}
