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
