//! When to look at a run again while waiting for it.

use std::time::{Duration, Instant};

use crate::invalid::{InvalidInput, in_range};
use crate::runs::ReportRun;
use crate::status::RunStatus;

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

impl PollPolicy {
    /// Decides after look number `looks` (1-based) at `run`, `elapsed` into a wait that may
    /// last `deadline`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use zuora_core::{machines::PollDecision, policies::PollPolicy};
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

    /// Cancel the run on the server when giving up (the last [`CANCEL_GRACE`] of the
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

/// A cancel at the wait's deadline (or on an interruption) gets this long: it is best effort,
/// and must not keep a caller past its deadline by more than this.
pub const CANCEL_GRACE: Duration = Duration::from_secs(1);

/// What a transport does next while waiting.
#[derive(Debug)]
pub enum WaitStep {
    /// Look at the run (*Retrieve a report run*, the whole call, retries included, cut to
    /// `budget`) and hand the run to [`Wait::on_run`], or the error to
    /// [`Wait::on_look_failed`].
    Look {
        /// What is left of the wait: the look may not take longer.
        budget: Duration,
    },
    /// Sleep, then call [`Wait::after_sleep`].
    Sleep(Duration),
    /// Cancel the run (within `budget`), then hand the outcome to [`Wait::on_cancelled`].
    Cancel {
        /// The time the cancel may take.
        budget: Duration,
    },
    /// The wait is over (boxed: a run is large next to the other steps).
    Done(Box<Result<ReportRun, crate::Error>>),
}

/// What the caller says after seeing a status: go on, or stop waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitControl {
    /// Keep waiting.
    Continue,
    /// Stop waiting (an interruption), cancelling the run on the server if `cancel`.
    Stop {
        /// Cancel the run before returning [`Error::Interrupted`](crate::Error::Interrupted).
        cancel: bool,
    },
}

/// Why a wait is ending with a cancel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    TimedOut,
    Interrupted,
}

/// Waiting for one run, without IO: the transports look, sleep and cancel as told. Its
/// deadline bounds everything, the looks in flight included.
#[derive(Debug)]
pub struct Wait {
    run_id: crate::ReportRunId,
    options: WaitOptions,
    started: Instant,
    looks: u32,
    last: Option<RunStatus>,
    ending: Option<Ending>,
}

impl Wait {
    /// A wait for `run_id` starting at `now`; the first step is a look.
    pub fn new(run_id: crate::ReportRunId, options: WaitOptions, now: Instant) -> (Self, WaitStep) {
        let wait = Self {
            run_id,
            options,
            started: now,
            looks: 0,
            last: None,
            ending: None,
        };
        let step = wait.look(now);
        (wait, step)
    }

    /// The time for looks and sleeps: the whole timeout, less the cancel's grace when the
    /// run is to be cancelled at the end, so the caller gets its answer within the timeout.
    fn deadline(&self) -> Duration {
        if self.options.cancel_on_timeout {
            self.options.timeout.saturating_sub(CANCEL_GRACE)
        } else {
            self.options.timeout
        }
    }

    fn left(&self, now: Instant) -> Duration {
        self.deadline()
            .saturating_sub(now.saturating_duration_since(self.started))
    }

    fn look(&self, now: Instant) -> WaitStep {
        WaitStep::Look {
            budget: self.left(now).max(Duration::from_millis(1)),
        }
    }

    /// Continues after a [`WaitStep::Sleep`].
    pub fn after_sleep(&mut self, now: Instant) -> WaitStep {
        if self.left(now).is_zero() {
            return self.time_out();
        }
        self.look(now)
    }

    /// Continues with what a look returned and what the caller said on seeing it.
    pub fn on_run(&mut self, run: ReportRun, control: WaitControl, now: Instant) -> WaitStep {
        self.looks = self.looks.saturating_add(1);
        let elapsed = now.saturating_duration_since(self.started);
        let decision = self
            .options
            .poll
            .decide(self.looks, &run, elapsed, self.deadline());
        match decision {
            PollDecision::Completed => return WaitStep::Done(Box::new(Ok(run))),
            PollDecision::Ended(status) => {
                return WaitStep::Done(Box::new(Err(crate::Error::RunEnded {
                    run_id: self.run_id.clone(),
                    status,
                })));
            }
            PollDecision::PollAfter(_) | PollDecision::DeadlineReached => {}
        }
        self.last = Some(run.status);
        if let WaitControl::Stop { cancel } = control {
            return self.interrupt(cancel);
        }
        match decision {
            PollDecision::PollAfter(delay) => WaitStep::Sleep(delay),
            _ => self.time_out(),
        }
    }

    /// Continues after a look failed: past the deadline (a look cut short by it) the wait
    /// timed out; before it, the error ends the wait.
    pub fn on_look_failed(&mut self, error: crate::Error, now: Instant) -> WaitStep {
        if self.left(now).is_zero() {
            return self.time_out();
        }
        WaitStep::Done(Box::new(Err(error)))
    }

    /// Stops the wait at the caller's word, cancelling the run first if `cancel`.
    pub fn interrupt(&mut self, cancel: bool) -> WaitStep {
        self.end(Ending::Interrupted, cancel)
    }

    fn time_out(&mut self) -> WaitStep {
        self.end(Ending::TimedOut, self.options.cancel_on_timeout)
    }

    fn end(&mut self, ending: Ending, cancel: bool) -> WaitStep {
        if cancel {
            self.ending = Some(ending);
            WaitStep::Cancel {
                budget: CANCEL_GRACE,
            }
        } else {
            WaitStep::Done(Box::new(Err(self.ended(ending, false))))
        }
    }

    /// Continues after a cancel: the wait ends either way; a failed cancel is reported as
    /// not cancelled.
    pub fn on_cancelled(&mut self, cancelled: bool) -> WaitStep {
        let ending = self.ending.unwrap_or(Ending::TimedOut);
        WaitStep::Done(Box::new(Err(self.ended(ending, cancelled))))
    }

    /// The run waited for.
    pub fn run_id(&self) -> &crate::ReportRunId {
        &self.run_id
    }

    /// The status seen at the last look, if any.
    pub fn last_status(&self) -> Option<&RunStatus> {
        self.last.as_ref()
    }

    fn ended(&self, ending: Ending, cancelled: bool) -> crate::Error {
        let run_id = self.run_id.clone();
        match ending {
            Ending::TimedOut => crate::Error::WaitTimedOut {
                run_id,
                last_status: self.last.clone().unwrap_or(RunStatus::Started),
                cancelled,
            },
            Ending::Interrupted => crate::Error::Interrupted {
                run_id: Some(run_id),
                cancelled,
            },
        }
    }
}
