//! Host collector tests: each parser on this machine's captured files and on
//! the odd lines the kernel can write.

use series::Labels;

use super::{cgroup, filesystem, procfs};

/// The samples as `name{labels} value` lines, sorted, for comparing.
fn lines(samples: &[(Labels, f64)]) -> Vec<String> {
    let mut lines: Vec<String> = samples
        .iter()
        .map(|(labels, value)| {
            let name = labels.metric_name().unwrap_or_default();
            let rest: Vec<String> = labels
                .iter()
                .filter(|l| l.name != series::METRIC_NAME)
                .map(|l| format!("{}={:?}", l.name, l.value))
                .collect();
            format!("{name}{{{}}} {value}", rest.join(","))
        })
        .collect();
    lines.sort();
    lines
}

/// Runs `parse` on `text` and checks that every expected line is among its samples.
fn check(parse: impl Fn(&str, &mut Vec<(Labels, f64)>), text: &str, expect: &[&str]) {
    let mut out = Vec::new();
    parse(text, &mut out);
    let got = lines(&out);
    for line in expect {
        assert!(got.iter().any(|g| g == line), "missing {line}\ngot:\n{}", got.join("\n"));
    }
}

fn fixture(name: &str) -> String {
    let path = format!("{}/testdata/host/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("reading {path}: {err}"))
}

#[test]
fn stat_gives_cpu_seconds_per_cpu_and_mode_in_user_hz() {
    check(
        |t, o| procfs::parse_stat(t, 100.0, o),
        &fixture("stat"),
        &[
            r#"node_cpu_seconds_total{cpu="0",mode="user"} 4824.85"#,
            r#"node_cpu_seconds_total{cpu="0",mode="idle"} 6434.27"#,
            r#"node_cpu_seconds_total{cpu="1",mode="steal"} 8.89"#,
            "node_boot_time_seconds{} 1795429286",
            "node_context_switches_total{} 11904615",
            "node_forks_total{} 181066",
            "node_intr_total{} 7517050",
            "node_procs_running{} 1",
            "node_procs_blocked{} 0",
        ],
    );
}

#[test]
fn stat_leaves_out_the_total_line_and_guest_columns() {
    let mut out = Vec::new();
    procfs::parse_stat(&fixture("stat"), 100.0, &mut out);
    let cpu_series = out.iter().filter(|(l, _)| l.metric_name() == Some("node_cpu_seconds_total")).count();
    assert_eq!(cpu_series, 2 * 8, "two CPUs, eight modes each");
}

#[test]
fn loadavg_gives_three_load_averages() {
    check(
        procfs::parse_loadavg,
        &fixture("loadavg"),
        &["node_load1{} 0.02", "node_load5{} 0.47", "node_load15{} 1.06"],
    );
}

#[test]
fn meminfo_gives_bytes_under_node_exporter_names() {
    check(
        procfs::parse_meminfo,
        &fixture("meminfo"),
        &[
            "node_memory_MemTotal_bytes{} 25276514304",
            "node_memory_MemFree_bytes{} 23388708864",
            "node_memory_MemAvailable_bytes{} 24782848000",
            "node_memory_Cached_bytes{} 1398464512",
            "node_memory_Buffers_bytes{} 6275072",
            "node_memory_SwapTotal_bytes{} 0",
            "node_memory_SwapFree_bytes{} 0",
            "node_memory_Active_anon_bytes{} 1581056",
            "node_memory_HugePages_Total{} 0",
        ],
    );
}

#[test]
fn diskstats_gives_whole_disks_in_bytes_and_seconds() {
    check(
        procfs::parse_diskstats,
        &fixture("diskstats"),
        &[
            r#"node_disk_reads_completed_total{device="vda"} 1134770"#,
            r#"node_disk_read_bytes_total{device="vda"} 30873510912"#,
            r#"node_disk_writes_completed_total{device="vda"} 146105"#,
            r#"node_disk_written_bytes_total{device="vda"} 73646448640"#,
            r#"node_disk_io_time_seconds_total{device="vda"} 133.132"#,
            r#"node_disk_read_time_seconds_total{device="vda"} 3513.666"#,
        ],
    );
}

#[test]
fn diskstats_skips_partitions_loop_and_ram_devices() {
    let text = "\
   8       0 sda 1 0 8 1 1 0 8 1 0 1 2 0 0 0 0
   8       1 sda1 1 0 8 1 1 0 8 1 0 1 2 0 0 0 0
 259       0 nvme0n1 1 0 8 1 1 0 8 1 0 1 2 0 0 0 0
 259       1 nvme0n1p1 1 0 8 1 1 0 8 1 0 1 2 0 0 0 0
   7       0 loop0 1 0 8 1 1 0 8 1 0 1 2 0 0 0 0
 253       0 zram0 1 0 8 1 1 0 8 1 0 1 2 0 0 0 0
 253       1 dm-0 1 0 8 1 1 0 8 1 0 1 2 0 0 0 0
   8      16 sdb 1 2 bogus
";
    let mut out = Vec::new();
    procfs::parse_diskstats(text, &mut out);
    let mut devices: Vec<&str> = out.iter().filter_map(|(l, _)| l.get("device")).collect();
    devices.dedup();
    assert_eq!(devices, ["sda", "nvme0n1", "dm-0"]);
}

#[test]
fn net_dev_gives_bytes_packets_and_errors_per_interface() {
    check(
        procfs::parse_net_dev,
        &fixture("net_dev"),
        &[
            r#"node_network_receive_bytes_total{device="eth0"} 213747265"#,
            r#"node_network_receive_packets_total{device="eth0"} 10700"#,
            r#"node_network_receive_errs_total{device="eth0"} 0"#,
            r#"node_network_transmit_bytes_total{device="eth0"} 639060"#,
            r#"node_network_transmit_packets_total{device="eth0"} 6345"#,
            r#"node_network_transmit_errs_total{device="lo"} 0"#,
        ],
    );
}

#[test]
fn mounts_skip_pseudo_file_systems_and_keep_the_last_mount_of_a_path() {
    let mounts = filesystem::parse_mounts(&fixture("mounts"));
    let points: Vec<(&str, &str, &str)> =
        mounts.iter().map(|m| (m.device.as_str(), m.mountpoint.as_str(), m.fstype.as_str())).collect();
    assert_eq!(points, [("/dev/vda", "/", "ext4")]);

    let text = "/dev/sdb1 /data ext4 ro 0 0\n/dev/sdc1 /mnt/my\\040disk xfs rw 0 0\n/dev/sdd1 /data xfs rw 0 0\n";
    let mounts = filesystem::parse_mounts(text);
    let points: Vec<(&str, &str, bool)> =
        mounts.iter().map(|m| (m.device.as_str(), m.mountpoint.as_str(), m.read_only)).collect();
    assert_eq!(points, [("/dev/sdc1", "/mnt/my disk", false), ("/dev/sdd1", "/data", false)]);
}

#[test]
fn filesystem_sizes_come_from_statvfs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut out = Vec::new();
    filesystem::collect(dir.path(), "/dev/vda / ext4 rw 0 0\n/dev/gone /not/there ext4 rw 0 0\n", &mut out);
    let size = out
        .iter()
        .find(|(l, _)| l.metric_name() == Some("node_filesystem_size_bytes"))
        .map(|(l, v)| (l.get("mountpoint"), l.get("device"), l.get("fstype"), *v));
    let Some((Some("/"), Some("/dev/vda"), Some("ext4"), bytes)) = size else { panic!("no size for /: {out:?}") };
    assert!(bytes > 0.0);
    assert!(out.iter().all(|(l, _)| l.get("mountpoint") == Some("/")), "a mount that cannot be stat'ed is left out");
}

#[test]
fn cgroup_v2_gives_cadvisor_series_for_the_own_cgroup() {
    let root = tempfile::tempdir().expect("temp dir");
    let dir = root.path().join("sys/fs/cgroup");
    std::fs::create_dir_all(&dir).expect("cgroup dir");
    for file in ["cpu.stat", "memory.current", "memory.max"] {
        std::fs::write(dir.join(file), fixture(&format!("cgroup/{file}"))).expect("cgroup file");
    }
    check(
        |t, o| cgroup::collect(root.path(), t, o).expect("cgroup readable"),
        &fixture("cgroup/self_cgroup"),
        &[
            r#"container_cpu_usage_seconds_total{id="/"} 8123.456789"#,
            r#"container_memory_usage_bytes{id="/"} 3221225472"#,
            r#"container_spec_memory_limit_bytes{id="/"} 17179869184"#,
        ],
    );
}

#[test]
fn cgroup_parsers_follow_cadvisor() {
    assert_eq!(
        cgroup::own_path("12:memory:/x\n0::/system.slice/infersight.service\n"),
        Some("/system.slice/infersight.service")
    );
    assert_eq!(cgroup::own_path("4:memory:/docker/abc\n"), None, "cgroup v1 only");
    assert_eq!(cgroup::parse_memory_max("max\n"), Some(0.0), "no limit reads as 0");
    assert_eq!(cgroup::parse_cpu_usage_seconds("user_usec 1\nusage_usec 2500000\n"), Some(2.5));
}

#[test]
fn cgroup_v1_host_gives_nothing() {
    let root = tempfile::tempdir().expect("temp dir");
    let mut out = Vec::new();
    cgroup::collect(root.path(), "0::/\n", &mut out).expect("missing files are not an error");
    assert!(out.is_empty());
}
