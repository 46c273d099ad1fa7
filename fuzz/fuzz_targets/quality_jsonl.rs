//! Any bytes as `infersight score` and `infersight drift` input: every line
//! gets exactly one output line, and nothing panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let lines = data.split(|&b| b == b'\n').count() - usize::from(data.ends_with(b"\n"));
    // Scorers without compiled patterns: the run builds its scorer per call.
    for scorer in ["json", "consistency", "reference"] {
        let mut out = Vec::new();
        let summary = quality::score_jsonl(scorer, data, &mut out).expect("writing to memory cannot fail");
        assert_eq!(summary.scored + summary.failed, summary.lines);
        assert!(summary.lines as usize <= lines + 1);
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count() as u64, summary.lines);
    }
    let mut out = Vec::new();
    let summary = quality::drift_jsonl(data, &mut out).expect("writing to memory cannot fail");
    assert_eq!(out.iter().filter(|&&b| b == b'\n').count() as u64, summary.lines);
});
