//! Holm's step-down correction of p-values for testing several metrics at once.

/// Holm-adjusted p-values, in the order given: the smallest p-value is
/// multiplied by m, the next by m − 1, and so on, each kept at least as
/// large as the one before and at most 1. Rejecting where the adjusted
/// p-value is below α holds the family-wise error rate at α under any
/// dependence between the metrics (Holm 1979).
pub(crate) fn adjust(p_values: &[f64]) -> Vec<f64> {
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&x, &y| p_values[x].total_cmp(&p_values[y]));
    let mut adjusted = vec![1.0; m];
    let mut running = 0.0_f64;
    for (rank, &idx) in order.iter().enumerate() {
        running = running.max(((m - rank) as f64 * p_values[idx]).min(1.0));
        adjusted[idx] = running;
    }
    adjusted
}

#[cfg(test)]
mod tests {
    use super::adjust;

    #[test]
    fn holm_multiplies_by_remaining_count_and_stays_monotone() {
        // Worked example: m = 4, sorted p = 0.01, 0.02, 0.03, 0.04 → 0.04, 0.06, 0.06, 0.06.
        let adjusted = adjust(&[0.03, 0.01, 0.04, 0.02]);
        let expected = [0.06, 0.04, 0.06, 0.06];
        for (a, e) in adjusted.iter().zip(expected) {
            assert!((a - e).abs() < 1e-12, "{adjusted:?}");
        }
        assert_eq!(adjust(&[0.5, 0.9]), vec![1.0, 1.0]);
        assert!(adjust(&[]).is_empty());
    }
}
