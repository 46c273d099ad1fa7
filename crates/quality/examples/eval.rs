//! Prints precision, recall, F1 and AUROC per scorer on labelled JSONL sets:
//! `cargo run -p quality --example eval --release -- testdata/quality`;
//! set `QUALITY_EVAL_MISSES=1` to list the misclassified ids.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let dir = std::env::args_os().nth(1).map_or_else(|| PathBuf::from("testdata/quality"), PathBuf::from);
    match quality::eval::run(&dir) {
        Ok(report) => {
            print!("{report}");
            if std::env::var_os("QUALITY_EVAL_MISSES").is_some() {
                for row in &report.scorers {
                    println!("{} misses: {}", row.scorer, row.misses.join(" "));
                }
            }
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("evaluation failed on {}: {err}", dir.display());
            ExitCode::FAILURE
        }
    }
}
