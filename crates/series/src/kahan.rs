//! Kahan-Neumaier compensated summation, for sums that mix huge and tiny
//! values (PromQL's `sum`, `avg` and `*_over_time` of floats and histograms).

/// One step of Kahan-Neumaier summation, as Prometheus's `kahansum.Inc`:
/// adds `inc` to `sum` and returns the new sum and the new compensation
/// `c`, the low-order part the sum lost. The total is `sum + c`; an
/// infinite sum resets the compensation.
pub fn kahan_inc(inc: f64, sum: f64, c: f64) -> (f64, f64) {
    let t = sum + inc;
    let c = if t.is_infinite() {
        0.0
    } else if sum.abs() >= inc.abs() {
        c + ((sum - t) + inc)
    } else {
        c + ((inc - t) + sum)
    };
    (t, c)
}
