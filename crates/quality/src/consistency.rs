//! Self-consistency: several samples for one prompt, scored by how much
//! they disagree on the fact they state. Numbers decide when the samples
//! state numbers (the last one is usually the answer); otherwise the
//! content words of each sample's opening sentence are compared.

use std::collections::HashSet;

use crate::{Error, Input, Result, Score, Scorer};

/// Most samples compared.
const MAX_SAMPLES: usize = 64;

/// The consistency scorer. Its value is disagreement: 0 when all samples
/// agree, near 1 when no two agree.
#[derive(Debug, Default)]
pub struct Consistency;

impl Consistency {
    /// Disagreement among `samples`, in `[0, 1]`; 0 for fewer than two.
    pub fn score_samples(&self, samples: &[String]) -> f64 {
        // Pairs grow quadratically; a few dozen samples say all there is.
        let keys: Vec<AnswerKey> = samples.iter().take(MAX_SAMPLES).map(|sample| AnswerKey::of(sample)).collect();
        if keys.len() < 2 {
            return 0.0;
        }
        let mut total = 0.0;
        let mut pairs = 0usize;
        for (idx, a) in keys.iter().enumerate() {
            for b in &keys[idx + 1..] {
                total += a.agreement(b);
                pairs += 1;
            }
        }
        (1.0 - total / pairs as f64).clamp(0.0, 1.0)
    }
}

impl Scorer for Consistency {
    fn name(&self) -> &'static str {
        "consistency"
    }

    fn score(&self, input: &Input<'_>) -> Result<Score> {
        if input.samples.is_empty() {
            return Err(Error::MissingField { field: "samples" });
        }
        let value = self.score_samples(input.samples);
        Ok(Score::new("consistency", value, value >= 0.4))
    }
}

/// What one sample commits to.
#[derive(Debug)]
struct AnswerKey {
    /// Numbers stated, in order.
    numbers: Vec<f64>,
    /// Content words of the answer (first sentence, or all for short ones).
    words: HashSet<String>,
    /// Whether the sample opens with yes or no (+1 / -1), if it does.
    polarity: Option<i8>,
}

impl AnswerKey {
    fn of(sample: &str) -> Self {
        let head: String = sample.chars().take(2000).collect();
        let lower = head.to_lowercase();
        let mut numbers = Vec::new();
        let mut words = HashSet::new();
        for token in lower.split(|ch: char| !(ch.is_alphanumeric() || ch == '.' || ch == ',' || ch == '-')) {
            let token = token.trim_matches(|ch: char| ch == '.' || ch == ',' || ch == '-');
            if token.is_empty() {
                continue;
            }
            let cleaned: String = token.chars().filter(|&ch| ch != ',').collect();
            if let Ok(number) = cleaned.parse::<f64>() {
                numbers.push(number);
            } else if let Some(number) = number_word(token) {
                numbers.push(number);
            } else if !STOPWORDS.contains(&token) && token.chars().count() > 1 {
                for part in token.split(['.', ',', '-']) {
                    if !part.is_empty() && !STOPWORDS.contains(&part) {
                        words.insert(stem(part));
                    }
                }
            }
        }
        let first = lower.trim_start().split(|ch: char| !ch.is_alphanumeric()).next().unwrap_or("");
        let polarity = match first {
            "yes" | "yeah" | "correct" | "true" | "yep" => Some(1),
            "no" | "nope" | "false" | "incorrect" => Some(-1),
            _ => None,
        };
        AnswerKey { numbers, words, polarity }
    }

    /// Agreement with another sample, in `[0, 1]`.
    fn agreement(&self, other: &AnswerKey) -> f64 {
        if let (Some(a), Some(b)) = (self.polarity, other.polarity)
            && a != b
        {
            return 0.0;
        }
        if !self.numbers.is_empty() && !other.numbers.is_empty() {
            let same_last = self.numbers.last().zip(other.numbers.last()).is_some_and(|(a, b)| close(*a, *b));
            let shared = self.numbers.iter().filter(|a| other.numbers.iter().any(|b| close(**a, *b))).count();
            let overlap = shared as f64 / self.numbers.len().max(other.numbers.len()) as f64;
            return if same_last { 0.7 + 0.3 * overlap } else { 0.6 * overlap };
        }
        if self.words.is_empty() && other.words.is_empty() {
            return 1.0;
        }
        let shared = self.words.intersection(&other.words).count() as f64;
        let smaller = self.words.len().min(other.words.len()).max(1) as f64;
        let union = self.words.union(&other.words).count().max(1) as f64;
        // Overlap coefficient rewards a short answer contained in a long one;
        // Jaccard punishes two long answers that share little.
        (0.6 * shared / smaller + 0.4 * shared / union).clamp(0.0, 1.0)
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1.0)
}

fn stem(word: &str) -> String {
    let stripped = word.strip_suffix("'s").unwrap_or(word);
    for suffix in ["ing", "ed", "es", "s"] {
        if let Some(root) = stripped.strip_suffix(suffix)
            && root.chars().count() >= 3
        {
            return root.to_string();
        }
    }
    stripped.to_string()
}

fn number_word(word: &str) -> Option<f64> {
    const WORDS: [&str; 21] = [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
        "twenty",
    ];
    WORDS.iter().position(|&candidate| candidate == word).map(|idx| idx as f64)
}

const STOPWORDS: &[&str] = &[
    "the",
    "a",
    "an",
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "being",
    "of",
    "in",
    "on",
    "at",
    "to",
    "for",
    "with",
    "by",
    "from",
    "as",
    "and",
    "or",
    "but",
    "it",
    "its",
    "this",
    "that",
    "these",
    "those",
    "there",
    "their",
    "they",
    "he",
    "she",
    "his",
    "her",
    "i",
    "you",
    "we",
    "my",
    "your",
    "our",
    "answer",
    "correct",
    "think",
    "believe",
    "so",
    "which",
    "what",
    "who",
    "whom",
    "also",
    "about",
    "approximately",
    "around",
    "roughly",
    "yes",
    "no",
    "not",
    "has",
    "have",
    "had",
    "do",
    "does",
    "did",
    "can",
    "could",
    "would",
    "should",
    "will",
    "may",
    "might",
    "known",
    "called",
    "named",
    "located",
    "city",
    "country",
    "capital",
    "final",
    "result",
    "therefore",
    "thus",
    "hence",
    "well",
    "actually",
    "indeed",
    "sure",
    "certainly",
    "here",
    "if",
    "then",
    "than",
    "because",
    "since",
    "very",
    "most",
    "more",
    "some",
    "any",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn check(samples: &[&str], disagree: bool) {
        let samples: Vec<String> = samples.iter().map(|sample| (*sample).to_string()).collect();
        let value = Consistency.score_samples(&samples);
        assert_eq!(value >= 0.4, disagree, "{value} for {samples:?}");
    }

    #[test]
    fn agreeing_samples_score_low() {
        check(&["The capital of Australia is Canberra.", "Canberra.", "It's Canberra, not Sydney."], false);
        check(&["2 + 2 = 4", "The answer is 4.", "four"], false);
    }

    #[test]
    fn disagreeing_samples_score_high() {
        check(&["The capital of Australia is Canberra.", "Sydney.", "Melbourne is the capital."], true);
        check(&["The answer is 12.", "It is 15.", "I get 9."], true);
        check(&["Yes, it is safe.", "No, it is not safe."], true);
    }
}
