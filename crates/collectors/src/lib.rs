//! Pull-side collection: scraping Prometheus/OpenMetrics targets, NVIDIA GPUs through NVML, and the host.
//!
//! Everything here ends in a [`series::Appendable`]: the scrape manager
//! appends what targets expose, the local collectors append what they read
//! off the machine itself.

// Scraping: the exposition parser, relabelling, the scrape manager.
pub mod exposition;
pub mod presets;
pub mod relabel;
pub mod scrape;

// Local collectors: NVML, the host, and the loop that runs them.
pub mod host;
pub mod local;
pub mod nvml;
