//! The host collector: CPU, memory, disks, network, file systems and the
//! container's cgroup, read from `/proc` and `/sys` under node_exporter's
//! (and for the cgroup, cAdvisor's) metric names, so existing node and
//! container dashboards work on infersight's store unchanged.
//!
//! Every source is read under a root path (`/` by default), so a container
//! that mounts the host's root at `/host` can watch the host, and tests can
//! point the collector at a directory of fixtures. The parsers take the file
//! contents as text and skip lines they do not understand: the kernel adds
//! fields over time, and one odd line should not hide the rest.

mod cgroup;
mod filesystem;
mod procfs;

use std::io;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use series::Labels;

use crate::local::{Collector, Error, Result, sample};

/// The kernel's clock tick for the times in `/proc/stat` (`USER_HZ`): 100 on
/// every Linux architecture that infersight runs on, as node_exporter assumes.
const USER_HZ: f64 = 100.0;

/// Reads host metrics from `/proc` and `/sys` under a root path.
#[derive(Debug, Clone)]
pub struct HostCollector {
    root: PathBuf,
}

impl HostCollector {
    /// A collector that reads `<root>/proc/...` and `<root>/sys/...`.
    pub fn new(root: &Path) -> HostCollector {
        HostCollector { root: root.to_path_buf() }
    }

    /// The contents of `<root>/<relative>`, or `None` where the file does not exist.
    fn read_optional(&self, relative: &str) -> Result<Option<String>> {
        read_optional(&self.root.join(relative))
    }
}

impl Collector for HostCollector {
    fn name(&self) -> &str {
        "node"
    }

    /// Reads every source. Only `/proc/stat` is required; a source that does
    /// not exist (no `/proc/diskstats` in some sandboxes, no cgroup v2) is
    /// left out.
    fn collect(&mut self, out: &mut Vec<(Labels, f64)>) -> Result<()> {
        let stat_path = self.root.join("proc/stat");
        let stat = std::fs::read_to_string(&stat_path).map_err(|source| Error::ReadFile { path: stat_path, source })?;
        procfs::parse_stat(&stat, USER_HZ, out);
        if let Some(text) = self.read_optional("proc/loadavg")? {
            procfs::parse_loadavg(&text, out);
        }
        if let Some(text) = self.read_optional("proc/meminfo")? {
            procfs::parse_meminfo(&text, out);
        }
        if let Some(text) = self.read_optional("proc/diskstats")? {
            procfs::parse_diskstats(&text, out);
        }
        if let Some(text) = self.read_optional("proc/net/dev")? {
            procfs::parse_net_dev(&text, out);
        }
        if let Some(text) = self.read_optional("proc/mounts")? {
            filesystem::collect(&self.root, &text, out);
        }
        if let Some(text) = self.read_optional("proc/self/cgroup")? {
            cgroup::collect(&self.root, &text, out)?;
        }
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
        out.push(sample("node_time_seconds", &[], now));
        Ok(())
    }
}

/// The host name from `<root>/proc/sys/kernel/hostname`, or `"localhost"`
/// where it cannot be read.
pub fn hostname(root: &Path) -> String {
    std::fs::read_to_string(root.join("proc/sys/kernel/hostname"))
        .ok()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

/// The contents of `path`, or `None` where it does not exist.
fn read_optional(path: &Path) -> Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::ReadFile { path: path.to_path_buf(), source }),
    }
}

#[cfg(test)]
mod tests;
