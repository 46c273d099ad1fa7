//! `infersight sim`: only the simulated fleet, for pointing any scraper or client at.

use std::path::Path;

use anyhow::Context;
use tokio_util::sync::CancellationToken;
use tracing::info;

use crate::serve::now_ms;

/// Runs the simulated fleet of `config` (the demo's fleet without one)
/// until SIGINT or SIGTERM.
pub fn run(config: Option<&Path>) -> anyhow::Result<()> {
    let config = match config {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            sim::SimConfig::from_toml(&text).with_context(|| format!("invalid simulator config {}", path.display()))?
        }
        None => sim::SimConfig::demo(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the runtime")?;
    runtime.block_on(async move {
        let fleet = sim::Fleet::new(config, sim::Clock::realtime(now_ms())).context("building the fleet")?;
        let server = sim::server::SimServer::bind(&fleet).await.context("binding the simulator's listeners")?;
        for replica in server.replicas() {
            info!(replica = %replica.name, api = %replica.api, dcgm = %replica.dcgm, "Simulated replica");
        }
        info!(control = %server.control_addr(), "Simulator running; POST /sim/scenario to start an incident");
        print_incidents(&fleet);
        let shutdown = CancellationToken::new();
        let signal = tokio::spawn(crate::serve::wait_for_signal(shutdown.clone()));
        server.run(shutdown).await.context("serving the simulator")?;
        signal.abort();
        Ok(())
    })
}

/// Prints the fleet's incident timeline relative to now.
pub(crate) fn print_incidents(fleet: &sim::Fleet) {
    let now = now_ms();
    for incident in fleet.incidents() {
        let minutes = |t: i64| (t - now) as f64 / 60_000.0;
        println!(
            "  {:<17} on {:<14} from {:>+7.1} min to {:>+7.1} min",
            incident.kind.as_str(),
            incident.target,
            minutes(incident.start_ms),
            minutes(incident.end_ms)
        );
    }
    for deploy in fleet.deploys() {
        println!(
            "  {:<17} {:.0} % of {} to {} at {:>+7.1} min",
            "deploy",
            deploy.share * 100.0,
            deploy.model,
            deploy.to,
            (deploy.at_ms - now) as f64 / 60_000.0
        );
    }
}
