//! Start ("created") timestamps, as Prometheus 3 uses them in counter
//! functions: a start timestamp tells when the counter (or the delta a
//! sample holds) began, so it reveals resets that the values hide and where
//! a counter that starts inside a window came from zero.
//!
//! A start timestamp of 0 means "unknown", and one that is not before its
//! sample's time tells nothing either (a sample cannot count from its own
//! time on, and OpenTelemetry writes `start == time` for an unknown start).

/// Whether `start` is a usable start timestamp of a sample at `t`.
pub(super) fn is_known(start: i64, t: i64) -> bool {
    start != 0 && start < t
}

/// Whether the sample at `t`, starting at `start`, follows a counter reset
/// after the sample at `previous_t` (which started at `previous_start`):
/// its counter started after the previous sample, or exactly at it while
/// the previous sample had a start of its own (a delta, as OpenTelemetry
/// writes them; a cumulative counter with an unknown start also points at
/// the previous sample, but that one has no start).
pub(super) fn is_reset(previous_start: i64, previous_t: i64, start: i64, t: i64) -> bool {
    if !is_known(start, t) || start < previous_t {
        return false;
    }
    start > previous_t || is_known(previous_start, previous_t)
}

/// Whether a sample's start lies before the previous sample although it is
/// not the previous sample's start: the two claim overlapping counts.
pub(super) fn overlaps(previous_start: i64, previous_t: i64, start: i64) -> bool {
    start != 0 && start < previous_t && start != previous_start
}

/// Where the first sample of a window `(window_start, …]` counted from
/// zero, if it says so: its start timestamp, when that is known and inside
/// the window. Rate and friends then take the counter's start as a zero
/// sample instead of extrapolating towards the window's start.
pub(super) fn counter_origin(first_start: i64, first_t: i64, window_start: i64) -> Option<i64> {
    (is_known(first_start, first_t) && first_start > window_start).then_some(first_start)
}

/// The start timestamp of sample `i`, 0 when the series has none.
pub(super) fn of(starts: &[i64], i: usize) -> i64 {
    starts.get(i).copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_start_after_the_previous_sample_is_a_reset() {
        assert!(is_reset(0, 60_000, 60_001, 120_000));
        assert!(!is_reset(0, 60_000, 59_999, 120_000));
    }

    #[test]
    fn a_start_at_the_previous_sample_is_a_reset_only_after_a_known_start() {
        // A delta: each sample starts where the previous one was taken.
        assert!(is_reset(1, 60_000, 60_000, 120_000));
        // A cumulative counter with an unknown start points at the previous sample too.
        assert!(!is_reset(0, 60_000, 60_000, 120_000));
        assert!(!is_reset(60_000, 60_000, 60_000, 120_000));
        assert!(!is_reset(180_000, 60_000, 60_000, 120_000));
    }

    #[test]
    fn a_start_at_or_after_its_own_sample_tells_nothing() {
        assert!(!is_reset(0, 60_000, 120_000, 120_000));
        assert!(!is_reset(0, 60_000, 120_001, 120_000));
        assert_eq!(counter_origin(120_000, 120_000, 0), None);
    }

    #[test]
    fn a_counter_starting_inside_the_window_starts_from_zero_there() {
        assert_eq!(counter_origin(90_000, 120_000, 60_000), Some(90_000));
        // The window is open at its start.
        assert_eq!(counter_origin(60_000, 120_000, 60_000), None);
        assert_eq!(counter_origin(0, 120_000, -60_000), None);
    }

    #[test]
    fn overlapping_starts_claim_time_the_previous_sample_covered() {
        assert!(overlaps(0, 120_000, 60_000));
        assert!(!overlaps(60_000, 120_000, 60_000));
        assert!(!overlaps(0, 120_000, 120_000));
        assert!(!overlaps(0, 120_000, 0));
    }
}
