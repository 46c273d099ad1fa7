//! A decoded, validated push request, ready to append.
//!
//! Decoders fill a [`WriteBatch`] series by series and validate each series
//! as it closes, so a request with one bad series fails before anything
//! reaches the store: appending only starts once the whole request has
//! decoded. The batch borrows every label from the request buffer and keeps
//! them in three flat vectors (labels, series boundaries, samples), so its
//! cost is a few allocations per request, not one per label.

use std::fmt::Write as _;

use series::{Appender, LabelRef, METRIC_NAME, Sample, is_valid_label_name, is_valid_metric_name};

use crate::{Error, Result};

/// The series and samples of one request, each series' labels sorted by
/// name, unique and non-empty, with a valid metric name.
#[derive(Debug, Default)]
pub struct WriteBatch<'a> {
    labels: Vec<LabelRef<'a>>,
    /// Where each series ends in `labels` and `samples`; it starts where the previous one ends.
    series: Vec<SeriesEnd>,
    samples: Vec<Sample>,
    n_histograms: usize,
    n_exemplars: usize,
    /// The last metric name found valid: consecutive series usually share
    /// one (histogram buckets), and checking it is a tenth of decoding.
    last_metric_name: &'a str,
}

#[derive(Debug, Clone, Copy)]
struct SeriesEnd {
    labels: usize,
    samples: usize,
}

/// Where an open series starts; see [`WriteBatch::start_series`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct SeriesStart(SeriesEnd);

impl<'a> WriteBatch<'a> {
    /// The series that have samples, with their labels and samples in request order.
    pub fn series(&self) -> impl Iterator<Item = (&[LabelRef<'a>], &[Sample])> + '_ {
        let mut start = SeriesEnd { labels: 0, samples: 0 };
        self.series.iter().map(move |end| {
            let item = (&self.labels[start.labels..end.labels], &self.samples[start.samples..end.samples]);
            start = *end;
            item
        })
    }

    /// The number of float samples.
    pub fn num_samples(&self) -> usize {
        self.samples.len()
    }

    /// The number of native histogram samples the request carried; they are not stored.
    pub fn num_histograms(&self) -> usize {
        self.n_histograms
    }

    /// The number of exemplars the request carried; they are not stored.
    pub fn num_exemplars(&self) -> usize {
        self.n_exemplars
    }

    /// Appends every sample to `appender` and returns how many; the caller commits.
    pub fn append_to(&self, appender: &mut dyn Appender) -> usize {
        for (labels, samples) in self.series() {
            for sample in samples {
                appender.append(labels, sample.t, sample.v);
            }
        }
        self.samples.len()
    }

    /// A batch with room for a request of `len` decoded bytes.
    pub(crate) fn with_capacity_for(len: usize) -> WriteBatch<'a> {
        // A label takes at least ~16 bytes and a one-sample series ~200 bytes
        // on the wire, so these rarely over-reserve and usually avoid regrowth.
        WriteBatch {
            labels: Vec::with_capacity(len / 24),
            series: Vec::with_capacity(len / 256),
            samples: Vec::with_capacity(len / 256),
            n_histograms: 0,
            n_exemplars: 0,
            last_metric_name: "",
        }
    }

    /// Opens a series; its labels and samples are pushed next, in any order.
    #[inline]
    pub(crate) fn start_series(&self) -> SeriesStart {
        SeriesStart(SeriesEnd { labels: self.labels.len(), samples: self.samples.len() })
    }

    /// Adds a label to the open series.
    #[inline]
    pub(crate) fn push_label(&mut self, label: LabelRef<'a>) {
        self.labels.push(label);
    }

    /// Adds a sample to the open series.
    #[inline]
    pub(crate) fn push_sample(&mut self, sample: Sample) {
        self.samples.push(sample);
    }

    /// Counts a native histogram sample of the open series.
    pub(crate) fn count_histogram(&mut self) {
        self.n_histograms += 1;
    }

    /// Counts an exemplar of the open series.
    pub(crate) fn count_exemplar(&mut self) {
        self.n_exemplars += 1;
    }

    /// Validates and closes the series opened at `start`: sorts its labels,
    /// drops empty-valued ones, and forgets the series if it has no samples.
    ///
    /// # Errors
    ///
    /// [`Error::TooManyLabels`], [`Error::LabelTooLong`],
    /// [`Error::DuplicateLabel`], [`Error::InvalidLabelName`],
    /// [`Error::MissingMetricName`] or [`Error::InvalidMetricName`].
    pub(crate) fn finish_series(&mut self, start: SeriesStart) -> Result<()> {
        let start = start.0;
        let labels = &mut self.labels[start.labels..];
        if labels.len() > crate::MAX_LABELS_PER_SERIES {
            return Err(Error::TooManyLabels {
                n: labels.len(),
                limit: crate::MAX_LABELS_PER_SERIES,
                series: format_series(labels),
            });
        }
        if let Some(label) = labels.iter().find(|l| l.name.len().max(l.value.len()) > crate::MAX_LABEL_BYTES) {
            let name: String = label.name.chars().take(64).collect();
            let len = label.name.len().max(label.value.len());
            return Err(Error::LabelTooLong {
                name,
                len,
                limit: crate::MAX_LABEL_BYTES,
                series: format_series(labels),
            });
        }
        // Senders almost always sort; strictly increasing names also prove uniqueness.
        if !labels.is_sorted_by(|a, b| a.name < b.name) {
            labels.sort_by(|a, b| a.name.cmp(b.name));
            if let Some(pair) = labels.windows(2).find(|pair| pair[0].name == pair[1].name) {
                return Err(Error::DuplicateLabel { name: pair[0].name.to_owned(), series: format_series(labels) });
            }
        }
        let mut metric_name = None;
        let mut n_empty = 0;
        for label in labels.iter() {
            if label.name == METRIC_NAME {
                metric_name = Some(label.value);
            } else if !is_valid_label_name(label.name) {
                return Err(Error::InvalidLabelName { name: label.name.to_owned(), series: format_series(labels) });
            }
            n_empty += usize::from(label.value.is_empty());
        }
        match metric_name {
            None | Some("") => return Err(Error::MissingMetricName { series: format_series(labels) }),
            Some(name) if name == self.last_metric_name => {}
            Some(name) if !is_valid_metric_name(name) => {
                return Err(Error::InvalidMetricName { name: name.to_owned(), series: format_series(labels) });
            }
            Some(name) => self.last_metric_name = name,
        }
        if self.samples.len() == start.samples {
            self.labels.truncate(start.labels);
            return Ok(());
        }
        if n_empty > 0 {
            let mut kept = start.labels;
            for i in start.labels..self.labels.len() {
                if !self.labels[i].value.is_empty() {
                    self.labels[kept] = self.labels[i];
                    kept += 1;
                }
            }
            self.labels.truncate(kept);
        }
        self.series.push(SeriesEnd { labels: self.labels.len(), samples: self.samples.len() });
        Ok(())
    }
}

/// Longest series description put in an error message; label values can be
/// arbitrarily long, and a response should not echo megabytes back.
const MAX_FORMATTED_SERIES: usize = 1024;

/// Formats labels as Prometheus does, `{__name__="x", job="y"}`, truncated
/// to [`MAX_FORMATTED_SERIES`] bytes.
pub(crate) fn format_series(labels: &[LabelRef<'_>]) -> String {
    let mut out = String::from("{");
    for (i, label) in labels.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write!(out, "{}={:?}", label.name, label.value).expect("writing to a String cannot fail");
        if out.len() > MAX_FORMATTED_SERIES {
            let mut end = MAX_FORMATTED_SERIES;
            while !out.is_char_boundary(end) {
                end -= 1;
            }
            out.truncate(end);
            out.push_str("...");
            return out;
        }
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests;
