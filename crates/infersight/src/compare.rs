//! `infersight compare`: two cohorts side by side from a running server's compare API, as a table or JSON, with a deploy gate.
//!
//! The command asks `GET /api/v1/infersight/compare` and prints what it
//! answers; the statistics are the server's (crate `compare`). With
//! `--fail-if-worse`, the exit status gates a deploy: 1 when B is
//! significantly worse (after Holm's correction among the listed metrics,
//! which the server corrects as a family of their own) on a listed metric, or
//! when there is no answer to gate on; 0 otherwise.

use std::fmt::Write as _;

use anyhow::{Context, bail};
use serde_json::Value;

/// What `infersight compare` was asked.
#[derive(Debug, Clone, Default)]
pub(crate) struct Args {
    pub(crate) a: String,
    pub(crate) b: Option<String>,
    pub(crate) start: Option<String>,
    pub(crate) end: Option<String>,
    pub(crate) range: Option<String>,
    pub(crate) a_start: Option<String>,
    pub(crate) a_end: Option<String>,
    pub(crate) b_start: Option<String>,
    pub(crate) b_end: Option<String>,
    pub(crate) url: String,
    pub(crate) json: bool,
    pub(crate) fail_if_worse: Vec<String>,
}

/// How the command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Compared; B is not significantly worse on any gated metric.
    Passed,
    /// B is significantly worse on a gated metric.
    Worse,
}

/// Asks the server, prints the answer, and says whether the gate passed.
///
/// # Errors
///
/// When the server cannot be reached or answers with an error (its
/// message is the error's), or a gated metric is not in the comparison.
pub(crate) fn run(args: &Args) -> anyhow::Result<Outcome> {
    let body = fetch(args)?;
    let data = &body["data"];
    if args.json {
        println!("{}", serde_json::to_string_pretty(data).context("writing JSON")?);
    } else {
        print!("{}", table(data));
    }
    gate(data, &args.fail_if_worse)
}

/// The URL of the compare API for these arguments.
pub(crate) fn request_url(args: &Args) -> anyhow::Result<url::Url> {
    let mut url = url::Url::parse(&args.url)
        .with_context(|| format!("--url {:?} is not a URL", args.url))?
        .join("/api/v1/infersight/compare")
        .context("joining the API path")?;
    {
        let mut query = url.query_pairs_mut();
        query.append_pair("a", &args.a);
        let optional = [
            ("b", &args.b),
            ("start", &args.start),
            ("end", &args.end),
            ("range", &args.range),
            ("a_start", &args.a_start),
            ("a_end", &args.a_end),
            ("b_start", &args.b_start),
            ("b_end", &args.b_end),
        ];
        for (name, value) in optional {
            if let Some(value) = value {
                query.append_pair(name, value);
            }
        }
        // The gated metrics are a Holm family of their own, so that a gate
        // on one metric is not diluted by every score beside it.
        if !args.fail_if_worse.is_empty() {
            query.append_pair("gate", &args.fail_if_worse.join(","));
        }
    }
    Ok(url)
}

fn fetch(args: &Args) -> anyhow::Result<Value> {
    let url = request_url(args)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().context("starting a runtime")?;
    let (status, text) = runtime.block_on(async {
        let response = reqwest::Client::new()
            .get(url.clone())
            .timeout(std::time::Duration::from_secs(60))
            .send()
            .await
            .with_context(|| format!("asking {url}"))?;
        let status = response.status();
        let text = response.text().await.with_context(|| format!("reading the answer of {url}"))?;
        anyhow::Ok((status, text))
    })?;
    let body: Value = serde_json::from_str(&text)
        .with_context(|| format!("{url} answered {status} with something other than JSON"))?;
    if body["status"] != "success" {
        let message = body["error"].as_str().unwrap_or("no message");
        bail!("the server could not compare ({status}, {}): {message}", body["errorType"].as_str().unwrap_or("?"));
    }
    Ok(body)
}

/// `Worse` when a metric of `gated` has the verdict `worse`.
///
/// # Errors
///
/// When a gated metric is not in the comparison (a typo, or a scorer the
/// cohorts have no scores of), naming those that are.
pub(crate) fn gate(data: &Value, gated: &[String]) -> anyhow::Result<Outcome> {
    let metrics = data["metrics"].as_array().map(Vec::as_slice).unwrap_or_default();
    let mut worse = false;
    for name in gated {
        let Some(metric) = metrics.iter().find(|m| m["name"] == name.as_str()) else {
            let known: Vec<&str> = metrics.iter().filter_map(|m| m["name"].as_str()).collect();
            bail!("--fail-if-worse {name}: no such metric in this comparison; it has {}", known.join(", "));
        };
        worse |= metric["verdict"] == "worse";
    }
    Ok(if worse { Outcome::Worse } else { Outcome::Passed })
}

/// The comparison as a table: one line per metric.
pub(crate) fn table(data: &Value) -> String {
    let cohort = |c: &Value| {
        format!(
            "{} ({} requests, {} to {})",
            c["selector"].as_str().unwrap_or("?"),
            c["requests"].as_f64().map_or("?".to_owned(), |n| format!("{n:.0}")),
            time(c["start"].as_f64()),
            time(c["end"].as_f64()),
        )
    };
    let mut out = String::new();
    let _ = writeln!(out, "A: {}", cohort(&data["a"]));
    let _ = writeln!(out, "B: {}", cohort(&data["b"]));
    let gate: Vec<&str> =
        data["gate"].as_array().map(|g| g.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    let family = if gate.is_empty() {
        "over the tested metrics".to_owned()
    } else {
        format!("within the gate ({}) and within the other tested metrics", gate.join(", "))
    };
    let _ = writeln!(
        out,
        "{}, blocks of {} s, 95 % intervals, p-values Holm-corrected {family} (α = {})",
        if data["paired"] == true { "paired (same range)" } else { "unpaired (two windows)" },
        data["step_seconds"].as_f64().unwrap_or_default(),
        data["options"]["alpha"].as_f64().unwrap_or(0.05),
    );
    let header = ["metric", "A", "B", "B − A", "95 % interval", "p (Holm)", "verdict"];
    let mut rows: Vec<[String; 7]> = vec![header.map(str::to_owned)];
    for metric in data["metrics"].as_array().map(Vec::as_slice).unwrap_or_default() {
        let unit = metric["unit"].as_str().unwrap_or_default();
        let number = |key: &str| metric[key].as_f64().map_or("-".to_owned(), |v| value(v, unit, false));
        let difference = match (metric["difference"].as_f64(), metric["relative_difference"].as_f64()) {
            (Some(d), Some(r)) => format!("{} ({:+.1} %)", value(d, unit, true), r * 100.0),
            (Some(d), None) => value(d, unit, true),
            _ => "-".to_owned(),
        };
        let interval = match (metric["ci_low"].as_f64(), metric["ci_high"].as_f64()) {
            (Some(low), Some(high)) => format!("[{}, {}]", value(low, unit, true), value(high, unit, true)),
            _ => "-".to_owned(),
        };
        let p = metric["p_adjusted"]
            .as_f64()
            .map_or("-".to_owned(), |p| if p < 0.001 { "<0.001".to_owned() } else { format!("{p:.3}") });
        rows.push([
            metric["name"].as_str().unwrap_or("?").to_owned(),
            number("a"),
            number("b"),
            difference,
            interval,
            p,
            verdict(metric, unit),
        ]);
    }
    let widths: Vec<usize> = (0..7).map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0)).collect();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (cell, width))| if i == 6 { cell.clone() } else { format!("{cell:<width$}") })
            .collect();
        let _ = writeln!(out, "{}", cells.join("  ").trim_end());
    }
    out
}

/// The verdict cell: the server's words, with the minimum detectable effect in the metric's unit.
fn verdict(metric: &Value, unit: &str) -> String {
    match metric["verdict"].as_str().unwrap_or("?") {
        "no_detectable_difference" => match metric["min_detectable_effect"].as_f64() {
            Some(mde) => format!("no detectable difference (MDE {})", value(mde, unit, false)),
            None => "no detectable difference".to_owned(),
        },
        "better" | "worse" => metric["verdict"].as_str().unwrap_or_default().to_owned(),
        _ => metric["reason"].as_str().unwrap_or("not tested").to_owned(),
    }
}

/// A value in its unit: seconds as ms below one second, ratios as percentages, dollars with `$`.
fn value(v: f64, unit: &str, signed: bool) -> String {
    let sign = if signed && v > 0.0 { "+" } else { "" };
    match unit {
        "seconds" if v.abs() < 1.0 => format!("{sign}{} ms", significant(v * 1000.0)),
        "seconds" => format!("{sign}{} s", significant(v)),
        "ratio" => format!("{sign}{} %", significant(v * 100.0)),
        "dollars" if v < 0.0 => format!("-${}", significant(-v)),
        "dollars" => format!("{sign}${}", significant(v)),
        _ => format!("{sign}{}", significant(v)),
    }
}

/// Three significant digits.
fn significant(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let digits = (2 - v.abs().log10().floor() as i32).max(0) as usize;
    format!("{v:.digits$}")
}

/// Unix seconds as RFC 3339 (UTC, whole seconds).
fn time(seconds: Option<f64>) -> String {
    seconds
        .and_then(|s| chrono::DateTime::from_timestamp(s as i64, 0))
        .map_or_else(|| "?".to_owned(), |t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

#[cfg(test)]
mod tests;
