//! Fuzzes the remote-write decoders: raw protobuf, and snappy-compressed bodies.
#![no_main]

use libfuzzer_sys::fuzz_target;
use receivers::remote_write::{decode_v1, decode_v2, decompress};

/// Small enough that fuzzing does not spend its time allocating.
const MAX_DECOMPRESSED_BYTES: usize = 1 << 20;

fuzz_target!(|data: &[u8]| {
    check(data);
    if let Ok(buf) = decompress(data, MAX_DECOMPRESSED_BYTES) {
        assert!(buf.len() <= MAX_DECOMPRESSED_BYTES);
        check(&buf);
    }
});

/// Decodes `buf` as both versions; whatever decodes must satisfy the batch invariants.
fn check(buf: &[u8]) {
    for batch in [decode_v1(buf), decode_v2(buf)].into_iter().flatten() {
        let mut n_samples = 0;
        for (labels, samples) in batch.series() {
            assert!(!samples.is_empty());
            assert!(labels.windows(2).all(|pair| pair[0].name < pair[1].name), "{labels:?}");
            assert!(labels.iter().all(|label| !label.value.is_empty()), "{labels:?}");
            assert!(labels.iter().any(|label| label.name == "__name__"), "{labels:?}");
            n_samples += samples.len();
        }
        assert_eq!(n_samples, batch.num_samples());
    }
}
