//! The cgroup (v2) infersight runs in, under cAdvisor's names: in a
//! container that is the container, on a host the service's own cgroup.

use std::path::Path;

use series::Labels;

use super::read_optional;
use crate::local::{Result, sample};

/// The cgroup v2 path of this process from `/proc/self/cgroup` (the `0::` line), if any.
pub(super) fn own_path(self_cgroup: &str) -> Option<&str> {
    self_cgroup.lines().find_map(|line| line.strip_prefix("0::")).map(str::trim).filter(|p| p.starts_with('/'))
}

/// `usage_usec` from `cpu.stat`, in seconds.
pub(super) fn parse_cpu_usage_seconds(cpu_stat: &str) -> Option<f64> {
    cpu_stat
        .lines()
        .find_map(|line| line.strip_prefix("usage_usec "))
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|usec| usec as f64 / 1e6)
}

/// `memory.max`: bytes, with `max` (no limit) as 0 as cAdvisor reports it.
pub(super) fn parse_memory_max(text: &str) -> Option<f64> {
    match text.trim() {
        "max" => Some(0.0),
        value => value.parse::<u64>().ok().map(|v| v as f64),
    }
}

/// Appends `container_cpu_usage_seconds_total`, `container_memory_usage_bytes`
/// and `container_spec_memory_limit_bytes` with `id` set to the cgroup path,
/// for the files that exist (none on a cgroup v1 host).
pub(super) fn collect(root: &Path, self_cgroup: &str, out: &mut Vec<(Labels, f64)>) -> Result<()> {
    let Some(path) = own_path(self_cgroup) else { return Ok(()) };
    let dir = root.join("sys/fs/cgroup").join(path.trim_start_matches('/'));
    let labels = [("id", path)];
    if let Some(seconds) = read_optional(&dir.join("cpu.stat"))?.as_deref().and_then(parse_cpu_usage_seconds) {
        out.push(sample("container_cpu_usage_seconds_total", &labels, seconds));
    }
    if let Some(bytes) = read_optional(&dir.join("memory.current"))?.and_then(|t| t.trim().parse::<u64>().ok()) {
        out.push(sample("container_memory_usage_bytes", &labels, bytes as f64));
    }
    if let Some(limit) = read_optional(&dir.join("memory.max"))?.as_deref().and_then(parse_memory_max) {
        out.push(sample("container_spec_memory_limit_bytes", &labels, limit));
    }
    Ok(())
}
