//! File system sizes: `/proc/mounts` for what is mounted, `statvfs` for how full it is.

use std::path::Path;

use series::Labels;
use tracing::debug;

use crate::local::sample;

/// One line of `/proc/mounts` that the collector reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Mount {
    pub(super) device: String,
    pub(super) mountpoint: String,
    pub(super) fstype: String,
    pub(super) read_only: bool,
}

/// Pseudo and read-only-image file systems, skipped as node_exporter's
/// default `--collector.filesystem.fs-types-exclude` skips them.
const IGNORED_FS_TYPES: &[&str] = &[
    "autofs",
    "binfmt_misc",
    "bpf",
    "cgroup",
    "cgroup2",
    "configfs",
    "debugfs",
    "devpts",
    "devtmpfs",
    "erofs",
    "fusectl",
    "hugetlbfs",
    "iso9660",
    "mqueue",
    "nsfs",
    "overlay",
    "proc",
    "procfs",
    "pstore",
    "rpc_pipefs",
    "securityfs",
    "selinuxfs",
    "squashfs",
    "sysfs",
    "tracefs",
];

/// Mount points skipped as node_exporter's default
/// `--collector.filesystem.mount-points-exclude` skips them (the last two
/// with anything below them).
fn is_ignored_mountpoint(mountpoint: &str) -> bool {
    let under = |dir: &str| mountpoint == dir || mountpoint.strip_prefix(dir).is_some_and(|rest| rest.starts_with('/'));
    under("/dev")
        || under("/proc")
        || under("/sys")
        || mountpoint.starts_with("/run/credentials/")
        || mountpoint.starts_with("/var/lib/docker/")
        || mountpoint.starts_with("/var/lib/containers/storage/")
}

/// The mounts worth reporting, one per mount point (the last mounted wins, as it hides the others).
pub(super) fn parse_mounts(text: &str) -> Vec<Mount> {
    let mut mounts: Vec<Mount> = Vec::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split_ascii_whitespace().collect();
        let [device, mountpoint, fstype, options, ..] = fields.as_slice() else { continue };
        if IGNORED_FS_TYPES.contains(fstype) {
            continue;
        }
        let mountpoint = unescape(mountpoint);
        if is_ignored_mountpoint(&mountpoint) {
            continue;
        }
        mounts.retain(|m| m.mountpoint != mountpoint);
        mounts.push(Mount {
            device: unescape(device),
            mountpoint,
            fstype: (*fstype).to_owned(),
            read_only: options.split(',').any(|o| o == "ro"),
        });
    }
    mounts
}

/// Undoes `/proc/mounts`' octal escapes (`\040` for a space).
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\'
            && let Some(octal) = bytes.get(i + 1..i + 4)
            && octal.iter().all(|b| (b'0'..=b'7').contains(b))
        {
            out.push(octal.iter().fold(0u8, |acc, b| acc.wrapping_mul(8).wrapping_add(b - b'0')));
            i += 4;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Appends size, free and available bytes, inode counts and the read-only
/// flag of each mount. A mount that cannot be stat'ed (gone since
/// `/proc/mounts` was read, no permission) is left out.
pub(super) fn collect(root: &Path, mounts_text: &str, out: &mut Vec<(Labels, f64)>) {
    for mount in parse_mounts(mounts_text) {
        let path = root.join(mount.mountpoint.trim_start_matches('/'));
        let stat = match rustix::fs::statvfs(&path) {
            Ok(stat) => stat,
            Err(err) => {
                debug!(mountpoint = %mount.mountpoint, error = %err, "Cannot stat file system, skipped");
                continue;
            }
        };
        let labels = [
            ("device", mount.device.as_str()),
            ("fstype", mount.fstype.as_str()),
            ("mountpoint", mount.mountpoint.as_str()),
        ];
        let block = stat.f_frsize as f64;
        out.push(sample("node_filesystem_size_bytes", &labels, stat.f_blocks as f64 * block));
        out.push(sample("node_filesystem_free_bytes", &labels, stat.f_bfree as f64 * block));
        out.push(sample("node_filesystem_avail_bytes", &labels, stat.f_bavail as f64 * block));
        out.push(sample("node_filesystem_files", &labels, stat.f_files as f64));
        out.push(sample("node_filesystem_files_free", &labels, stat.f_ffree as f64));
        out.push(sample("node_filesystem_readonly", &labels, if mount.read_only { 1.0 } else { 0.0 }));
    }
}
