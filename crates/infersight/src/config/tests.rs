//! Configuration parsing and validation: every problem with its key path.

use super::*;

fn problems(text: &str) -> Vec<String> {
    match RawConfig::parse(text) {
        Err(p) => vec![p.to_string()],
        Ok(raw) => raw.validate().err().unwrap_or_default().iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn empty_file_gives_the_documented_defaults() {
    let config = load(None).expect("default config");
    assert_eq!(config.listen.to_string(), "127.0.0.1:8490");
    assert_eq!(config.data_dir, PathBuf::from("./infersight-data"));
    assert_eq!(config.storage.retention, Duration::from_secs(15 * 86_400));
    assert_eq!(config.storage.retention_size, Some(64 << 30));
    assert_eq!(config.remote_write.max_decompressed_bytes, 32 << 20);
}

#[test]
fn example_config_parses_and_validates() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/infersight.example.toml");
    let config = load(Some(&path)).expect("example config is valid");
    assert_eq!(config.listen.to_string(), "127.0.0.1:8490");
}

#[test]
fn every_value_problem_is_reported_with_its_key() {
    let got = problems(
        r#"
        [server]
        listen = "localhost"
        [storage]
        retention = "15x"
        retention_size = "lots"
        "#,
    );
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(got[0].starts_with("server.listen: \"localhost\" is not an address"), "{got:?}");
    assert_eq!(got[1], r#"storage.retention: invalid duration "15x": unknown unit "x""#);
    assert!(got[2].starts_with("storage.retention_size: invalid size \"lots\""), "{got:?}");
}

#[test]
fn unknown_keys_and_wrong_types_name_the_key() {
    let got = problems("[storage]\nretension = \"15d\"\n");
    assert!(got[0].starts_with("storage.retension: unknown field `retension`"), "{got:?}");
    assert!(got[0].ends_with("(line 2)"), "{got:?}");
    let got = problems("[server]\nlisten = 8490\n");
    assert!(got[0].starts_with("server.listen: invalid type"), "{got:?}");
}

#[test]
fn sizes_take_binary_and_decimal_units() {
    assert_eq!(parse_size("512MiB"), Ok(512 << 20));
    assert_eq!(parse_size("10GB"), Ok(10_000_000_000));
    assert_eq!(parse_size("0"), Ok(0));
    assert!(parse_size("1.5GiB").is_err());
    assert!(parse_size("5 parsecs").is_err());
}

#[test]
fn judges_resolve_their_upstream_and_rubrics_and_every_mistake_names_its_key() {
    let text = r#"
        [[gateway.upstream]]
        name = "local-vllm"
        url = "http://127.0.0.1:8000/v1"
        [[quality.judge]]
        name = "qwen"
        upstream = "local-vllm"
        model = "qwen2.5-7b-instruct"
        rubrics = ["faithfulness", "safety"]
        sample_rate = 0.1
        max_tokens_per_day = 2000000
    "#;
    let config = RawConfig::parse(text).expect("parses").validate().expect("valid");
    let [spec] = config.judges.as_slice() else { panic!("one judge") };
    assert_eq!(spec.config.url, "http://127.0.0.1:8000/v1");
    assert_eq!(spec.config.limits.tokens_per_day, Some(2_000_000));
    let rubrics: Vec<&str> = spec.rubrics.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(rubrics, ["faithfulness", "safety"]);

    let got = problems(
        r#"
        [[quality.judge]]
        name = "bad"
        upstream = "nowhere"
        model = "m"
        rubrics = ["correctness", "vibes"]
        sample_rate = 2.0
        max_dollars_per_day = 5.0
        "#,
    );
    for expected in [
        "quality.judge[0].upstream: no [[gateway.upstream]] is called \"nowhere\"",
        "quality.judge[0].sample_rate: 2 is not a share",
        "quality.judge[0].max_dollars_per_day: needs a price",
        "quality.judge[0].rubrics[0]: \"correctness\" compares with a reference",
        "quality.judge[0].rubrics[1]: no rubric is called \"vibes\"",
    ] {
        assert!(got.iter().any(|p| p.starts_with(expected)), "{expected} in {got:?}");
    }
}

#[test]
fn probes_ask_every_named_model_through_the_gateway_and_every_mistake_names_its_key() {
    let text = r#"
        [gateway]
        listen = "0.0.0.0:8491"
        [[gateway.upstream]]
        name = "local-vllm"
        url = "http://127.0.0.1:8000/v1"
        models = ["llama-3.1-8b-instruct", "qwen-*"]
        [[probes]]
        name = "golden"
        interval = "1m"
    "#;
    let config = RawConfig::parse(text).expect("parses").validate().expect("valid");
    let probes = config.probes.expect("probes");
    assert_eq!(probes.gateway_url, "http://127.0.0.1:8491/v1");
    let [spec] = probes.specs.as_slice() else { panic!("one probe") };
    assert_eq!(spec.models, ["llama-3.1-8b-instruct"], "globs name no model to ask");
    assert_eq!(spec.interval, Duration::from_secs(60));
    assert_eq!(spec.items_per_run, probe::Dataset::default_set().items.len());

    let without_gateway = problems("[[probes]]\nname = \"golden\"\n");
    assert!(
        without_gateway.iter().any(|p| p.starts_with("probes: probes go through the gateway")),
        "{without_gateway:?}"
    );

    let got = problems(
        r#"
        [[gateway.upstream]]
        name = "hosted"
        url = "https://api.example.com/v1"
        models = ["gpt-*"]
        [[probes]]
        name = "bad"
        interval = "0s"
        timeout = "soon"
        dataset = "/nonexistent/probes.jsonl"
        items_per_run = 0
        "#,
    );
    for expected in [
        "probes[0].interval: must be positive",
        "probes[0].timeout:",
        "probes[0].dataset: cannot read /nonexistent/probes.jsonl",
        "probes[0].models: no model to ask",
        "probes[0].items_per_run: must be positive",
    ] {
        assert!(got.iter().any(|p| p.starts_with(expected)), "{expected} in {got:?}");
    }
}

#[test]
fn probe_items_with_a_rubric_are_judged_by_a_named_judge_with_known_rubrics() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dataset = dir.path().join("judged.jsonl");
    std::fs::write(
        &dataset,
        concat!(
            "{\"id\": \"sum\", \"messages\": [{\"role\": \"user\", \"content\": \"17 + 25?\"}], \"reference\": \"42\", \"rubric\": \"correctness\"}\n",
            "{\"id\": \"odd\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"rubric\": \"vibes\"}\n",
        ),
    )
    .expect("write");
    let config = |judge: &str| {
        format!(
            "[[gateway.upstream]]\nname = \"local\"\nurl = \"http://127.0.0.1:8000/v1\"\nmodels = [\"m\"]\n\
             [[quality.judge]]\nname = \"local-judge\"\nupstream = \"local\"\nmodel = \"m\"\n\
             [[probes]]\nname = \"judged\"\ndataset = {dataset:?}\n{judge}",
            dataset = dataset.display().to_string(),
        )
    };
    let got = problems(&config(""));
    assert!(got.iter().any(|p| p.starts_with("probes[0].judge: the dataset's items name rubrics")), "{got:?}");
    let got = problems(&config("judge = \"elsewhere\"\n"));
    for expected in [
        "probes[0].judge: no [[quality.judge]] is called \"elsewhere\" (configured: local-judge)",
        "probes[0].dataset: an item names rubric \"vibes\"",
    ] {
        assert!(got.iter().any(|p| p.starts_with(expected)), "{expected} in {got:?}");
    }
    std::fs::write(&dataset, std::fs::read_to_string(&dataset).unwrap().lines().next().unwrap()).expect("write");
    let valid = RawConfig::parse(&config("judge = \"local-judge\"\n")).expect("parses").validate().expect("valid");
    let probes = valid.probes.expect("probes");
    let Some((judge, rubrics)) = &probes.judged[0] else { panic!("judged") };
    assert_eq!((judge.as_str(), rubrics.len(), rubrics[0].name.as_str()), ("local-judge", 1, "correctness"));
}

#[test]
fn rubric_files_are_kept_by_name_even_those_that_need_a_reference() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("exact.toml");
    std::fs::write(
        &path,
        "name = \"exact\"\nversion = 2\ninstructions = \"Same as the reference?\"\nlabels = [\"same\", \"different\"]\nneeds_reference = true\n",
    )
    .expect("write");
    let text = format!("[quality]\nrubric_files = [{:?}]\n", path.display().to_string());
    let config = RawConfig::parse(&text).expect("parses").validate().expect("valid");
    let rubric = config.rubrics.get("exact").expect("kept");
    assert_eq!((rubric.version, rubric.needs_reference), (2, true));

    let judge = default_judge("http://127.0.0.1:8000/v1", "m");
    assert_eq!(
        (judge.concurrency, judge.timeout, judge.retries, judge.json_mode),
        (4, Duration::from_secs(30), 2, true)
    );
}
