//! Classifiers: the file format, windows, evidence and calibration.

use super::*;
use crate::features::Side;

fn with_weights(pairs: &[(&str, f32)]) -> Linear {
    let mut weights = vec![0f32; DIM];
    for (text, weight) in pairs {
        for occurrence in Features::of(text, Side::Response).occurrences {
            weights[occurrence.bucket as usize] = *weight;
        }
    }
    Linear::quantize(&weights, -1.0)
}

#[test]
fn file_format_round_trips_and_rejects_damage() {
    let classifier = with_weights(&[("idiot", 2.0)]);
    let bytes = classifier.to_bytes();
    assert_eq!(bytes.len(), 16 + 2 * DIM);
    assert_eq!(Linear::from_bytes(&bytes), Ok(classifier));
    assert!(Linear::from_bytes(&bytes[..100]).is_err());
    let mut wrong = bytes.clone();
    wrong[0] = b'X';
    assert!(Linear::from_bytes(&wrong).is_err());
    wrong = bytes;
    wrong[5] = 12;
    assert!(Linear::from_bytes(&wrong).is_err());
}

#[test]
fn windows_find_the_strongest_run_of_a_long_text() {
    let classifier = with_weights(&[("payload", 3.0)]);
    let filler = "the quarterly report is attached for review ".repeat(30);
    let text = format!("{filler} payload payload payload {filler}");
    let features = Features::of(&text, Side::Response);
    let windows = classifier.windows(&features, 48);
    assert!(windows.highest > classifier.logit(&features), "a window beats the diluted whole text");
    assert!(windows.mean < windows.highest);
    let tokens = &features.tokens[windows.tokens];
    let start = tokens[0].start;
    let end = tokens[tokens.len() - 1].end;
    let payload = text.find("payload").expect("in the text");
    assert!(start <= payload && payload < end);
}

#[test]
fn evidence_points_at_the_words_with_weight() {
    let classifier = with_weights(&[("idiot", 2.0)]);
    let text = "you are an idiot, really";
    let features = Features::of(text, Side::Response);
    let cues = classifier.evidence(&features, 0..features.tokens.len(), 3);
    assert_eq!(cues.len(), 1);
    let span: String = text.chars().skip(cues[0].start).take(cues[0].end - cues[0].start).collect();
    assert_eq!(span, "idiot");
}

#[test]
fn calibration_is_a_logistic_of_its_inputs() {
    let calibration = Calibration { weights: vec![2.0, -1.0], bias: 0.5 };
    assert!((calibration.probability(&[0.0, 0.5]) - 0.5).abs() < 1e-12);
    assert!(calibration.probability(&[10.0, 0.0]) > 0.99);
    assert_eq!(sigmoid(f64::NEG_INFINITY), 0.0);
    assert_eq!(sigmoid(f64::INFINITY), 1.0);
}
