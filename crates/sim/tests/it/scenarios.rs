//! Each scenario leaves its signature in the pages and exchanges.

use sim::{EngineKind, NOMINAL_SM_CLOCK_MHZ, ScenarioKind, SimConfig};

use crate::prom;
use crate::support::{
    Collected, LLAMA, MINUTE, QWEN, T0, backfill, config, increase, load, mean, parse, replica, scenario,
};

/// Two replicas of one model in two zones, and one of another model.
fn fleet(rate: f64, scenarios: Vec<sim::ScenarioConfig>) -> SimConfig {
    let mut c = config(
        &[LLAMA, QWEN],
        vec![
            replica("a", EngineKind::Vllm, LLAMA, "us-east-1a"),
            replica("b", EngineKind::Sglang, LLAMA, "us-east-1b"),
            replica("q", EngineKind::Vllm, QWEN, "us-east-1a"),
        ],
        vec![load(LLAMA, rate), load(QWEN, 1.0)],
    );
    c.scenarios = scenarios;
    c
}

fn dcgm_value(sink: &Collected, replica: &str, t: i64, name: &str, gpu: &str) -> f64 {
    let families = parse(&sink.page_at(replica, t).dcgm);
    prom::value(&families, name, &[("gpu", gpu)]).expect("DCGM field present")
}

#[test]
fn thermal_throttle_drops_the_sm_clock_sets_thermal_reasons_and_cuts_throughput() {
    let mut c = fleet(1.0, vec![scenario(ScenarioKind::ThermalThrottle, "q/gpu0", 10, 10)]);
    // Saturate the target so that its throughput is its capacity.
    c.load.models[1] = load(QWEN, 12.0);
    c.replicas[2].max_batch = 16;
    let sink = backfill(c, 20);
    let before_clock = dcgm_value(&sink, "q", T0 + 9 * MINUTE, "DCGM_FI_DEV_SM_CLOCK", "0");
    let during_clock = dcgm_value(&sink, "q", T0 + 18 * MINUTE, "DCGM_FI_DEV_SM_CLOCK", "0");
    assert_eq!(before_clock, NOMINAL_SM_CLOCK_MHZ);
    assert!(during_clock < 0.7 * NOMINAL_SM_CLOCK_MHZ, "{during_clock}");
    let reasons = dcgm_value(&sink, "q", T0 + 18 * MINUTE, "DCGM_FI_DEV_CLOCKS_EVENT_REASONS", "0") as u64;
    assert_ne!(reasons & 0x60, 0, "thermal bits set: {reasons:#x}");
    assert!(dcgm_value(&sink, "q", T0 + 18 * MINUTE, "DCGM_FI_DEV_GPU_TEMP", "0") >= 85.0);
    let before = increase(&sink, "q", "vllm:generation_tokens_total", T0 + 4 * MINUTE, T0 + 9 * MINUTE);
    let during = increase(&sink, "q", "vllm:generation_tokens_total", T0 + 14 * MINUTE, T0 + 19 * MINUTE);
    assert!(during < 0.8 * before, "tokens before {before}, during {during}");
}

#[test]
fn xid_crash_takes_the_replica_down_then_it_restarts_with_fresh_counters() {
    let sink = backfill(fleet(2.0, vec![scenario(ScenarioKind::XidCrash, "a/gpu0", 5, 3)]), 12);
    assert!(sink.page_at("a", T0 + 4 * MINUTE).engine.is_some());
    let down = sink.page_at("a", T0 + 7 * MINUTE);
    assert!(down.engine.is_none(), "no /metrics while down");
    let families = parse(&down.dcgm);
    let xid = families.iter().flat_map(|f| &f.samples).find(|s| s.name == "DCGM_FI_DEV_XID_ERRORS").expect("xid");
    assert_eq!((xid.value, xid.label("err_code")), (79.0, Some("79")));
    assert_eq!(xid.label("err_msg"), Some("GPU has fallen off the bus"));
    let served_during = sink.exchanges_between(T0 + 5 * MINUTE + 1_000, T0 + 8 * MINUTE).filter(|e| e.upstream == "a");
    assert_eq!(served_during.count(), 0, "traffic goes to the other replica");
    assert!(sink.exchanges.iter().any(|e| e.upstream == "a" && e.error_type.is_some()), "in-flight requests fail");
    let before = prom::sum(
        &parse(sink.page_at("a", T0 + 5 * MINUTE - 15_000).engine.as_deref().expect("up")),
        "vllm:request_success_total",
    );
    let after = prom::sum(
        &parse(sink.page_at("a", T0 + 9 * MINUTE).engine.as_deref().expect("up")),
        "vllm:request_success_total",
    );
    assert!(after < before, "counters restart from zero: before {before}, after {after}");
}

#[test]
fn model_swap_keeps_latency_within_ten_percent_but_refuses_more_and_reads_differently() {
    let sink = backfill(fleet(2.0, vec![scenario(ScenarioKind::ModelSwap, "b", 10, 10)]), 20);
    let window = |from: i64, to: i64| -> Vec<&inference::Exchange> {
        sink.exchanges_between(T0 + from * MINUTE, T0 + to * MINUTE)
            .filter(|e| e.upstream == "b" && e.status == 200)
            .collect()
    };
    let (before, during) = (window(1, 10), window(11, 20));
    let tpot = |xs: &[&inference::Exchange]| {
        mean(
            &xs.iter()
                .filter_map(|e| e.timings.time_per_output_token(e.usage.map_or(0, |u| u.output_tokens)))
                .map(|d| d.as_secs_f64())
                .collect::<Vec<_>>(),
        )
    };
    let (tpot_before, tpot_during) = (tpot(&before), tpot(&during));
    assert!((tpot_during / tpot_before - 1.0).abs() < 0.10, "TPOT {tpot_before} → {tpot_during}");
    let refusals = |xs: &[&inference::Exchange]| {
        xs.iter().filter(|e| e.response.starts_with(sim::text::REFUSAL)).count() as f64 / xs.len() as f64
    };
    assert!(refusals(&during) > refusals(&before) + 0.1, "{} → {}", refusals(&before), refusals(&during));
    let lowercase = |xs: &[&inference::Exchange]| {
        xs.iter().filter(|e| e.response.chars().next().is_some_and(char::is_lowercase)).count()
    };
    assert!(lowercase(&during) > during.len() / 2 && lowercase(&before) == 0, "a different style");
    assert!(during.iter().all(|e| e.response_model.as_deref() == Some(LLAMA)), "the swap is silent");
}

#[test]
fn model_swap_makes_the_drift_test_fire_for_that_model_only() {
    let sink = backfill(fleet(2.0, vec![scenario(ScenarioKind::ModelSwap, "b", 10, 10)]), 20);
    // At most 150 answered exchanges of `model`, spread evenly over the window.
    let window = |model: &str, from: i64, to: i64| -> Vec<quality::drift::Exchange> {
        let all: Vec<_> = sink
            .exchanges_between(T0 + from * MINUTE, T0 + to * MINUTE)
            .filter(|e| e.request_model == model && e.status == 200)
            .collect();
        let step = all.len().div_ceil(150).max(1);
        all.iter()
            .step_by(step)
            .map(|e| quality::drift::Exchange { prompt: e.prompt.clone(), response: e.response.clone() })
            .collect()
    };
    let drift = quality::drift::Drift::default();
    // Half of the swapped model's traffic goes to the swapped replica.
    let swapped = drift.test(&window(LLAMA, 0, 10), &window(LLAMA, 10, 20));
    let steady = drift.test(&window(QWEN, 0, 10), &window(QWEN, 10, 20));
    assert!(swapped.drift, "{swapped:?}");
    assert!(!steady.drift, "{steady:?}");
}

#[test]
fn pii_leak_puts_emails_and_phones_in_one_replicas_answers() {
    let sink = backfill(fleet(2.0, vec![scenario(ScenarioKind::PiiLeak, "a", 5, 5)]), 10);
    let share = |replica: &str, from: i64, to: i64| {
        let xs: Vec<_> = sink
            .exchanges_between(T0 + from * MINUTE, T0 + to * MINUTE)
            .filter(|e| e.upstream == replica && e.status == 200)
            .collect();
        xs.iter().filter(|e| e.response.contains('@')).count() as f64 / xs.len() as f64
    };
    assert!(share("a", 5, 10) > 0.2, "{}", share("a", 5, 10));
    assert!(share("a", 0, 5) < 0.05 && share("b", 5, 10) < 0.05);
    let leak =
        sink.exchanges.iter().find(|e| e.upstream == "a" && e.response.contains("555-")).expect("a phone number");
    assert!(leak.response.contains("@example."), "{}", leak.response);
}

#[test]
fn zone_shift_moves_traffic_from_one_zone_to_the_other() {
    let sink = backfill(fleet(2.0, vec![scenario(ScenarioKind::ZoneShift, "us-east-1a", 5, 5)]), 10);
    let share_1a = |from: i64, to: i64| {
        let xs: Vec<_> =
            sink.exchanges_between(T0 + from * MINUTE, T0 + to * MINUTE).filter(|e| e.request_model == LLAMA).collect();
        xs.iter().filter(|e| e.upstream == "a").count() as f64 / xs.len() as f64
    };
    assert!((0.35..0.65).contains(&share_1a(0, 5)), "{}", share_1a(0, 5));
    assert!(share_1a(5, 10) < 0.2, "{}", share_1a(5, 10));
}

#[test]
fn traffic_burst_triples_one_models_request_rate() {
    let sink = backfill(fleet(1.0, vec![scenario(ScenarioKind::TrafficBurst, LLAMA, 5, 5)]), 10);
    let count = |model: &str, from: i64, to: i64| {
        sink.exchanges_between(T0 + from * MINUTE, T0 + to * MINUTE).filter(|e| e.request_model == model).count() as f64
    };
    let ratio = count(LLAMA, 5, 10) / count(LLAMA, 0, 5);
    assert!((2.5..3.5).contains(&ratio), "{ratio}");
    let other = count(QWEN, 5, 10) / count(QWEN, 0, 5);
    assert!((0.7..1.4).contains(&other), "{other}");
    let rate = increase(&sink, "a", "vllm:request_success_total", T0 + 6 * MINUTE, T0 + 10 * MINUTE)
        + increase(&sink, "b", "sglang:num_requests_total", T0 + 6 * MINUTE, T0 + 10 * MINUTE);
    let base = increase(&sink, "a", "vllm:request_success_total", T0 + MINUTE, T0 + 5 * MINUTE)
        + increase(&sink, "b", "sglang:num_requests_total", T0 + MINUTE, T0 + 5 * MINUTE);
    assert!((2.4..3.6).contains(&(rate / base)), "{}", rate / base);
}
