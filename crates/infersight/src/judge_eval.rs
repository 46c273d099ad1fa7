//! `infersight judge-eval`: how well an LLM judge agrees with human labels
//! on a labelled JSONL set; the statistics and the run are `judge::eval`'s.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};

use crate::serve::now_ms;

/// Where the judge's settings come from.
#[derive(Debug, Clone)]
pub enum JudgeSource {
    /// A `[[quality.judge]]` of a configuration file, by name.
    Config {
        /// The file.
        path: PathBuf,
        /// The judge's `name`.
        name: String,
    },
    /// An OpenAI-compatible endpoint, with the judge defaults.
    Url {
        /// Base URL, with `/v1`.
        url: String,
        /// The judge model.
        model: String,
    },
}

/// One `judge-eval` run.
#[derive(Debug, Clone)]
pub struct Args {
    /// The judge.
    pub judge: JudgeSource,
    /// Rubric name: built in, or from the configuration's rubric files.
    pub rubric: String,
    /// Labelled JSONL (`-` for standard input).
    pub input: PathBuf,
    /// Where to write one verdict line per item, if anywhere.
    pub output: Option<PathBuf>,
}

/// Judges every item of the input, reports each bad line on standard error,
/// prints the summary on standard output and writes the verdicts. `Ok`
/// (exit 0) when it ran, whatever the judge said, bad lines and failed
/// judgements included; `Err` (exit 1) once it has reported a setup error:
/// configuration, judge, rubric, input or output.
pub fn run(args: &Args) -> Result<(), ()> {
    match evaluate(args) {
        Ok(report) => {
            print!("{report}");
            Ok(())
        }
        Err(err) => {
            eprintln!("infersight: {}", format!("{err:#}").trim_end());
            Err(())
        }
    }
}

fn evaluate(args: &Args) -> anyhow::Result<judge::eval::Report> {
    let (config, rubric) = setup(&args.judge, &args.rubric)?;
    let reader: Box<dyn BufRead> = if args.input == Path::new("-") {
        Box::new(io::stdin().lock())
    } else {
        let file = File::open(&args.input).with_context(|| format!("cannot read {}", args.input.display()))?;
        Box::new(BufReader::new(file))
    };
    let read = judge::eval::read_items(reader).with_context(|| format!("reading {}", args.input.display()))?;
    for bad in &read.bad_lines {
        eprintln!("infersight: {}:{}: {}; skipped", args.input.display(), bad.line, bad.message);
    }
    let mut output = match &args.output {
        Some(path) => {
            Some(BufWriter::new(File::create(path).with_context(|| format!("cannot write {}", path.display()))?))
        }
        None => None,
    };
    let judge = judge::Judge::new(
        config,
        Arc::new(judge::MemoryCache::default()),
        judge::Metrics::new(&mut prometheus_client::registry::Registry::default()),
    )
    .context("building the judge's HTTP client")?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the runtime")?;
    let judgements = runtime.block_on(judge::eval::run(Arc::new(judge), &rubric, read.items, now_ms()));
    if let (Some(writer), Some(path)) = (&mut output, &args.output) {
        let written: io::Result<()> = judgements
            .iter()
            .try_for_each(|judgement| writeln!(writer, "{}", judgement.to_json()))
            .and_then(|()| writer.flush());
        written.with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(judge::eval::Report::new(&judgements, read.bad_lines.len()))
}

/// The judge's settings and the rubric, or what is wrong with them.
fn setup(source: &JudgeSource, rubric: &str) -> anyhow::Result<(judge::JudgeConfig, judge::Rubric)> {
    let (config, custom) = match source {
        JudgeSource::Config { path, name } => {
            let config = crate::config::load(Some(path))?;
            let Some(spec) = config.judges.iter().find(|spec| &spec.config.name == name) else {
                let known: Vec<&str> = config.judges.iter().map(|spec| spec.config.name.as_str()).collect();
                bail!(
                    "{} has no [[quality.judge]] called {name:?}; known: {}",
                    path.display(),
                    if known.is_empty() { "none".to_string() } else { known.join(", ") }
                );
            };
            (spec.config.clone(), config.rubrics)
        }
        JudgeSource::Url { url, model } => {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                bail!("--url {url:?} is not an http(s) URL");
            }
            (crate::config::default_judge(url, model), Default::default())
        }
    };
    let Some(rubric) = custom.get(rubric).cloned().or_else(|| judge::Rubric::built_in(rubric)) else {
        let mut known: Vec<&str> = judge::BUILT_IN.to_vec();
        known.extend(custom.keys().map(String::as_str).filter(|name| !judge::BUILT_IN.contains(name)));
        bail!("no rubric is called {rubric:?}; known: {}", known.join(", "));
    };
    Ok((config, rubric))
}
