//! Query results: the four PromQL value types, and warnings.

use std::fmt;

use std::sync::Arc;

use series::{FloatHistogram, HistogramSample, Labels, Sample};

/// The result of a query.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A single number at the evaluation time.
    Scalar(Sample),
    /// A string literal at the evaluation time.
    String {
        /// The evaluation time, in milliseconds.
        t: i64,
        /// The string.
        value: String,
    },
    /// An instant vector: at most one sample per series, all at the evaluation time.
    Vector(Vec<InstantSample>),
    /// A range vector or the result of a range query: samples over time per
    /// series. Range query results are sorted by labels.
    Matrix(Vec<RangeSeries>),
}

/// One element of an instant vector.
#[derive(Debug, Clone, PartialEq)]
pub struct InstantSample {
    /// The series' labels.
    pub labels: Labels,
    /// The evaluation time, in milliseconds.
    pub t: i64,
    /// The value; NaN when the sample is a histogram.
    pub v: f64,
    /// The native histogram, when the sample is one rather than a float.
    pub h: Option<Arc<FloatHistogram>>,
}

/// One series of a matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct RangeSeries {
    /// The series' labels.
    pub labels: Labels,
    /// Its float samples in time order.
    pub samples: Vec<Sample>,
    /// Its native-histogram samples in time order, at times without a float sample.
    pub histograms: Vec<HistogramSample>,
}

/// How serious a [`Warning`] is, as Prometheus's annotations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WarningLevel {
    /// The result may be wrong or incomplete.
    Warning,
    /// The result is right, but the query may not mean what the user thinks.
    Info,
}

/// Something a successful query wants the user to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// Warning or info.
    pub level: WarningLevel,
    /// The message, as Prometheus words it (without the `PromQL warning: ` prefix).
    pub message: String,
}

impl Warning {
    pub(crate) fn warn(message: impl Into<String>) -> Warning {
        Warning { level: WarningLevel::Warning, message: message.into() }
    }

    pub(crate) fn info(message: impl Into<String>) -> Warning {
        Warning { level: WarningLevel::Info, message: message.into() }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.level {
            WarningLevel::Warning => write!(f, "PromQL warning: {}", self.message),
            WarningLevel::Info => write!(f, "PromQL info: {}", self.message),
        }
    }
}
