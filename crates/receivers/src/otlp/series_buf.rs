//! The series a request translates to, in a few flat buffers.
//!
//! A request of a thousand histogram points becomes tens of thousands of
//! series; building a [`series::Labels`] for each would cost allocations per
//! series twice, once to translate and once to append. Instead every label
//! is copied into one string and addressed by offsets, and the label slices
//! the appender wants are rebuilt in a reused vector.

use series::{LabelRef, METRIC_NAME, Sample};

/// Builds the label sets of a point's series from its labels (sorted by
/// name), reusing one buffer for all of them.
pub(crate) struct SeriesLabels<'a> {
    labels: &'a [(String, String)],
    refs: Vec<LabelRef<'a>>,
}

impl<'a> SeriesLabels<'a> {
    pub(crate) fn new(labels: &'a [(String, String)]) -> SeriesLabels<'a> {
        SeriesLabels { labels, refs: Vec::with_capacity(labels.len() + 2) }
    }

    /// Writes a sample of the series with the point's labels, `__name__`,
    /// and an extra label (`le`, `quantile`) that wins over an attribute of
    /// its name. Empty values are dropped, as they mean "no such label".
    pub(crate) fn push(
        &mut self,
        out: &mut SeriesBuf,
        name: &'a str,
        extra: Option<(&'a str, &'a str)>,
        sample: Sample,
    ) {
        let mut added = [Some(LabelRef::new(METRIC_NAME, name)), extra.map(|(name, value)| LabelRef::new(name, value))];
        if let [Some(first), Some(second)] = added
            && second.name < first.name
        {
            added.swap(0, 1);
        }
        let mut added = added.into_iter().flatten().peekable();
        self.refs.clear();
        for (label, value) in self.labels {
            let overridden = label == METRIC_NAME || extra.is_some_and(|(extra_name, _)| extra_name == label);
            if overridden || value.is_empty() {
                continue;
            }
            while let Some(before) = added.next_if(|added| added.name < label.as_str()) {
                self.refs.push(before);
            }
            self.refs.push(LabelRef::new(label, value));
        }
        self.refs.extend(added);
        out.push(&self.refs, sample);
    }
}

/// The series of a request, with their labels copied back to back into one
/// string: a few growing buffers rather than allocations per series.
#[derive(Debug, Default)]
pub(crate) struct SeriesBuf {
    text: String,
    labels: Vec<LabelSpan>,
    /// Each series' sample, and where its labels end in `labels`; they
    /// start where the previous series' end.
    samples: Vec<(usize, Sample)>,
}

/// A label in [`SeriesBuf::text`]: the name is `name..value`, the value
/// `value..end`.
#[derive(Debug, Clone, Copy)]
struct LabelSpan {
    name: usize,
    value: usize,
    end: usize,
}

/// The lengths of a [`SeriesBuf`], to undo what a point wrote.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mark {
    text: usize,
    labels: usize,
    pub(crate) samples: usize,
}

impl SeriesBuf {
    /// The number of series.
    pub(crate) fn len(&self) -> usize {
        self.samples.len()
    }

    /// Adds a series with `labels`, sorted by name with unique names.
    pub(crate) fn push(&mut self, labels: &[LabelRef<'_>], sample: Sample) {
        for label in labels {
            let name = self.text.len();
            self.text.push_str(label.name);
            let value = self.text.len();
            self.text.push_str(label.value);
            self.labels.push(LabelSpan { name, value, end: self.text.len() });
        }
        self.samples.push((self.labels.len(), sample));
    }

    /// Replaces `labels` with the labels of series `i`, and returns its sample.
    pub(crate) fn fill<'b>(&'b self, i: usize, labels: &mut Vec<LabelRef<'b>>) -> Sample {
        let start = if i == 0 { 0 } else { self.samples[i - 1].0 };
        let (end, sample) = self.samples[i];
        labels.clear();
        labels.extend(
            self.labels[start..end]
                .iter()
                .map(|span| LabelRef::new(&self.text[span.name..span.value], &self.text[span.value..span.end])),
        );
        sample
    }

    /// The samples of series `from` on.
    pub(crate) fn samples(&self, from: usize) -> impl Iterator<Item = &Sample> {
        self.samples[from..].iter().map(|(_, sample)| sample)
    }

    /// The samples of series `from` on, to change their values.
    pub(crate) fn samples_mut(&mut self, from: usize) -> impl Iterator<Item = &mut Sample> {
        self.samples[from..].iter_mut().map(|(_, sample)| sample)
    }

    /// The lengths now, to [`truncate`](SeriesBuf::truncate) back to.
    pub(crate) fn mark(&self) -> Mark {
        Mark { text: self.text.len(), labels: self.labels.len(), samples: self.samples.len() }
    }

    /// Forgets the series added since `mark`.
    pub(crate) fn truncate(&mut self, mark: Mark) {
        self.text.truncate(mark.text);
        self.labels.truncate(mark.labels);
        self.samples.truncate(mark.samples);
    }
}

#[cfg(test)]
mod tests;
