//! Evaluates the default rule pack over a store on disk, as the rule manager
//! would every interval, and reports what it costs: the wall and CPU time
//! of each 30-second interval's group evaluations, and that CPU as a share
//! of one core.
//!
//! ```text
//! cargo run --release -p rules --example pack_over_tsdb -- --data DIR --at UNIX_MS [--minutes 10]
//! ```
//!
//! `--at` is the newest time of the data (the end of a peerbench data set):
//! the pack is evaluated on its grid over the `--minutes` before it, after
//! one warm-up interval. `scripts/rules-bench.sh` loads the peerbench data
//! set through remote write and runs this.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rules::{Manager, ManagerOptions, RuleMetrics};

const INTERVAL_MS: i64 = 30_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut data = None;
    let mut at = None;
    let mut minutes = 10i64;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--data" => data = Some(PathBuf::from(value()?)),
            "--at" => at = Some(value()?.parse::<i64>()?),
            "--minutes" => minutes = value()?.parse()?,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let (Some(data), Some(at)) = (data, at) else {
        return Err("usage: pack_over_tsdb --data DIR --at UNIX_MS [--minutes N]".into());
    };

    let opened = Instant::now();
    let mut registry = prometheus_client::registry::Registry::default();
    let db = Arc::new(tsdb::Db::open(&data, tsdb::Options::default(), tsdb::Metrics::new(&mut registry))?);
    let stats = db.stats();
    println!(
        "store: {} head series, {} head samples, {} blocks ({} samples), opened in {:.1} s",
        stats.head_series,
        stats.head_samples,
        stats.blocks,
        stats.block_samples,
        opened.elapsed().as_secs_f64()
    );
    let options = ManagerOptions { restore_for_state: false, ..ManagerOptions::default() };
    let manager = Manager::new(db.clone(), db.clone(), options, RuleMetrics::unregistered());
    let groups = rules::pack::groups()?;
    let rules: usize = groups.iter().map(|g| g.rules.len()).sum();
    println!("pack: {} groups, {rules} rules", groups.len());
    manager.set_groups(groups);

    let start = at - minutes * 60_000;
    manager.evaluate_between(start - INTERVAL_MS, start);
    let mut walls = Vec::new();
    let mut cpus = Vec::new();
    let mut t = start;
    while t < at {
        let (wall, cpu) = (Instant::now(), cpu_time());
        let evaluations = manager.evaluate_between(t, t + INTERVAL_MS);
        let (wall, cpu) = (wall.elapsed(), cpu_time().saturating_sub(cpu));
        println!(
            "interval ending {}: {evaluations} group evaluations, wall {:.3} s, CPU {:.3} s",
            t + INTERVAL_MS,
            wall.as_secs_f64(),
            cpu.as_secs_f64()
        );
        walls.push(wall.as_secs_f64());
        cpus.push(cpu.as_secs_f64());
        t += INTERVAL_MS;
    }
    let status = rules::rules_data(&manager, None)?;
    let failing: Vec<String> = status
        .groups
        .iter()
        .flat_map(|g| g.rules.iter())
        .filter(|r| r.health != "ok")
        .map(|r| format!("{}: {}", r.name, r.last_error.clone().unwrap_or_default()))
        .collect();
    let querier = series::Queryable::querier(&*db)?;
    let engine = promql::Engine::new(promql::EngineOptions::default());
    let (recorded, _) =
        engine.instant_query(querier.as_ref(), r#"count by (__name__) ({__name__=~"infersight:.+"})"#, at)?;
    if let promql::Value::Vector(counts) = recorded {
        let total: f64 = counts.iter().map(|s| s.v).sum();
        println!("recorded at the end: {total} series of {} recording-rule names", counts.len());
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (wall_max, cpu_max) = (walls.iter().copied().fold(0.0, f64::max), cpus.iter().copied().fold(0.0, f64::max));
    let cpu_total: f64 = cpus.iter().sum();
    println!();
    println!("| per 30 s interval ({} intervals) | median | max |", walls.len());
    println!("|---|---:|---:|");
    println!("| evaluation wall time | {:.3} s | {:.3} s |", median(&mut walls), wall_max);
    println!("| evaluation CPU time | {:.3} s | {:.3} s |", median(&mut cpus), cpu_max);
    println!(
        "| share of one core | {:.1} % | {:.1} % |",
        100.0 * cpu_total / (cpus.len() as f64 * INTERVAL_MS as f64 / 1000.0),
        100.0 * cpu_max / (INTERVAL_MS as f64 / 1000.0)
    );
    if !failing.is_empty() {
        println!("rules with errors: {}", failing.join("; "));
    }
    Ok(())
}

/// This process's user and system CPU time, from `/proc/self/stat` (Linux).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The command name may hold spaces: the fields after it start past the last ')'.
    let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, rest)| rest).split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name; 100 ticks per second.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}
