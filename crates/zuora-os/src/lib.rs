#![doc = include_str!("../README.md")]

pub mod pulls;

use std::time::{Instant, SystemTime};

use zuora_core::client::Platform;
use zuora_core::driver::Now;
use zuora_core::machines::Entropy;

/// The standard library's clocks and the OS's randomness, as a [`Platform`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Os;

impl Platform for Os {
    fn now() -> Now {
        now()
    }

    fn seed() -> u64 {
        seed()
    }
}

/// The time now: [`Instant`] for deadlines, [`SystemTime`] for HTTP dates.
pub fn now() -> Now {
    Now::new(Instant::now(), SystemTime::now())
}

/// A seed from the OS's randomness; should the OS refuse, the clock and the process id
/// stand in (keys must be unique, not secret).
pub fn seed() -> u64 {
    Entropy::seed_from(getrandom::u64().ok(), SystemTime::now(), std::process::id())
}
