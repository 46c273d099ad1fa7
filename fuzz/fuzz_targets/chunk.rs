//! XOR chunk decoding on arbitrary bytes, and encoding whatever decodes:
//! decoding must never panic, and re-encoding a decoded chunk must give back
//! the same samples.
#![no_main]

use libfuzzer_sys::fuzz_target;
use series::chunk::{XorAppender, XorIter};

fuzz_target!(|data: &[u8]| {
    let samples: Vec<(i64, u64)> = XorIter::new(data).map(|s| (s.t, s.v.to_bits())).collect();
    let mut increasing = samples.windows(2).all(|w| w[0].0 < w[1].0);
    increasing &= samples.len() <= series::chunk::MAX_SAMPLES;
    if increasing && !samples.is_empty() {
        let mut app = XorAppender::new();
        for &(t, v) in &samples {
            app.append(t, f64::from_bits(v));
        }
        let again: Vec<(i64, u64)> = XorIter::new(app.bytes()).map(|s| (s.t, s.v.to_bits())).collect();
        assert_eq!(again, samples);
    }
});
