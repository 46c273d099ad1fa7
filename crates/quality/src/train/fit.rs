//! Fitting: logistic regression over sparse hashed features (AdaGrad, seeded
//! order), logistic calibration over a few inputs (Newton's method), the
//! threshold that maximizes F1, and calibration error. Single-threaded and
//! in a fixed order, so the same data gives the same bits.

use crate::classifier::{Calibration, sigmoid};
use crate::features::{DIM, Occurrence};
use crate::learned::Figures;
use crate::rng::XorShift;

/// A feature vector: sorted buckets with their values.
#[derive(Debug, Clone, Default)]
pub(super) struct Sparse(pub(super) Vec<(u32, f32)>);

impl Sparse {
    /// The vector of a run of occurrences: counts over the square root of
    /// the number of occurrences, as [`crate::classifier::Linear`] scores.
    pub(super) fn of(occurrences: &[Occurrence]) -> Sparse {
        let mut buckets: Vec<u32> = occurrences.iter().map(|o| o.bucket).collect();
        buckets.sort_unstable();
        let scale = 1.0 / (occurrences.len().max(1) as f32).sqrt();
        let mut entries: Vec<(u32, f32)> = Vec::new();
        for bucket in buckets {
            match entries.last_mut() {
                Some((last, value)) if *last == bucket => *value += scale,
                _ => entries.push((bucket, scale)),
            }
        }
        Sparse(entries)
    }
}

const EPOCHS: usize = 8;
const LEARNING_RATE: f32 = 0.3;
const L2: f32 = 1e-5;

/// Fits a class-balanced logistic regression; returns one weight per
/// bucket and the bias.
pub(super) fn logistic(units: &[(Sparse, bool)], seed: u64) -> (Vec<f32>, f32) {
    let positives = units.iter().filter(|(_, label)| *label).count().max(1) as f32;
    let negatives = (units.len() as f32 - positives).max(1.0);
    let total = units.len() as f32;
    let (positive_weight, negative_weight) = (total / (2.0 * positives), total / (2.0 * negatives));
    let mut weights = vec![0f32; DIM];
    let mut squares = vec![1e-6f32; DIM];
    let (mut bias, mut bias_squares) = (0f32, 1e-6f32);
    let mut order: Vec<usize> = (0..units.len()).collect();
    let mut rng = XorShift::new(seed);
    for _ in 0..EPOCHS {
        rng.shuffle(&mut order);
        for &idx in &order {
            let (vector, label) = &units[idx];
            let z = bias + vector.0.iter().map(|&(bucket, value)| weights[bucket as usize] * value).sum::<f32>();
            let p = sigmoid(f64::from(z)) as f32;
            let error = (p - if *label { 1.0 } else { 0.0 }) * if *label { positive_weight } else { negative_weight };
            for &(bucket, value) in &vector.0 {
                let bucket = bucket as usize;
                let gradient = error * value + L2 * weights[bucket];
                squares[bucket] += gradient * gradient;
                weights[bucket] -= LEARNING_RATE * gradient / squares[bucket].sqrt();
            }
            bias_squares += error * error;
            bias -= LEARNING_RATE * error / bias_squares.sqrt();
        }
    }
    (weights, bias)
}

/// Fits a logistic calibration of `inputs` to `labels` (a little ridge on
/// the weights keeps it finite on separable data).
pub(super) fn calibrate(inputs: &[Vec<f64>], labels: &[bool]) -> Calibration {
    let dims = inputs.first().map_or(0, Vec::len);
    let mut beta = vec![0f64; dims + 1];
    const RIDGE: f64 = 1e-2;
    for _ in 0..100 {
        let mut gradient = vec![0f64; dims + 1];
        let mut hessian = vec![vec![0f64; dims + 1]; dims + 1];
        for (x, &label) in inputs.iter().zip(labels) {
            let row: Vec<f64> = x.iter().copied().chain([1.0]).collect();
            let p = sigmoid(row.iter().zip(&beta).map(|(a, b)| a * b).sum());
            let y = if label { 1.0 } else { 0.0 };
            for i in 0..=dims {
                gradient[i] += (p - y) * row[i];
                for j in 0..=dims {
                    hessian[i][j] += p * (1.0 - p) * row[i] * row[j];
                }
            }
        }
        for i in 0..dims {
            gradient[i] += RIDGE * beta[i];
            hessian[i][i] += RIDGE;
        }
        hessian[dims][dims] += 1e-9;
        let step = solve(hessian, gradient);
        let size: f64 = step.iter().map(|s| s.abs()).sum();
        for (b, s) in beta.iter_mut().zip(&step) {
            *b -= s;
        }
        if size < 1e-10 {
            break;
        }
    }
    let bias = beta.pop().unwrap_or(0.0);
    Calibration { weights: beta, bias }
}

/// Solves `a x = b` by Gaussian elimination with partial pivoting.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs())).unwrap_or(col);
        a.swap(col, pivot);
        b.swap(col, pivot);
        let diagonal = a[col][col];
        if diagonal.abs() < 1e-300 {
            continue;
        }
        for row in col + 1..n {
            let factor = a[row][col] / diagonal;
            let pivot_row = a[col].clone();
            for (value, pivot) in a[row][col..].iter_mut().zip(&pivot_row[col..]) {
                *value -= factor * pivot;
            }
            b[row] -= factor * b[col];
        }
    }
    let mut x = vec![0f64; n];
    for row in (0..n).rev() {
        let rest: f64 = (row + 1..n).map(|k| a[row][k] * x[k]).sum();
        x[row] = if a[row][row].abs() < 1e-300 { 0.0 } else { (b[row] - rest) / a[row][row] };
    }
    x
}

/// The threshold (a probability seen in `scores`) whose label `score >=
/// threshold` has the highest F1 on `labels`, among those that flag at most
/// `max_flagged` of each group of guarded examples (negatives that must
/// stay quiet, such as long benign documents of one kind; `None` for the
/// rest).
pub(super) fn best_threshold(scores: &[f64], labels: &[bool], guarded: &[Option<&str>], max_flagged: f64) -> f64 {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let positives = labels.iter().filter(|label| **label).count();
    let mut sizes: std::collections::BTreeMap<&str, (usize, usize)> = std::collections::BTreeMap::new();
    for group in guarded.iter().flatten() {
        sizes.entry(group).or_default().0 += 1;
    }
    let (mut tp, mut fp) = (0usize, 0usize);
    let mut best = (0.0f64, 1.0f64);
    for (rank, &idx) in order.iter().enumerate() {
        if labels[idx] {
            tp += 1;
        } else {
            fp += 1;
        }
        if let Some(group) = guarded[idx] {
            let (size, flagged) = sizes.get_mut(group).expect("counted above");
            *flagged += 1;
            if *flagged as f64 > max_flagged * *size as f64 {
                break;
            }
        }
        let next_is_tied = order.get(rank + 1).is_some_and(|&next| scores[next] == scores[idx]);
        if next_is_tied {
            continue;
        }
        let f1 = 2.0 * tp as f64 / (tp + fp + positives) as f64;
        if f1 > best.0 {
            best = (f1, scores[idx]);
        }
    }
    best.1
}

/// Precision, recall, F1, AUROC and calibration error of `scores` with
/// the labels they were given (`predicted`).
pub(super) fn figures(scores: &[f64], labels: &[bool], predicted: &[bool]) -> Figures {
    let outcomes: Vec<(bool, bool, f64)> =
        scores.iter().zip(labels).zip(predicted).map(|((&score, &label), &flag)| (label, flag, score)).collect();
    let row = crate::eval::summarize("", &outcomes);
    Figures {
        n: scores.len(),
        precision: row.precision,
        recall: row.recall,
        f1: row.f1,
        auroc: row.auroc.unwrap_or(f64::NAN),
        ece: calibration_error(scores, labels),
    }
}

/// Expected calibration error over ten equal-width bins of the score.
pub(super) fn calibration_error(scores: &[f64], labels: &[bool]) -> f64 {
    let mut bins = [(0usize, 0f64, 0f64); 10];
    for (&score, &label) in scores.iter().zip(labels) {
        let bin = ((score * 10.0) as usize).min(9);
        bins[bin].0 += 1;
        bins[bin].1 += score;
        bins[bin].2 += if label { 1.0 } else { 0.0 };
    }
    let total = scores.len().max(1) as f64;
    bins.iter().map(|(_, sum, hits)| (sum - hits).abs() / total).sum()
}
