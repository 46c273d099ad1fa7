//! Self-metrics of the scrape manager.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// Counters of scraping, registered in the binary's registry. Cloning shares them.
#[derive(Debug, Clone)]
pub struct ScrapeMetrics {
    scrapes: Family<JobLabel, Counter>,
    failures: Family<FailureLabels, Counter>,
    samples: Family<JobLabel, Counter>,
    stale_markers: Family<JobLabel, Counter>,
    targets: Family<JobLabel, Gauge>,
}

impl ScrapeMetrics {
    /// Creates the counters and registers them in `registry`.
    pub fn new(registry: &mut Registry) -> ScrapeMetrics {
        let metrics = ScrapeMetrics::unregistered();
        // The text encoder adds `_total` to counter names.
        registry.register("infersight_scrape_scrapes", "Scrapes attempted, by job", metrics.scrapes.clone());
        registry.register(
            "infersight_scrape_failures",
            "Scrapes that failed and stored nothing, by job and reason",
            metrics.failures.clone(),
        );
        registry.register(
            "infersight_scrape_samples",
            "Samples stored by successful scrapes (after relabelling), by job",
            metrics.samples.clone(),
        );
        registry.register(
            "infersight_scrape_stale_markers",
            "Stale markers written for series that disappeared, by job",
            metrics.stale_markers.clone(),
        );
        registry.register("infersight_scrape_targets", "Targets being scraped, by job", metrics.targets.clone());
        metrics
    }

    /// Counters that no registry exposes, for tests and tools.
    pub fn unregistered() -> ScrapeMetrics {
        ScrapeMetrics {
            scrapes: Family::default(),
            failures: Family::default(),
            samples: Family::default(),
            stale_markers: Family::default(),
            targets: Family::default(),
        }
    }

    pub(crate) fn count_scrape(&self, job: &str) {
        self.scrapes.get_or_create(&JobLabel { job: job.to_owned() }).inc();
    }

    pub(crate) fn count_failure(&self, job: &str, reason: &'static str) {
        self.failures.get_or_create(&FailureLabels { job: job.to_owned(), reason }).inc();
    }

    pub(crate) fn count_samples(&self, job: &str, n_samples: usize, n_stale: usize) {
        let label = JobLabel { job: job.to_owned() };
        self.samples.get_or_create(&label).inc_by(n_samples as u64);
        if n_stale > 0 {
            self.stale_markers.get_or_create(&label).inc_by(n_stale as u64);
        }
    }

    pub(crate) fn set_targets<'a>(&self, counts: impl IntoIterator<Item = (&'a str, usize)>) {
        self.targets.clear();
        for (job, n) in counts {
            self.targets.get_or_create(&JobLabel { job: job.to_owned() }).set(n as i64);
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct JobLabel {
    job: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct FailureLabels {
    job: String,
    reason: &'static str,
}
