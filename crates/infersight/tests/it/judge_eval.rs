//! `infersight judge-eval` against the simulator's judge: agreement with the
//! committed labelled set, bad lines skipped and reported, setup errors exit 1.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use judge::eval;
use sim::server::SimServer;
use tokio_util::sync::CancellationToken;

const SET: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/judge/correctness.jsonl");

/// A simulated fleet of one replica, serving (and judging as `sim-judge`)
/// until the token is cancelled; its OpenAI base URL with `/v1`.
async fn sim_judge() -> (String, CancellationToken) {
    let config = sim::SimConfig {
        internal_traffic: false,
        models: vec![sim::ModelConfig { name: "m".to_owned(), ..sim::ModelConfig::default() }],
        replicas: vec![sim::ReplicaConfig { name: "r".to_owned(), model: "m".to_owned(), ..Default::default() }],
        ..sim::SimConfig::default()
    };
    let fleet = sim::Fleet::new(config, sim::Clock::realtime(1_795_420_800_000)).expect("valid fleet");
    let server = SimServer::bind(&fleet).await.expect("ephemeral ports bind");
    let url = format!("http://{}/v1", server.replicas()[0].api);
    let shutdown = CancellationToken::new();
    tokio::spawn(server.run(shutdown.clone()));
    (url, shutdown)
}

async fn judge_eval(args: &[&str]) -> (Option<i32>, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_infersight"))
        .arg("judge-eval")
        .args(args)
        .output()
        .await
        .expect("run infersight");
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sim_judge_agrees_with_the_committed_labels() {
    let (url, shutdown) = sim_judge().await;
    let config = sim_judge_config(&url);
    let judge = judge::Judge::new(
        config,
        Arc::new(judge::MemoryCache::default()),
        judge::Metrics::new(&mut prometheus_client::registry::Registry::default()),
    )
    .expect("client");
    let file = std::fs::File::open(SET).expect("the committed set");
    let read = eval::read_items(std::io::BufReader::new(file)).expect("reads");
    assert!(read.bad_lines.is_empty(), "{:?}", read.bad_lines);
    assert!((60..=100).contains(&read.items.len()), "{} items", read.items.len());
    let rubric = judge::Rubric::built_in("correctness").expect("built in");
    let judgements = eval::run(Arc::new(judge), &rubric, read.items, 0).await;
    let report = eval::Report::new(&judgements, 0);
    eprintln!("{report}");
    assert_eq!(report.judged, report.items, "{report}");
    let (kappa, f1) = (report.confusion.kappa().expect("both labels"), report.confusion.f1().expect("fails"));
    assert!(kappa >= 0.7, "kappa {kappa}\n{report}");
    assert!(f1 >= 0.8, "F1 {f1}\n{report}");
    shutdown.cancel();
}

/// The judge the command builds from `--url URL --model sim-judge`.
fn sim_judge_config(url: &str) -> judge::JudgeConfig {
    judge::JudgeConfig {
        name: "sim".to_owned(),
        url: url.to_owned(),
        model: sim::judge::JUDGE_MODEL.to_owned(),
        api_key: None,
        concurrency: 4,
        timeout: Duration::from_secs(30),
        retries: 2,
        limits: judge::Limits::default(),
        price: None,
        json_mode: true,
    }
}

fn item(id: &str, answer: &str, reference: Option<&str>, label: &str) -> String {
    let mut item =
        serde_json::json!({"id": id, "prompt": "What is the capital of Australia?", "answer": answer, "label": label});
    if let Some(reference) = reference {
        item["reference"] = reference.into();
    }
    item.to_string()
}

fn write_input(dir: &Path) -> std::path::PathBuf {
    let reference = Some("The capital of Australia is Canberra.");
    let lines = [
        item("right", "The capital of Australia is Canberra.", reference, "pass"),
        "{\"id\": \"broken\", \"prompt\": ".to_owned(),
        item("wrong", "The capital of Australia is Sydney.", reference, "fail"),
        item("no-reference", "The capital of Australia is Canberra.", None, "pass"),
    ];
    let input = dir.join("items.jsonl");
    std::fs::write(&input, lines.join("\n") + "\n").expect("write");
    input
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_line_is_skipped_reported_and_counted() {
    let (url, shutdown) = sim_judge().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let input = write_input(dir.path());
    let output = dir.path().join("verdicts.jsonl");
    let (input, output_arg) = (input.to_str().expect("utf-8"), output.to_str().expect("utf-8"));
    let args =
        ["--url", &url, "--model", "sim-judge", "--rubric", "correctness", "--input", input, "--output", output_arg];
    let (code, stdout, stderr) = judge_eval(&args).await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains(&format!("{input}:2: ")) && stderr.contains("skipped"), "{stderr}");
    assert!(stdout.contains("items       3 (1 bad lines skipped)\n"), "{stdout}");
    assert!(stdout.contains("judged      2\n"), "{stdout}");
    assert!(stdout.contains("failures    missing_input 1\n"), "{stdout}");
    assert!(stdout.contains("kappa       "), "{stdout}");
    let written: Vec<serde_json::Value> = std::fs::read_to_string(&output)
        .expect("verdicts written")
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON lines"))
        .collect();
    let ids: Vec<&str> = written.iter().map(|line| line["id"].as_str().expect("id")).collect();
    assert_eq!(ids, ["right", "wrong", "no-reference"]);
    assert_eq!(written[2]["failure"], "missing_input");
    assert!(written[0]["verdict"]["score"].is_number(), "{}", written[0]);
    shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_judge_of_the_config_runs_and_setup_errors_exit_1() {
    let (url, shutdown) = sim_judge().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let input = write_input(dir.path());
    let input = input.to_str().expect("utf-8");
    let config = dir.path().join("infersight.toml");
    std::fs::write(
        &config,
        format!("[[quality.judge]]\nname = \"sim\"\nurl = \"{url}\"\nmodel = \"sim-judge\"\nconcurrency = 2\n"),
    )
    .expect("write");
    let config = config.to_str().expect("utf-8");

    let (code, stdout, stderr) =
        judge_eval(&["--config", config, "--judge", "sim", "--rubric", "correctness", "--input", input]).await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("judged      2\n"), "{stdout}");

    for (args, message) in [
        (
            vec!["--config", config, "--judge", "nobody", "--rubric", "correctness"],
            "no [[quality.judge]] called \"nobody\"; known: sim",
        ),
        (vec!["--config", config, "--judge", "sim", "--rubric", "vibes"], "no rubric is called \"vibes\""),
        (vec!["--url", "localhost:1", "--model", "m", "--rubric", "correctness"], "is not an http(s) URL"),
    ] {
        let (code, _, stderr) = judge_eval(&[args.as_slice(), &["--input", input]].concat()).await;
        assert_eq!(code, Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
    let missing = dir.path().join("missing.jsonl");
    let args = ["--url", &url, "--model", "m", "--rubric", "correctness", "--input", missing.to_str().expect("utf-8")];
    let (code, _, stderr) = judge_eval(&args).await;
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("cannot read"), "{stderr}");
    shutdown.cancel();
}
