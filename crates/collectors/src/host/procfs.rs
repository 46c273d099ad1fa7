//! Parsers for `/proc` files, each from the file's text to node_exporter's series.

use series::Labels;

use crate::local::sample;

/// The CPU modes of `/proc/stat`'s `cpuN` lines, in column order, as
/// node_exporter names them. The guest columns that follow are already
/// counted in `user` and `nice`, and are left out as node_exporter's
/// `node_cpu_seconds_total` leaves them out.
const CPU_MODES: [&str; 8] = ["user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"];

/// `/proc/stat`: `node_cpu_seconds_total{cpu,mode}` (per CPU, not the
/// `cpu` total line), `node_boot_time_seconds`, `node_context_switches_total`,
/// `node_forks_total`, `node_intr_total`, `node_procs_running`, `node_procs_blocked`.
pub(super) fn parse_stat(text: &str, user_hz: f64, out: &mut Vec<(Labels, f64)>) {
    for line in text.lines() {
        let mut fields = line.split_ascii_whitespace();
        let Some(key) = fields.next() else { continue };
        if let Some(cpu) = key.strip_prefix("cpu") {
            if cpu.is_empty() || !cpu.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            for (mode, field) in CPU_MODES.iter().zip(fields) {
                if let Ok(ticks) = field.parse::<u64>() {
                    out.push(sample("node_cpu_seconds_total", &[("cpu", cpu), ("mode", mode)], ticks as f64 / user_hz));
                }
            }
            continue;
        }
        let name = match key {
            "btime" => "node_boot_time_seconds",
            "ctxt" => "node_context_switches_total",
            "processes" => "node_forks_total",
            "intr" => "node_intr_total",
            "procs_running" => "node_procs_running",
            "procs_blocked" => "node_procs_blocked",
            _ => continue,
        };
        if let Some(value) = fields.next().and_then(|v| v.parse::<u64>().ok()) {
            out.push(sample(name, &[], value as f64));
        }
    }
}

/// `/proc/loadavg`: `node_load1`, `node_load5`, `node_load15`.
pub(super) fn parse_loadavg(text: &str, out: &mut Vec<(Labels, f64)>) {
    let names = ["node_load1", "node_load5", "node_load15"];
    for (name, field) in names.iter().zip(text.split_ascii_whitespace()) {
        if let Ok(value) = field.parse::<f64>() {
            out.push(sample(name, &[], value));
        }
    }
}

/// `/proc/meminfo`: one `node_memory_<Field>_bytes` per line in kB (times
/// 1024), `node_memory_<Field>` for counts (`HugePages_Total`); parentheses
/// become underscores as in node_exporter (`Active(anon)` → `Active_anon`).
pub(super) fn parse_meminfo(text: &str, out: &mut Vec<(Labels, f64)>) {
    for line in text.lines() {
        let Some((key, rest)) = line.split_once(':') else { continue };
        let mut fields = rest.split_ascii_whitespace();
        let Some(value) = fields.next().and_then(|v| v.parse::<u64>().ok()) else { continue };
        let key = key.trim().replace('(', "_").replace(')', "");
        if !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            continue;
        }
        match fields.next() {
            Some("kB") => out.push(sample(&format!("node_memory_{key}_bytes"), &[], value as f64 * 1024.0)),
            None => out.push(sample(&format!("node_memory_{key}"), &[], value as f64)),
            Some(_) => {}
        }
    }
}

/// Bytes per sector in `/proc/diskstats`: always 512, whatever the device's
/// own sector size.
const SECTOR_BYTES: f64 = 512.0;

/// `/proc/diskstats`: per whole disk (partitions, loop, RAM and floppy
/// devices skipped as node_exporter's default filter does), reads and writes
/// completed, bytes read and written, time reading and writing, I/O time and
/// I/Os in flight.
pub(super) fn parse_diskstats(text: &str, out: &mut Vec<(Labels, f64)>) {
    for line in text.lines() {
        let fields: Vec<&str> = line.split_ascii_whitespace().collect();
        let [_major, _minor, device, rest @ ..] = fields.as_slice() else { continue };
        if rest.len() < 11 || is_ignored_disk(device) {
            continue;
        }
        let Ok(values) = rest[..11].iter().map(|v| v.parse::<u64>()).collect::<Result<Vec<u64>, _>>() else {
            continue;
        };
        let labels = [("device", *device)];
        let series = [
            ("node_disk_reads_completed_total", values[0] as f64),
            ("node_disk_reads_merged_total", values[1] as f64),
            ("node_disk_read_bytes_total", values[2] as f64 * SECTOR_BYTES),
            ("node_disk_read_time_seconds_total", values[3] as f64 / 1000.0),
            ("node_disk_writes_completed_total", values[4] as f64),
            ("node_disk_writes_merged_total", values[5] as f64),
            ("node_disk_written_bytes_total", values[6] as f64 * SECTOR_BYTES),
            ("node_disk_write_time_seconds_total", values[7] as f64 / 1000.0),
            ("node_disk_io_now", values[8] as f64),
            ("node_disk_io_time_seconds_total", values[9] as f64 / 1000.0),
            ("node_disk_io_time_weighted_seconds_total", values[10] as f64 / 1000.0),
        ];
        for (name, value) in series {
            out.push(sample(name, &labels, value));
        }
    }
}

/// node_exporter's default `--collector.diskstats.device-exclude`:
/// `^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$`, written out.
fn is_ignored_disk(device: &str) -> bool {
    let Some(stem) = device.strip_suffix(|c: char| c.is_ascii_digit()) else { return false };
    let stem = stem.trim_end_matches(|c: char| c.is_ascii_digit());
    if matches!(stem, "ram" | "zram" | "loop" | "fd") {
        return true;
    }
    let letters_disk = ["hd", "sd", "vd", "xvd"].iter().any(|prefix| {
        stem.strip_prefix(prefix).is_some_and(|rest| rest.len() == 1 && rest.as_bytes()[0].is_ascii_lowercase())
    });
    if letters_disk {
        return true;
    }
    // nvme<ctrl>n<ns>p: a partition of an NVMe namespace.
    stem.strip_prefix("nvme")
        .and_then(|rest| rest.strip_suffix('p'))
        .is_some_and(|rest| rest.split_once('n').is_some_and(|(ctrl, ns)| is_number(ctrl) && is_number(ns)))
}

fn is_number(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// `/proc/net/dev`: per interface, bytes, packets, errors and drops received
/// and transmitted.
pub(super) fn parse_net_dev(text: &str, out: &mut Vec<(Labels, f64)>) {
    const RECEIVE: [(usize, &str); 4] = [
        (0, "node_network_receive_bytes_total"),
        (1, "node_network_receive_packets_total"),
        (2, "node_network_receive_errs_total"),
        (3, "node_network_receive_drop_total"),
    ];
    const TRANSMIT: [(usize, &str); 4] = [
        (8, "node_network_transmit_bytes_total"),
        (9, "node_network_transmit_packets_total"),
        (10, "node_network_transmit_errs_total"),
        (11, "node_network_transmit_drop_total"),
    ];
    for line in text.lines() {
        let Some((device, counters)) = line.split_once(':') else { continue };
        let device = device.trim();
        if device.is_empty() || device.contains('|') {
            continue;
        }
        let Ok(values) = counters.split_ascii_whitespace().map(|v| v.parse::<u64>()).collect::<Result<Vec<u64>, _>>()
        else {
            continue;
        };
        if values.len() < 16 {
            continue;
        }
        for (column, name) in RECEIVE.iter().chain(&TRANSMIT) {
            out.push(sample(name, &[("device", device)], values[*column] as f64));
        }
    }
}
