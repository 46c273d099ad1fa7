//! The `[[rule_files]]` and `[alerting]` sections of the config file, and
//! their validation into the settings the runtime uses.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// One `[[rule_files]]` entry: a glob of Prometheus rule files, or the
/// built-in rule pack.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFilesConfig {
    /// Rule files in Prometheus's YAML format; `*` and `?` may appear in the file name (`"rules/*.yml"`).
    pub path: Option<String>,
    /// Load the rule pack built into the binary (the repository's `rules/*.yml`) instead of `path`.
    #[serde(default)]
    pub builtin: bool,
    /// The evaluation interval of groups in these files that set none (default: `[alerting] evaluation_interval`).
    pub interval: Option<String>,
}

/// Where validated rules come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleSource {
    /// Files matching a glob pattern.
    Glob(String),
    /// The built-in rule pack.
    Builtin,
    /// Rules the binary wrote from its configuration (the cost rules of
    /// `[cost]`): a rule file's YAML, named `file` in problems and in the
    /// groups' keys.
    Generated {
        /// The name the groups are filed under, like `generated/cost.yml`.
        file: String,
        /// The rule file, in Prometheus's format.
        yaml: String,
    },
}

/// A validated `[[rule_files]]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleFiles {
    /// Where the rules are.
    pub source: RuleSource,
    /// The default interval of their groups.
    pub interval: Option<Duration>,
}

/// The `[alerting]` section.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertingConfig {
    /// Alertmanager base URLs (`http://alertmanager:9093`); alerts are posted to `<url>/api/v2/alerts`.
    pub alertmanagers: Vec<String>,
    /// URLs that receive Alertmanager's webhook JSON (version 4), for chat bridges and scripts.
    pub webhooks: Vec<String>,
    /// How often a firing alert is re-sent (Prometheus's `--rules.alert.resend-delay`).
    pub resend_delay: String,
    /// How often rule groups that set no interval are evaluated (Prometheus's `evaluation_interval`).
    pub evaluation_interval: String,
    /// The URL alerts link back to (`generatorURL`, `$externalURL`); default `http://<server listen>`.
    pub external_url: Option<String>,
    /// Labels added to every alert sent, and shown to templates as `$externalLabels`.
    pub external_labels: BTreeMap<String, String>,
    /// How long one request to a receiver may take.
    pub timeout: String,
    /// How many alerts wait for sending before the oldest are dropped.
    pub queue_capacity: usize,
    /// How many times a failed request is retried (with exponential backoff).
    pub max_retries: u32,
    /// The first retry's delay; each retry doubles it, up to 30 s.
    pub retry_backoff: String,
    /// How long after a restart alert state is restored from `ALERTS_FOR_STATE` (`--rules.alert.for-outage-tolerance`).
    pub outage_tolerance: String,
    /// The least time left to an alert's `for` after a restore (`--rules.alert.for-grace-period`).
    pub for_grace_period: String,
}

impl Default for AlertingConfig {
    fn default() -> Self {
        AlertingConfig {
            alertmanagers: Vec::new(),
            webhooks: Vec::new(),
            resend_delay: "1m".to_owned(),
            evaluation_interval: "1m".to_owned(),
            external_url: None,
            external_labels: BTreeMap::new(),
            timeout: "10s".to_owned(),
            queue_capacity: 10_000,
            max_retries: 3,
            retry_backoff: "500ms".to_owned(),
            outage_tolerance: "1h".to_owned(),
            for_grace_period: "10m".to_owned(),
        }
    }
}

/// The validated `[alerting]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertingSettings {
    /// Alertmanager base URLs.
    pub alertmanagers: Vec<String>,
    /// Webhook URLs.
    pub webhooks: Vec<String>,
    /// How often firing alerts are re-sent.
    pub resend_delay: Duration,
    /// The default group interval.
    pub evaluation_interval: Duration,
    /// The URL alerts link back to; empty until the binary sets it.
    pub external_url: String,
    /// Labels added to sent alerts.
    pub external_labels: BTreeMap<String, String>,
    /// The timeout of one request.
    pub timeout: Duration,
    /// The queue's capacity in alerts.
    pub queue_capacity: usize,
    /// Retries of a failed request.
    pub max_retries: u32,
    /// The first retry's delay.
    pub retry_backoff: Duration,
    /// Restore window after a restart.
    pub outage_tolerance: Duration,
    /// Grace period of restored `for` durations.
    pub for_grace_period: Duration,
}

impl Default for AlertingSettings {
    fn default() -> Self {
        AlertingConfig::default().validate("alerting").expect("the default alerting config is valid")
    }
}

/// A problem in the config: the key path and what is wrong.
pub type ConfigProblem = (String, String);

impl AlertingConfig {
    /// Checks every key; `prefix` is the section's key path (`"alerting"`).
    ///
    /// # Errors
    ///
    /// Every problem found, as (key path, message).
    pub fn validate(&self, prefix: &str) -> Result<AlertingSettings, Vec<ConfigProblem>> {
        let mut problems = Vec::new();
        let mut duration = |key: &str, text: &str| match series::parse_duration(text) {
            Ok(d) => d,
            Err(message) => {
                problems.push((format!("{prefix}.{key}"), message));
                Duration::ZERO
            }
        };
        let resend_delay = duration("resend_delay", &self.resend_delay);
        let evaluation_interval = duration("evaluation_interval", &self.evaluation_interval);
        let timeout = duration("timeout", &self.timeout);
        let retry_backoff = duration("retry_backoff", &self.retry_backoff);
        let outage_tolerance = duration("outage_tolerance", &self.outage_tolerance);
        let for_grace_period = duration("for_grace_period", &self.for_grace_period);
        if evaluation_interval.is_zero() && series::parse_duration(&self.evaluation_interval).is_ok() {
            problems.push((format!("{prefix}.evaluation_interval"), "must be greater than zero".to_owned()));
        }
        for (key, urls) in [("alertmanagers", &self.alertmanagers), ("webhooks", &self.webhooks)] {
            for (idx, url) in urls.iter().enumerate() {
                if reqwest::Url::parse(url).map_or(true, |u| !matches!(u.scheme(), "http" | "https")) {
                    problems.push((format!("{prefix}.{key}[{idx}]"), format!("{url:?} is not an http(s) URL")));
                }
            }
        }
        if let Some(url) = &self.external_url
            && reqwest::Url::parse(url).is_err()
        {
            problems.push((format!("{prefix}.external_url"), format!("{url:?} is not a URL")));
        }
        for name in self.external_labels.keys() {
            if !series::is_valid_label_name(name) {
                problems.push((format!("{prefix}.external_labels"), format!("invalid label name {name:?}")));
            }
        }
        if self.queue_capacity == 0 {
            problems.push((format!("{prefix}.queue_capacity"), "must be at least 1".to_owned()));
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(AlertingSettings {
            alertmanagers: self.alertmanagers.clone(),
            webhooks: self.webhooks.clone(),
            resend_delay,
            evaluation_interval,
            external_url: self.external_url.clone().unwrap_or_default(),
            external_labels: self.external_labels.clone(),
            timeout,
            queue_capacity: self.queue_capacity,
            max_retries: self.max_retries,
            retry_backoff,
            outage_tolerance,
            for_grace_period,
        })
    }
}

impl RuleFilesConfig {
    /// Checks the entry; `prefix` is its key path (`"rule_files[0]"`).
    ///
    /// # Errors
    ///
    /// Every problem found, as (key path, message).
    pub fn validate(&self, prefix: &str) -> Result<RuleFiles, Vec<ConfigProblem>> {
        let mut problems = Vec::new();
        let source = match (&self.path, self.builtin) {
            (Some(_), true) => {
                problems.push((prefix.to_owned(), "set either path or builtin = true, not both".to_owned()));
                RuleSource::Builtin
            }
            (None, false) => {
                problems.push((format!("{prefix}.path"), "missing: a rule file glob, or builtin = true".to_owned()));
                RuleSource::Builtin
            }
            (Some(path), false) => {
                if path.is_empty() {
                    problems.push((format!("{prefix}.path"), "must not be empty".to_owned()));
                }
                RuleSource::Glob(path.clone())
            }
            (None, true) => RuleSource::Builtin,
        };
        let interval = match &self.interval {
            None => None,
            Some(text) => match series::parse_duration(text) {
                Ok(d) if !d.is_zero() => Some(d),
                Ok(_) => {
                    problems.push((format!("{prefix}.interval"), "must be greater than zero".to_owned()));
                    None
                }
                Err(message) => {
                    problems.push((format!("{prefix}.interval"), message));
                    None
                }
            },
        };
        if problems.is_empty() { Ok(RuleFiles { source, interval }) } else { Err(problems) }
    }
}

/// Validates every `[[rule_files]]` entry.
///
/// # Errors
///
/// Every problem of every entry, as (key path, message).
pub fn validate_rule_files(entries: &[RuleFilesConfig]) -> Result<Vec<RuleFiles>, Vec<ConfigProblem>> {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (idx, entry) in entries.iter().enumerate() {
        match entry.validate(&format!("rule_files[{idx}]")) {
            Ok(files) => out.push(files),
            Err(mut found) => problems.append(&mut found),
        }
    }
    if problems.is_empty() { Ok(out) } else { Err(problems) }
}
