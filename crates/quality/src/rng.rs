//! A tiny seeded xorshift generator, so drift tests give the same answer
//! on every run and machine.

/// xorshift64* (Vigna, 2016): fast, small state, good enough for shuffles.
#[derive(Debug, Clone)]
pub(crate) struct XorShift {
    state: u64,
}

impl XorShift {
    /// A generator from `seed`; a zero seed is replaced, as zero is a fixed
    /// point of xorshift.
    pub(crate) fn new(seed: u64) -> Self {
        XorShift { state: if seed == 0 { 0x9E37_79B9_7F4A_7C15 } else { seed } }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A uniform index below `bound` (which must be positive).
    pub(crate) fn below(&mut self, bound: usize) -> usize {
        // Multiply-shift keeps the bias below 2^-32 for our small bounds.
        ((u128::from(self.next_u64() >> 32) * bound as u128) >> 32) as usize
    }

    /// Shuffles `items` in place (Fisher–Yates).
    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for idx in (1..items.len()).rev() {
            let other = self.below(idx + 1);
            items.swap(idx, other);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence() {
        let mut a = XorShift::new(7);
        let mut b = XorShift::new(7);
        assert!((0..100).all(|_| a.next_u64() == b.next_u64()));
    }

    #[test]
    fn indices_stay_in_bounds() {
        let mut rng = XorShift::new(1);
        assert!((0..10_000).all(|_| rng.below(3) < 3));
    }
}
