//! The infersight binary: command line, configuration, wiring, signals and shutdown.

mod backfill;
mod compare;
mod config;
mod demo;
mod judge_eval;
mod logging;
mod offline;
mod serve;
mod simulate;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Watches LLM inference: how much, how fast and how well.
#[derive(Debug, Parser)]
#[command(name = "infersight", version = version(), about)]
struct Cli {
    /// Log level filter (`info`, `debug`, `infersight=debug,tsdb=trace`, ...).
    #[arg(long, global = true, default_value = "info")]
    log_level: String,
    /// Log format.
    #[arg(long, global = true, default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the server: API, remote write, storage.
    Serve {
        /// Configuration file; the embedded defaults apply without one.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Watches a server, in addition to the file's: KIND=URL. KIND
        /// vllm, sglang, tgi, triton, dcgm or node scrapes the URL (its path,
        /// or /metrics without one); openai makes the URL (its path, or /v1
        /// without one) an upstream of the gateway. Repeatable.
        #[arg(long = "scrape", value_name = "KIND=URL", value_parser = parse_scrape)]
        scrape: Vec<config::ScrapeFlag>,
        /// Address of the API and dashboard, in place of `[server] listen`.
        #[arg(long, value_name = "ADDR")]
        listen: Option<std::net::SocketAddr>,
        /// Prints the effective configuration (the file with the flags'
        /// additions, every key) as TOML to save as a config file, and exits.
        #[arg(long)]
        print_config: bool,
    },
    /// Runs a complete simulated fleet watched by infersight: engines, GPUs,
    /// traffic through the gateway, quality scoring, scripted incidents, and
    /// hours of history written beside live data. Prints the dashboard's address.
    Demo {
        /// Address of the API and dashboard; the gateway takes the next port.
        #[arg(long, default_value = "127.0.0.1:8490")]
        listen: std::net::SocketAddr,
        /// How much history to write, in the background (`6h`, `30m`, `0s`).
        #[arg(long, default_value = "6h", value_parser = parse_backfill)]
        backfill: std::time::Duration,
    },
    /// Runs only the simulated fleet: OpenAI-compatible replicas with vLLM/SGLang
    /// `/metrics` and DCGM exporters, for pointing any scraper or client at.
    Sim {
        /// Simulator configuration (TOML); the demo's fleet without one.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Scores JSONL offline with one quality scorer (one output line per input line).
    Score {
        /// Scorer: pii, toxicity, harmful, refusal, jailbreak, json, consistency, reference.
        #[arg(long)]
        scorer: String,
        /// Input JSONL (`-` for standard input).
        #[arg(long)]
        input: PathBuf,
        /// Output JSONL; standard output without it.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Tests JSONL lines of baseline and current windows for drift.
    Drift {
        /// Input JSONL (`-` for standard input).
        #[arg(long)]
        input: PathBuf,
        /// Output JSONL; standard output without it.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Measures how well an LLM judge agrees with human labels: judges every
    /// item of a labelled JSONL set by one rubric and prints the confusion
    /// matrix, accuracy, Cohen's kappa and precision, recall and F1 of "fail".
    #[command(group(clap::ArgGroup::new("judge_source").required(true).args(["judge", "url"])))]
    JudgeEval {
        /// Configuration file with the judge (`[[quality.judge]]`) and rubric files.
        #[arg(long, requires = "judge", conflicts_with_all = ["url", "model"])]
        config: Option<PathBuf>,
        /// The `name` of a `[[quality.judge]]` of `--config`.
        #[arg(long, requires = "config")]
        judge: Option<String>,
        /// Or the judge's OpenAI-compatible base URL, with `/v1`; judge defaults apply.
        #[arg(long, requires = "model")]
        url: Option<String>,
        /// The judge model at `--url`.
        #[arg(long, requires = "url")]
        model: Option<String>,
        /// Rubric: built in (correctness, faithfulness, ...) or from the config's rubric files.
        #[arg(long)]
        rubric: String,
        /// Labelled JSONL: `{"id", "prompt", "answer", "context"?, "reference"?, "label": "pass"|"fail"}` (`-` for standard input).
        #[arg(long)]
        input: PathBuf,
        /// Output JSONL, one verdict line per item.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Compares two cohorts of a running server's gateway traffic (a model,
    /// an upstream, any label set, or two time windows): per metric both
    /// values, the difference, a 95 % interval, a Holm-corrected p-value and
    /// a verdict. Exit 1 when B is worse on a `--fail-if-worse` metric (or
    /// nothing could be compared), 0 otherwise.
    #[command(group(clap::ArgGroup::new("second").required(true).multiple(true).args(["b", "b_start", "b_end"])))]
    Compare {
        /// Cohort A, the baseline: a label selector, `{gen_ai_request_model="x"}`.
        #[arg(long)]
        a: String,
        /// Cohort B, the candidate; A's selector when only B's window is given.
        #[arg(long)]
        b: Option<String>,
        /// Start of the range (RFC 3339 or Unix seconds).
        #[arg(long, conflicts_with = "range")]
        start: Option<String>,
        /// End of the range (default now).
        #[arg(long)]
        end: Option<String>,
        /// Length of the range before its end, instead of --start (`1h`, `30m`); 1h by default.
        #[arg(long)]
        range: Option<String>,
        /// A window of A's own (both cohorts are the range without these).
        #[arg(long)]
        a_start: Option<String>,
        /// End of A's window.
        #[arg(long)]
        a_end: Option<String>,
        /// Start of B's window (a time window of the same selector: after a deploy).
        #[arg(long)]
        b_start: Option<String>,
        /// End of B's window.
        #[arg(long)]
        b_end: Option<String>,
        /// The server's API.
        #[arg(long, default_value = "http://127.0.0.1:8490")]
        url: String,
        /// Prints the API's JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Metrics that fail the command when B is significantly worse on them:
        /// `ttft_p95,error_rate,toxicity_flagged_rate`.
        #[arg(long, value_delimiter = ',', value_name = "METRIC,...")]
        fail_if_worse: Vec<String>,
    },
    /// Runs rule unit tests in Prometheus's `promtool test rules` format.
    TestRules {
        /// Test files (globs in the file name allowed).
        files: Vec<String>,
    },
    /// Checks a configuration file and prints every problem with its key path.
    CheckConfig {
        /// The file to check.
        file: PathBuf,
    },
    /// Reads a password (or a token) from standard input, its first line,
    /// and prints its bcrypt hash for web.yml's `basic_auth_users` or
    /// `[[auth.token]] hash`.
    HashPassword,
}

fn parse_scrape(value: &str) -> Result<config::ScrapeFlag, String> {
    value.parse()
}

fn parse_backfill(value: &str) -> Result<std::time::Duration, String> {
    if value == "0" {
        return Ok(std::time::Duration::ZERO);
    }
    config::parse_duration(value)
}

fn version() -> &'static str {
    concat!(env!("CARGO_PKG_VERSION"), " (", env!("CARGO_PKG_NAME"), ", rustc ", env!("CARGO_PKG_RUST_VERSION"), "+)")
}

/// Installs the log subscriber (exit 2 if the flags are wrong), then runs a
/// long-lived command: exit 0 when it returns `Ok`, 1 once it has reported
/// its error.
fn with_logging(level: &str, format: &str, run: impl FnOnce() -> Result<(), ()>) -> ExitCode {
    if let Err(err) = logging::init(level, format) {
        eprintln!("infersight: {err:#}");
        return ExitCode::from(2);
    }
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(()) => ExitCode::FAILURE,
    }
}

/// `infersight hash-password`: the first line of standard input, without
/// its line ending, hashed with bcrypt; exit 1 on an empty password.
fn hash_password() -> ExitCode {
    let mut line = String::new();
    if let Err(err) = std::io::stdin().read_line(&mut line) {
        eprintln!("infersight: reading the password from standard input: {err}");
        return ExitCode::FAILURE;
    }
    let password = line.strip_suffix('\n').map(|rest| rest.strip_suffix('\r').unwrap_or(rest)).unwrap_or(&line);
    if password.is_empty() {
        eprintln!("infersight: no password on standard input (try: printf %s PASSWORD | infersight hash-password)");
        return ExitCode::FAILURE;
    }
    match access::hash_password(password) {
        Ok(hash) => {
            println!("{hash}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("infersight: hashing the password: {err}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Demo { listen, backfill } => with_logging(&cli.log_level, &cli.log_format, || {
            demo::run(listen, backfill).map_err(|err| eprintln!("infersight: {err:#}"))
        }),
        Command::Sim { config } => with_logging(&cli.log_level, &cli.log_format, || {
            simulate::run(config.as_deref()).map_err(|err| eprintln!("infersight: {err:#}"))
        }),
        Command::Score { scorer, input, output } => {
            offline::run(offline::Run::Score { scorer: &scorer }, &input, output.as_deref())
        }
        Command::Drift { input, output } => offline::run(offline::Run::Drift, &input, output.as_deref()),
        Command::JudgeEval { config, judge, url, model, rubric, input, output } => {
            let judge = match (config, judge, url, model) {
                (Some(path), Some(name), _, _) => judge_eval::JudgeSource::Config { path, name },
                (_, _, Some(url), Some(model)) => judge_eval::JudgeSource::Url { url, model },
                _ => unreachable!("clap requires --config with --judge or --url with --model"),
            };
            let args = judge_eval::Args { judge, rubric, input, output };
            with_logging(&cli.log_level, &cli.log_format, || judge_eval::run(&args))
        }
        Command::Compare { a, b, start, end, range, a_start, a_end, b_start, b_end, url, json, fail_if_worse } => {
            let args =
                compare::Args { a, b, start, end, range, a_start, a_end, b_start, b_end, url, json, fail_if_worse };
            match compare::run(&args) {
                Ok(compare::Outcome::Passed) => ExitCode::SUCCESS,
                Ok(compare::Outcome::Worse) => ExitCode::FAILURE,
                Err(err) => {
                    eprintln!("infersight: {err:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::TestRules { files } => {
            let report = rules::unittest::run_all(&files);
            print!("{report}");
            if report.is_success() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
        }
        Command::CheckConfig { file } => match config::load(Some(&file)) {
            Ok(_) => {
                println!("{}: configuration is valid", file.display());
                ExitCode::SUCCESS
            }
            Err(err) => {
                eprint!("{err}");
                ExitCode::FAILURE
            }
        },
        Command::HashPassword => hash_password(),
        Command::Serve { config, scrape, listen, print_config } => {
            let overrides = config::Overrides { scrape, listen };
            let (raw, config) = match config::load_with(config.as_deref(), &overrides) {
                Ok(loaded) => loaded,
                Err(err) => {
                    eprint!("{err}");
                    return ExitCode::from(2);
                }
            };
            if print_config {
                print!("{}{}", config::PRINTED_HEADER, raw.to_toml());
                return ExitCode::SUCCESS;
            }
            with_logging(&cli.log_level, &cli.log_format, || {
                serve::run(config).map_err(|err| tracing::error!(error = format!("{err:#}"), "infersight stopped"))
            })
        }
    }
}
