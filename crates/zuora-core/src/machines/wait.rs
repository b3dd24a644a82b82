//! Waiting for one run, without IO: looks, pauses between them, the deadline, the cancel.

use std::time::{Duration, Instant};

use crate::operations::report_runs::ReportRun;
use crate::policies::wait_options::{PollDecision, WaitOptions};
use crate::values::status::RunStatus;

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
        if self.options.cancels_on_timeout() {
            self.options.timeout().saturating_sub(CANCEL_GRACE)
        } else {
            self.options.timeout()
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
        let decision =
            self.options
                .poll_policy()
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
        self.end(Ending::TimedOut, self.options.cancels_on_timeout())
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
