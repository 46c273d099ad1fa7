//! Samples and Prometheus's stale marker.

/// The bit pattern Prometheus uses to mark a series as stale: a NaN that no
/// arithmetic produces, so it can travel through the store as a value.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// The stale marker as a float. Compare with [`is_stale_nan`], never with `==`.
pub const STALE_NAN: f64 = f64::from_bits(STALE_NAN_BITS);

/// Whether `v` is the stale marker (and not any other NaN).
pub fn is_stale_nan(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// One float sample: a timestamp in milliseconds since the Unix epoch and a value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Milliseconds since the Unix epoch.
    pub t: i64,
    /// The value; may be the stale marker.
    pub v: f64,
}

impl Sample {
    /// Whether two samples are the same write: equal timestamps and the same
    /// bits (so a retried stale marker or NaN counts as equal).
    pub fn is_same(&self, other: &Sample) -> bool {
        self.t == other.t && self.v.to_bits() == other.v.to_bits()
    }
}
