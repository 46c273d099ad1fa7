//! Any bytes, parsed as Prometheus text 0.0.4 and as OpenMetrics: errors are
//! fine, panics are not, and every sample's labels decode.
#![no_main]

use collectors::exposition::{self, Entry, Format};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(page) = std::str::from_utf8(data) else { return };
    for format in [Format::Text, Format::OpenMetrics] {
        for entry in exposition::parse(page, format) {
            match entry {
                Ok(Entry::Sample(sample)) => {
                    assert!(page.contains(sample.series));
                    assert!(sample.series.starts_with(sample.name));
                    for (name, _value) in sample.labels() {
                        assert!(series::is_valid_label_name(name), "{name:?} in {:?}", sample.series);
                    }
                }
                Ok(_) => {}
                Err(error) => assert!(error.line >= 1),
            }
        }
    }
});
