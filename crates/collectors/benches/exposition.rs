//! Throughput of the exposition parser, in samples per second, against the
//! `prometheus-parse` crate as a baseline, on the vLLM fixture and on a
//! generated DCGM-style page of 10,000 series.

use std::hint::black_box;
use std::io;

use collectors::exposition::{self, Entry, Format};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn vllm_page() -> String {
    let path = format!("{}/testdata/vllm-metrics.prom", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

/// 20 DCGM fields for 500 GPUs, in dcgm-exporter's layout.
fn dcgm_page() -> String {
    let mut page = String::new();
    for field in 0..20 {
        let name = format!("DCGM_FI_DEV_FIELD_{field}");
        page.push_str(&format!("# HELP {name} Field number {field} (in units).\n# TYPE {name} gauge\n"));
        for gpu in 0..500 {
            page.push_str(&format!(
                "{name}{{gpu=\"{}\",UUID=\"GPU-3f2a9c1e-7b4d-4e8a-9c21-{gpu:012x}\",pci_bus_id=\"00000000:{:02X}:00.0\",\
                 device=\"nvidia{}\",modelName=\"NVIDIA H100 80GB HBM3\",Hostname=\"ip-10-0-{}-17\",\
                 DCGM_FI_DRIVER_VERSION=\"570.172.08\"}} {}.{:06}\n",
                gpu % 8,
                gpu % 256,
                gpu % 8,
                gpu / 8,
                gpu * 7 + field,
                gpu * 13
            ));
        }
    }
    page
}

/// Parses and touches every label, as a scraper on a cold cache does.
fn parse_infersight(page: &str) -> (usize, usize) {
    let mut n_samples = 0;
    let mut n_label_bytes = 0;
    for entry in exposition::parse(page, Format::Text) {
        if let Ok(Entry::Sample(sample)) = entry {
            n_samples += 1;
            for (name, value) in sample.labels() {
                n_label_bytes += name.len() + value.len();
            }
            black_box(sample.value);
        }
    }
    (n_samples, n_label_bytes)
}

/// prometheus-parse groups a histogram's or summary's lines into one
/// sample, so its count is not compared; the time covers every line.
/// Parses without decoding labels, as a scraper does when its cache knows
/// every series by its text.
fn parse_series_only(page: &str) -> usize {
    let mut n_samples = 0;
    for entry in exposition::parse(page, Format::Text) {
        if let Ok(Entry::Sample(sample)) = entry {
            n_samples += 1;
            black_box((sample.series, sample.value));
        }
    }
    n_samples
}

fn parse_baseline(page: &str) -> usize {
    let lines = page.lines().map(|line| Ok::<_, io::Error>(line.to_owned()));
    prometheus_parse::Scrape::parse(lines).map_or(0, |scrape| scrape.samples.len())
}

fn bench(c: &mut Criterion) {
    for (input, page) in [("vllm_fixture", vllm_page()), ("dcgm_10k_series", dcgm_page())] {
        let (n_samples, _) = parse_infersight(&page);
        // prometheus-parse reads names as `\w+`: it skips every line of a
        // name with a colon, so it is given the page with colons replaced
        // (same length), or it would skip most of vLLM's lines.
        let baseline_page = page.replace(':', "_");
        let mut group = c.benchmark_group(format!("exposition/{input}"));
        group.throughput(Throughput::Elements(n_samples as u64));
        group.bench_function("infersight", |b| b.iter(|| parse_infersight(black_box(&page))));
        group.bench_function("infersight_series_only", |b| b.iter(|| parse_series_only(black_box(&page))));
        group.bench_function("prometheus_parse", |b| b.iter(|| parse_baseline(black_box(&baseline_page))));
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
