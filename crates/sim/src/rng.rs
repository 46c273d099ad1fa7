//! A small seeded random number generator, so that a simulation is the same every time it runs with a seed.

/// xorshift64* (Vigna, 2016), seeded through splitmix64 so that any seed,
/// zero included, starts from a well-mixed state. Not for cryptography.
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A generator whose sequence is fixed by `seed`.
    pub fn new(seed: u64) -> Rng {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Rng { state: if z == 0 { 0x2545_F491_4F6C_DD1D } else { z } }
    }

    /// An independent generator for a named sub-stream (a replica, a model),
    /// so that adding draws to one stream does not shift the others.
    pub fn fork(&self, stream: u64) -> Rng {
        Rng::new(self.state ^ stream.wrapping_mul(0xD6E8_FEB8_6659_FD93))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [0, n); 0 when n is 0.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }

    /// One element of a non-empty slice.
    ///
    /// # Panics
    ///
    /// When `items` is empty: callers pass built-in, non-empty word lists.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.f64().max(f64::MIN_POSITIVE);
        let u2 = self.f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Log-normal with the given median and log-space standard deviation.
    pub fn lognormal(&mut self, median: f64, sigma: f64) -> f64 {
        median * (sigma * self.normal()).exp()
    }

    /// Poisson-distributed count with mean `lambda`.
    pub fn poisson(&mut self, lambda: f64) -> u32 {
        if lambda <= 0.0 {
            return 0;
        }
        if lambda > 30.0 {
            return (lambda + lambda.sqrt() * self.normal()).round().max(0.0) as u32;
        }
        // Knuth's method: multiply uniforms until the product drops below e^-λ.
        let limit = (-lambda).exp();
        let mut product = self.f64();
        let mut count = 0;
        while product > limit {
            count += 1;
            product *= self.f64();
        }
        count
    }
}

#[cfg(test)]
mod tests {
    use super::Rng;

    #[test]
    fn same_seed_same_sequence_and_forks_differ() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        let xs: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..5).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(Rng::new(7).fork(1).next_u64(), Rng::new(7).fork(2).next_u64());
        assert_ne!(Rng::new(0).next_u64(), 0);
    }

    #[test]
    fn poisson_and_uniform_have_the_right_means() {
        let mut rng = Rng::new(1);
        let n = 20_000;
        let mean_small = (0..n).map(|_| f64::from(rng.poisson(3.0))).sum::<f64>() / f64::from(n);
        let mean_large = (0..n).map(|_| f64::from(rng.poisson(100.0))).sum::<f64>() / f64::from(n);
        let mean_uniform = (0..n).map(|_| rng.f64()).sum::<f64>() / f64::from(n);
        assert!((mean_small - 3.0).abs() < 0.1, "{mean_small}");
        assert!((mean_large - 100.0).abs() < 1.0, "{mean_large}");
        assert!((mean_uniform - 0.5).abs() < 0.02, "{mean_uniform}");
    }
}
