//! Configuration parsing and validation: every problem with its key path.

use super::*;

/// Every problem `load_text` finds in `text`, as check-config prints them.
fn problems(text: &str) -> Vec<String> {
    problems_with(text, &Overrides::default())
}

fn problems_with(text: &str, overrides: &Overrides) -> Vec<String> {
    load_text(text, overrides).err().unwrap_or_default().iter().map(ToString::to_string).collect()
}

/// The configuration `text` and the flags make.
fn raw_with(text: &str, flags: &[&str]) -> RawConfig {
    let overrides =
        Overrides { scrape: flags.iter().map(|flag| flag.parse().expect("valid flag")).collect(), listen: None };
    load_text(text, &overrides).expect("valid").0
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

/// The commented block of the example configuration that starts with
/// `# {first_line}`, uncommented, up to the first line that is no comment.
fn uncommented_example(example: &str, first_line: &str) -> String {
    let start = example.find(&format!("\n# {first_line}\n")).expect("the block is in the example") + 1;
    example[start..]
        .lines()
        .map_while(|line| line.strip_prefix("# ").or_else(|| (line == "#").then_some("")))
        .fold(String::new(), |text, line| text + line + "\n")
}

#[test]
fn example_gateway_with_keys_parses_and_validates_once_uncommented() {
    let example =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/infersight.example.toml"))
            .expect("example");
    let text = uncommented_example(&example, "[gateway]") + &uncommented_example(&example, "[[cost.model]]");
    let (_, config) = load_text(&text, &Overrides::default()).unwrap_or_else(|p| panic!("{text}\n{p:?}"));
    let gateway = config.gateway.expect("the gateway is on");
    let names: Vec<&str> = gateway.keys.iter().map(|key| key.name.as_str()).collect();
    assert_eq!(names, ["team-search", "team-support"]);
    assert_eq!(gateway.keys[0].limits.requests_per_minute, Some(600));
    assert_eq!(gateway.keys[1].limits.daily_dollars, Some(50.0));
    assert_eq!(gateway.prices.iter().map(|p| p.model.as_str()).collect::<Vec<_>>(), ["gpt-4o"]);
    // Without the price, the dollar budget is a problem at check time.
    let unpriced = problems(&uncommented_example(&example, "[gateway]"));
    let [only] = &unpriced[..] else { panic!("one problem: {unpriced:?}") };
    assert!(
        only.starts_with(
            "gateway.key[1].models[0]: \"gpt-4o\" has no price in [[cost.model]], which daily_budget_dollars needs"
        ),
        "{only}"
    );
}

#[test]
fn a_gateway_with_named_keys_only_counts_as_authenticated_and_gives_probes_a_key() {
    let text = r#"
        [gateway]
        listen = "0.0.0.0:8491"
        [[gateway.upstream]]
        name = "a"
        url = "http://10.0.0.5:8000/v1"
        models = ["m"]
        [[gateway.key]]
        name = "team-a"
        hash = "sha256:6e8d84bb758f91ec03febda17b3a89070708a4b10c88109f35683eaf13ec0213"
        [[probes]]
        name = "golden"
        "#;
    let (_, config) = load_text(text, &Overrides::default()).expect("named keys authenticate the gateway");
    let gateway = config.gateway.expect("the gateway is on");
    let probe_key = config.probes.expect("probes").api_key.expect("a key for the probes");
    assert_eq!(gateway.api_keys.len(), 1);
    assert_eq!(gateway.api_keys[0].expose(), probe_key);
    assert_eq!(probe_key.len(), 64, "256 random bits");
    let open = problems(
        "[gateway]\nlisten = \"0.0.0.0:8491\"\n[[gateway.upstream]]\nname = \"a\"\nurl = \"http://h:8000/v1\"\n",
    );
    assert!(
        open.iter()
            .any(|p| p.starts_with("gateway.listen: 0.0.0.0:8491 (the gateway, without api_keys or [[gateway.key]])")),
        "{open:?}"
    );
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
    assert_eq!(
        got[1],
        r#"storage.retention: invalid duration "15x": unknown unit "x"; units are y, w, d, h, m, s, ms (line 5)"#
    );
    assert!(got[2].starts_with("storage.retention_size: invalid size \"lots\""), "{got:?}");
}

#[test]
fn unknown_keys_suggest_the_nearest_known_key_and_every_one_is_reported() {
    let got = problems("[storage]\nretension = \"15d\"\n[quality]\nsample_rat = 0.2\nscore_rate = 1.5\n");
    assert_eq!(
        got,
        [
            "storage.retension: unknown key; did you mean storage.retention? (line 2)",
            "quality.sample_rat: unknown key; did you mean quality.sample_rate? (line 4)",
            "quality.score_rate: 1.5 is not a share between 0 and 1 (line 5)",
        ]
    );
}

#[test]
fn a_key_of_another_section_says_where_it_belongs() {
    let got = problems(
        "[server]\nretention = \"15d\"\n[[scrape]]\npreset = \"vllm\"\ntargets = [\"h:8000\"]\nlisten = \"x\"\n",
    );
    assert_eq!(
        got,
        [
            "server.retention: unknown key here; retention is a key of [storage] (line 2)",
            "scrape[0].listen: unknown key here; listen is a key of [gateway] and [server] (line 6)",
        ]
    );
    let got = problems("[gateway]\ntargets = []\n");
    assert_eq!(got, ["gateway.targets: unknown key here; targets is a key of [[scrape]] (line 2)"]);
}

#[test]
fn wrong_types_say_what_to_write() {
    let got = problems(
        "[server]\nlisten = 8490\n[quality]\nsample_rate = \"0.1\"\n[[scrape]]\npreset = \"vllm\"\ntargets = \"h:8000\"\n",
    );
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(
        got[0],
        "server.listen: invalid type: integer `8490`, expected a string; write a quoted string, like the default \"127.0.0.1:8490\" (line 2)"
    );
    assert_eq!(
        got[1],
        "quality.sample_rate: invalid type: string \"0.1\", expected f64; write it without quotes (line 4)"
    );
    assert!(got[2].starts_with("scrape[0].targets: invalid type: string \"h:8000\""), "{got:?}");
    assert!(got[2].ends_with("; write a list in brackets: [\"...\"] (line 7)"), "{got:?}");
}

#[test]
fn unknown_values_of_a_choice_suggest_the_nearest() {
    let got = problems("[[scrape]]\npreset = \"vlm\"\ntargets = [\"h:8000\"]\n");
    assert_eq!(got, ["scrape[0].preset: \"vlm\" is not one of the accepted values; did you mean \"vllm\"? (line 2)"]);
}

#[test]
fn blocks_left_out_for_a_missing_key_keep_the_indexes_of_the_file() {
    let got = problems(
        r#"
        [[gateway.upstream]]
        url = "http://127.0.0.1:8000/v1"
        [[gateway.upstream]]
        name = "local"
        url = "htp://x"
        [[gateway.upstream]]
        name = 7
        url = "http://127.0.0.1:8001/v1"
        "#,
    );
    assert_eq!(
        got,
        [
            "gateway.upstream[0].name: missing: this key is required here (line 2)",
            "gateway.upstream[1].url: \"htp://x\" is not an http(s) URL; expected http://host:port/v1 or https://host/v1 (line 6)",
            "gateway.upstream[2].name: invalid type: integer `7`, expected a string; quote it, with its unit where it is a duration or size (\"15s\", \"512MiB\") (line 8)",
        ]
    );
}

#[test]
fn syntax_errors_give_the_line() {
    let got = problems("[server]\nlisten = \"127.0.0.1:8490\nx = 1\n");
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].starts_with("<root>: not valid TOML:"), "{got:?}");
    assert!(got[0].contains("(line 2)"), "{got:?}");
}

#[test]
fn duplicate_names_and_missing_references_are_problems() {
    let got = problems(
        r#"
        [[scrape]]
        preset = "vllm"
        targets = ["a:8000"]
        [[scrape]]
        preset = "vllm"
        targets = ["b:8000"]
        [[gateway.upstream]]
        name = "local"
        url = "http://127.0.0.1:8000/v1"
        [[gateway.upstream]]
        name = "local"
        url = "http://127.0.0.1:8001/v1"
        [[quality.judge]]
        name = "j"
        upstream = "locl"
        model = "m"
        "#,
    );
    for expected in [
        "scrape[1].job_name: job name \"vllm\" is used by an earlier block",
        "gateway.upstream[1].name: \"local\" is the name of an earlier upstream",
    ] {
        assert!(got.iter().any(|p| p.starts_with(expected)), "{expected} in {got:?}");
    }
    let got = problems(
        "[[gateway.upstream]]\nname = \"local\"\nurl = \"http://h:8000/v1\"\n[[quality.judge]]\nname = \"j\"\nupstream = \"locl\"\nmodel = \"m\"\n",
    );
    assert_eq!(
        got,
        ["quality.judge[0].upstream: no [[gateway.upstream]] is called \"locl\"; did you mean \"local\"? (line 6)"]
    );
}

#[test]
fn scrape_targets_written_as_urls_say_what_to_write() {
    let got = problems("[[scrape]]\npreset = \"vllm\"\ntargets = [\"http://h:8000/metrics\", \"htp://x\"]\n");
    assert_eq!(
        got,
        [
            "scrape[0].targets[0]: \"http://h:8000/metrics\" is a URL; write \"h:8000\" here, and the scheme and path as `scheme` and `path` (line 3)",
            "scrape[0].targets[1]: \"htp://x\" is not an http(s) URL, and targets are host:port (line 3)",
        ]
    );
}

#[test]
fn scrape_flags_become_preset_targets_and_openai_flags_upstreams() {
    let raw = raw_with(
        "",
        &[
            "vllm=http://10.0.0.5:8000",
            "vllm=http://10.0.0.6:8000/metrics",
            "dcgm=http://gpu-1:9400",
            "triton=https://triton:8002/metrics/v2",
            "openai=http://10.0.0.5:8000",
            "openai=https://api.example.com/v1",
        ],
    );
    let blocks: Vec<_> = raw
        .scrape
        .iter()
        .map(|b| (b.job_name.as_deref(), b.preset, b.scheme, b.path.as_deref(), b.targets.clone()))
        .collect();
    use collectors::presets::Preset;
    use collectors::scrape::Scheme;
    assert_eq!(
        blocks,
        [
            (
                None,
                Some(Preset::Vllm),
                Scheme::Http,
                None,
                vec!["10.0.0.5:8000".to_owned(), "10.0.0.6:8000".to_owned()]
            ),
            (None, Some(Preset::Dcgm), Scheme::Http, None, vec!["gpu-1:9400".to_owned()]),
            (None, Some(Preset::Triton), Scheme::Https, Some("/metrics/v2"), vec!["triton:8002".to_owned()]),
        ]
    );
    let upstreams: Vec<_> = raw.gateway.upstreams.iter().map(|u| (u.name.as_str(), u.url.as_str())).collect();
    assert_eq!(
        upstreams,
        [("10.0.0.5:8000", "http://10.0.0.5:8000/v1"), ("api.example.com", "https://api.example.com/v1")]
    );
    assert_eq!(raw.gateway.upstreams[0].models, ["*"]);
}

#[test]
fn scrape_flags_add_to_the_file_without_repeating_its_targets() {
    let file = "[[scrape]]\npreset = \"vllm\"\ntargets = [\"a\"]\n[[gateway.upstream]]\nname = \"a:8000\"\nurl = \"http://a:9000/v1\"\n";
    let raw = raw_with(
        file,
        &["vllm=http://a:8000", "vllm=http://b:8000", "openai=http://a:8000", "openai=http://a:9000/v1"],
    );
    let jobs: Vec<_> = raw.scrape.iter().map(|b| (b.job_name.as_deref(), b.targets.clone())).collect();
    assert_eq!(jobs, [(None, vec!["a".to_owned()]), (Some("vllm-2"), vec!["b:8000".to_owned()])]);
    let upstreams: Vec<_> = raw.gateway.upstreams.iter().map(|u| (u.name.as_str(), u.url.as_str())).collect();
    assert_eq!(upstreams, [("a:8000", "http://a:9000/v1"), ("a:8000-2", "http://a:8000/v1")]);
}

#[test]
fn scrape_flags_reject_unknown_kinds_and_urls_that_are_not_http() {
    let err = |flag: &str| flag.parse::<ScrapeFlag>().expect_err("invalid");
    let kinds = "accepted kinds: vllm, sglang, tgi, triton, dcgm, node, openai";
    assert_eq!(err("vlm=http://h:8000"), format!("unknown kind \"vlm\"; {kinds}"));
    assert_eq!(err("http://h:8000"), format!("expected KIND=URL, like vllm=http://localhost:8000; {kinds}"));
    assert_eq!(err("vllm=htp://x"), "\"htp://x\" is not an http(s) URL, like http://localhost:8000");
    assert_eq!(err("vllm=localhost:8000"), "\"localhost:8000\" is not an http(s) URL, like http://localhost:8000");
    assert!(err("vllm=http://u:p@h:8000").contains("credentials"));
    assert!(err("vllm=http://h:8000/metrics?x=1").contains("query"));
}

#[test]
fn printed_config_reads_back_to_the_same_config() {
    let example =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/infersight.example.toml"))
            .expect("example");
    let mut raw =
        raw_with(&example, &["vllm=http://127.0.0.1:8000", "sglang=https://s:30000/m", "openai=http://127.0.0.1:8000"]);
    raw.quality.model_sample_rates.insert("llama 3".into(), 0.5);
    raw.scrape[0].labels.insert("team".into(), "a".into());
    raw.scrape[0].bearer_token = Some(collectors::scrape::Secret("${TOKEN}".into()));
    let printed = raw.to_toml();
    assert_eq!(RawConfig::parse(&printed).expect("reads back"), raw, "{printed}");
    assert!(printed.contains("bearer_token = \"${TOKEN}\""), "secrets stay references: {printed}");
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
        [server]
        allow_unauthenticated = true
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
    let first = std::fs::read_to_string(&dataset).expect("read").lines().next().expect("a line").to_owned();
    std::fs::write(&dataset, first).expect("write");
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

#[test]
fn issue_20_a_listener_beyond_loopback_needs_authentication_or_a_deliberate_opt_out() {
    let got = problems("[server]\nlisten = \"0.0.0.0:8490\"\n");
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(
        got[0].starts_with(
            "server.listen: 0.0.0.0:8490 is not a loopback address and no authentication is configured; set \
             [server] web_config to a web.yml with basic_auth_users"
        ),
        "{got:?}"
    );
    assert!(got[0].contains("allow_unauthenticated = true"), "{got:?}");
    let gateway = problems(
        "[gateway]\nlisten = \"0.0.0.0:8491\"\n[[gateway.upstream]]\nname = \"u\"\nurl = \"http://127.0.0.1:8000/v1\"\n",
    );
    assert!(
        gateway[0].starts_with(
            "gateway.listen: 0.0.0.0:8491 (the gateway, without api_keys or [[gateway.key]]) is not a loopback"
        ),
        "{gateway:?}"
    );

    let text = "[server]\nlisten = \"0.0.0.0:8490\"\nallow_unauthenticated = true\n";
    let config = RawConfig::parse(text).expect("parses").validate().expect("valid on purpose");
    assert_eq!(config.access.unauthenticated, ["0.0.0.0:8490"]);
    let loopback = RawConfig::parse("").expect("parses").validate().expect("valid");
    assert!(loopback.access.unauthenticated.is_empty() && !loopback.access.credentials.is_enabled());
}

#[test]
fn issue_20_web_config_users_and_tokens_turn_authentication_on_and_the_self_scrape_gets_a_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hash = access::hash_password("wonderland").expect("hash");
    std::fs::write(dir.path().join("web.yml"), format!("basic_auth_users:\n  alice: {hash}\n")).expect("write");
    let text = format!(
        "[server]\nlisten = \"0.0.0.0:8490\"\nweb_config = {:?}\n[auth.users]\nalice = [\"metrics\", \"exchanges\"]\n\
         [[auth.token]]\nname = \"grafana\"\nhash = \"sha256:{}\"\nroles = [\"metrics\"]\n",
        dir.path().join("web.yml"),
        "ab".repeat(32)
    );
    let config = RawConfig::parse(&text).expect("parses").validate().expect("valid");
    assert!(config.access.credentials.is_enabled());
    let self_scrape = config.scrape.iter().find(|job| job.job_name == "infersight").expect("self-scrape");
    assert!(matches!(self_scrape.auth, Some(collectors::scrape::Auth::Bearer(_))), "the self-scrape authenticates");

    std::fs::write(dir.path().join("web.yml"), "tls_server_config:\n  min_version: TLS10\n  cert_file: c.pem\n")
        .expect("write");
    let got = problems(&text);
    assert!(
        got.iter()
            .any(|p| p.starts_with("server.web_config: ") && p.contains("tls_server_config.key_file: is required")),
        "{got:?}"
    );
    let roles_without_users = problems("[auth.users]\nalice = [\"metrics\"]\n");
    assert_eq!(
        roles_without_users,
        ["auth.users.alice: has roles but [server] web_config has no basic_auth_users (line 2)"],
        "{roles_without_users:?}"
    );
}

#[test]
fn issue_20_listener_limits_and_cors_origins_are_checked_with_their_keys() {
    let defaults = load(None).expect("default config");
    assert_eq!(defaults.access.limits, access::Limits::default());
    assert_eq!(defaults.access.limits.read_header_timeout, Duration::from_secs(10));
    assert_eq!(defaults.access.limits.read_timeout, Duration::from_secs(60));
    assert_eq!(defaults.access.limits.max_connections, 1024);
    assert!(!defaults.access.cors.is_enabled(), "CORS is off unless configured");

    let text = "[server]\nread_header_timeout = \"5s\"\nread_timeout = \"2m\"\nmax_connections = 64\n\
                cors_origins = [\"https://grafana.example.com\", \"HTTP://localhost:3000\"]\n";
    let config = RawConfig::parse(text).expect("parses").validate().expect("valid");
    assert_eq!(
        config.access.limits,
        access::Limits {
            read_header_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(120),
            max_connections: 64
        }
    );
    assert_eq!(
        config.access.cors,
        access::CorsOrigins::new(&["https://grafana.example.com", "http://localhost:3000"]).expect("origins")
    );

    let got = problems(
        "[server]\nread_header_timeout = \"0s\"\nread_timeout = \"soon\"\nmax_connections = 0\n\
         cors_origins = [\"https://ok.example.com\", \"grafana.example.com\", \"https://a.example.com/path\"]\n",
    );
    assert_eq!(got.len(), 5, "{got:?}");
    assert_eq!(got[0], "server.read_header_timeout: must be positive (line 2)");
    assert!(got[1].starts_with("server.read_timeout: invalid duration \"soon\""), "{got:?}");
    assert_eq!(got[2], "server.max_connections: must be at least 1 (line 4)");
    assert!(got[3].starts_with("server.cors_origins[1]: \"grafana.example.com\" is not an origin"), "{got:?}");
    assert!(
        got[4].starts_with("server.cors_origins[2]: \"https://a.example.com/path\" has more than a host"),
        "{got:?}"
    );
}
