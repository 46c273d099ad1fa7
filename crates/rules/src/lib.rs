//! Recording and alerting rules with Prometheus's semantics, and notifications.
//!
//! Rule files keep Prometheus's YAML format ([`file`](mod@file)), templates its Go
//! template subset ([`template`]). A [`Manager`] evaluates each group on its
//! interval through [`promql::Engine`] over a [`series::Queryable`] and
//! appends the results through a [`series::Appendable`], one batch per
//! group evaluation: recording rules write their series, alerting rules
//! write `ALERTS` and `ALERTS_FOR_STATE` and move alerts through pending,
//! firing and resolved, restoring their state after a restart. Alerts go
//! to a [`Notifier`], which posts them to Alertmanagers and webhooks
//! without ever blocking evaluation. [`Manager::router`] answers
//! `/api/v1/rules` and `/api/v1/alerts`; [`unittest`] runs rule tests in
//! `promtool test rules` format; [`pack`] is the built-in rule pack.
//!
//! The crate knows nothing of the config file or the binary's server: the
//! binary validates [`AlertingConfig`] and [`RuleFilesConfig`], builds the
//! manager and notifier, spawns their `run`, and merges the router.
#![warn(missing_docs)]

mod api;
mod config;
mod error;
pub mod file;
mod group;
mod manager;
mod metrics;
mod notify;
pub mod pack;
pub mod template;
pub mod unittest;

pub use api::{AlertInfo, AlertsData, GroupInfo, RuleInfo, RulesData, alerts_data, rules_data};
pub use config::{
    AlertingConfig, AlertingSettings, ConfigProblem, RuleFiles, RuleFilesConfig, RuleSource, validate_rule_files,
};
pub use error::{Error, Position, Problem, Result};
pub use file::{GroupSpec, RuleKind, RuleSpec};
pub use group::{Alert, AlertState, Health};
pub use manager::{Clock, Manager, ManagerOptions};
pub use metrics::{NotifyMetrics, RuleMetrics};
pub use notify::{Notification, Notifier, alertmanager_body, generator_url, webhook_bodies};
