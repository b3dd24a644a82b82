//! When to look at a run again while waiting for it.

use std::time::Duration;

use crate::runs::{ReportRun, RunStatus};

/// How a wait polls. Zuora documents no interval (Workflow polls every 60 s); the default
/// here looks after 1 s, then doubles up to 30 s, and always waits out an exhausted rate
/// limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollPolicy {
    /// Delay before the second look.
    pub first_delay: Duration,
    /// Longest delay between looks.
    pub max_delay: Duration,
}

impl Default for PollPolicy {
    fn default() -> Self {
        Self {
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
        }
    }
}

/// What to do after looking at a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollDecision {
    /// The run completed: its results can be read.
    Completed,
    /// The run ended without results (`ERROR`, `INVALID`, `CANCELLED`).
    Ended(RunStatus),
    /// Look again after this long.
    PollAfter(Duration),
    /// The next look would fall past the caller's deadline.
    DeadlineReached,
}

impl PollPolicy {
    /// Decides after look number `looks` (1-based) at `run`, `elapsed` into a wait that may
    /// last `deadline`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use zuora_core::{PollDecision, PollPolicy};
    /// let policy = PollPolicy::default();
    /// assert_eq!(policy.delay(1), Duration::from_secs(1));
    /// assert_eq!(policy.delay(3), Duration::from_secs(4));
    /// assert_eq!(policy.delay(10), Duration::from_secs(30));
    /// ```
    pub fn decide(
        &self,
        looks: u32,
        run: &ReportRun,
        elapsed: Duration,
        deadline: Duration,
    ) -> PollDecision {
        match &run.status {
            RunStatus::Completed => return PollDecision::Completed,
            status if !status.in_progress() => return PollDecision::Ended(status.clone()),
            _ => {}
        }
        let mut delay = self.delay(looks);
        let limit = &run.meta.rate_limit;
        if limit.is_exhausted() {
            delay = delay.max(limit.reset.unwrap_or(self.max_delay));
        }
        if elapsed + delay > deadline {
            PollDecision::DeadlineReached
        } else {
            PollDecision::PollAfter(delay)
        }
    }

    /// The delay after look number `looks`: `first_delay * 2^(looks - 1)`, capped.
    pub fn delay(&self, looks: u32) -> Duration {
        self.first_delay
            .saturating_mul(1u32 << looks.saturating_sub(1).min(20))
            .min(self.max_delay)
    }
}
