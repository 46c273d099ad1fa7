//! The metric name and the labels that belong to it.
//!
//! With Prometheus's type-and-unit labels, a series may carry its metric's
//! type and unit as `__type__` and `__unit__`. They describe the metric, not
//! the series, so they go wherever the metric name goes: an operation that
//! changes what a value measures drops all three. Names starting with `__`
//! are reserved, so no other series has these labels.

use series::{Labels, LabelsBuilder, METRIC_NAME};

/// The labels dropped together with the metric name.
const NAME_LABELS: [&str; 3] = [METRIC_NAME, "__type__", "__unit__"];

/// Whether `labels` has a metric name, type or unit to drop.
pub(crate) fn has_name(labels: &Labels) -> bool {
    NAME_LABELS.iter().any(|name| labels.get(name).is_some())
}

/// Removes the metric name, type and unit.
pub(crate) fn remove_name(builder: &mut LabelsBuilder) {
    for name in NAME_LABELS {
        builder.remove(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_and_unit_go_with_the_name() {
        let labels = Labels::from_pairs([("__name__", "m"), ("__type__", "counter"), ("__unit__", "s"), ("a", "b")]);
        assert!(has_name(&labels));
        let mut builder = labels.to_builder();
        remove_name(&mut builder);
        assert_eq!(builder.build(), Labels::from_pairs([("a", "b")]));
        assert!(!has_name(&Labels::from_pairs([("a", "b")])));
    }
}
