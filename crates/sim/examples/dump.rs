//! Prints one `/metrics` page of the simulated demo fleet after ten minutes of traffic: `dump vllm|sglang|dcgm`.

use sim::{Clock, EngineKind, Fleet, Scrape, SimConfig, Sink};

/// Keeps the last pages of the first vLLM and SGLang replicas.
#[derive(Default)]
struct Last {
    vllm: Option<String>,
    sglang: Option<String>,
    dcgm: Option<String>,
}

impl Sink for Last {
    fn scrape(&mut self, scrape: Scrape<'_>) {
        let Some(page) = scrape.engine_page else { return };
        match scrape.replica.engine {
            EngineKind::Vllm if scrape.replica.name == "vllm-llama-1a" => {
                self.vllm = Some(page.to_owned());
                self.dcgm = Some(scrape.dcgm_page.to_owned());
            }
            EngineKind::Sglang if scrape.replica.name == "sglang-r1-1a" => self.sglang = Some(page.to_owned()),
            _ => {}
        }
    }

    fn exchange(&mut self, _exchange: inference::Exchange) {}
}

fn main() {
    let which = std::env::args().nth(1).unwrap_or_else(|| "vllm".to_owned());
    let now = 1_795_420_800_000;
    let mut config = SimConfig::demo();
    config.scenarios.clear();
    let fleet = match Fleet::new(config, Clock::manual(now)) {
        Ok(fleet) => fleet,
        Err(err) => {
            eprintln!("{err}");
            std::process::exit(1);
        }
    };
    let mut last = Last::default();
    fleet.run_backfill(now - 600_000, now, 15_000, &mut last);
    let page = match which.as_str() {
        "vllm" => last.vllm,
        "sglang" => last.sglang,
        "dcgm" => last.dcgm,
        other => {
            eprintln!("usage: dump vllm|sglang|dcgm (got {other:?})");
            std::process::exit(2);
        }
    };
    print!("{}", page.unwrap_or_default());
}
