//! `infersight check-config FILE`: the mistakes a newcomer makes, each
//! reported with its key path, its line and what to write instead.

use std::process::Command;

/// Checks `text` as a config file; the exit code and each problem line.
fn check(text: &str) -> (Option<i32>, Vec<String>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("infersight.toml");
    std::fs::write(&file, text).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_infersight"))
        .args(["check-config", file.to_str().expect("utf-8")])
        .output()
        .expect("run infersight");
    let stderr = String::from_utf8_lossy(&out.stderr);
    (out.status.code(), stderr.lines().skip(1).map(|line| line.trim().to_owned()).collect())
}

/// Asserts that checking `text` fails with exactly `expected`.
fn assert_problems(text: &str, expected: &[&str]) {
    let (code, problems) = check(text);
    assert_eq!(code, Some(1), "{problems:?}");
    assert_eq!(problems, expected);
}

#[test]
fn unknown_keys_name_the_key_that_was_meant() {
    assert_problems(
        "[quality]\nsample_rat = 0.2\n\n[storage]\nretension = \"30d\"\n",
        &[
            "quality.sample_rat: unknown key; did you mean quality.sample_rate? (line 2)",
            "storage.retension: unknown key; did you mean storage.retention? (line 5)",
        ],
    );
}

#[test]
fn keys_in_the_wrong_section_say_where_they_belong() {
    assert_problems(
        "[server]\nretention = \"30d\"\n",
        &["server.retention: unknown key here; retention is a key of [storage] (line 2)"],
    );
}

#[test]
fn wrong_types_say_what_to_write() {
    assert_problems(
        "[server]\nlisten = 8490\n\n[quality]\nsample_rate = \"0.1\"\n",
        &[
            "server.listen: invalid type: integer `8490`, expected a string; write a quoted string, like the default \"127.0.0.1:8490\" (line 2)",
            "quality.sample_rate: invalid type: string \"0.1\", expected f64; write it without quotes (line 5)",
        ],
    );
}

#[test]
fn bad_durations_list_the_units() {
    assert_problems(
        "[[scrape]]\npreset = \"vllm\"\ntargets = [\"localhost:8000\"]\ninterval = \"15min\"\n",
        &[
            "scrape[0].interval: invalid duration \"15min\": unknown unit \"min\"; units are y, w, d, h, m, s, ms (line 4)",
        ],
    );
}

#[test]
fn bad_urls_are_not_http_urls() {
    assert_problems(
        "[[scrape]]\npreset = \"vllm\"\ntargets = [\"localhost:8000\"]\n\n[[scrape]]\npreset = \"dcgm\"\ntargets = [\"htp://x\"]\n\n[[gateway.upstream]]\nname = \"local\"\nurl = \"htp://x\"\n\n[alerting]\nwebhooks = [\"hooks.example.com\"]\n",
        &[
            "scrape[1].targets[0]: \"htp://x\" is not an http(s) URL, and targets are host:port (line 7)",
            "gateway.upstream[0].url: \"htp://x\" is not an http(s) URL; expected http://host:port/v1 or https://host/v1 (line 11)",
            "alerting.webhooks[0]: \"hooks.example.com\" is not an http(s) URL (line 14)",
        ],
    );
    assert_problems(
        "[[scrape]]\npreset = \"vllm\"\ntargets = [\"http://localhost:8000/metrics\"]\n",
        &[
            "scrape[0].targets[0]: \"http://localhost:8000/metrics\" is a URL; write \"localhost:8000\" here, and the scheme and path as `scheme` and `path` (line 3)",
        ],
    );
}

#[test]
fn duplicate_names_are_problems() {
    assert_problems(
        "[[scrape]]\npreset = \"vllm\"\ntargets = [\"a:8000\"]\n\n[[scrape]]\npreset = \"vllm\"\ntargets = [\"b:8000\"]\n\n[[gateway.upstream]]\nname = \"local\"\nurl = \"http://a:8000/v1\"\n\n[[gateway.upstream]]\nname = \"local\"\nurl = \"http://b:8000/v1\"\n",
        &[
            "scrape[1].job_name: job name \"vllm\" is used by an earlier block (line 5)",
            "gateway.upstream[1].name: \"local\" is the name of an earlier upstream (line 14)",
        ],
    );
}

#[test]
fn an_upstream_that_does_not_exist_suggests_one_that_does() {
    assert_problems(
        "[[gateway.upstream]]\nname = \"local-vllm\"\nurl = \"http://localhost:8000/v1\"\n\n[[quality.judge]]\nname = \"judge\"\nupstream = \"local-vlm\"\nmodel = \"qwen2.5-7b-instruct\"\n",
        &[
            "quality.judge[0].upstream: no [[gateway.upstream]] is called \"local-vlm\"; did you mean \"local-vllm\"? (line 7)",
        ],
    );
}

#[test]
fn rates_out_of_range_are_shares_between_0_and_1() {
    assert_problems(
        "[quality]\nsample_rate = 10\nscore_rate = -0.5\n",
        &[
            "quality.sample_rate: 10 is not a share between 0 and 1 (line 2)",
            "quality.score_rate: -0.5 is not a share between 0 and 1 (line 3)",
        ],
    );
}

#[test]
fn missing_required_keys_and_unknown_presets_are_named() {
    assert_problems(
        "[[scrape]]\npreset = \"vlm\"\ntargets = [\"localhost:8000\"]\n\n[[gateway.upstream]]\nurl = \"http://localhost:8000/v1\"\n",
        &[
            "scrape[0].preset: \"vlm\" is not one of the accepted values; did you mean \"vllm\"? (line 2)",
            "gateway.upstream[0].name: missing: this key is required here (line 5)",
        ],
    );
}

#[test]
fn a_valid_file_is_valid() {
    let (code, problems) = check("[[scrape]]\npreset = \"vllm\"\ntargets = [\"localhost:8000\"]\n");
    assert_eq!((code, problems), (Some(0), vec![]));
}
