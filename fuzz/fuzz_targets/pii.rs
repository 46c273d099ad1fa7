//! Any text through the PII scanner and redaction: spans lie inside the
//! text in code points, in order, and redaction never panics.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use quality::{Input, Scorer};

/// Compiled once: building the scanner is the slow part.
static PII: LazyLock<quality::pii::Pii> = LazyLock::new(quality::pii::Pii::new);

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let pii = &*PII;
    let score = pii.score(&Input::text(&text)).expect("the PII scorer reads plain text");
    let chars = text.chars().count();
    let mut last_end = 0;
    for span in &score.spans {
        assert!(span.start < span.end && span.end <= chars, "{span:?} in {chars} code points");
        assert!(span.start >= last_end, "spans overlap or are out of order");
        last_end = span.end;
    }
    let _ = pii.redact(&text);
});
