//! Tests of the remote-write decoders against prost-encoded requests.

use proptest::prelude::*;
use prost::Message;

use super::*;
use crate::remote_write::proto::{v1, v2};

/// A decoded series as owned data, floats as bits so NaNs compare.
type Owned = (Vec<(String, String)>, Vec<(i64, u64)>);

fn owned(batch: &WriteBatch<'_>) -> Vec<Owned> {
    batch
        .series()
        .map(|(labels, samples)| {
            (
                labels.iter().map(|l| (l.name.to_owned(), l.value.to_owned())).collect(),
                samples.iter().map(|s| (s.t, s.v.to_bits())).collect(),
            )
        })
        .collect()
}

/// A series to encode: labels in sending order and samples.
#[derive(Debug, Clone)]
struct Input {
    labels: Vec<(String, String)>,
    samples: Vec<(i64, f64)>,
    n_exemplars: usize,
    n_histograms: usize,
}

/// What a correct decoder makes of `inputs`.
fn expected(inputs: &[Input]) -> Vec<Owned> {
    inputs
        .iter()
        .filter(|input| !input.samples.is_empty())
        .map(|input| {
            let mut labels: Vec<_> = input.labels.iter().filter(|(_, v)| !v.is_empty()).cloned().collect();
            labels.sort();
            // prost omits a -0.0 value as the proto3 default, so it arrives as 0.0.
            let samples = input.samples.iter().map(|&(t, v)| (t, if v == 0.0 { 0 } else { v.to_bits() }));
            (labels, samples.collect())
        })
        .collect()
}

fn encode_v1(inputs: &[Input]) -> Vec<u8> {
    let request = v1::WriteRequest {
        timeseries: inputs
            .iter()
            .map(|input| v1::TimeSeries {
                labels: input
                    .labels
                    .iter()
                    .map(|(name, value)| v1::Label { name: name.clone(), value: value.clone() })
                    .collect(),
                samples: input.samples.iter().map(|&(timestamp, value)| v1::Sample { value, timestamp }).collect(),
                exemplars: vec![v1::Exemplar::default(); input.n_exemplars],
                histograms: vec![v1::Histogram { count_int: 3, ..Default::default() }; input.n_histograms],
            })
            .collect(),
        metadata: vec![v1::MetricMetadata { r#type: 1, metric_family_name: "up".into(), ..Default::default() }],
    };
    request.encode_to_vec()
}

fn encode_v2(inputs: &[Input]) -> Vec<u8> {
    let mut symbols = vec![String::new()];
    let mut symbol = |s: &str| match symbols.iter().position(|x| x == s) {
        Some(i) => i as u32,
        None => {
            symbols.push(s.to_owned());
            (symbols.len() - 1) as u32
        }
    };
    let timeseries = inputs
        .iter()
        .map(|input| v2::TimeSeries {
            labels_refs: input.labels.iter().flat_map(|(name, value)| [symbol(name), symbol(value)]).collect(),
            samples: input.samples.iter().map(|&(timestamp, value)| v2::Sample { value, timestamp }).collect(),
            histograms: vec![v2::Histogram { count_int: 3, ..Default::default() }; input.n_histograms],
            exemplars: vec![v2::Exemplar { labels_refs: vec![0, 0], ..Default::default() }; input.n_exemplars],
            metadata: Some(v2::Metadata { r#type: 2, help_ref: 0, unit_ref: 0 }),
            created_timestamp: 17,
        })
        .collect();
    v2::Request { symbols, timeseries }.encode_to_vec()
}

fn label_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("instance".to_owned()),
        Just("job".to_owned()),
        Just("le".to_owned()),
        Just("model_name".to_owned()),
        "[a-zA-Z_][a-zA-Z0-9_]{0,12}",
    ]
}

fn input() -> impl Strategy<Value = Input> {
    (
        "[a-zA-Z_:][a-zA-Z0-9_:]{0,20}",
        proptest::collection::btree_map(
            label_name().prop_filter("not the metric name", |n| n != "__name__"),
            ".{0,8}",
            0..8,
        ),
        proptest::collection::vec((any::<i64>(), any::<f64>()), 0..4),
        any::<bool>(),
        0..2usize,
        0..2usize,
    )
        .prop_map(|(metric_name, labels, samples, shuffle, n_exemplars, n_histograms)| {
            let mut labels: Vec<_> = labels.into_iter().collect();
            labels.push(("__name__".to_owned(), metric_name));
            labels.sort();
            if shuffle {
                labels.reverse();
            }
            Input { labels, samples, n_exemplars, n_histograms }
        })
}

proptest! {
    #[test]
    fn v1_round_trips(inputs in proptest::collection::vec(input(), 0..20)) {
        let buf = encode_v1(&inputs);
        let batch = decode_v1(&buf).expect("valid request");
        prop_assert_eq!(owned(&batch), expected(&inputs));
        prop_assert_eq!(batch.num_exemplars(), inputs.iter().map(|i| i.n_exemplars).sum::<usize>());
        prop_assert_eq!(batch.num_histograms(), inputs.iter().map(|i| i.n_histograms).sum::<usize>());
    }

    #[test]
    fn v2_round_trips(inputs in proptest::collection::vec(input(), 0..20)) {
        let buf = encode_v2(&inputs);
        let batch = decode_v2(&buf).expect("valid request");
        prop_assert_eq!(owned(&batch), expected(&inputs));
        prop_assert_eq!(batch.num_exemplars(), inputs.iter().map(|i| i.n_exemplars).sum::<usize>());
        prop_assert_eq!(batch.num_histograms(), inputs.iter().map(|i| i.n_histograms).sum::<usize>());
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = decode_v1(&bytes);
        let _ = decode_v2(&bytes);
    }
}

fn series(name: &str, labels: &[(&str, &str)], samples: &[(i64, f64)]) -> Input {
    let mut all = vec![("__name__".to_owned(), name.to_owned())];
    all.extend(labels.iter().map(|&(n, v)| (n.to_owned(), v.to_owned())));
    Input { labels: all, samples: samples.to_vec(), n_exemplars: 0, n_histograms: 0 }
}

/// A varint, for writing requests by hand.
fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A length-delimited field.
fn len_field(field: u32, bytes: &[u8], out: &mut Vec<u8>) {
    varint(u64::from(field << 3 | 2), out);
    varint(bytes.len() as u64, out);
    out.extend_from_slice(bytes);
}

#[test]
fn unknown_fields_of_every_wire_type_are_skipped() {
    let mut unknown = Vec::new();
    varint(99 << 3, &mut unknown);
    varint(12345, &mut unknown);
    len_field(98, b"future", &mut unknown);
    varint(97 << 3 | 1, &mut unknown);
    unknown.extend_from_slice(&[0; 8]);
    varint(96 << 3 | 5, &mut unknown);
    unknown.extend_from_slice(&[0; 4]);
    varint(95 << 3 | 3, &mut unknown);
    varint(95 << 3 | 4, &mut unknown);

    // Unknown fields at every level of a 1.0 request.
    let mut label = unknown.clone();
    len_field(1, b"__name__", &mut label);
    label.extend_from_slice(&unknown);
    len_field(2, b"up", &mut label);
    let mut sample = unknown.clone();
    sample.push(1 << 3 | 1);
    sample.extend_from_slice(&2.5f64.to_le_bytes());
    sample.extend_from_slice(&unknown);
    sample.push(2 << 3);
    varint(1000, &mut sample);
    let mut timeseries = unknown.clone();
    len_field(1, &label, &mut timeseries);
    len_field(2, &sample, &mut timeseries);
    timeseries.extend_from_slice(&unknown);
    let mut request = unknown.clone();
    len_field(1, &timeseries, &mut request);
    request.extend_from_slice(&unknown);
    let batch = decode_v1(&request).expect("forward compatible");
    assert_eq!(owned(&batch), vec![(vec![("__name__".into(), "up".into())], vec![(1000, 2.5f64.to_bits())])]);

    // And of a 2.0 request, with symbols after the series and refs unpacked.
    let mut timeseries = unknown.clone();
    timeseries.extend_from_slice(&[1 << 3, 1, 1 << 3, 2]);
    len_field(2, &sample, &mut timeseries);
    let mut request = unknown.clone();
    len_field(5, &timeseries, &mut request);
    request.extend_from_slice(&unknown);
    for symbol in ["", "__name__", "up"] {
        len_field(4, symbol.as_bytes(), &mut request);
    }
    let batch = decode_v2(&request).expect("forward compatible");
    assert_eq!(owned(&batch), vec![(vec![("__name__".into(), "up".into())], vec![(1000, 2.5f64.to_bits())])]);
}

#[test]
fn stale_markers_pass_through() {
    let inputs = [series("up", &[], &[(1, series::STALE_NAN), (2, f64::NAN), (3, f64::INFINITY)])];
    for batch in [decode_v1(&encode_v1(&inputs)), decode_v2(&encode_v2(&inputs))] {
        let batch = batch.expect("valid");
        let (_, samples) = batch.series().next().expect("one series");
        assert!(series::is_stale_nan(samples[0].v));
        assert!(samples[1].v.is_nan() && !series::is_stale_nan(samples[1].v));
        assert_eq!(samples[2].v, f64::INFINITY);
    }
}

/// Decodes `buf` with `decode` and returns the error message.
fn error_of(result: Result<WriteBatch<'_>>) -> String {
    match result {
        Ok(batch) => panic!("decoded {:?}", owned(&batch)),
        Err(error) => {
            let source = std::error::Error::source(&error).map(|s| format!(": {s}")).unwrap_or_default();
            format!("{error}{source}")
        }
    }
}

#[test]
fn bad_requests_are_errors() {
    let bad_label = [series("up", &[("ok", "1")], &[(1, 1.0)]), series("up", &[("bad-name", "1")], &[])];
    assert_eq!(
        error_of(decode_v1(&encode_v1(&bad_label))),
        r#"invalid label name "bad-name" in series {__name__="up", bad-name="1"}"#
    );
    assert_eq!(
        error_of(decode_v2(&encode_v2(&bad_label))),
        r#"invalid label name "bad-name" in series {__name__="up", bad-name="1"}"#
    );

    let mut request = Vec::new();
    len_field(1, &[0x0a, 0x02, 0x0a, 0x01], &mut request);
    assert_eq!(
        error_of(decode_v1(&request)),
        "request body is not valid protobuf: length-delimited field runs past its message at byte 5"
    );
    // A label name that is not UTF-8.
    let mut label = Vec::new();
    len_field(1, &[0xff], &mut label);
    let mut timeseries = Vec::new();
    len_field(1, &label, &mut timeseries);
    let mut request = Vec::new();
    len_field(1, &timeseries, &mut request);
    assert_eq!(error_of(decode_v1(&request)), "request body is not valid protobuf: string is not UTF-8 at byte 5");
    // A sample value sent as a varint.
    assert_eq!(
        error_of(decode_v1(&[0x0a, 0x04, 0x12, 0x02, 0x08, 0x01])),
        "request body is not valid protobuf: field has the wrong wire type at byte 5"
    );

    // 2.0: a reference past the symbols, and an odd number of references.
    let request = v2::Request {
        symbols: vec![String::new(), "__name__".into()],
        timeseries: vec![v2::TimeSeries { labels_refs: vec![1, 2], ..Default::default() }],
    };
    assert_eq!(
        error_of(decode_v2(&request.encode_to_vec())),
        "request body is not valid protobuf: label reference out of range of the symbols at byte 17"
    );
    let request = v2::Request {
        symbols: vec![String::new(), "__name__".into()],
        timeseries: vec![v2::TimeSeries { labels_refs: vec![1], ..Default::default() }],
    };
    assert_eq!(
        error_of(decode_v2(&request.encode_to_vec())),
        "request body is not valid protobuf: odd number of label references in series at byte 14"
    );
}

#[test]
fn v1_and_v2_are_distinguished_only_by_header() {
    // A 1.0 request read as 2.0 has no symbols or series (fields 1 and 3 are
    // reserved in 2.0), so it decodes to nothing, which the spec intends.
    let buf = encode_v1(&[series("up", &[], &[(1, 1.0)])]);
    assert_eq!(decode_v2(&buf).expect("empty").num_samples(), 0);
}
