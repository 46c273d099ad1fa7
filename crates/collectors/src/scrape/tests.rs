//! Tests of `[[scrape]]` validation, target labels and duration formatting.

use std::time::Duration;

use super::*;
use crate::presets::Preset;

#[derive(serde::Deserialize)]
struct File {
    scrape: Vec<ScrapeConfig>,
}

fn no_env(_: &str) -> Option<String> {
    None
}

fn jobs(toml_text: &str) -> Result<Vec<ScrapeJob>, Vec<String>> {
    let file: File = toml::from_str(toml_text).expect("TOML parses");
    validate_all(&file.scrape, "scrape", &no_env).map_err(|p| p.iter().map(ToString::to_string).collect())
}

#[test]
fn a_preset_fills_in_job_port_path_and_engine_label() {
    let jobs = jobs("[[scrape]]\npreset = \"vllm\"\ntargets = [\"gpu-1\", \"gpu-2:8001\"]").expect("valid");
    let job = &jobs[0];
    assert_eq!(job.job_name, "vllm");
    assert_eq!(job.targets, ["gpu-1:8000", "gpu-2:8001"]);
    assert_eq!(job.path, "/metrics");
    assert_eq!(job.interval, Duration::from_secs(15));
    assert_eq!(job.timeout, Duration::from_secs(10));
    assert!(job.honor_timestamps);
    assert_eq!(job.labels.get("serving_engine").map(String::as_str), Some("vllm"));
    assert_eq!(job.preset, Some(Preset::Vllm));
}

#[test]
fn timeout_defaults_to_the_interval_when_shorter() {
    let jobs = jobs("[[scrape]]\njob_name = \"x\"\ninterval = \"2s\"\ntargets = [\"h:1\"]").expect("valid");
    assert_eq!(jobs[0].timeout, Duration::from_secs(2));
    assert_eq!(jobs[0].targets, ["h:1"]);
}

#[test]
fn validation_lists_every_problem_with_its_key_path() {
    let problems = jobs(
        r#"
        [[scrape]]
        preset = "dcgm"
        targets = ["ok:9400"]

        [[scrape]]
        interval = "15"
        timeout = "1m"
        path = "metrics"
        targets = ["http://h:1/metrics", "h:99999", ""]
        labels = { "bad-name" = "x", "__reserved" = "y" }
        bearer_token = "${MISSING_TOKEN}"
        metric_relabel_configs = [{ regex = "(", action = "drop", source_labels = ["a"] }]

        [[scrape]]
        job_name = "dcgm"
        interval = "10s"
        timeout = "20s"
        file_sd = ["targets.json"]
        "#,
    )
    .expect_err("invalid");
    assert_eq!(
        problems,
        [
            "scrape[1].job_name: required when no preset is given",
            "scrape[1].interval: invalid duration \"15\": expected a number and a unit, like \"15s\", \"2h\" or \"15d\"",
            "scrape[1].path: \"metrics\" must start with '/'",
            "scrape[1].targets[0]: \"http://h:1/metrics\" is a URL; write \"h:1\" here, and the scheme and path as `scheme` and `path`",
            "scrape[1].targets[1]: \"h:99999\": invalid port \"99999\"",
            "scrape[1].targets[2]: empty target",
            "scrape[1].labels.__reserved: \"__reserved\": names starting with \"__\" are reserved",
            "scrape[1].labels.bad-name: \"bad-name\" is not a valid label name",
            "scrape[1].bearer_token: environment variable \"MISSING_TOKEN\" is not set",
            "scrape[1].metric_relabel_configs[0].regex: invalid regular expression \"(\": regex parse error:\n    (\n    ^\nerror: unclosed group",
            "scrape[2].timeout: 20s is longer than the interval 10s",
        ]
    );
}

#[test]
fn duplicate_job_names_are_rejected() {
    let problems =
        jobs("[[scrape]]\npreset = \"node\"\ntargets = [\"a\"]\n[[scrape]]\npreset = \"node\"\ntargets = [\"b\"]")
            .expect_err("duplicate");
    assert_eq!(problems, ["scrape[1].job_name: job name \"node\" is used by an earlier block"]);
}

#[test]
fn secrets_resolve_from_the_environment_and_stay_out_of_debug_output() {
    let file: File = toml::from_str(
        "[[scrape]]\njob_name = \"x\"\ntargets = [\"h:1\"]\nbasic_auth = { username = \"u\", password = \"${PW}\" }",
    )
    .expect("parses");
    let env = |name: &str| (name == "PW").then(|| "hunter2".to_owned());
    let jobs = validate_all(&file.scrape, "scrape", &env).expect("valid");
    assert_eq!(jobs[0].auth, Some(Auth::Basic { username: "u".into(), password: "hunter2".into() }));
    assert!(!format!("{:?} {:?}", jobs[0], file.scrape[0]).contains("hunter2"));
}

#[test]
fn unknown_keys_and_presets_are_rejected_by_serde() {
    assert!(toml::from_str::<File>("[[scrape]]\nintervall = \"15s\"").is_err());
    assert!(toml::from_str::<File>("[[scrape]]\npreset = \"ollama\"").is_err());
}

#[test]
fn ipv6_addresses_need_brackets() {
    assert_eq!(config::normalize_address("[::1]:9100", 80).as_deref(), Ok("[::1]:9100"));
    assert_eq!(config::normalize_address("[::1]", 9100).as_deref(), Ok("[::1]:9100"));
    assert!(config::normalize_address("::1", 80).is_err());
}

#[test]
fn target_labels_hold_job_instance_preset_and_file_sd_labels() {
    let job = Arc::new(
        jobs("[[scrape]]\npreset = \"sglang\"\ntargets = [\"h\"]\nlabels = { zone = \"a\" }").expect("valid").remove(0),
    );
    let sd_labels = BTreeMap::from([("zone".to_owned(), "b".to_owned()), ("__meta_x".to_owned(), "y".to_owned())]);
    let target = Target::new(job, "h:30000", &sd_labels);
    assert_eq!(target.url, "http://h:30000/metrics");
    let labels: Vec<String> = target.labels.iter().map(|(n, v)| format!("{n}={v}")).collect();
    assert_eq!(labels, ["instance=h:30000", "job=sglang", "serving_engine=sglang", "zone=b"]);
    assert_eq!(target.discovered.get("__scrape_interval__").map(String::as_str), Some("15s"));
}

#[test]
fn durations_format_as_prometheus_writes_them() {
    for (ms, text) in [(0, "0s"), (100, "100ms"), (15_000, "15s"), (60_000, "1m"), (90_000, "1m30s"), (7_200_000, "2h")]
    {
        assert_eq!(target::format_duration(Duration::from_millis(ms)), text);
    }
}

#[test]
fn file_sd_reads_json_and_yaml() {
    let json = r#"[{"targets": ["a:1", "b:2"], "labels": {"zone": "x"}}, {"targets": ["c:3"]}]"#;
    let yaml = "- targets: ['a:1', 'b:2']\n  labels:\n    zone: x\n- targets: ['c:3']\n";
    let expect = vec![
        TargetGroup {
            targets: vec!["a:1".into(), "b:2".into()],
            labels: BTreeMap::from([("zone".into(), "x".into())]),
        },
        TargetGroup { targets: vec!["c:3".into()], labels: BTreeMap::new() },
    ];
    assert_eq!(parse_groups(json, true), Ok(expect.clone()));
    assert_eq!(parse_groups(yaml, false), Ok(expect));
    assert_eq!(parse_groups("", false), Ok(Vec::new()));
    assert!(parse_groups("[{\"target\": []}]", true).is_err());
}

#[test]
fn the_first_scrape_is_offset_within_the_interval_by_a_hash_of_the_target() {
    let job = Arc::new(jobs("[[scrape]]\npreset = \"node\"\ntargets = [\"a\"]").expect("valid").remove(0));
    let a = Target::new(Arc::clone(&job), "a:9100", &BTreeMap::new());
    let b = Target::new(job, "b:9100", &BTreeMap::new());
    let now = std::time::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let delay_a = a.first_scrape_delay(now);
    assert!(delay_a < Duration::from_secs(15));
    assert_eq!(delay_a, a.first_scrape_delay(now), "deterministic");
    assert_ne!(delay_a, b.first_scrape_delay(now), "targets spread over the interval");
    // The phase is fixed: a second later, the delay is a second shorter (modulo the interval).
    let later = a.first_scrape_delay(now + Duration::from_secs(1));
    assert_eq!((later + Duration::from_secs(1)).as_nanos() % 15_000_000_000, delay_a.as_nanos());
}
