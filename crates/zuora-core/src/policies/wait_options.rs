//! When to look at a run again while waiting for it.

use std::time::Duration;

use crate::operations::report_runs::ReportRun;
use crate::values::invalid_input::{InvalidInput, in_range};
use crate::values::status::RunStatus;

/// How a wait polls. Zuora documents no interval (Workflow polls every 60 s); the default
/// here looks after 1 s, then doubles up to 30 s, and always waits out an exhausted rate
/// limit.
///
/// The setters refuse delays under [`MIN_DELAY`](Self::MIN_DELAY) (a zero interval would
/// spend a tenant's whole rate limit on status requests) or over an hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollPolicy {
    first_delay: Duration,
    max_delay: Duration,
}

impl PollPolicy {
    /// The shortest delay between two looks.
    pub const MIN_DELAY: Duration = Duration::from_millis(50);
    /// The longest delay between two looks.
    pub const MAX_DELAY: Duration = Duration::from_secs(3600);

    /// Look again after `first`, then double the delay up to `max` (`first <= max`).
    pub fn new(first: Duration, max: Duration) -> Result<Self, InvalidInput> {
        let first_delay = in_range("poll first delay", first, Self::MIN_DELAY, Self::MAX_DELAY)?;
        let max_delay = in_range("poll max delay", max, first_delay, Self::MAX_DELAY)?;
        Ok(Self {
            first_delay,
            max_delay,
        })
    }

    /// The delay before the second look.
    pub fn first_delay(&self) -> Duration {
        self.first_delay
    }

    /// The longest delay between looks.
    pub fn max_delay(&self) -> Duration {
        self.max_delay
    }
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

/// The time kept for the last look of a wait whose next pause would pass its deadline.
const LAST_LOOK: Duration = Duration::from_secs(1);

impl PollPolicy {
    /// Decides after look number `looks` (1-based) at `run`, `elapsed` into a wait that may
    /// last `deadline`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use zuora_core::{policies::PollDecision, policies::PollPolicy};
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
            // The server's reset is a hint, capped like every other wait: a huge or absurd
            // value neither stalls the wait nor ends it at once.
            delay = delay.max(limit.reset.unwrap_or(self.max_delay).min(self.max_delay));
        }
        if elapsed.saturating_add(delay) <= deadline {
            return PollDecision::PollAfter(delay);
        }
        // The pause does not fit: sleep what is left but for a last look's time, and look once
        // more just before the deadline, rather than give up with time on the clock.
        let left = deadline.saturating_sub(elapsed);
        match left.checked_sub(LAST_LOOK) {
            Some(sleep) if sleep >= Self::MIN_DELAY => PollDecision::PollAfter(sleep),
            _ => PollDecision::DeadlineReached,
        }
    }

    /// The delay after look number `looks`: `first_delay * 2^(looks - 1)`, capped.
    pub fn delay(&self, looks: u32) -> Duration {
        self.first_delay
            .saturating_mul(1u32 << looks.saturating_sub(1).min(20))
            .min(self.max_delay)
    }
}

/// How to wait for a run: one hour, no cancel and [`PollPolicy::default`] unless set.
///
/// ```
/// use std::time::Duration;
/// use zuora_core::WaitOptions;
/// let wait = WaitOptions::default().with_timeout(Duration::from_secs(600))?.cancel_on_timeout(true);
/// assert_eq!(wait.timeout(), Duration::from_secs(600));
/// assert!(WaitOptions::default().with_timeout(Duration::ZERO).is_err());
/// # Ok::<(), zuora_core::errors::InvalidInput>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitOptions {
    timeout: Duration,
    cancel_on_timeout: bool,
    poll: PollPolicy,
}

impl WaitOptions {
    /// The longest wait: a day (Zuora stops a run after an hour).
    pub const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

    /// Give up after `timeout` (100 ms to [`MAX_TIMEOUT`](Self::MAX_TIMEOUT)); every look,
    /// sleep and the final cancel fit inside it.
    pub fn with_timeout(mut self, timeout: Duration) -> Result<Self, InvalidInput> {
        self.timeout = in_range(
            "wait timeout",
            timeout,
            Duration::from_millis(100),
            Self::MAX_TIMEOUT,
        )?;
        Ok(self)
    }

    /// Cancel the run on the server when giving up (the last [`CANCEL_GRACE`](crate::machines::CANCEL_GRACE) of the
    /// timeout is kept for the cancel).
    pub fn cancel_on_timeout(mut self, cancel: bool) -> Self {
        self.cancel_on_timeout = cancel;
        self
    }

    /// When to look again.
    pub fn poll(mut self, poll: PollPolicy) -> Self {
        self.poll = poll;
        self
    }

    /// The wait's timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Whether the run is cancelled when the wait gives up.
    pub fn cancels_on_timeout(&self) -> bool {
        self.cancel_on_timeout
    }

    /// The poll policy.
    pub fn poll_policy(&self) -> PollPolicy {
        self.poll
    }
}

impl Default for WaitOptions {
    /// One hour (Zuora stops runs after an hour), no cancel, [`PollPolicy::default`].
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(3600),
            cancel_on_timeout: false,
            poll: PollPolicy::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // A panic is how a test fails.

    use super::*;
    use crate::responses::ResponseMeta;
    use crate::values::RunStatus;

    fn running_with_limit_used_up() -> ReportRun {
        let mut headers = http::HeaderMap::new();
        headers.insert("ratelimit-remaining", http::HeaderValue::from_static("0"));
        headers.insert("ratelimit-reset", http::HeaderValue::from_static("30"));
        ReportRun {
            id: "ff808081529f4e3401529fd61f080074".parse().unwrap(),
            report_id: None,
            report_type: None,
            status: RunStatus::parse("STARTED"),
            started_on: None,
            updated_on: None,
            report_definition: None,
            meta: ResponseMeta::from_parts(http::StatusCode::OK, &headers),
        }
    }

    #[test]
    fn a_pause_past_the_deadline_sleeps_what_is_left_and_looks_once_more() {
        let policy = PollPolicy::default();
        let run = running_with_limit_used_up();
        let deadline = Duration::from_secs(20);
        // The server asks for 30 s one second into a 20 s wait: sleep to a second before
        // the deadline, not give up at once.
        assert_eq!(
            policy.decide(1, &run, Duration::from_secs(1), deadline),
            PollDecision::PollAfter(Duration::from_secs(18))
        );
        // That last look done, the deadline has come.
        assert_eq!(
            policy.decide(2, &run, Duration::from_millis(19_020), deadline),
            PollDecision::DeadlineReached
        );
    }
}
