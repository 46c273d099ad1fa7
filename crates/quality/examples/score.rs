//! Runs one scorer over JSONL on stdin, as `infersight score` will:
//! `cargo run -p quality --example score -- pii < input.jsonl`.

use std::io::{self, BufWriter};
use std::process::ExitCode;

fn main() -> ExitCode {
    let scorer = std::env::args().nth(1).unwrap_or_else(|| "pii".to_string());
    let stdin = io::stdin().lock();
    let stdout = BufWriter::new(io::stdout().lock());
    let result = if scorer == "drift" {
        quality::drift_jsonl(stdin, stdout)
    } else {
        quality::score_jsonl(&scorer, stdin, stdout)
    };
    match result {
        Ok(summary) if summary.failed == 0 => ExitCode::SUCCESS,
        Ok(summary) => {
            eprintln!("{} of {} lines failed", summary.failed, summary.lines);
            ExitCode::FAILURE
        }
        Err(err) => {
            eprintln!("scoring failed: {err}");
            ExitCode::FAILURE
        }
    }
}
