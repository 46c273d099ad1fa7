//! Drift: does the current window of exchanges differ from the baseline?
//!
//! Each exchange is described on five views (length, vocabulary,
//! language/script, format, topic) by a set of discrete features. Per view,
//! the statistic is a chi-square-like distance between how many exchanges
//! of each window carry each feature, and its p-value comes from a
//! permutation test: shuffling which exchanges belong to which window is
//! exact under the null hypothesis that both windows come from the same
//! traffic, whatever the features look like. Lengths are compared by their
//! means, under the same permutations. A weighted Holm step-down correction
//! across the views keeps the family-wise false-alarm rate at `alpha`.
//! The shuffles use a seeded xorshift, so a verdict is reproducible.

use std::collections::HashMap;

use crate::rng::XorShift;

/// One prompt and its response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exchange {
    /// The prompt.
    pub prompt: String,
    /// The response.
    pub response: String,
}

/// Settings of the drift test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DriftConfig {
    /// Family-wise false-alarm rate across all views.
    pub alpha: f64,
    /// Most permutations per view; the smallest p-value is `1 / (n + 1)`.
    pub permutations: usize,
    /// Seed of the shuffles.
    pub seed: u64,
}

impl Default for DriftConfig {
    fn default() -> Self {
        DriftConfig { alpha: 0.02, permutations: 1999, seed: 0x1f5e_c0de }
    }
}

/// The verdict on one view.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewResult {
    /// The view's name (`length`, `vocabulary`, `language`, `format`, `topic`).
    pub view: &'static str,
    /// The observed statistic.
    pub statistic: f64,
    /// The permutation p-value, uncorrected.
    pub p_value: f64,
    /// The Holm-adjusted p-value.
    pub adjusted_p_value: f64,
}

/// The verdict on a pair of windows.
#[derive(Debug, Clone, PartialEq)]
pub struct DriftReport {
    /// Whether any view drifted at the family-wise level `alpha`.
    pub drift: bool,
    /// `1 - p_value`: higher means more evidence of drift.
    pub score: f64,
    /// The smallest Holm-adjusted p-value across views.
    pub p_value: f64,
    /// Per-view details.
    pub views: Vec<ViewResult>,
}

/// The drift test.
#[derive(Debug, Clone, Default)]
pub struct Drift {
    config: DriftConfig,
}

/// The views, in order.
pub const VIEWS: [&str; 5] = ["length", "vocabulary", "language", "format", "topic"];

impl Drift {
    /// A drift test with these settings.
    pub fn new(config: DriftConfig) -> Self {
        Drift { config }
    }

    /// Tests `current` against `baseline`.
    pub fn test(&self, baseline: &[Exchange], current: &[Exchange]) -> DriftReport {
        let baseline: Vec<Described> = baseline.iter().map(Described::of).collect();
        let current: Vec<Described> = current.iter().map(Described::of).collect();
        self.test_described(&baseline.iter().collect::<Vec<_>>(), &current.iter().collect::<Vec<_>>())
    }

    /// [`Drift::test`] on exchanges described already: a caller that tests
    /// overlapping windows again and again (the pipeline, every few minutes)
    /// describes each exchange once.
    pub fn test_described(&self, baseline: &[&Described], current: &[&Described]) -> DriftReport {
        if baseline.is_empty() || current.is_empty() {
            return DriftReport { drift: false, score: 0.0, p_value: 1.0, views: Vec::new() };
        }
        let described: Vec<&Described> = baseline.iter().chain(current).copied().collect();
        let mut views: Vec<ViewResult> = VIEWS
            .iter()
            .enumerate()
            .map(|(view_idx, &view)| {
                let seed = self.config.seed ^ (view_idx as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                let (statistic, p_value) = if view == "length" {
                    let lengths: Vec<[f64; 2]> = described.iter().map(|d| d.lengths).collect();
                    mean_permutation_test(&lengths, current.len(), self.config.permutations, seed)
                } else {
                    let features: Vec<&[u64]> = described.iter().map(|d| d.views[view_idx].as_slice()).collect();
                    permutation_test(&features, current.len(), self.config.permutations, seed)
                };
                ViewResult { view, statistic, p_value, adjusted_p_value: p_value }
            })
            .collect();
        holm(&mut views);
        let p_value = views.iter().map(|view| view.adjusted_p_value).fold(1.0, f64::min);
        DriftReport { drift: p_value <= self.config.alpha, score: 1.0 - p_value, p_value, views }
    }
}

/// What the test reads of one exchange: its lengths in characters (prompt,
/// response) and its features on each of [`VIEWS`].
#[derive(Debug, Clone, PartialEq)]
pub struct Described {
    lengths: [f64; 2],
    views: [Vec<u64>; 5],
}

impl Described {
    /// Describes `exchange`.
    pub fn of(exchange: &Exchange) -> Described {
        Described {
            lengths: [exchange.prompt.chars().count() as f64, exchange.response.chars().count() as f64],
            views: describe(exchange),
        }
    }
}

/// How much of `alpha` each view of [`VIEWS`] may spend, in that order.
/// Length gets the most: a tenth of the window growing longer is a handful
/// of exchanges, the weakest evidence a permutation test can see, while a
/// new language or format shows in features that never occurred before.
const WEIGHTS: [f64; 5] = [0.35, 0.1, 0.15, 0.15, 0.25];

/// Weighted Holm step-down adjustment, in place: views are visited in
/// order of `p / weight`, and each is tested at `alpha * weight / (sum of
/// the weights not yet rejected)`, which holds the family-wise rate at
/// `alpha` whatever the dependence between views.
fn holm(views: &mut [ViewResult]) {
    let weight = |view: &ViewResult| {
        VIEWS.iter().position(|&name| name == view.view).map_or(1.0 / VIEWS.len() as f64, |idx| WEIGHTS[idx])
    };
    let mut order: Vec<usize> = (0..views.len()).collect();
    order.sort_by(|&a, &b| (views[a].p_value / weight(&views[a])).total_cmp(&(views[b].p_value / weight(&views[b]))));
    let mut remaining: f64 = order.iter().map(|&idx| weight(&views[idx])).sum();
    let mut running: f64 = 0.0;
    for &idx in &order {
        let own = weight(&views[idx]);
        let adjusted = (remaining * views[idx].p_value / own).min(1.0);
        running = running.max(adjusted);
        views[idx].adjusted_p_value = running;
        remaining -= own;
    }
}

/// The statistic and permutation p-value for exchanges whose last
/// `n_current` entries form the current window.
fn permutation_test(features: &[&[u64]], n_current: usize, permutations: usize, seed: u64) -> (f64, f64) {
    let n_total = features.len();
    let n_baseline = n_total - n_current;
    // Dense indices for features seen at least twice; the others add the
    // same constant to every permutation's statistic.
    let mut totals: HashMap<u64, u32> = HashMap::new();
    for set in features {
        for &feature in *set {
            *totals.entry(feature).or_insert(0) += 1;
        }
    }
    let mut dense: HashMap<u64, usize> = HashMap::new();
    let mut total_counts: Vec<f64> = Vec::new();
    let mut keys: Vec<(u64, u32)> = totals.into_iter().filter(|&(_, total)| total >= 2).collect();
    keys.sort_unstable();
    for (feature, total) in keys {
        dense.insert(feature, total_counts.len());
        total_counts.push(f64::from(total));
    }
    if total_counts.is_empty() {
        return (0.0, 1.0);
    }
    let rows: Vec<Vec<usize>> =
        features.iter().map(|set| set.iter().filter_map(|feature| dense.get(feature).copied()).collect()).collect();
    let mut counts = vec![0.0; total_counts.len()];
    let statistic = |members: &[usize], counts: &mut Vec<f64>| {
        counts.iter_mut().for_each(|count| *count = 0.0);
        for &member in members {
            for &feature in &rows[member] {
                counts[feature] += 1.0;
            }
        }
        let (nc, nb) = (n_current as f64, n_baseline as f64);
        counts
            .iter()
            .zip(&total_counts)
            .map(|(&current, &total)| {
                let baseline = total - current;
                let diff = current * nb - baseline * nc;
                diff * diff / (nc * nb * total)
            })
            .sum::<f64>()
    };
    permute(n_total, n_current, permutations, seed, |members| statistic(members, &mut counts))
}

/// The observed statistic and its permutation p-value: `statistic` is
/// given the members of the current window, first as observed (the last
/// `n_current` of `n_total`), then after each shuffle.
fn permute(
    n_total: usize,
    n_current: usize,
    permutations: usize,
    seed: u64,
    mut statistic: impl FnMut(&[usize]) -> f64,
) -> (f64, f64) {
    let n_baseline = n_total - n_current;
    let mut order: Vec<usize> = (0..n_total).collect();
    let observed = statistic(&order[n_baseline..]);
    let mut rng = XorShift::new(seed);
    let mut exceed = 0usize;
    let mut done = 0usize;
    while done < permutations {
        rng.shuffle(&mut order);
        if statistic(&order[n_baseline..]) >= observed - 1e-9 * observed.abs() {
            exceed += 1;
        }
        done += 1;
        // Stop early once the p-value is clearly large: this only makes
        // the test answer sooner for windows that do not drift.
        if done.is_multiple_of(100) && exceed >= 40 {
            break;
        }
    }
    (observed, (exceed + 1) as f64 / (done + 1) as f64)
}

/// The statistic and permutation p-value of the difference in mean length
/// between the windows, the larger of the prompt's and the response's, each
/// relative to its pooled mean. Means follow the long tail: a tenth of the
/// window growing several times longer moves the mean far more than it
/// moves any rank statistic, and the permutation keeps the test exact
/// however skewed the lengths are.
fn mean_permutation_test(values: &[[f64; 2]], n_current: usize, permutations: usize, seed: u64) -> (f64, f64) {
    let n_total = values.len();
    let n_baseline = n_total - n_current;
    if n_current == 0 || n_baseline == 0 {
        return (0.0, 1.0);
    }
    let mut totals = [0.0f64; 2];
    for row in values {
        totals[0] += row[0];
        totals[1] += row[1];
    }
    let scaled: Vec<[f64; 2]> = values
        .iter()
        .map(|row| {
            let scale = |column: usize| {
                if totals[column] > 0.0 { row[column] * n_total as f64 / totals[column] } else { 0.0 }
            };
            [scale(0), scale(1)]
        })
        .collect();
    let pooled = scaled.iter().fold([0.0f64; 2], |sum, row| [sum[0] + row[0], sum[1] + row[1]]);
    let (nc, nb) = (n_current as f64, n_baseline as f64);
    let statistic = |members: &[usize]| {
        let mut sums = [0.0f64; 2];
        for &member in members {
            sums[0] += scaled[member][0];
            sums[1] += scaled[member][1];
        }
        (0..2).map(|column| (sums[column] / nc - (pooled[column] - sums[column]) / nb).abs()).fold(0.0, f64::max)
    };
    permute(n_total, n_current, permutations, seed, statistic)
}

/// The features of one exchange on each view.
fn describe(exchange: &Exchange) -> [Vec<u64>; 5] {
    let prompt_words = lower_words(&exchange.prompt, 400);
    let response_words = lower_words(&exchange.response, 400);
    // Lengths are tested on their means (see `mean_permutation_test`).
    let length = Vec::new();
    let vocabulary = word_features("v", &response_words, false);
    let mut language = vec![
        feature("ps", script(&exchange.prompt)),
        feature("rs", script(&exchange.response)),
        feature("pg", latin_language(&prompt_words)),
        feature("rg", latin_language(&response_words)),
    ];
    language.sort_unstable();
    language.dedup();
    let mut format: Vec<u64> = formats(&exchange.response).into_iter().map(|name| feature("rf", name)).collect();
    format.extend(formats(&exchange.prompt).into_iter().map(|name| feature("pf", name)));
    format.sort_unstable();
    let mut topic = word_features("t", &prompt_words, true);
    topic.extend(word_features("t", &response_words, true));
    topic.sort_unstable();
    topic.dedup();
    [length, vocabulary, language, format, topic]
}

fn lower_words(text: &str, limit: usize) -> Vec<String> {
    text.split(|ch: char| !ch.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .take(limit)
        .map(str::to_lowercase)
        .collect()
}

fn word_features(namespace: &str, words: &[String], content_only: bool) -> Vec<u64> {
    let mut out: Vec<u64> = words
        .iter()
        .filter(|word| !content_only || word.chars().count() >= 3 && !FUNCTION_WORDS.contains(&word.as_str()))
        .filter(|word| !word.bytes().all(|byte| byte.is_ascii_digit()))
        .map(|word| feature(namespace, word))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// FNV-1a of a namespace and a name: stable across runs and platforms.
fn feature(namespace: &str, name: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in namespace.bytes().chain([0xff]).chain(name.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// The dominant script of a text's letters.
pub fn script(text: &str) -> &'static str {
    let mut counts: HashMap<&'static str, usize> = HashMap::new();
    for ch in text.chars().take(4000).filter(|ch| ch.is_alphabetic()) {
        let name = match ch as u32 {
            0x0000..=0x024F | 0x1E00..=0x1EFF => "latin",
            0x0370..=0x03FF => "greek",
            0x0400..=0x052F => "cyrillic",
            0x0590..=0x05FF => "hebrew",
            0x0600..=0x06FF | 0x0750..=0x077F => "arabic",
            0x0900..=0x097F => "devanagari",
            0x0E00..=0x0E7F => "thai",
            0x3040..=0x30FF => "kana",
            0xAC00..=0xD7AF | 0x1100..=0x11FF => "hangul",
            0x4E00..=0x9FFF | 0x3400..=0x4DBF => "han",
            _ => "other",
        };
        *counts.entry(name).or_insert(0) += 1;
    }
    if counts.get("kana").copied().unwrap_or(0) > 0 {
        return "kana";
    }
    counts.into_iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0))).map_or("none", |(name, _)| name)
}

/// The language of Latin-script words by stop-word votes.
fn latin_language(words: &[String]) -> &'static str {
    const LANGUAGES: [(&str, &[&str]); 7] = [
        ("en", &["the", "and", "is", "of", "to", "in", "that", "it", "you", "for", "with", "this", "are", "was"]),
        ("es", &["el", "la", "de", "que", "y", "en", "los", "del", "las", "por", "una", "es", "con", "para"]),
        ("fr", &["le", "la", "les", "de", "et", "des", "est", "une", "que", "pour", "dans", "qui", "pas", "vous"]),
        ("de", &["der", "die", "und", "das", "ist", "nicht", "ein", "eine", "zu", "mit", "den", "sie", "ich", "auf"]),
        ("pt", &["o", "a", "de", "que", "e", "do", "da", "em", "um", "para", "com", "não", "uma", "os"]),
        ("it", &["il", "di", "che", "e", "la", "per", "un", "non", "sono", "una", "della", "con", "gli", "mi"]),
        ("nl", &["de", "het", "een", "en", "van", "is", "dat", "niet", "ik", "je", "op", "te", "zijn", "met"]),
    ];
    let mut best = ("none", 0usize);
    for (language, stopwords) in LANGUAGES {
        let votes = words.iter().filter(|word| stopwords.contains(&word.as_str())).count();
        if votes > best.1 {
            best = (language, votes);
        }
    }
    best.0
}

/// Format traits of a text.
fn formats(text: &str) -> Vec<&'static str> {
    let mut out = Vec::new();
    let trimmed = text.trim_start();
    if text.contains("```") {
        out.push("fence");
    }
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        out.push("json");
    }
    let mut bullets = 0;
    let mut numbered = 0;
    let mut table = 0;
    let mut heading = 0;
    let mut code_like = 0;
    let mut lines = 0;
    for line in text.lines().take(400) {
        lines += 1;
        let line = line.trim_start();
        if line.starts_with("- ") || line.starts_with("* ") || line.starts_with("• ") {
            bullets += 1;
        }
        if line.split_once(['.', ')']).is_some_and(|(head, _)| {
            !head.is_empty() && head.len() <= 3 && head.bytes().all(|byte| byte.is_ascii_digit())
        }) {
            numbered += 1;
        }
        if line.starts_with('|') && line.matches('|').count() >= 3 {
            table += 1;
        }
        if line.starts_with('#') {
            heading += 1;
        }
        if line.ends_with(';')
            || line.ends_with('{')
            || line.starts_with("def ")
            || line.starts_with("fn ")
            || line.starts_with("import ")
        {
            code_like += 1;
        }
    }
    if bullets >= 2 {
        out.push("bullets");
    }
    if numbered >= 2 {
        out.push("numbered");
    }
    if table >= 2 {
        out.push("table");
    }
    if heading >= 1 {
        out.push("heading");
    }
    if code_like >= 2 {
        out.push("code");
    }
    if lines <= 1 {
        out.push("one_line");
    }
    if text.contains("http://") || text.contains("https://") {
        out.push("url");
    }
    if text.trim_end().ends_with('?') {
        out.push("question");
    }
    if out.is_empty() {
        out.push("prose");
    }
    out
}

const FUNCTION_WORDS: &[&str] = &[
    "the", "and", "for", "are", "was", "were", "with", "that", "this", "these", "those", "from", "have", "has", "had",
    "not", "but", "you", "your", "can", "could", "would", "should", "will", "what", "which", "who", "how", "why",
    "when", "where", "there", "their", "they", "them", "its", "about", "into", "than", "then", "also", "some", "any",
    "all", "one", "two", "more", "most", "other", "such", "only", "very", "just", "like", "please", "tell", "give",
    "explain", "write", "make", "help", "need", "want", "know", "does", "did", "our", "out", "use", "using", "get",
    "let", "may", "might", "each", "both", "between", "over", "under", "after", "before", "while", "because",
];

#[cfg(test)]
mod tests;
