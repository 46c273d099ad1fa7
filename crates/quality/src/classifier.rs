//! Linear classifiers over hashed features, their calibration, and the
//! evidence they give: the learned half of the scorers.
//!
//! A [`Linear`] classifier is one weight per hash bucket plus a bias; its
//! logit for a run of tokens is `bias + Σ weight / √occurrences`, so a
//! window of a long document costs a sum over its tokens ([`Linear::windows`])
//! and the tokens that drove a score are the ones with the largest weight
//! ([`Linear::evidence`]). A [`Calibration`] maps the logits of one or more
//! classifiers (and rule scores) to a probability: logistic regression fitted
//! on a validation split (Platt's method when there is one input).
//!
//! On disk (`crates/quality/classifiers/*.bin`, embedded in the binary), all
//! integers little-endian:
//!
//! ```text
//! 0   4  magic "ISLC"
//! 4   1  format version (1)
//! 5   1  log2 of the bucket count (features::DIM_BITS)
//! 6   2  zero
//! 8   4  f32 scale: weight = i16 × scale
//! 12  4  f32 bias
//! 16  2·DIM  i16 weights, bucket order
//! ```

use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::features::{DIM, DIM_BITS, Features};

const MAGIC: &[u8; 4] = b"ISLC";
const FORMAT_VERSION: u8 = 1;
const HEADER_LEN: usize = 16;

/// A classifier file that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("classifier file is not valid: {0}")]
pub struct FormatError(&'static str);

/// A hashed linear classifier with quantized weights.
#[derive(Clone, PartialEq)]
pub struct Linear {
    scale: f32,
    bias: f32,
    weights: Vec<i16>,
}

impl std::fmt::Debug for Linear {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Linear").field("scale", &self.scale).field("bias", &self.bias).finish_non_exhaustive()
    }
}

impl Linear {
    /// Quantizes trained weights (one per bucket) and a bias.
    ///
    /// # Panics
    ///
    /// When `weights` does not hold exactly [`DIM`] values.
    pub fn quantize(weights: &[f32], bias: f32) -> Linear {
        assert_eq!(weights.len(), DIM, "one weight per hash bucket");
        let largest = weights.iter().fold(0f32, |max, w| max.max(w.abs()));
        let scale = if largest > 0.0 { largest / f32::from(i16::MAX) } else { 1.0 };
        let weights = weights.iter().map(|w| (w / scale).round() as i16).collect();
        Linear { scale, bias, weights }
    }

    /// Reads a classifier file.
    ///
    /// # Errors
    ///
    /// [`FormatError`] for a wrong magic, version, bucket count or length.
    pub fn from_bytes(bytes: &[u8]) -> Result<Linear, FormatError> {
        if bytes.len() < HEADER_LEN || &bytes[..4] != MAGIC {
            return Err(FormatError("bad magic"));
        }
        if bytes[4] != FORMAT_VERSION {
            return Err(FormatError("unknown format version"));
        }
        if u32::from(bytes[5]) != DIM_BITS {
            return Err(FormatError("bucket count differs from this build's features"));
        }
        if bytes.len() != HEADER_LEN + 2 * DIM {
            return Err(FormatError("wrong length"));
        }
        let f32_at = |at: usize| f32::from_le_bytes(bytes[at..at + 4].try_into().expect("four bytes"));
        let weights = bytes[HEADER_LEN..].chunks_exact(2).map(|pair| i16::from_le_bytes([pair[0], pair[1]])).collect();
        Ok(Linear { scale: f32_at(8), bias: f32_at(12), weights })
    }

    /// The classifier in its file format.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(HEADER_LEN + 2 * DIM);
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&[FORMAT_VERSION, DIM_BITS as u8, 0, 0]);
        bytes.extend_from_slice(&self.scale.to_le_bytes());
        bytes.extend_from_slice(&self.bias.to_le_bytes());
        for weight in &self.weights {
            bytes.extend_from_slice(&weight.to_le_bytes());
        }
        bytes
    }

    /// The weight of one bucket.
    pub fn weight(&self, bucket: u32) -> f32 {
        f32::from(self.weights[bucket as usize]) * self.scale
    }

    /// The logit of a whole text.
    pub fn logit(&self, features: &Features) -> f32 {
        if features.is_empty() {
            return self.bias;
        }
        let sum: f32 = features.occurrences.iter().map(|occurrence| self.weight(occurrence.bucket)).sum();
        self.bias + sum / (features.len() as f32).sqrt()
    }

    /// The logit of two texts taken as one (a prompt and its response, in
    /// their own namespaces).
    pub fn logit_of_both(&self, first: &Features, second: &Features) -> f32 {
        let n = first.len() + second.len();
        if n == 0 {
            return self.bias;
        }
        let sum: f32 = first.occurrences.iter().chain(&second.occurrences).map(|o| self.weight(o.bucket)).sum();
        self.bias + sum / (n as f32).sqrt()
    }

    /// The logits of windows of `window` tokens moved by half a window: the
    /// highest, the mean, and the tokens of the highest; a text shorter
    /// than a window is one window. Linear in the text.
    pub fn windows(&self, features: &Features, window: usize) -> Windows {
        let (sums, counts) = self.token_sums(features);
        let n_tokens = sums.len();
        if n_tokens <= window {
            let logit = self.logit(features);
            return Windows { highest: logit, mean: logit, tokens: 0..n_tokens };
        }
        let stride = (window / 2).max(1);
        let mut best = Windows { highest: f32::NEG_INFINITY, mean: 0.0, tokens: 0..n_tokens };
        let (mut total, mut n_windows) = (0f32, 0usize);
        let mut start = 0;
        loop {
            let end = (start + window).min(n_tokens);
            let count: u32 = counts[start..end].iter().sum();
            let sum: f32 = sums[start..end].iter().sum();
            let logit = if count > 0 { self.bias + sum / (count as f32).sqrt() } else { self.bias };
            total += logit;
            n_windows += 1;
            if logit > best.highest {
                best.highest = logit;
                best.tokens = start..end;
            }
            if end == n_tokens {
                break;
            }
            start += stride;
        }
        best.mean = total / n_windows as f32;
        best
    }

    /// The runs of tokens within `tokens` that pushed the score up most:
    /// at most `limit` spans of adjacent tokens with positive weight, in
    /// code points, strongest first.
    pub fn evidence(&self, features: &Features, tokens: Range<usize>, limit: usize) -> Vec<Cue> {
        let (sums, _) = self.token_sums(features);
        let mut runs: Vec<Cue> = Vec::new();
        let mut current: Option<Cue> = None;
        let range = tokens.start.min(sums.len())..tokens.end.min(sums.len());
        for (&weight, &token) in sums[range.clone()].iter().zip(&features.tokens[range]) {
            if weight > 0.0 {
                let cue = current.get_or_insert(Cue { start: token.start, end: token.end, weight: 0.0 });
                cue.end = token.end;
                cue.weight += f64::from(weight);
            } else if let Some(cue) = current.take() {
                runs.push(cue);
            }
        }
        runs.extend(current);
        runs.sort_by(|a, b| b.weight.total_cmp(&a.weight));
        runs.truncate(limit);
        runs
    }

    fn token_sums(&self, features: &Features) -> (Vec<f32>, Vec<u32>) {
        let mut sums = vec![0f32; features.tokens.len()];
        let mut counts = vec![0u32; features.tokens.len()];
        for occurrence in &features.occurrences {
            sums[occurrence.token as usize] += self.weight(occurrence.bucket);
            counts[occurrence.token as usize] += 1;
        }
        (sums, counts)
    }
}

/// What [`Linear::windows`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct Windows {
    /// The highest logit of a window.
    pub highest: f32,
    /// The mean logit of the windows: a document that reads like its
    /// highest window everywhere is less suspect than one with a single
    /// outlier.
    pub mean: f32,
    /// The tokens of the highest window.
    pub tokens: Range<usize>,
}

/// A run of text that drove a learned score up, in code points, end
/// exclusive, with the summed weight of its n-grams.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Cue {
    /// First code point.
    pub start: usize,
    /// One past the last code point.
    pub end: usize,
    /// How much it added to the logit (before length scaling).
    pub weight: f64,
}

/// Logistic regression from a few inputs (logits, rule scores) to a
/// calibrated probability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// One weight per input.
    pub weights: Vec<f64>,
    /// The intercept.
    pub bias: f64,
}

impl Calibration {
    /// The probability for `inputs` (as many as there are weights).
    pub fn probability(&self, inputs: &[f64]) -> f64 {
        let z: f64 = self.bias + self.weights.iter().zip(inputs).map(|(w, x)| w * x).sum::<f64>();
        sigmoid(z)
    }
}

/// The logistic function, safe for any finite or infinite input.
pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 { 1.0 / (1.0 + (-z).exp()) } else { z.exp() / (1.0 + z.exp()) }
}

#[cfg(test)]
mod tests;
