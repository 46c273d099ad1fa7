//! Fuzzes the OTLP metrics decoders (protobuf, JSON, gzip) and the translation of what decodes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use receivers::otlp::{DeltaTotals, decode_json, decode_protobuf, gunzip, translate};
use series::{METRIC_NAME, is_valid_label_name, is_valid_metric_name};

/// Small enough that fuzzing does not spend its time allocating.
const MAX_DECOMPRESSED_BYTES: usize = 1 << 20;

fuzz_target!(|data: &[u8]| {
    check(data);
    if let Ok(buf) = gunzip(data, MAX_DECOMPRESSED_BYTES) {
        assert!(buf.len() <= MAX_DECOMPRESSED_BYTES);
        check(&buf);
    }
});

/// Decodes `buf` in both encodings; whatever decodes must translate to valid series.
fn check(buf: &[u8]) {
    for request in [decode_protobuf(buf), decode_json(buf)].into_iter().flatten() {
        let mut deltas = DeltaTotals::new(64);
        let mut translation = translate(&request, &deltas);
        for (labels, _) in translation.samples() {
            let labels: Vec<_> = labels.iter().collect();
            assert!(labels.windows(2).all(|pair| pair[0].name < pair[1].name), "{labels:?}");
            assert!(labels.iter().all(|label| !label.value.is_empty()), "{labels:?}");
            for label in &labels {
                if label.name == METRIC_NAME {
                    assert!(is_valid_metric_name(label.value), "{labels:?}");
                } else {
                    assert!(is_valid_label_name(label.name), "{labels:?}");
                }
            }
            assert!(labels.iter().any(|label| label.name == METRIC_NAME), "{labels:?}");
        }
        let by_reason: usize = translation.rejected().iter().map(|(_, n)| n).sum();
        assert_eq!(by_reason, translation.num_rejected());
        assert_eq!(translation.num_rejected() == 0, translation.error_message().is_empty());
        deltas.apply(&mut translation);
        assert!(deltas.len() <= 64);
    }
}
