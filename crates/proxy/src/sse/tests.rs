//! The scanner finds the same events wherever a stream is cut into chunks.

use super::*;

/// Events as `(data, start, end)`, scanning `stream` in chunks cut at `cuts`.
fn scan(stream: &[u8], cuts: &[usize]) -> Vec<(String, u64, u64)> {
    let mut scanner = Scanner::new();
    let mut events = Vec::new();
    let mut from = 0;
    for &cut in cuts.iter().chain([&stream.len()]) {
        scanner.feed(&stream[from..cut], |event| {
            events.push((String::from_utf8_lossy(event.data).into_owned(), event.start, event.end));
        });
        from = cut;
    }
    assert_eq!(scanner.offset(), stream.len() as u64);
    events
}

/// Checks `stream` gives `expect` whole, cut in two anywhere, and byte by byte.
fn check(stream: &str, expect: &[(&str, u64, u64)]) {
    let stream = stream.as_bytes();
    let expect: Vec<(String, u64, u64)> = expect.iter().map(|&(d, s, e)| (d.to_owned(), s, e)).collect();
    assert_eq!(scan(stream, &[]), expect, "whole");
    for cut in 0..=stream.len() {
        assert_eq!(scan(stream, &[cut]), expect, "cut at {cut}");
    }
    let every_byte: Vec<usize> = (1..stream.len()).collect();
    assert_eq!(scan(stream, &every_byte), expect, "byte by byte");
}

#[test]
fn openai_stream_events_are_found_with_their_extents() {
    check("data: {\"a\":1}\n\ndata: [DONE]\n\n", &[("{\"a\":1}", 0, 15), ("[DONE]", 15, 29)]);
}

#[test]
fn crlf_line_endings_and_missing_space_after_colon_are_accepted() {
    check("data:x\r\n\r\ndata:  y\r\n\r\n", &[("x", 0, 10), (" y", 10, 22)]);
}

#[test]
fn several_data_lines_join_with_newlines() {
    check("data: a\ndata: b\ndata\n\n", &[("a\nb\n", 0, 22)]);
}

#[test]
fn comments_other_fields_and_empty_events_dispatch_nothing() {
    check(": keep-alive\n\nevent: x\nid: 7\n\n\n\ndata: z\n\n", &[("z", 32, 41)]);
}

#[test]
fn an_unterminated_event_is_not_dispatched_and_stays_pending() {
    let mut scanner = Scanner::new();
    let mut n_events = 0;
    scanner.feed(b"data: 1\n\ndata: 2\n", |_| n_events += 1);
    assert_eq!(n_events, 1);
    assert_eq!(scanner.pending_start(), 9);
    scanner.feed(b"\n", |event| {
        assert_eq!(event, Event { data: b"2", start: 9, end: 18 });
        n_events += 1;
    });
    assert_eq!(n_events, 2);
    assert_eq!(scanner.pending_start(), scanner.offset());
}

#[test]
fn an_overlong_line_is_dropped_and_counted_without_losing_the_next_event() {
    let mut scanner = Scanner::new();
    let mut events = Vec::new();
    let long = vec![b'x'; MAX_LINE_BYTES];
    scanner.feed(b"data: ", |_| {});
    scanner.feed(&long, |_| {});
    scanner.feed(b"\n\ndata: ok\n\n", |event| events.push(event.data.to_vec()));
    assert_eq!(events, vec![b"ok".to_vec()]);
    assert_eq!(scanner.n_overlong_lines(), 1);
}

proptest::proptest! {
    #[test]
    fn any_bytes_cut_anywhere_give_the_same_events(
        stream in proptest::collection::vec(proptest::sample::select(b"data: {}[]x:\r\n ".to_vec()), 0..300),
        mut cuts in proptest::collection::vec(0usize..300, 0..20),
    ) {
        cuts.retain(|&cut| cut <= stream.len());
        cuts.sort_unstable();
        let whole = scan(&stream, &[]);
        proptest::prop_assert_eq!(scan(&stream, &cuts), whole.clone());
        let mut last_end = 0;
        for (_, start, end) in whole {
            proptest::prop_assert!(last_end <= start && start < end && end <= stream.len() as u64);
            last_end = end;
        }
    }
}
