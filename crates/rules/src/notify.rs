//! Notifications: sending firing and resolved alerts to Alertmanagers
//! (API v2) and to webhooks (Alertmanager's webhook JSON).
//!
//! Rule evaluation hands alerts to [`Notifier::send`], which never blocks:
//! it appends to a bounded queue and, when the queue is full, drops the
//! oldest alerts and counts them (as Prometheus's notifier does).
//! [`Notifier::run`] drains the queue in batches and posts each batch to
//! every receiver, retrying with exponential backoff.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use parking_lot::Mutex;
use serde::Serialize;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::config::AlertingSettings;
use crate::error::{Error, Result};
use crate::group::{Alert, AlertState};
use crate::metrics::{NotifyMetrics, ReceiverLabel};

/// One alert as sent to receivers.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// The alert's labels, with the external labels added (the alert's win).
    pub labels: BTreeMap<String, String>,
    /// The expanded annotations.
    pub annotations: BTreeMap<String, String>,
    /// When the alert started firing, in milliseconds.
    pub starts_at_ms: i64,
    /// When it resolved or, while it fires, until when this notification is valid.
    pub ends_at_ms: i64,
    /// Whether it has resolved.
    pub resolved: bool,
    /// A link to the rule's expression in the dashboard.
    pub generator_url: String,
}

impl Notification {
    pub(crate) fn of(
        alert: &Alert,
        expr: &str,
        external_labels: &BTreeMap<String, String>,
        external_url: &str,
        t_ms: i64,
    ) -> Notification {
        let mut labels = external_labels.clone();
        labels.extend(alert.labels.iter().map(|l| (l.name.to_owned(), l.value.to_owned())));
        let resolved = alert.state == AlertState::Inactive;
        Notification {
            labels,
            annotations: alert.annotations.clone(),
            starts_at_ms: alert.fired_at_ms.unwrap_or(alert.active_at_ms),
            ends_at_ms: alert.resolved_at_ms.filter(|_| resolved).unwrap_or(alert.valid_until_ms),
            resolved,
            generator_url: generator_url(external_url, expr, alert.active_at_ms, t_ms),
        }
    }
}

/// The dashboard's explore view of `expr` from an hour before the alert
/// became active until `to_ms`: `<external_url>/#/explore?query=...&from=<ms>&to=<ms>`.
pub fn generator_url(external_url: &str, expr: &str, active_at_ms: i64, to_ms: i64) -> String {
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("query", expr)
        .append_pair("from", &(active_at_ms - 3_600_000).to_string())
        .append_pair("to", &to_ms.to_string())
        .finish();
    format!("{}/#/explore?{query}", external_url.trim_end_matches('/'))
}

/// The queue between rule evaluation and the receivers. Cloning shares it.
#[derive(Debug, Clone)]
pub struct Notifier {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    settings: AlertingSettings,
    queue: Mutex<VecDeque<Notification>>,
    wake: Notify,
    metrics: NotifyMetrics,
    client: reqwest::Client,
}

/// The most alerts in one request, as Prometheus's `maxBatchSize`.
const MAX_BATCH: usize = 64;

impl Notifier {
    /// A notifier for `settings` that counts in `metrics`.
    ///
    /// # Errors
    ///
    /// [`Error::Client`] when the HTTP client cannot be built.
    pub fn new(settings: AlertingSettings, metrics: NotifyMetrics) -> Result<Notifier> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("infersight/", env!("CARGO_PKG_VERSION")))
            .timeout(settings.timeout)
            .build()
            .map_err(|source| Error::Client { source })?;
        metrics.queue_capacity.set(settings.queue_capacity as i64);
        Ok(Notifier {
            shared: Arc::new(Shared {
                settings,
                queue: Mutex::new(VecDeque::new()),
                wake: Notify::new(),
                metrics,
                client,
            }),
        })
    }

    /// Queues alerts; drops the oldest queued ones when the queue is full. Never blocks.
    pub fn send(&self, alerts: Vec<Notification>) {
        if alerts.is_empty() {
            return;
        }
        let capacity = self.shared.settings.queue_capacity.max(1);
        let mut queue = self.shared.queue.lock();
        let mut dropped = 0;
        for alert in alerts {
            if queue.len() >= capacity {
                queue.pop_front();
                dropped += 1;
            }
            queue.push_back(alert);
        }
        self.shared.metrics.queue_length.set(queue.len() as i64);
        drop(queue);
        if dropped > 0 {
            self.shared.metrics.dropped.inc_by(dropped);
            warn!(dropped, "Alert notification queue full, dropping alerts");
        }
        self.shared.wake.notify_one();
    }

    /// The number of queued alerts.
    pub fn queue_len(&self) -> usize {
        self.shared.queue.lock().len()
    }

    fn next_batch(&self) -> Vec<Notification> {
        let mut queue = self.shared.queue.lock();
        let n = queue.len().min(MAX_BATCH);
        let batch: Vec<Notification> = queue.drain(..n).collect();
        self.shared.metrics.queue_length.set(queue.len() as i64);
        batch
    }

    /// Sends queued alerts until `shutdown` fires; then sends what is left once.
    pub async fn run(self, shutdown: CancellationToken) {
        info!(
            alertmanagers = self.shared.settings.alertmanagers.len(),
            webhooks = self.shared.settings.webhooks.len(),
            "Notifier started"
        );
        loop {
            let batch = self.next_batch();
            if batch.is_empty() {
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = self.shared.wake.notified() => continue,
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = self.deliver(&batch) => {}
            }
        }
        let batch = self.next_batch();
        if !batch.is_empty() {
            let _ = tokio::time::timeout(self.shared.settings.timeout, self.deliver(&batch)).await;
        }
        info!("Notifier stopped");
    }

    /// Posts one batch to every receiver at once.
    async fn deliver(&self, batch: &[Notification]) {
        let settings = &self.shared.settings;
        let alertmanager_body = alertmanager_body(batch);
        let mut sends = Vec::new();
        for url in &settings.alertmanagers {
            let endpoint = format!("{}/api/v2/alerts", url.trim_end_matches('/'));
            sends.push((url.clone(), endpoint, alertmanager_body.clone(), batch.len()));
        }
        for url in &settings.webhooks {
            for (body, n) in webhook_bodies(batch, &settings.external_url) {
                sends.push((url.clone(), url.clone(), body, n));
            }
        }
        let mut tasks = tokio::task::JoinSet::new();
        for (receiver, endpoint, body, n) in sends {
            let notifier = self.clone();
            tasks.spawn(async move {
                let label = ReceiverLabel { receiver };
                match notifier.post_with_retries(&endpoint, body).await {
                    Ok(()) => {
                        notifier.shared.metrics.sent.get_or_create(&label).inc_by(n as u64);
                    }
                    Err(message) => {
                        notifier.shared.metrics.errors.get_or_create(&label).inc_by(n as u64);
                        warn!(receiver = %label.receiver, error = %message, "Sending alerts failed");
                    }
                }
            });
        }
        while tasks.join_next().await.is_some() {}
    }

    async fn post_with_retries(&self, url: &str, body: String) -> Result<(), String> {
        let settings = &self.shared.settings;
        let mut backoff = settings.retry_backoff;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self
                .shared
                .client
                .post(url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone())
                .send()
                .await;
            let message = match result {
                Ok(response) if response.status().is_success() => {
                    debug!(url, attempt, "Alerts sent");
                    return Ok(());
                }
                Ok(response) if response.status().is_client_error() => {
                    return Err(format!("bad response status {}", response.status()));
                }
                Ok(response) => format!("bad response status {}", response.status()),
                Err(error) => error.to_string(),
            };
            if attempt > settings.max_retries {
                return Err(message);
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(30));
        }
    }
}

fn rfc3339(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default().to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PostableAlert<'a> {
    starts_at: String,
    ends_at: String,
    labels: &'a BTreeMap<String, String>,
    annotations: &'a BTreeMap<String, String>,
    #[serde(rename = "generatorURL")]
    generator_url: &'a str,
}

/// The body of `POST /api/v2/alerts`: a JSON array of postable alerts.
pub fn alertmanager_body(batch: &[Notification]) -> String {
    let alerts: Vec<PostableAlert<'_>> = batch
        .iter()
        .map(|n| PostableAlert {
            starts_at: rfc3339(n.starts_at_ms),
            ends_at: rfc3339(n.ends_at_ms),
            labels: &n.labels,
            annotations: &n.annotations,
            generator_url: &n.generator_url,
        })
        .collect();
    serde_json::to_string(&alerts).expect("alerts serialize to JSON")
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct WebhookMessage<'a> {
    version: &'static str,
    group_key: String,
    truncated_alerts: usize,
    status: &'static str,
    receiver: &'static str,
    group_labels: BTreeMap<String, String>,
    common_labels: BTreeMap<String, String>,
    common_annotations: BTreeMap<String, String>,
    #[serde(rename = "externalURL")]
    external_url: &'a str,
    alerts: Vec<WebhookAlert<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct WebhookAlert<'a> {
    status: &'static str,
    labels: &'a BTreeMap<String, String>,
    annotations: &'a BTreeMap<String, String>,
    starts_at: String,
    ends_at: String,
    #[serde(rename = "generatorURL")]
    generator_url: &'a str,
    fingerprint: String,
}

/// Webhook messages in Alertmanager's format (version 4), one per alert
/// name in the batch (as an Alertmanager route grouped by `alertname`
/// sends them), each with the number of alerts it holds.
pub fn webhook_bodies(batch: &[Notification], external_url: &str) -> Vec<(String, usize)> {
    let mut by_name: BTreeMap<&str, Vec<&Notification>> = BTreeMap::new();
    for n in batch {
        by_name.entry(n.labels.get("alertname").map_or("", String::as_str)).or_default().push(n);
    }
    by_name
        .into_iter()
        .map(|(name, alerts)| {
            let common = |pick: fn(&Notification) -> &BTreeMap<String, String>| {
                let mut common = pick(alerts[0]).clone();
                for alert in &alerts[1..] {
                    common.retain(|k, v| pick(alert).get(k) == Some(v));
                }
                common
            };
            let group_labels: BTreeMap<String, String> = [("alertname".to_owned(), name.to_owned())].into();
            let status = if alerts.iter().any(|a| !a.resolved) { "firing" } else { "resolved" };
            let message = WebhookMessage {
                version: "4",
                group_key: format!("{{}}:{{alertname={name:?}}}"),
                truncated_alerts: 0,
                status,
                receiver: "infersight",
                group_labels,
                common_labels: common(|n| &n.labels),
                common_annotations: common(|n| &n.annotations),
                external_url,
                alerts: alerts
                    .iter()
                    .map(|n| WebhookAlert {
                        status: if n.resolved { "resolved" } else { "firing" },
                        labels: &n.labels,
                        annotations: &n.annotations,
                        starts_at: rfc3339(n.starts_at_ms),
                        ends_at: if n.resolved { rfc3339(n.ends_at_ms) } else { "0001-01-01T00:00:00Z".to_owned() },
                        generator_url: &n.generator_url,
                        fingerprint: fingerprint(&n.labels),
                    })
                    .collect(),
            };
            (serde_json::to_string(&message).expect("webhook message serializes to JSON"), alerts.len())
        })
        .collect()
}

fn fingerprint(labels: &BTreeMap<String, String>) -> String {
    let mut bytes = Vec::new();
    for (k, v) in labels {
        bytes.extend_from_slice(k.as_bytes());
        bytes.push(0xff);
        bytes.extend_from_slice(v.as_bytes());
        bytes.push(0xff);
    }
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(&bytes))
}
