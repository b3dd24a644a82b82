//! The randomness a client needs (idempotency keys, backoff jitter, one seed per call),
//! drawn from one seed the transport takes from the OS once. Lock-free: clones of a client
//! share it across threads.

use std::sync::atomic::{AtomicU64, Ordering};

const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// A stream of 64-bit values from one seed: SplitMix64 over a shared counter. Uniqueness is
/// what keys need (not secrecy), so an OS seed and a counter are enough.
///
/// ```
/// use zuora_core::machines::Entropy;
/// let entropy = Entropy::new(42);
/// assert_ne!(entropy.key_bytes(), entropy.key_bytes());
/// assert_ne!(entropy.next_u64(), entropy.next_u64());
/// ```
#[derive(Debug)]
pub struct Entropy {
    seed: u64,
    counter: AtomicU64,
}

impl Entropy {
    /// From a seed the transport drew from the OS (or, should the OS refuse, from the
    /// clock: keys must be unique, not secret).
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            counter: AtomicU64::new(0),
        }
    }

    /// The seed a driver should use: the OS's (`getrandom`) when it gave one, else the wall
    /// clock mixed with the process id (keys must be unique, not secret). The driver reads
    /// all three; the core reads none of them.
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// use zuora_core::machines::Entropy;
    /// assert_eq!(Entropy::seed_from(Some(7), UNIX_EPOCH, 1), 7);
    /// let wall = UNIX_EPOCH + Duration::from_nanos(5);
    /// assert_ne!(Entropy::seed_from(None, wall, 1), Entropy::seed_from(None, wall, 2));
    /// ```
    pub fn seed_from(os: Option<u64>, wall: std::time::SystemTime, pid: u32) -> u64 {
        os.unwrap_or_else(|| {
            let nanos = wall
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |elapsed| elapsed.as_nanos());
            // Truncating keeps the nanoseconds' fast-changing low bits, which is what a seed needs.
            crate::policies::retry::split_mix((nanos as u64) ^ u64::from(pid).rotate_left(32))
        })
    }

    /// The next value.
    pub fn next_u64(&self) -> u64 {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        crate::policies::retry::split_mix(
            self.seed
                .wrapping_add(n.wrapping_add(1).wrapping_mul(GOLDEN_GAMMA)),
        )
    }

    /// 16 bytes for an idempotency key (a UUID v4 once formatted).
    pub fn key_bytes(&self) -> [u8; 16] {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        bytes[8..].copy_from_slice(&self.next_u64().to_le_bytes());
        bytes
    }
}
