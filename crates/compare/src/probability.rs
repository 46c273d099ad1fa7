//! The normal and Student's t distributions and the log-gamma function, to the precision p-values need.

/// Two-sided p-value of a z statistic: P(|Z| ≥ |z|).
pub(crate) fn two_sided_p(z: f64) -> f64 {
    erfc(z.abs() / std::f64::consts::SQRT_2).min(1.0)
}

/// The z with P(Z ≤ z) = p, for 0 < p < 1 (Acklam's rational approximation,
/// relative error below 1.2e-9, which is far below what a confidence level needs).
pub(crate) fn quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] =
        [7.784_695_709_041_462e-3, 3.224_671_290_700_398e-1, 2.445_134_137_142_996, 3.754_408_661_907_416];
    const LOW: f64 = 0.024_25;
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    if p < LOW {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - LOW {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -quantile(1.0 - p)
    }
}

/// Degrees of freedom above which Student's t is taken as normal.
const NORMAL_DF: f64 = 1e6;

/// Two-sided p-value of a t statistic with `df` degrees of freedom
/// (infinite: normal): P(|T| ≥ |t|) = I_{df/(df + t²)}(df/2, 1/2).
pub(crate) fn t_two_sided_p(t: f64, df: f64) -> f64 {
    if df >= NORMAL_DF {
        return two_sided_p(t);
    }
    incomplete_beta(df / (df + t * t), df / 2.0, 0.5).clamp(0.0, 1.0)
}

/// The t with P(T ≤ t) = p for `df` degrees of freedom (infinite: normal),
/// for 0.5 ≤ p < 1, by bisection on the distribution function.
pub(crate) fn t_quantile(p: f64, df: f64) -> f64 {
    let z = quantile(p);
    if df >= NORMAL_DF || p <= 0.5 {
        return z;
    }
    let upper_tail = 1.0 - p;
    let (mut low, mut high) = (z, z.max(1.0));
    while t_two_sided_p(high, df) / 2.0 > upper_tail {
        high *= 2.0;
    }
    for _ in 0..100 {
        let mid = (low + high) / 2.0;
        if t_two_sided_p(mid, df) / 2.0 > upper_tail {
            low = mid;
        } else {
            high = mid;
        }
    }
    (low + high) / 2.0
}

/// The regularized incomplete beta function I_x(a, b), by its continued
/// fraction (Numerical Recipes' `betai` and `betacf`).
fn incomplete_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front = (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_fraction(x, a, b) / a
    } else {
        1.0 - front * beta_fraction(1.0 - x, b, a) / b
    }
}

fn beta_fraction(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..300 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        let step = d * c;
        h *= step;
        if (step - 1.0).abs() < 1e-14 {
            break;
        }
    }
    h
}

/// The complementary error function (Numerical Recipes' Chebyshev fit,
/// relative error below 1.2e-7 everywhere, so tiny p-values keep their
/// order of magnitude).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98 + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, nine coefficients: about 15 digits).
pub(crate) fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const COEF: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x)Γ(1 − x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = COEF[0];
    for (i, c) in COEF.iter().enumerate().skip(1) {
        sum += c / (x + i as f64);
    }
    let t = x + G + 0.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn close(actual: f64, expected: f64, tolerance: f64) {
        assert!((actual - expected).abs() <= tolerance * expected.abs().max(1e-300), "{actual} vs {expected}");
    }

    #[test]
    fn normal_tables() {
        close(two_sided_p(0.0), 1.0, 1e-7);
        close(two_sided_p(1.959_963_985), 0.05, 1e-6);
        close(two_sided_p(-1.0), 0.317_310_507_862_914, 1e-6);
        close(two_sided_p(3.0), 0.002_699_796_063_26, 1e-6);
        close(two_sided_p(8.0), 1.244_192_114_854_364e-15, 1e-6);
        close(quantile(0.975), 1.959_963_984_540_054, 1e-8);
        close(quantile(0.8), 0.841_621_233_572_914, 1e-8);
        close(quantile(0.001), -3.090_232_306_167_814, 1e-8);
    }

    #[test]
    fn student_t_tables() {
        // Two-sided 5 % critical values: 12.706 (1 df), 2.262 (9 df), 2.009 (50 df).
        close(t_quantile(0.975, 1.0), 12.706_204_736, 1e-6);
        close(t_quantile(0.975, 9.0), 2.262_157_163, 1e-6);
        close(t_quantile(0.975, 50.0), 2.008_559_112, 1e-6);
        close(t_two_sided_p(2.262_157_163, 9.0), 0.05, 1e-6);
        // With 1 df, t is Cauchy: P(|T| ≥ 1) = 1/2.
        close(t_two_sided_p(1.0, 1.0), 0.5, 1e-9);
        close(t_quantile(0.975, f64::INFINITY), 1.959_963_984_540_054, 1e-9);
    }

    #[test]
    fn log_gamma_of_factorials() {
        assert!(ln_gamma(1.0).abs() < 1e-12 && ln_gamma(2.0).abs() < 1e-12);
        close(ln_gamma(11.0), (3_628_800.0_f64).ln(), 1e-12);
        close(ln_gamma(0.5), std::f64::consts::PI.sqrt().ln(), 1e-12);
        close(ln_gamma(1001.0), 5_912.128_178_488_163, 1e-12);
    }
}
