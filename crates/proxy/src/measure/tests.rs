//! The stream filter passes streams on unchanged, less the usage-only
//! event when the gateway asked for it, however the stream is cut.

use super::*;

const STREAM: &str = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\n\
                      : keep-alive\n\n\
                      data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n\
                      data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1}}\n\n\
                      data: [DONE]\n\n";

fn kind(data: &[u8]) -> EventKind {
    let usage_only = data.starts_with(b"{\"choices\":[],\"usage\"");
    if usage_only { EventKind::UsageOnly } else { EventKind::Other }
}

/// What the client receives when the stream arrives in chunks cut at `cuts`.
fn pass(strip_usage: bool, cuts: &[usize]) -> (String, usize) {
    let mut filter = StreamFilter::new(strip_usage);
    let mut out = Vec::new();
    let mut n_events = 0;
    let mut from = 0;
    for &cut in cuts.iter().chain([&STREAM.len()]) {
        let chunk = Bytes::copy_from_slice(&STREAM.as_bytes()[from..cut]);
        let sent = filter.pass(chunk, |data| {
            n_events += 1;
            kind(data)
        });
        out.extend_from_slice(&sent.unwrap_or_default());
        from = cut;
    }
    out.extend_from_slice(&filter.take_held().unwrap_or_default());
    (String::from_utf8(out).expect("UTF-8"), n_events)
}

#[test]
fn only_the_usage_event_is_removed_wherever_the_stream_is_cut() {
    let usage_event = STREAM.split_inclusive("\n\n").find(|e| e.contains("\"choices\":[]")).expect("usage event");
    let expect = STREAM.replace(usage_event, "");
    let every_byte: Vec<usize> = (1..STREAM.len()).collect();
    assert_eq!(pass(true, &every_byte), (expect.clone(), 4));
    for cut in 0..=STREAM.len() {
        assert_eq!(pass(true, &[cut]), (expect.clone(), 4), "cut at {cut}");
        let mut third = [cut / 3, cut];
        third.sort_unstable();
        assert_eq!(pass(true, &third), (expect.clone(), 4), "cut at {third:?}");
    }
}

#[test]
fn a_stream_whose_client_asked_for_usage_passes_unchanged() {
    assert_eq!(pass(false, &[10, 100, 200]), (STREAM.to_owned(), 4));
}

#[test]
fn an_unfinished_event_is_sent_when_the_stream_ends() {
    let mut filter = StreamFilter::new(true);
    let sent = filter.pass(Bytes::from_static(b"data: [DONE]\n\ndata: {\"tr"), kind);
    assert_eq!(sent.as_deref(), Some(&b"data: [DONE]\n\n"[..]));
    assert_eq!(filter.take_held().as_deref(), Some(&b"data: {\"tr"[..]));
}
