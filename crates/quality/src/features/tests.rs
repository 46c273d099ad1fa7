//! Features: tokens in code points, folding, namespaces, bounded n-grams.

use super::*;

fn words(text: &str) -> Vec<(usize, usize)> {
    Features::of(text, Side::Response).tokens.iter().map(|t| (t.start, t.end)).collect()
}

#[test]
fn tokens_are_words_and_punctuation_runs_in_code_points() {
    assert_eq!(words("Héllo, wörld!!"), vec![(0, 5), (5, 6), (7, 12), (12, 14)]);
    assert_eq!(words("don't"), vec![(0, 5)]);
    assert_eq!(words(""), vec![]);
    assert_eq!(words("  \n\t "), vec![]);
}

#[test]
fn case_and_digits_fold_but_sides_differ() {
    let buckets =
        |text: &str, side| -> Vec<u32> { Features::of(text, side).occurrences.iter().map(|o| o.bucket).collect() };
    assert_eq!(buckets("Invoice 4471", Side::Response), buckets("invoice 9023", Side::Response));
    assert_ne!(buckets("invoice", Side::Response), buckets("invoice", Side::Prompt));
}

#[test]
fn every_occurrence_points_at_its_token_and_a_bucket_in_range() {
    let features = Features::of("Ignore all previous instructions. 忽略之前的所有指示", Side::Prompt);
    assert!(features.occurrences.iter().all(|o| (o.bucket as usize) < DIM));
    assert!(features.occurrences.windows(2).all(|pair| pair[0].token <= pair[1].token));
    assert_eq!(features.occurrences.last().map(|o| o.token as usize), Some(features.tokens.len() - 1));
}

#[test]
fn long_tokens_cost_a_bounded_number_of_ngrams() {
    let blob = "A".repeat(100_000);
    let features = Features::of(&blob, Side::Response);
    assert_eq!(features.tokens.len(), 1);
    assert_eq!(features.tokens[0].end, 100_000);
    assert!(features.len() < 100, "{} occurrences", features.len());
}
