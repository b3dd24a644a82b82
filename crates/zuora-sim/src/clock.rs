//! Simulated time: real time plus an offset tests can move forward.

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The simulator's clock. Token expiry, run progress, rate-limit windows and the
/// idempotency store's 24 hours all read it, so a test can jump ahead with [`advance`].
///
/// [`advance`]: SimClock::advance
#[derive(Debug)]
pub struct SimClock {
    started_at: SystemTime,
    started: Instant,
    offset: Mutex<Duration>,
}

impl SimClock {
    /// A clock that starts at the real current time.
    pub fn new() -> Self {
        Self {
            started_at: SystemTime::now(),
            started: Instant::now(),
            offset: Mutex::new(Duration::ZERO),
        }
    }

    /// Time since the clock started, including every advance.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed() + self.offset()
    }

    /// The simulated wall-clock time.
    pub fn now(&self) -> SystemTime {
        self.started_at + self.elapsed()
    }

    /// Milliseconds since the epoch, as Zuora stamps runs.
    pub fn epoch_millis_at(&self, at: Duration) -> u64 {
        let when = self.started_at + at;
        when.duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    /// Moves simulated time forward.
    pub fn advance(&self, by: Duration) {
        let mut offset = self.offset.lock().unwrap_or_else(|e| e.into_inner());
        *offset += by;
    }

    fn offset(&self) -> Duration {
        *self.offset.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Default for SimClock {
    fn default() -> Self {
        Self::new()
    }
}
