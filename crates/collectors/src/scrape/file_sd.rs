//! File-based target discovery in Prometheus's `file_sd` format.
//!
//! A file holds a list of groups, `[{"targets": ["host:port", ...],
//! "labels": {"name": "value"}}]`, in JSON (`.json`) or YAML (anything
//! else). Files are polled: one is re-read when its modification time or
//! size changes. A file that cannot be read or parsed keeps the targets it
//! had, and the failure is logged once until the file is good again.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Deserialize;
use tracing::{info, warn};

/// One group of targets sharing labels.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetGroup {
    /// Addresses as `host:port`.
    pub targets: Vec<String>,
    /// Labels of every target of the group.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

/// Parses a file_sd file's content; `json` selects JSON, else YAML.
///
/// # Errors
///
/// A message saying what is wrong with the content.
pub fn parse_groups(content: &str, json: bool) -> Result<Vec<TargetGroup>, String> {
    if json {
        serde_json::from_str(content).map_err(|e| e.to_string())
    } else if content.trim().is_empty() {
        Ok(Vec::new())
    } else {
        serde_yaml::from_str(content).map_err(|e| e.to_string())
    }
}

/// The last good content of every file_sd file, re-read when it changes.
#[derive(Debug, Default)]
pub(crate) struct FileSd {
    files: HashMap<PathBuf, FileState>,
}

#[derive(Debug, Default)]
struct FileState {
    stamp: Option<(SystemTime, u64)>,
    groups: Vec<TargetGroup>,
    failing: bool,
}

impl FileSd {
    /// The groups of `path`, re-reading it if it changed.
    pub(crate) fn groups(&mut self, path: &Path) -> &[TargetGroup] {
        let state = self.files.entry(path.to_owned()).or_default();
        let stamp = std::fs::metadata(path).ok().and_then(|m| Some((m.modified().ok()?, m.len())));
        if stamp.is_some() && stamp == state.stamp && !state.failing {
            return &state.groups;
        }
        let json = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
        let read = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read: {e}"))
            .and_then(|content| parse_groups(&content, json));
        match read {
            Ok(groups) => {
                if state.failing {
                    info!(file = %path.display(), "file_sd file readable again");
                }
                state.groups = groups;
                state.failing = false;
                state.stamp = stamp;
            }
            Err(error) => {
                if !state.failing {
                    warn!(file = %path.display(), error = %error, "Cannot load file_sd file; keeping its last targets");
                }
                state.failing = true;
            }
        }
        &state.groups
    }

    /// Forgets files no job names any more.
    pub(crate) fn retain(&mut self, keep: impl Fn(&Path) -> bool) {
        self.files.retain(|path, _| keep(path));
    }
}
