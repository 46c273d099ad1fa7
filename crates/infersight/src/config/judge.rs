//! `[[quality.judge]]` and `[quality] rubric_files`: the LLM judges.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::{Problem, check, expand_env, parse_duration};

/// `[[quality.judge]]`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawJudge {
    /// Its name, the `judge` label of `infersight_judge_*`.
    pub name: String,
    /// A gateway upstream by name: its URL and key are used, and the
    /// judge's calls go to it directly, never through the gateway.
    #[serde(default)]
    pub upstream: Option<String>,
    /// Or the base URL of an OpenAI-compatible API, with `/v1`.
    #[serde(default)]
    pub url: Option<String>,
    /// The judge model.
    pub model: String,
    /// Bearer token, as `${ENV_VAR}`; the upstream's key when `upstream` is set.
    #[serde(default)]
    pub api_key: Option<String>,
    /// Rubrics by name: built-in ones, or those of `rubric_files`.
    #[serde(default = "default_rubrics")]
    pub rubrics: Vec<String>,
    /// Share of scored exchanges judged, per served model.
    #[serde(default = "default_sample_rate")]
    pub sample_rate: f64,
    /// Shares of particular served models.
    #[serde(default)]
    pub model_sample_rates: std::collections::BTreeMap<String, f64>,
    /// Calls in flight at once.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Longest wait for one judgement, retries included.
    #[serde(default = "default_timeout")]
    pub timeout: String,
    /// Tries after the first on 429, 5xx and broken connections.
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// Hard cap: calls started per minute.
    #[serde(default)]
    pub max_requests_per_minute: Option<u32>,
    /// Hard cap: input and output tokens per day (UTC).
    #[serde(default)]
    pub max_tokens_per_day: Option<u64>,
    /// Hard cap: dollars per day, from `price`.
    #[serde(default)]
    pub max_dollars_per_day: Option<f64>,
    /// The judge model's price.
    #[serde(default)]
    pub price: Option<judge::Price>,
    /// Ask for JSON output (`response_format`); turn off for servers that reject it.
    #[serde(default = "default_json_mode")]
    pub json_mode: bool,
}

fn default_rubrics() -> Vec<String> {
    vec!["relevance".to_string(), "helpfulness".to_string(), "safety".to_string()]
}
fn default_sample_rate() -> f64 {
    0.05
}
fn default_concurrency() -> usize {
    4
}
fn default_timeout() -> String {
    "30s".to_string()
}
fn default_retries() -> u32 {
    2
}
fn default_json_mode() -> bool {
    true
}

/// A judge as the runtime builds it: its client settings, rubrics and rates.
#[derive(Clone)]
pub struct JudgeSpec {
    /// The client's settings.
    pub config: judge::JudgeConfig,
    /// Its rubrics.
    pub rubrics: Vec<judge::Rubric>,
    /// Default share judged.
    pub sample_rate: f64,
    /// Shares of particular models.
    pub model_rates: HashMap<String, f64>,
}

impl std::fmt::Debug for JudgeSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JudgeSpec")
            .field("config", &self.config)
            .field("sample_rate", &self.sample_rate)
            .finish_non_exhaustive()
    }
}

/// A judge at `url` (with `/v1`) serving `model`, with every other setting
/// at the default of `[[quality.judge]]`: for running a judge without a
/// configuration file (`infersight judge-eval --url --model`).
pub fn default_judge(url: &str, model: &str) -> judge::JudgeConfig {
    judge::JudgeConfig {
        name: model.to_string(),
        url: url.to_string(),
        model: model.to_string(),
        api_key: None,
        concurrency: default_concurrency(),
        timeout: parse_duration(&default_timeout()).expect("the default timeout is a duration"),
        retries: default_retries(),
        limits: judge::Limits::default(),
        price: None,
        json_mode: default_json_mode(),
    }
}

/// The rubrics of `rubric_files` by name, after pushing a problem for each
/// file that cannot be read or is not a rubric.
pub(super) fn read_rubrics(
    rubric_files: &[std::path::PathBuf],
    problems: &mut Vec<Problem>,
) -> HashMap<String, judge::Rubric> {
    let mut custom: HashMap<String, judge::Rubric> = HashMap::new();
    for (i, path) in rubric_files.iter().enumerate() {
        let key = format!("quality.rubric_files[{i}]");
        let text = check(
            problems,
            &key,
            std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display())),
        );
        if let Some(rubric) =
            text.and_then(|text| check(problems, &key, judge::Rubric::parse(&text).map_err(|e| e.to_string())))
        {
            custom.insert(rubric.name.clone(), rubric);
        }
    }
    custom
}

/// The judges, or `None` after pushing each problem. A rubric of `custom`
/// (the rubric files') replaces the built-in one of its name;
/// `upstream_names` are the upstreams as written, valid or not.
pub(super) fn validate(
    raw: Vec<RawJudge>,
    custom: &HashMap<String, judge::Rubric>,
    gateway: Option<&proxy::GatewaySettings>,
    upstream_names: &[String],
    problems: &mut Vec<Problem>,
) -> Option<Vec<JudgeSpec>> {
    let before = problems.len();
    let mut specs = Vec::new();
    let mut names = std::collections::HashSet::new();
    for (i, raw) in raw.into_iter().enumerate() {
        let key = |field: &str| format!("quality.judge[{i}].{field}");
        if raw.name.is_empty() || !names.insert(raw.name.clone()) {
            problems.push(Problem { key: key("name"), message: format!("{:?} is empty or used twice", raw.name) });
        }
        let (url, upstream_key) = match (&raw.upstream, &raw.url) {
            (Some(name), None) => match gateway.and_then(|g| g.upstreams.iter().find(|u| &u.name == name)) {
                Some(upstream) => {
                    (Some(upstream.base_url.clone()), upstream.api_key.as_ref().map(|k| k.expose().to_string()))
                }
                // An upstream that is written but invalid has problems of its own.
                None if gateway.is_none() && upstream_names.contains(name) => (None, None),
                None => {
                    let missing = format!("no [[gateway.upstream]] is called {name:?}");
                    let message = match super::read::nearest(name, upstream_names) {
                        Some(near) => format!("{missing}; did you mean {near:?}?"),
                        None if upstream_names.is_empty() => format!("{missing}; none is configured"),
                        None => format!("{missing}; known: {}", upstream_names.join(", ")),
                    };
                    problems.push(Problem { key: key("upstream"), message });
                    (None, None)
                }
            },
            (None, Some(url)) if url.starts_with("http://") || url.starts_with("https://") => (Some(url.clone()), None),
            (None, Some(url)) => {
                problems.push(Problem { key: key("url"), message: format!("{url:?} is not an http(s) URL") });
                (None, None)
            }
            _ => {
                problems.push(Problem { key: key("url"), message: "set exactly one of upstream and url".to_string() });
                (None, None)
            }
        };
        let api_key = match &raw.api_key {
            Some(value) => check(problems, &key("api_key"), expand_env(value)),
            None => upstream_key,
        };
        let timeout = check(problems, &key("timeout"), parse_duration(&raw.timeout));
        let mut rate = |field: String, value: f64| {
            if !(0.0..=1.0).contains(&value) {
                problems.push(Problem { key: field, message: format!("{value} is not a share between 0 and 1") });
            }
        };
        rate(key("sample_rate"), raw.sample_rate);
        for (model, value) in &raw.model_sample_rates {
            rate(format!("{}.{model:?}", key("model_sample_rates")), *value);
        }
        if raw.concurrency == 0 {
            problems.push(Problem { key: key("concurrency"), message: "must be positive".to_string() });
        }
        if raw.max_dollars_per_day.is_some() && raw.price.is_none() {
            problems.push(Problem {
                key: key("max_dollars_per_day"),
                message: "needs a price to count dollars".to_string(),
            });
        }
        if raw.price.is_some_and(|p| !(p.input_per_million >= 0.0 && p.output_per_million >= 0.0)) {
            problems.push(Problem {
                key: key("price"),
                message: "prices are dollars per million tokens, not negative".to_string(),
            });
        }
        let mut rubrics = Vec::new();
        for (r, name) in raw.rubrics.iter().enumerate() {
            match custom.get(name).cloned().or_else(|| judge::Rubric::built_in(name)) {
                Some(rubric) if rubric.needs_reference => problems.push(Problem {
                    key: format!("{}[{r}]", key("rubrics")),
                    message: format!(
                        "{name:?} compares with a reference, which live traffic has none of; use it in probes"
                    ),
                }),
                Some(rubric) => rubrics.push(rubric),
                None => problems.push(Problem {
                    key: format!("{}[{r}]", key("rubrics")),
                    message: format!("no rubric is called {name:?}; built in: {}", judge::BUILT_IN.join(", ")),
                }),
            }
        }
        if let (Some(url), Some(timeout)) = (url, timeout) {
            specs.push(JudgeSpec {
                config: judge::JudgeConfig {
                    name: raw.name,
                    url,
                    model: raw.model,
                    api_key,
                    concurrency: raw.concurrency,
                    timeout,
                    retries: raw.retries,
                    limits: judge::Limits {
                        requests_per_minute: raw.max_requests_per_minute,
                        tokens_per_day: raw.max_tokens_per_day,
                        dollars_per_day: raw.max_dollars_per_day,
                    },
                    price: raw.price,
                    json_mode: raw.json_mode,
                },
                rubrics,
                sample_rate: raw.sample_rate,
                model_rates: raw.model_sample_rates.into_iter().collect(),
            });
        }
    }
    (problems.len() == before).then_some(specs)
}
