//! `[[probes]]`: golden probes asked of the gateway's models on an interval.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{Problem, check, loopback_if_unspecified, parse_duration};

/// `[[probes]]`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawProbe {
    /// Its name, the `probe` label.
    pub name: String,
    /// The served models to ask; every model the gateway's upstreams name
    /// exactly, when empty.
    #[serde(default)]
    pub models: Vec<String>,
    /// A JSONL dataset; the built-in probe set without one.
    #[serde(default)]
    pub dataset: Option<PathBuf>,
    /// Time between runs.
    #[serde(default = "default_interval")]
    pub interval: String,
    /// Items asked of each model per run; all of them without it.
    #[serde(default)]
    pub items_per_run: Option<usize>,
    /// Longest wait for one answer.
    #[serde(default = "default_timeout")]
    pub timeout: String,
    /// The `[[quality.judge]]` that judges items with a `rubric`.
    #[serde(default)]
    pub judge: Option<String>,
}

fn default_interval() -> String {
    "5m".into()
}
fn default_timeout() -> String {
    "60s".into()
}

/// The probes as the runtime builds them, and how they reach the gateway.
#[derive(Debug, Clone)]
pub struct Probes {
    /// The probes.
    pub specs: Vec<probe::ProbeSpec>,
    /// The gateway's base URL, with `/v1`.
    pub gateway_url: String,
    /// A key of the gateway's, when it wants one.
    pub api_key: Option<String>,
    /// Per probe, in the order of `specs`: the judge (by name) of its
    /// rubric items and the rubrics they name; the runtime joins them with
    /// the judge it builds for the pipeline, so both share its budget.
    pub judged: Vec<Option<(String, Vec<judge::Rubric>)>>,
}

/// What the probes' rubric items may name: the validated judges (`None`
/// when they had problems of their own) and the rubric files' rubrics.
pub(super) struct Judging<'a> {
    pub(super) judges: Option<&'a [super::judge::JudgeSpec]>,
    pub(super) rubrics: &'a std::collections::HashMap<String, judge::Rubric>,
}

/// The probes, or `None` after pushing each problem. A dataset's bad lines
/// are not problems: they are skipped and counted at run time.
pub(super) fn validate(
    raw: Vec<RawProbe>,
    gateway: Option<&proxy::GatewaySettings>,
    judging: &Judging<'_>,
    problems: &mut Vec<Problem>,
) -> Option<Option<Probes>> {
    if raw.is_empty() {
        return Some(None);
    }
    let Some(gateway) = gateway else {
        problems.push(Problem {
            key: "probes".into(),
            message: "probes go through the gateway: configure [gateway] with at least one [[gateway.upstream]]".into(),
        });
        return None;
    };
    let before = problems.len();
    let served: Vec<String> = gateway
        .upstreams
        .iter()
        .flat_map(|upstream| upstream.models.iter().filter_map(|model| model.literal().map(str::to_owned)))
        .collect();
    let mut names = std::collections::HashSet::new();
    let mut specs = Vec::new();
    let mut judged = Vec::new();
    for (i, raw) in raw.into_iter().enumerate() {
        let key = |field: &str| format!("probes[{i}].{field}");
        if raw.name.is_empty() || !names.insert(raw.name.clone()) {
            problems.push(Problem { key: key("name"), message: format!("{:?} is empty or used twice", raw.name) });
        }
        let interval = check(problems, &key("interval"), parse_duration(&raw.interval));
        let timeout = check(problems, &key("timeout"), parse_duration(&raw.timeout));
        for (field, value) in [("interval", interval), ("timeout", timeout)] {
            if value.is_some_and(|value| value.is_zero()) {
                problems.push(Problem { key: key(field), message: "must be positive".into() });
            }
        }
        let dataset = match &raw.dataset {
            None => Some(probe::Dataset::default_set()),
            Some(path) => check(
                problems,
                &key("dataset"),
                std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display())),
            )
            .map(|text| probe::Dataset::parse(&text)),
        };
        if let Some(dataset) = &dataset
            && dataset.items.is_empty()
        {
            let first = dataset.errors.first().map_or_else(String::new, |error| format!(" ({error})"));
            problems.push(Problem { key: key("dataset"), message: format!("holds no valid item{first}") });
        }
        let models = if raw.models.is_empty() { served.clone() } else { raw.models };
        if models.is_empty() {
            problems.push(Problem {
                key: key("models"),
                message: "no model to ask: name them, or give the gateway's upstreams exact model names".into(),
            });
        }
        if raw.items_per_run == Some(0) {
            problems.push(Problem { key: key("items_per_run"), message: "must be positive".into() });
        }
        let judge = dataset.as_ref().and_then(|dataset| probe_judge(&raw.judge, dataset, judging, &key, problems));
        if let (Some(interval), Some(timeout), Some(dataset)) = (interval, timeout, dataset) {
            judged.push(judge);
            specs.push(probe::ProbeSpec {
                name: raw.name,
                models,
                items_per_run: raw.items_per_run.unwrap_or(dataset.items.len()),
                dataset,
                interval,
                timeout,
                judge: None,
            });
        }
    }
    if problems.len() > before {
        return None;
    }
    Some(Some(Probes {
        specs,
        gateway_url: format!("http://{}/v1", loopback_if_unspecified(gateway.listen)),
        api_key: gateway.api_keys.first().map(|key| key.expose().to_owned()),
        judged,
    }))
}

/// The judge of a probe's rubric items and their rubrics, after pushing a
/// problem for an unknown judge or rubric, or rubric items without a judge.
fn probe_judge(
    judge: &Option<String>,
    dataset: &probe::Dataset,
    judging: &Judging<'_>,
    key: &dyn Fn(&str) -> String,
    problems: &mut Vec<Problem>,
) -> Option<(String, Vec<judge::Rubric>)> {
    let mut names: Vec<&str> = dataset.items.iter().filter_map(|item| item.rubric.as_deref()).collect();
    names.sort_unstable();
    names.dedup();
    let Some(judge) = judge else {
        if let Some(first) = names.first() {
            problems.push(Problem {
                key: key("judge"),
                message: format!(
                    "the dataset's items name rubrics ({first}, ...): name a [[quality.judge]] to judge them"
                ),
            });
        }
        return None;
    };
    if let Some(judges) = judging.judges
        && !judges.iter().any(|spec| spec.config.name == *judge)
    {
        let known: Vec<&str> = judges.iter().map(|spec| spec.config.name.as_str()).collect();
        problems.push(Problem {
            key: key("judge"),
            message: format!("no [[quality.judge]] is called {judge:?} (configured: {})", known.join(", ")),
        });
    }
    let mut rubrics = Vec::new();
    for name in names {
        match judging.rubrics.get(name).cloned().or_else(|| judge::Rubric::built_in(name)) {
            Some(rubric) => rubrics.push(rubric),
            None => problems.push(Problem {
                key: key("dataset"),
                message: format!(
                    "an item names rubric {name:?}, which is neither built in ({}) nor in rubric_files",
                    judge::BUILT_IN.join(", ")
                ),
            }),
        }
    }
    Some((judge.clone(), rubrics))
}
