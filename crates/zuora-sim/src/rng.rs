//! A small seeded generator: the simulator's randomness is reproducible from its seed.

/// SplitMix64 (the client's [`zuora_core::machines::Entropy`], whose sequence from a seed is the
/// standard SplitMix64 sequence): tiny, fast, and good enough for ids, data and fault draws.
#[derive(Debug)]
pub struct Rng(zuora_core::machines::Entropy);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Self(zuora_core::machines::Entropy::new(seed))
    }

    /// A generator for one item of a family (a row of a report, say): same inputs, same
    /// values, whatever else was drawn before.
    pub fn for_item(seed: u64, family: u64, item: u64) -> Self {
        let mut mixer = Self::new(seed ^ family.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let base = mixer.next_u64();
        Self::new(base ^ item.wrapping_mul(0xD1B5_4A32_D192_ED03))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// `true` with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p && p > 0.0
    }

    /// One of `items`.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// 16 random bytes.
    pub fn bytes16(&mut self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        out[8..].copy_from_slice(&self.next_u64().to_le_bytes());
        out
    }

    /// 32 lower-case hex characters, the shape of Zuora's ids and tokens.
    pub fn hex32(&mut self) -> String {
        format!("{:016x}{:016x}", self.next_u64(), self.next_u64())
    }
}

#[cfg(test)]
mod tests {
    use super::Rng;

    /// The simulator's data is fixed by its seed: the sequence is SplitMix64's, exactly.
    #[test]
    fn the_sequence_is_splitmix64() {
        let mut state = 42u64;
        let mut reference = || {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        let mut rng = Rng::new(42);
        for _ in 0..100 {
            assert_eq!(rng.next_u64(), reference());
        }
    }
}
