//! The tracing subscriber: the only place that decides where logs go.

use anyhow::Context;
use tracing_subscriber::EnvFilter;

/// Installs a text or JSON subscriber on stderr with `filter`.
pub fn init(filter: &str, format: &str) -> anyhow::Result<()> {
    let filter = EnvFilter::try_new(filter).with_context(|| format!("invalid log level {filter:?}"))?;
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        "json" => builder.json().init(),
        _ => builder.init(),
    }
    Ok(())
}
