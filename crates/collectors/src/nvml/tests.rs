//! NVML collector tests, on fake GPUs: the series DCGM's exporter would
//! write, and what is left out where a GPU lacks a feature.

use std::collections::BTreeSet;

use series::Labels;

use super::{FakeGpus, NvmlCollector};
use crate::local::Collector;

const HOST: &str = "ip-10-0-41-17";

/// One collection as `name{labels} value` lines with labels sorted by name.
fn collect(gpus: &FakeGpus) -> BTreeSet<String> {
    let mut collector = NvmlCollector::new(gpus.clone(), HOST);
    let mut out = Vec::new();
    collector.collect(&mut out).expect("fake GPUs read");
    out.iter().map(|(labels, value)| line(labels, *value)).collect()
}

fn line(labels: &Labels, value: f64) -> String {
    let name = labels.metric_name().unwrap_or_default();
    let rest: Vec<String> =
        labels.iter().filter(|l| l.name != series::METRIC_NAME).map(|l| format!("{}={:?}", l.name, l.value)).collect();
    format!("{name}{{{}}} {value}", rest.join(","))
}

/// The DCGM exporter fixture's samples in the same form.
fn dcgm_fixture() -> BTreeSet<String> {
    let path = format!("{}/testdata/dcgm-metrics.prom", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("reading {path}: {err}"));
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').expect("sample line has a value");
            let (name, labels) = series.split_once('{').expect("fixture lines have labels");
            let mut pairs: Vec<(String, String)> = labels
                .trim_end_matches('}')
                .split("\",")
                .map(|pair| {
                    let (k, v) = pair.split_once('=').expect("label pair");
                    (k.to_owned(), v.trim_matches('"').to_owned())
                })
                .collect();
            pairs.push(("__name__".to_owned(), name.to_owned()));
            let labels = Labels::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            line(&labels, value.parse().expect("numeric value"))
        })
        .collect()
}

fn names(lines: &BTreeSet<String>) -> BTreeSet<&str> {
    lines.iter().map(|l| &l[..l.find('{').unwrap_or(l.len())]).collect()
}

#[test]
fn two_gpus_give_the_dcgm_exporters_series_with_its_labels_and_values() {
    let got = collect(&FakeGpus::fixture());
    let fixture = dcgm_fixture();
    // Every fixture series that NVML can produce comes out identical: same
    // labels, same label values, same value.
    let producible: BTreeSet<&String> = fixture
        .iter()
        .filter(|l| !l.starts_with("DCGM_FI_PROF_") && !l.starts_with("DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL"))
        .collect();
    assert_eq!(producible.len(), 2 * 18);
    for line in producible {
        assert!(got.contains(line), "missing {line}\ngot:\n{}", got.iter().cloned().collect::<Vec<_>>().join("\n"));
    }
    // And nothing else than these series, two of each.
    let expected_names: BTreeSet<&str> = [
        "DCGM_FI_DEV_SM_CLOCK",
        "DCGM_FI_DEV_MEM_CLOCK",
        "DCGM_FI_DEV_MEMORY_TEMP",
        "DCGM_FI_DEV_GPU_TEMP",
        "DCGM_FI_DEV_POWER_USAGE",
        "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION",
        "DCGM_FI_DEV_PCIE_REPLAY_COUNTER",
        "DCGM_FI_DEV_GPU_UTIL",
        "DCGM_FI_DEV_MEM_COPY_UTIL",
        "DCGM_FI_DEV_ENC_UTIL",
        "DCGM_FI_DEV_DEC_UTIL",
        "DCGM_FI_DEV_XID_ERRORS",
        "DCGM_FI_DEV_FB_TOTAL",
        "DCGM_FI_DEV_FB_FREE",
        "DCGM_FI_DEV_FB_USED",
        "DCGM_FI_DEV_FB_RESERVED",
        "DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS",
        "DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS",
        "DCGM_FI_DEV_ROW_REMAP_FAILURE",
        "DCGM_FI_DEV_CLOCKS_EVENT_REASONS",
        "DCGM_FI_DEV_ECC_SBE_VOL_TOTAL",
        "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL",
        "DCGM_FI_DEV_ECC_SBE_AGG_TOTAL",
        "DCGM_FI_DEV_ECC_DBE_AGG_TOTAL",
        "infersight_gpu_process_memory_bytes",
    ]
    .into();
    assert_eq!(names(&got), expected_names);
    assert_eq!(got.len(), 2 * expected_names.len());
}

#[test]
fn process_memory_carries_the_gpu_labels_pid_and_name() {
    let got = collect(&FakeGpus::fixture());
    let expected = "infersight_gpu_process_memory_bytes{DCGM_FI_DRIVER_VERSION=\"570.172.08\",\
        Hostname=\"ip-10-0-41-17\",UUID=\"GPU-3f2a9c1e-7b4d-4e8a-9c21-5d6e8f0a1b2c\",device=\"nvidia0\",\
        gpu=\"0\",modelName=\"NVIDIA H100 80GB HBM3\",pci_bus_id=\"00000000:19:00.0\",pid=\"4242\",\
        process_name=\"vllm\"} 77309411328";
    assert!(got.contains(expected), "got:\n{}", got.iter().cloned().collect::<Vec<_>>().join("\n"));
}

#[test]
fn gpu_without_ecc_gives_no_ecc_series_and_no_error() {
    let gpus = FakeGpus::fixture();
    gpus.update(|gpus| gpus.iter_mut().for_each(|gpu| gpu.ecc = None));
    let got = collect(&gpus);
    assert!(!got.iter().any(|l| l.starts_with("DCGM_FI_DEV_ECC_")), "no ECC series");
    assert!(got.iter().any(|l| l.starts_with("DCGM_FI_DEV_GPU_UTIL")), "the rest is still there");
}

#[test]
fn unsupported_fields_are_left_out() {
    let gpus = FakeGpus::fixture();
    gpus.update(|gpus| {
        gpus[1].memory_temp_celsius = None;
        gpus[1].remapped_rows = None;
        gpus[1].last_xid = None;
    });
    let got = collect(&gpus);
    let of_gpu1 = |name: &str| got.iter().filter(|l| l.starts_with(name) && l.contains("gpu=\"1\"")).count();
    assert_eq!(of_gpu1("DCGM_FI_DEV_MEMORY_TEMP"), 0);
    assert_eq!(of_gpu1("DCGM_FI_DEV_ROW_REMAP_FAILURE"), 0);
    assert_eq!(of_gpu1("DCGM_FI_DEV_XID_ERRORS"), 0);
    assert_eq!(of_gpu1("DCGM_FI_DEV_GPU_TEMP"), 1);
}

#[test]
fn xid_errors_carry_code_and_message() {
    let gpus = FakeGpus::fixture();
    gpus.update(|gpus| gpus[0].last_xid = Some(79));
    let got = collect(&gpus);
    let xid = got.iter().find(|l| l.starts_with("DCGM_FI_DEV_XID_ERRORS") && l.contains("gpu=\"0\""));
    let xid = xid.expect("XID series for GPU 0");
    assert!(xid.contains("err_code=\"79\",err_msg=\"GPU has fallen off the bus\""), "{xid}");
    assert!(xid.ends_with(" 79"), "{xid}");
    assert_eq!(super::xid_message(12345), "Unknown Error");
}

#[test]
fn a_failing_driver_is_an_error() {
    let gpus = FakeGpus::fixture();
    gpus.set_failing(true);
    let mut collector = NvmlCollector::new(gpus, HOST);
    assert!(collector.collect(&mut Vec::new()).is_err());
}
