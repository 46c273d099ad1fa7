//! Label sets: order, encoding, validation.

use super::*;

#[test]
fn builder_sorts_and_drops_empty_values() {
    let labels = Labels::from_pairs([("job", "vllm"), ("__name__", "up"), ("zone", ""), ("instance", "a:1")]);
    assert_eq!(labels.to_string(), r#"{__name__="up", instance="a:1", job="vllm"}"#);
    assert_eq!(labels.metric_name(), Some("up"));
    assert_eq!(labels.len(), 3);
}

#[test]
fn encoding_round_trips_and_rejects_garbage() {
    let labels = Labels::from_pairs([("a", "ü"), ("b", &"x".repeat(300))]);
    assert_eq!(Labels::from_encoded(labels.as_bytes()), Some(labels.clone()));
    assert_eq!(Labels::from_encoded(&[5, b'a']), None);
    assert_eq!(Labels::from_encoded(&[1, 0xff, 0]), None);
}

#[test]
fn equal_sets_hash_equal() {
    let a = Labels::from_pairs([("x", "1"), ("y", "2")]);
    let b = Labels::from_pairs([("y", "2"), ("x", "1")]);
    assert_eq!(a, b);
    assert_eq!(a.hash64(), b.hash64());
    assert_ne!(a.hash64(), Labels::from_pairs([("x", "12")]).hash64());
}

#[test]
fn names_are_validated() {
    for ok in ["a", "_x", "le", "A_1"] {
        assert!(is_valid_label_name(ok), "{ok}");
    }
    for bad in ["", "1a", "a-b", "a:b", "é"] {
        assert!(!is_valid_label_name(bad), "{bad}");
    }
    assert!(is_valid_metric_name("vllm:num_requests_running"));
    assert!(!is_valid_metric_name("vllm-x"));
    assert!(!is_valid_metric_name(""));
}

#[test]
fn sets_order_label_by_label_as_prometheus_does() {
    let z = Labels::from_pairs([("a", "z")]);
    let bb = Labels::from_pairs([("a", "bb")]);
    let longer = Labels::from_pairs([("a", "bb"), ("b", "x")]);
    assert!(bb < z);
    assert!(bb < longer);
}

proptest::proptest! {
    #[test]
    fn encoding_round_trips_any_labels(pairs in proptest::collection::btree_map("[a-zA-Z_][a-zA-Z0-9_]{0,20}", "\\PC{1,40}", 0..12)) {
        let labels = Labels::from_pairs(pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        let decoded = Labels::from_encoded(labels.as_bytes()).expect("valid encoding");
        proptest::prop_assert_eq!(&decoded, &labels);
        let got: Vec<(String, String)> = decoded.iter().map(|l| (l.name.to_owned(), l.value.to_owned())).collect();
        let expect: Vec<(String, String)> = pairs.into_iter().collect();
        proptest::prop_assert_eq!(got, expect);
    }
}
