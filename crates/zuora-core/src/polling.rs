//! When to look at a run again while waiting for it.

use std::time::Duration;

use crate::runs::ReportRun;
use crate::status::RunStatus;

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
            // The server's reset is a hint, capped like every other wait: a huge or absurd
            // value neither stalls the wait nor ends it at once.
            delay = delay.max(limit.reset.unwrap_or(self.max_delay).min(self.max_delay));
        }
        if elapsed.saturating_add(delay) > deadline {
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

/// How to wait for a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitOptions {
    /// Give up after this long.
    pub timeout: Duration,
    /// Cancel the run on the server when giving up.
    pub cancel_on_timeout: bool,
    /// When to look again.
    pub poll: PollPolicy,
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

/// What a transport does next while waiting.
#[derive(Debug)]
pub enum WaitStep {
    /// Look at the run (*Retrieve a report run*) and hand it to [`Wait::on_run`].
    Look,
    /// Sleep, then look.
    Sleep(Duration),
    /// Cancel the run, then hand the outcome to [`Wait::on_cancelled`].
    Cancel,
    /// The wait is over (boxed: a run is large next to the other steps).
    Done(Box<Result<ReportRun, crate::Error>>),
}

/// Waiting for one run, without IO: the transports look, sleep and cancel as told.
#[derive(Debug)]
pub struct Wait {
    run_id: crate::ReportRunId,
    options: WaitOptions,
    started: std::time::SystemTime,
    looks: u32,
    last: Option<crate::RunStatus>,
}

impl Wait {
    /// A wait for `run_id` starting at `now`; the first step is [`WaitStep::Look`].
    pub fn new(
        run_id: crate::ReportRunId,
        options: WaitOptions,
        now: std::time::SystemTime,
    ) -> (Self, WaitStep) {
        let wait = Self {
            run_id,
            options,
            started: now,
            looks: 0,
            last: None,
        };
        (wait, WaitStep::Look)
    }

    /// Continues with what a look returned.
    pub fn on_run(&mut self, run: ReportRun, now: std::time::SystemTime) -> WaitStep {
        self.looks += 1;
        let elapsed = now.duration_since(self.started).unwrap_or_default();
        match self
            .options
            .poll
            .decide(self.looks, &run, elapsed, self.options.timeout)
        {
            PollDecision::Completed => WaitStep::Done(Box::new(Ok(run))),
            PollDecision::Ended(status) => WaitStep::Done(Box::new(Err(crate::Error::RunEnded {
                run_id: self.run_id.clone(),
                status,
            }))),
            PollDecision::PollAfter(delay) => {
                self.last = Some(run.status);
                WaitStep::Sleep(delay)
            }
            PollDecision::DeadlineReached => {
                self.last = Some(run.status);
                if self.options.cancel_on_timeout {
                    WaitStep::Cancel
                } else {
                    WaitStep::Done(Box::new(Err(self.timed_out(false))))
                }
            }
        }
    }

    /// Continues after a cancel: the wait ends either way; a failed cancel is reported as
    /// not cancelled.
    pub fn on_cancelled(&mut self, cancelled: bool) -> WaitStep {
        WaitStep::Done(Box::new(Err(self.timed_out(cancelled))))
    }

    /// The run waited for.
    pub fn run_id(&self) -> &crate::ReportRunId {
        &self.run_id
    }

    fn timed_out(&self, cancelled: bool) -> crate::Error {
        crate::Error::WaitTimedOut {
            run_id: self.run_id.clone(),
            last_status: self.last.clone().unwrap_or(crate::RunStatus::Started),
            cancelled,
        }
    }
}
