//! Backfill: pages every scrape interval for every replica, exchanges for every request, the same for the same seed.

use sim::{Clock, EngineKind, Fleet, SimConfig};

use crate::support::{Collected, LLAMA, MINUTE, QWEN, T0, backfill, config, load, replica};

fn small() -> SimConfig {
    config(
        &[LLAMA, QWEN],
        vec![
            replica("vllm-0", EngineKind::Vllm, LLAMA, "us-east-1a"),
            replica("sglang-0", EngineKind::Sglang, QWEN, "us-east-1b"),
        ],
        vec![load(LLAMA, 1.0), load(QWEN, 1.0)],
    )
}

#[test]
fn backfill_scrapes_every_replica_each_interval_and_emits_exchanges() {
    let sink = backfill(small(), 10);
    // Scrapes at T0, T0+15s, ..., T0+10m for each of two replicas.
    assert_eq!(sink.pages.len(), 2 * 41);
    let times: Vec<i64> = sink.pages.iter().filter(|p| p.replica.name == "vllm-0").map(|p| p.t_ms).collect();
    assert!(times.windows(2).all(|w| w[1] - w[0] == 15_000));
    assert_eq!(times.first(), Some(&T0));
    let page = &sink.pages[0];
    assert_eq!(page.replica.engine, EngineKind::Vllm);
    assert_eq!(page.replica.zone, "us-east-1a");
    assert!(!page.replica.instance.is_empty() && !page.replica.hostname.is_empty());

    // About 1 request per second per model for 10 minutes.
    let n = sink.exchanges.len();
    assert!((950..1_450).contains(&n), "{n} exchanges");
    let e = sink.exchanges.iter().find(|e| e.upstream == "sglang-0").expect("an SGLang exchange");
    assert_eq!(e.provider, "sglang");
    assert_eq!(e.request_model, QWEN);
    assert_eq!(e.status, 200);
    let usage = e.usage.expect("usage");
    assert_eq!(usage.output_tokens as usize, sim::text::tokens(&e.response).len());
    assert!(e.prompt.contains("user: ") && !e.response.is_empty());
    let ttft = e.timings.ttft.expect("streams have a TTFT");
    assert!(ttft < e.timings.e2e);
    assert!(sink.exchanges.windows(2).filter(|w| w[0].time_ms > w[1].time_ms + 60_000).count() == 0);
}

#[test]
fn the_same_seed_gives_the_same_history_and_another_seed_another() {
    let a = backfill(small(), 3);
    let b = backfill(small(), 3);
    assert_eq!(a.exchanges, b.exchanges);
    assert_eq!(a.pages.last().map(|p| &p.engine), b.pages.last().map(|p| &p.engine));
    let c = backfill(SimConfig { seed: 7, ..small() }, 3);
    assert_ne!(a.exchanges, c.exchanges);
}

#[test]
fn a_backfilled_fleet_continues_where_the_backfill_ended() {
    let fleet = Fleet::new(small(), Clock::manual(T0 + 10 * MINUTE)).expect("valid");
    let mut sink = Collected::default();
    fleet.run_backfill(T0, T0 + 5 * MINUTE, 60_000, &mut sink);
    assert_eq!(fleet.sim_time_ms(), T0 + 5 * MINUTE);
    fleet.run_backfill(T0 + 5 * MINUTE, T0 + 10 * MINUTE, 60_000, &mut sink);
    let times: Vec<i64> = sink.pages.iter().filter(|p| p.replica.name == "vllm-0").map(|p| p.t_ms).collect();
    assert_eq!(times, (0..=10).map(|m| T0 + m * MINUTE).collect::<Vec<_>>());
    assert!(fleet.engine_metrics("vllm-0").is_some_and(|p| p.contains("vllm:num_requests_running")));
    assert!(fleet.dcgm_metrics("sglang-0").is_some_and(|p| p.contains("DCGM_FI_DEV_GPU_UTIL")));
}

#[test]
fn the_demo_fleet_validates_and_has_what_the_demo_needs() {
    let demo = SimConfig::demo();
    demo.validate().expect("demo config is valid");
    assert!(demo.models.len() >= 3 && demo.replicas.len() >= 5);
    assert_eq!(demo.replicas.iter().map(|r| r.gpus).sum::<u32>(), 9);
    assert!(demo.replicas.iter().any(|r| r.engine == EngineKind::Vllm));
    assert!(demo.replicas.iter().any(|r| r.engine == EngineKind::Sglang));
    for zone in ["us-east-1a", "us-east-1b"] {
        assert!(demo.replicas.iter().any(|r| r.zone == zone));
    }
    assert!(demo.scenarios.iter().any(|s| s.start.0 < -3_600_000), "incidents in the backfilled history");
    assert!(demo.scenarios.iter().any(|s| s.start.0 > 0), "incidents to come");
    let toml = toml::to_string(&demo).expect("serialises");
    assert_eq!(SimConfig::from_toml(&toml).expect("round-trips"), demo);
}

#[test]
fn configs_are_checked_with_key_paths() {
    let err = SimConfig::from_toml("seed = 1\n[[replicas]]\nname = \"a\"\nmodel = \"nope\"\n").expect_err("bad model");
    assert!(err.to_string().contains("replicas[0].model"), "{err}");
    let err = SimConfig::from_toml("sed = 1\n").expect_err("unknown key");
    assert!(matches!(err, sim::Error::ParseConfig { .. }));
    assert_eq!(sim::Millis::parse("-2h30m").expect("valid").0, -9_000_000);
    assert!(sim::Millis::parse("10 minutes").is_err());
}

#[test]
fn the_example_config_parses() {
    let text = std::fs::read_to_string(format!("{}/examples/sim.toml", env!("CARGO_MANIFEST_DIR"))).expect("readable");
    let config = SimConfig::from_toml(&text).expect("the example config is valid");
    assert_eq!(config.replicas.len(), 2);
    assert_eq!(config.scenarios[0].name, sim::ScenarioKind::ThermalThrottle);
}

#[test]
fn the_demo_history_shows_its_incidents() {
    // The demo crashes vllm-qwen-1a 2h30m before the anchor, for 8 minutes.
    let anchor = T0 + 3 * 3_600_000;
    let fleet = Fleet::new(SimConfig::demo(), Clock::manual(anchor)).expect("valid demo");
    let mut sink = Collected::default();
    let crash = anchor - 150 * MINUTE;
    fleet.run_backfill(crash - 2 * MINUTE, crash + 10 * MINUTE, 30_000, &mut sink);
    assert!(sink.page_at("vllm-qwen-1a", crash - MINUTE).engine.is_some());
    assert!(sink.page_at("vllm-qwen-1a", crash + 4 * MINUTE).engine.is_none());
    assert!(sink.page_at("vllm-qwen-1a", crash + 10 * MINUTE).engine.is_some());
    assert!(sink.page_at("sglang-qwen-1b", crash + 4 * MINUTE).engine.is_some());
    let replicas = SimConfig::demo().replicas.len();
    assert_eq!(sink.pages.iter().filter(|p| p.t_ms == crash).count(), replicas, "every replica scraped");
    let incidents = fleet.incidents();
    assert!(incidents.iter().any(|i| i.kind == sim::ScenarioKind::XidCrash && i.start_ms == crash));
}

#[test]
fn the_demo_deploy_moves_half_of_llamas_traffic_to_its_fp8_build() {
    let anchor = T0 + 3 * 3_600_000;
    let fleet = Fleet::new(SimConfig::demo(), Clock::manual(anchor)).expect("valid demo");
    let deploys = fleet.deploys();
    assert_eq!(deploys.len(), 1);
    let deploy = &deploys[0];
    assert_eq!(deploy.at_ms, anchor - 2 * 3_600_000, "two hours before the anchor");
    assert!(deploy.to.ends_with("-FP8") && deploy.to.starts_with(&deploy.model), "{deploy:?}");
    // Ten minutes either side of the deploy: before it none of Llama's
    // requests ask for the FP8 build, after it about half do.
    let mut sink = Collected::default();
    fleet.run_backfill(deploy.at_ms - 10 * MINUTE, deploy.at_ms + 10 * MINUTE, 60_000, &mut sink);
    let count = |model: &str, after: bool| {
        sink.exchanges.iter().filter(|x| x.request_model == model && (x.time_ms >= deploy.at_ms) == after).count()
    };
    assert_eq!(count(&deploy.to, false), 0);
    let (base, fp8) = (count(&deploy.model, true) as f64, count(&deploy.to, true) as f64);
    assert!((0.4..=0.6).contains(&(fp8 / (base + fp8))), "{fp8} of {}", base + fp8);
    // The FP8 build answers faster: its mean time to first token is lower.
    let mean_ttft = |model: &str| {
        let ttfts: Vec<f64> = sink
            .exchanges
            .iter()
            .filter(|x| x.request_model == model && x.time_ms >= deploy.at_ms)
            .filter_map(|x| x.timings.ttft.map(|d| d.as_secs_f64()))
            .collect();
        ttfts.iter().sum::<f64>() / ttfts.len() as f64
    };
    assert!(mean_ttft(&deploy.to) < mean_ttft(&deploy.model));
}
