//! `infersight serve`: opens the store, serves HTTP, runs upkeep, and shuts
//! down cleanly on SIGINT or SIGTERM.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use prometheus_client::registry::Registry;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};
use tsdb::Db;

use crate::backfill::Progress;
use crate::config::Config;

/// How often the store flushes, compacts and applies retention.
const MAINTENANCE_INTERVAL: Duration = Duration::from_secs(30);

/// Exchanges waiting for the quality pipeline; past this the gateway drops
/// and counts them rather than wait.
const EXCHANGE_QUEUE: usize = 4096;

/// Runs the server until a shutdown signal.
pub fn run(config: Config) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the runtime")?;
    runtime.block_on(serve(config, Extras::default()))
}

/// A future the server awaits or runs beside itself.
pub(crate) type Task<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// What `Extras::background` is: a task given the open stores and the shutdown token.
pub(crate) type Background = Box<dyn FnOnce(Stores, CancellationToken) -> Task<()> + Send>;

/// What each of `Extras::tasks` is: a task given the shutdown token.
pub(crate) type SideTask = Box<dyn FnOnce(CancellationToken) -> Task<()> + Send>;

/// The stores, open, as `Extras::background` gets them.
#[derive(Clone)]
pub(crate) struct Stores {
    /// The time-series store.
    pub db: Arc<Db>,
    /// The records store.
    pub records: Arc<records::Store>,
    /// The rule manager, to evaluate rules over written history (the
    /// demo's cost rules); `None` in tests that run rules themselves.
    pub rules: Option<rules::Manager>,
}

/// What a caller such as `demo` adds to a server.
#[derive(Default)]
pub(crate) struct Extras {
    /// Runs beside the server once it serves, writing into its stores (a
    /// backfill), until done or the token is cancelled.
    pub background: Option<Background>,
    /// How far that backfill has got: `/api/v1/infersight/backfill` and
    /// `infersight_backfill_progress_ratio`.
    pub progress: Option<Arc<Progress>>,
    /// Run beside the server once it serves, until the token is cancelled.
    pub tasks: Vec<SideTask>,
}

/// Everything the binary's own handlers need.
#[derive(Clone)]
struct AppState {
    db: Arc<Db>,
    registry: Arc<Registry>,
}

/// `infersight_listener_unauthenticated{listen}`: 1 for each listener not on
/// loopback that serves without authentication on purpose
/// (`allow_unauthenticated`), for the status view and for alerts.
fn register_unauthenticated(registry: &mut Registry, listeners: &[String]) {
    use prometheus_client::metrics::family::Family;
    use prometheus_client::metrics::gauge::Gauge;
    let family = Family::<Vec<(String, String)>, Gauge>::default();
    for listen in listeners {
        family.get_or_create(&vec![("listen".to_owned(), listen.clone())]).set(1);
    }
    registry.register(
        "infersight_listener_unauthenticated",
        "Listeners beyond loopback serving without authentication (allow_unauthenticated), by address",
        family,
    );
}

pub(crate) async fn serve(config: Config, extras: Extras) -> anyhow::Result<()> {
    let mut registry = Registry::default();
    let tsdb_metrics = tsdb::Metrics::new(&mut registry);
    let receiver_metrics = receivers::Metrics::new(&mut registry);
    let api_metrics = Arc::new(api::Metrics::new(&mut registry));
    let access_metrics = access::Metrics::new(&mut registry);
    register_unauthenticated(&mut registry, &config.access.unauthenticated);
    let certificates = match config.access.web.tls.clone() {
        Some(tls) => Some(Arc::new(
            access::Certificates::new(tls, access_metrics.clone()).context("loading the TLS certificates")?,
        )),
        None => None,
    };
    let data_dir = config.data_dir.clone();
    let options = config.storage.clone();
    let db = tokio::task::spawn_blocking(move || Db::open(&data_dir, options, tsdb_metrics))
        .await
        .context("opening the store")?
        .with_context(|| format!("opening data directory {}", config.data_dir.display()))?;
    let db = Arc::new(db);
    let records_path = config.data_dir.join("records.db");
    let records = tokio::task::spawn_blocking(move || records::Store::open(&records_path))
        .await
        .context("opening the records store")??;
    let records = Arc::new(records);
    if let Some(progress) = &extras.progress {
        progress.register(&mut registry);
    }
    let judge_metrics = judge::Metrics::new(&mut registry);
    let mut quality = config.quality.clone();
    for spec in &config.judges {
        let cache = Arc::new(pipeline::judging::RecordsCache(Arc::clone(&records)));
        let judge = judge::Judge::new(spec.config.clone(), cache, judge_metrics.clone())
            .with_context(|| format!("building judge {}", spec.config.name))?;
        quality.judges.push(pipeline::judging::JudgeSetup {
            judge: Arc::new(judge),
            rubrics: spec.rubrics.clone(),
            sample_rate: spec.sample_rate,
            model_rates: spec.model_rates.clone(),
        });
    }
    // The probes' rubric items are judged by the same judges, within the same budgets.
    let judges: Vec<Arc<judge::Judge>> = quality.judges.iter().map(|setup| Arc::clone(&setup.judge)).collect();
    let pipeline =
        Arc::new(pipeline::Pipeline::new(quality, Arc::clone(&records), pipeline::Metrics::new(&mut registry)));
    let (exchanges, exchanges_rx) = tokio::sync::mpsc::channel::<inference::Exchange>(EXCHANGE_QUEUE);
    let gateway_metrics = proxy::Metrics::new(&mut registry);
    let gateway = match config.gateway.clone() {
        Some(settings) => Some((
            settings.listen,
            proxy::Gateway::new(settings, gateway_metrics, exchanges).context("building the gateway")?,
        )),
        None => {
            drop(exchanges);
            None
        }
    };
    let feedback = api::Feedback::new(
        &mut registry,
        gateway.as_ref().map(|(_, gateway)| gateway.recent()),
        config.quality.model_label_cap,
    );
    let exchange_reads = api::ExchangeReads::new(&mut registry);
    let exchange_erasures = api::ExchangeErasures::new(&mut registry);
    let scrape_metrics = collectors::scrape::ScrapeMetrics::new(&mut registry);
    let notifier = rules::Notifier::new(config.alerting.clone(), rules::NotifyMetrics::new(&mut registry))
        .context("building the alert notifier")?;
    let rule_metrics = rules::RuleMetrics::new(&mut registry);
    let prober = match config.probes.clone() {
        Some(mut probes) => {
            for (spec, judged) in probes.specs.iter_mut().zip(std::mem::take(&mut probes.judged)) {
                spec.judge = judged.and_then(|(name, rubrics)| {
                    let judge = judges.iter().find(|judge| judge.name() == name)?;
                    Some(probe::ProbeJudge { judge: Arc::clone(judge), rubrics })
                });
            }
            Some(Arc::new(
                probe::Prober::new(
                    probes.specs,
                    probes.gateway_url,
                    probes.api_key,
                    probe::Metrics::new(&mut registry),
                )
                .context("building the probes' client")?,
            ))
        }
        None => None,
    };
    let registry = Arc::new(registry);
    let self_scrape_registry = Arc::clone(&registry);

    let appendable: Arc<dyn series::Appendable> = db.clone();
    let queryable: Arc<dyn series::Queryable> = db.clone();
    let scrape = collectors::scrape::Manager::new(Arc::clone(&appendable), scrape_metrics)
        .context("creating the scrape manager")?;
    let (self_scrape, jobs): (Vec<_>, Vec<_>) = config
        .scrape
        .iter()
        .cloned()
        .partition(|job| config.access.self_scrape_in_process && job.job_name == crate::config::SELF_SCRAPE_JOB);
    scrape.apply(jobs);
    let mut rule_options = rules::ManagerOptions::from_settings(&config.alerting);
    rule_options.engine = config.query.clone();
    let rule_manager = rules::Manager::new(Arc::clone(&queryable), Arc::clone(&appendable), rule_options, rule_metrics)
        .with_notifier(notifier.clone());
    rule_manager.load(&config.rule_files).context("loading rule files")?;
    if !config.cost.models.is_empty() || !config.cost.gpus.is_empty() || !config.cost.instances.is_empty() {
        info!(
            models = config.cost.models.len(),
            gpu_pools = config.cost.gpus.len(),
            instance_pools = config.cost.instances.len(),
            "Cost rules generated from [cost]"
        );
    }
    let state = AppState { db: Arc::clone(&db), registry };
    let mut api_state = api::ApiState::new(queryable)
        .with_engine(config.query.clone())
        .with_head_stats(head_stats(Arc::clone(&db)))
        .with_records(Arc::clone(&records))
        .with_feedback(feedback)
        .with_exchange_reads(exchange_reads)
        .with_exchange_erasures(exchange_erasures);
    if let Some(progress) = extras.progress {
        api_state = api_state.with_backfill(move || progress.status());
    }
    let app = Router::new()
        .route("/metrics", get(metrics))
        .route("/api/v1/admin/tsdb/flush", post(flush))
        .with_state(state)
        .merge(scrape.router())
        .merge(rule_manager.router())
        .merge(receivers::router(receivers::RemoteWriteState::new(
            Arc::clone(&appendable),
            config.remote_write.clone(),
            receiver_metrics.clone(),
        )))
        .merge(receivers::otlp::router(receivers::OtlpState::new(
            Arc::clone(&appendable),
            config.otlp.clone(),
            receiver_metrics,
        )))
        .merge(api::router(api_state.with_appendable(appendable)))
        .merge(dashboard::router());
    let clock: access::Clock = Arc::new(now_ms);
    let guard = access::Guard::new(
        &config.access.web,
        config.access.credentials.clone(),
        access_metrics.clone(),
        Arc::clone(&clock),
    )
    .with_cors(config.access.cors.clone());
    let app = api::instrument(Arc::new(guard).protect(app), api_metrics);

    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    let listener =
        access::Listener::new("api", listener, certificates.clone(), config.access.limits, access_metrics.clone());
    info!(
        listen = %config.listen,
        tls = listener.is_tls(),
        authentication = config.access.credentials.is_enabled(),
        data_dir = %config.data_dir.display(),
        "infersight started"
    );
    for exposed in &config.access.unauthenticated {
        warn!(listen = %exposed, "Serving without authentication on a non-loopback address (allow_unauthenticated = true)");
    }

    let shutdown = CancellationToken::new();
    let mut tasks = tokio::task::JoinSet::new();
    if let Some((listen, gateway)) = gateway {
        let listener =
            tokio::net::TcpListener::bind(listen).await.with_context(|| format!("binding the gateway to {listen}"))?;
        let listener = access::Listener::new(
            "gateway",
            listener,
            certificates.clone(),
            config.access.limits,
            access_metrics.clone(),
        );
        info!(listen = %listen, tls = listener.is_tls(), "Gateway started");
        let guard = access::Guard::headers_only(&config.access.web, access_metrics.clone(), Arc::clone(&clock))
            .with_cors(config.access.cors.clone());
        let router = Arc::new(guard).protect(gateway.router());
        tasks.spawn(access::serve(listener, router, shutdown.clone()));
    }
    if let Some(background) = extras.background {
        let stores = Stores { db: Arc::clone(&db), records: Arc::clone(&records), rules: Some(rule_manager.clone()) };
        tasks.spawn(background(stores, shutdown.clone()));
    }
    for task in extras.tasks {
        tasks.spawn(task(shutdown.clone()));
    }
    if let Some(prober) = prober {
        tasks.spawn(prober.run(shutdown.clone()));
    }
    tasks.spawn(scrape.run(shutdown.clone()));
    for job in self_scrape {
        let storage = Arc::clone(&db) as Arc<dyn series::Appendable>;
        tasks.spawn(scrape_self_in_process(job, Arc::clone(&self_scrape_registry), storage, shutdown.clone()));
    }
    tasks.spawn(rule_manager.run(shutdown.clone()));
    tasks.spawn(notifier.run(shutdown.clone()));
    tasks.spawn(Arc::clone(&pipeline).run(exchanges_rx, shutdown.clone()));
    tasks.spawn(Arc::clone(&pipeline).run_judges(shutdown.clone()));
    tasks.spawn(pipeline::drift::schedule(Arc::clone(&pipeline), now_ms, shutdown.clone()));
    let local = collectors::local::Runner::new(&config.local, Arc::clone(&db) as Arc<dyn series::Appendable>);
    let local_shutdown = shutdown.clone();
    tasks.spawn(async move {
        if let Err(err) = local.run(local_shutdown).await {
            error!(error = %err, "Local collectors stopped");
        }
    });
    let upkeep = tokio::spawn(upkeep(
        Arc::clone(&db),
        Arc::clone(&records),
        RecordsRetention { age: config.records_retention, size: config.records_retention_size },
        config.wal_fsync_interval,
        shutdown.clone(),
    ));
    let signal = tokio::spawn(wait_for_signal(shutdown.clone()));
    access::serve(listener, app, shutdown.clone()).await;
    shutdown.cancel();
    signal.abort();
    upkeep.await.context("joining upkeep")?;
    while tasks.join_next().await.is_some() {}
    drop(pipeline);
    let db = Arc::into_inner(db).context("store still in use at shutdown")?;
    tokio::task::spawn_blocking(move || db.close()).await.context("closing the store")?.context("syncing the WAL")?;
    info!("infersight stopped");
    Ok(())
}

pub(crate) async fn wait_for_signal(shutdown: CancellationToken) {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(err) => {
            warn!(error = %err, "Cannot listen for SIGTERM");
            let _ = tokio::signal::ctrl_c().await;
            shutdown.cancel();
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => info!(signal = "SIGINT", "Shutting down"),
        _ = term.recv() => info!(signal = "SIGTERM", "Shutting down"),
    }
    shutdown.cancel();
}

/// How long and how much of the records store is kept.
#[derive(Debug, Clone, Copy)]
struct RecordsRetention {
    age: Duration,
    size: Option<u64>,
}

/// Syncs the WAL on its interval and runs store maintenance, and applies
/// the records store's retention with it.
async fn upkeep(
    db: Arc<Db>,
    records: Arc<records::Store>,
    records_retention: RecordsRetention,
    fsync_interval: Duration,
    shutdown: CancellationToken,
) {
    let mut fsync = tokio::time::interval(fsync_interval);
    let mut maintenance = tokio::time::interval(MAINTENANCE_INTERVAL);
    fsync.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    maintenance.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut maintenance_failing = false;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = fsync.tick() => {
                let db = Arc::clone(&db);
                if let Ok(Err(err)) = tokio::task::spawn_blocking(move || db.sync_wal()).await {
                    error!(error = %err, "WAL sync failed");
                }
            }
            _ = maintenance.tick() => {
                let records = Arc::clone(&records);
                let trimmed = tokio::task::spawn_blocking(move || {
                    records.enforce_retention(now_ms(), Some(records_retention.age), records_retention.size)
                })
                .await;
                if let Ok(Err(err)) = trimmed {
                    error!(error = %err, "Records retention failed");
                }
                let db = Arc::clone(&db);
                let result = tokio::task::spawn_blocking(move || db.maintain(now_ms())).await;
                match result {
                    Ok(Err(err)) if !maintenance_failing => {
                        maintenance_failing = true;
                        error!(error = %err, "Store maintenance failed; retrying");
                    }
                    Ok(Ok(())) if maintenance_failing => {
                        maintenance_failing = false;
                        info!("Store maintenance recovered");
                    }
                    _ => {}
                }
            }
        }
    }
}

/// The head's figures for `/api/v1/status/tsdb`.
fn head_stats(db: Arc<Db>) -> impl Fn() -> api::HeadStats + Send + Sync + 'static {
    move || {
        let stats = db.stats();
        let (min_time, max_time) = stats.head_time_range.unwrap_or((0, 0));
        api::HeadStats { num_series: stats.head_series, chunk_count: stats.head_chunks, min_time, max_time }
    }
}

/// The wall clock in milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// The self-scrape behind a TLS listener: every interval, the page that
/// `/metrics` would answer is read from the registry and stored as the
/// scrape of `job` would store it (the same series, `up` included), with
/// no connection and so no certificate for the server to trust or present.
async fn scrape_self_in_process(
    job: collectors::scrape::ScrapeJob,
    registry: Arc<Registry>,
    storage: Arc<dyn series::Appendable>,
    shutdown: CancellationToken,
) {
    let instance = job.targets.first().cloned().unwrap_or_default();
    let mut tick = tokio::time::interval(job.interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut replay = collectors::scrape::Replay::new(job, &instance, &std::collections::BTreeMap::new());
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        let mut page = String::new();
        let page = prometheus_client::encoding::text::encode(&mut page, &registry).ok().map(|()| page);
        if let Err(err) = replay.page(&*storage, page.as_deref(), collectors::exposition::Format::Text, now_ms()) {
            warn!(error = %err, "The self-scrape's page was not stored");
        }
    }
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let mut body = String::new();
    match prometheus_client::encoding::text::encode(&mut body, &state.registry) {
        Ok(()) => {
            (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body).into_response()
        }
        Err(err) => (StatusCode::INTERNAL_SERVER_ERROR, format!("cannot encode metrics: {err}")).into_response(),
    }
}

/// `POST /api/v1/admin/tsdb/flush`: head to blocks, WAL truncated.
async fn flush(State(state): State<AppState>) -> axum::response::Response {
    let db = Arc::clone(&state.db);
    match tokio::task::spawn_blocking(move || db.flush()).await {
        Ok(Ok(())) => api::Success::new(serde_json::json!({})).into_response(),
        Ok(Err(err)) => {
            error!(error = %err, "Flush failed");
            api::ApiError::new(api::ErrorType::Unavailable, format!("flush failed: {err}")).into_response()
        }
        Err(err) => api::ApiError::new(api::ErrorType::Internal, format!("flush task failed: {err}")).into_response(),
    }
}
