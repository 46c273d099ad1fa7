//! `[collectors]`: which local collectors run, and how often.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The local collectors' section of the configuration file, as written.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct LocalConfig {
    /// Collect NVIDIA GPU metrics through NVML under DCGM's names. Where
    /// there is no NVIDIA driver the collector logs that once and stays off.
    pub nvml: bool,
    /// Collect host metrics (CPU, memory, disks, network, file systems, the
    /// container's cgroup) from `/proc` and `/sys` under node_exporter's names.
    pub host: bool,
    /// How often the local collectors run (`"15s"`).
    pub interval: String,
    /// Where the host's `/proc` and `/sys` are: `"/"`, or for example
    /// `"/host"` in a container that mounts the host's root there.
    pub root: PathBuf,
    /// The `instance` label of the local collectors' series, and DCGM's
    /// `Hostname` label. Empty means the host name, read from
    /// `<root>/proc/sys/kernel/hostname`.
    pub instance: String,
}

impl Default for LocalConfig {
    fn default() -> Self {
        LocalConfig {
            nvml: true,
            host: true,
            interval: "15s".into(),
            root: PathBuf::from("/"),
            instance: String::new(),
        }
    }
}

/// Checked settings for [`crate::local::Runner::new`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalSettings {
    /// Whether to run the NVML collector (where a driver is present).
    pub nvml: bool,
    /// Whether to run the host collector.
    pub host: bool,
    /// How often to collect; never zero.
    pub interval: Duration,
    /// The root `/proc` and `/sys` are read under.
    pub root: PathBuf,
    /// The `instance` label; never empty.
    pub instance: String,
}

impl LocalConfig {
    /// Checks every value and resolves the host name.
    ///
    /// # Errors
    ///
    /// Every problem, each as a key relative to the section (`"interval"`)
    /// and a message.
    pub fn validate(&self) -> Result<LocalSettings, Vec<(&'static str, String)>> {
        let mut problems = Vec::new();
        let interval = match series::parse_duration(&self.interval) {
            Ok(d) if d.is_zero() => {
                problems.push(("interval", "must be longer than zero".to_owned()));
                Duration::ZERO
            }
            Ok(d) => d,
            Err(message) => {
                problems.push(("interval", message));
                Duration::ZERO
            }
        };
        if !self.root.is_absolute() {
            problems.push(("root", format!("{:?} is not an absolute path", self.root.display().to_string())));
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let instance = if self.instance.is_empty() { crate::host::hostname(&self.root) } else { self.instance.clone() };
        Ok(LocalSettings { nvml: self.nvml, host: self.host, interval, root: self.root.clone(), instance })
    }
}
