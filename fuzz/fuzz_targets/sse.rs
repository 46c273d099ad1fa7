//! The gateway's SSE scanner on arbitrary bytes cut into arbitrary chunks:
//! it must never panic, must find the same events however the stream is
//! cut, and every event's extent must lie within the stream, in order.
#![no_main]

use libfuzzer_sys::fuzz_target;
use proxy::sse::Scanner;

fn scan(stream: &[u8], cuts: impl Iterator<Item = usize>) -> Vec<(Vec<u8>, u64, u64)> {
    let mut scanner = Scanner::new();
    let mut events = Vec::new();
    let mut from = 0;
    for cut in cuts.chain([stream.len()]) {
        let cut = cut.clamp(from, stream.len());
        scanner.feed(&stream[from..cut], |event| events.push((event.data.to_vec(), event.start, event.end)));
        from = cut;
    }
    assert!(scanner.pending_start() <= scanner.offset());
    events
}

fuzz_target!(|data: &[u8]| {
    // The first byte picks chunk lengths; the rest is the stream.
    let Some((&seed, stream)) = data.split_first() else { return };
    let whole = scan(stream, std::iter::empty());
    let step = usize::from(seed % 17) + 1;
    let cut = scan(stream, (1..stream.len()).step_by(step));
    assert_eq!(whole, cut);
    let mut last_end = 0;
    for (_, start, end) in &whole {
        assert!(last_end <= *start && start < end && *end <= stream.len() as u64);
        last_end = *end;
    }
});
