//! Specification of the drift test on synthetic traffic.

use super::*;

const TOPICS: [&[&str]; 2] = [
    &["invoice", "refund", "payment", "order", "shipping", "account", "billing", "charge", "receipt", "delivery"],
    &["kernel", "compiler", "linker", "segfault", "pointer", "allocator", "thread", "mutex", "syscall", "driver"],
];

fn window(rng: &mut XorShift, size: usize, shifted: usize) -> Vec<Exchange> {
    (0..size)
        .map(|idx| {
            let topic = TOPICS[usize::from(idx < shifted)];
            let words: Vec<&str> = (0..8).map(|_| topic[rng.below(topic.len())]).collect();
            let length = 3 + rng.below(6);
            Exchange {
                prompt: format!("Question about {} please?", words[..4].join(" ")),
                response: format!("The answer covers {}.", words[..length.min(8)].join(" and the ")),
            }
        })
        .collect()
}

#[test]
fn same_traffic_does_not_drift() {
    let mut rng = XorShift::new(42);
    let drift = Drift::default();
    let alarms = (0..6).filter(|_| drift.test(&window(&mut rng, 120, 0), &window(&mut rng, 120, 0)).drift).count();
    assert!(alarms <= 1, "{alarms} false alarms in 6 pairs");
}

#[test]
fn a_new_topic_drifts() {
    let mut rng = XorShift::new(7);
    let report = Drift::default().test(&window(&mut rng, 120, 0), &window(&mut rng, 120, 24));
    assert!(report.drift, "{report:?}");
    assert!(report.views.iter().any(|view| view.view == "topic" && view.adjusted_p_value <= 0.01));
}

#[test]
fn verdicts_are_reproducible() {
    let mut rng = XorShift::new(3);
    let (baseline, current) = (window(&mut rng, 60, 0), window(&mut rng, 60, 6));
    assert_eq!(Drift::default().test(&baseline, &current), Drift::default().test(&baseline, &current));
}

#[test]
fn empty_windows_do_not_drift() {
    let report = Drift::default().test(&[], &[]);
    assert!(!report.drift);
    assert_eq!(report.p_value, 1.0);
}

#[test]
fn holm_adjusts_in_step_down_order() {
    let mut views: Vec<ViewResult> = [0.01, 0.04, 0.03]
        .iter()
        .map(|&p_value| ViewResult { view: "length", statistic: 0.0, p_value, adjusted_p_value: p_value })
        .collect();
    holm(&mut views);
    let adjusted: Vec<f64> = views.iter().map(|view| (view.adjusted_p_value * 1000.0).round() / 1000.0).collect();
    assert_eq!(adjusted, vec![0.03, 0.06, 0.06]);
}

#[test]
fn a_tenth_of_the_answers_growing_longer_drifts() {
    let mut rng = XorShift::new(11);
    let baseline = window(&mut rng, 120, 0);
    let mut current = window(&mut rng, 120, 0);
    for exchange in current.iter_mut().take(12) {
        exchange.response = exchange.response.repeat(6);
    }
    let report = Drift::default().test(&baseline, &current);
    assert!(report.drift, "{report:?}");
    assert!(report.views.iter().any(|view| view.view == "length" && view.p_value <= 0.005), "{report:?}");
}
