//! `infersight score` and `infersight drift`: the offline quality runs over JSONL (DESIGN.md §7).

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

/// Which offline run.
#[derive(Debug, Clone, Copy)]
pub enum Run<'a> {
    /// One scorer over every line.
    Score {
        /// The scorer's name.
        scorer: &'a str,
    },
    /// The drift test of each line's baseline and current windows.
    Drift,
}

/// Runs `run` from `input` (`-` for standard input) to `output` (standard
/// output when absent). Exit code 0 when every line produced a result, 1
/// when some produced an error line or the run failed, 2 for an unknown
/// scorer or an unreadable input.
pub fn run(run: Run<'_>, input: &Path, output: Option<&Path>) -> ExitCode {
    if let Run::Score { scorer } = run
        && !quality::SCORER_NAMES.contains(&scorer)
    {
        eprintln!("infersight: unknown scorer {scorer:?}; known: {}", quality::SCORER_NAMES.join(", "));
        return ExitCode::from(2);
    }
    let reader: Box<dyn BufRead> = if input == Path::new("-") {
        Box::new(io::stdin().lock())
    } else {
        match File::open(input) {
            Ok(file) => Box::new(BufReader::new(file)),
            Err(err) => {
                eprintln!("infersight: cannot read {}: {err}", input.display());
                return ExitCode::from(2);
            }
        }
    };
    let writer: Box<dyn Write> = match output {
        Some(path) => match File::create(path) {
            Ok(file) => Box::new(BufWriter::new(file)),
            Err(err) => {
                eprintln!("infersight: cannot write {}: {err}", path.display());
                return ExitCode::from(2);
            }
        },
        None => Box::new(BufWriter::new(io::stdout().lock())),
    };
    let result = match run {
        Run::Score { scorer } => quality::score_jsonl(scorer, reader, writer),
        Run::Drift => quality::drift_jsonl(reader, writer),
    };
    match result {
        Ok(summary) if summary.failed == 0 => ExitCode::SUCCESS,
        Ok(summary) => {
            eprintln!("infersight: {} of {} lines failed; see their \"error\" fields", summary.failed, summary.lines);
            ExitCode::FAILURE
        }
        Err(err) => {
            eprintln!("infersight: {err}");
            ExitCode::FAILURE
        }
    }
}
