//! The protocol between a machine and its driver: what a machine asks the driver to do next
//! ([`TaskStep`]), and what the driver tells it happened ([`ExchangeEvent`]). One protocol for
//! one call ([`Exchange`](crate::machines::Exchange)) and for a whole operation
//! ([`Task`](crate::machines::Task)), so a driver writes one loop.

use std::time::Duration;

use crate::driver::transport::{HttpRequest, HttpResponse, TransportFailure};
use crate::errors::error::Error;
use crate::exports::export_decoder::ExportFormat;
use crate::operations::report_runs::ReportRun;

/// A row of *Report data as JSON*: field id → value.
pub type Row = serde_json::Map<String, serde_json::Value>;

/// What happened since a machine's last step.
#[derive(Debug)]
pub enum ExchangeEvent {
    /// The sleep (or the wait for a token, or the hand-over of rows or a status) it asked
    /// for is over.
    Resumed,
    /// The answer, read whole.
    Answered(HttpResponse),
    /// No complete answer came.
    Failed(TransportFailure),
}

/// What a machine asks its driver to do next; `T` is what it ends with (a task's
/// [`TaskOutput`](crate::machines::TaskOutput), or one operation's output).
#[derive(Debug)]
pub enum TaskStep<T = crate::machines::TaskOutput> {
    /// Send this request; feed the answer (read whole) or the failure. When the task's
    /// [`export_format`](crate::machines::Task::export_format) is `Some` and the answer
    /// streams, convert its body instead and hand the outcome to
    /// [`on_export`](crate::machines::Task::on_export).
    Send(HttpRequest),
    /// Sleep this long, then feed [`ExchangeEvent::Resumed`].
    Sleep(Duration),
    /// Another call is fetching the session's token: wait until
    /// [`Session::tokens_settled`](crate::machines::Session::tokens_settled) moves past
    /// `settled` (the session's waker says when) or `within` has passed, whichever is first,
    /// then feed [`ExchangeEvent::Resumed`].
    AwaitToken {
        /// The settle count seen when told to wait.
        settled: u64,
        /// The longest this call may wait: what is left of its deadline.
        within: Duration,
    },
    /// Take these rows (a page of a run's data), then feed [`ExchangeEvent::Resumed`].
    Rows(Vec<Row>),
    /// A wait saw this status; feed [`ExchangeEvent::Resumed`] to go on, or
    /// [`interrupt`](crate::machines::Task::interrupt) to stop. Only for tasks made to show
    /// statuses.
    Status(Box<ReportRun>),
    /// Over.
    Done(Result<T, Error>),
}

impl<T> TaskStep<T> {
    /// The outcome when the step is [`Done`](Self::Done), else the same step for a machine
    /// that ends with another type (a task passing on its inner call's steps).
    // The `Err` is the step itself, moved straight on to the driver: boxing it would cost an
    // allocation per step for nothing.
    #[allow(clippy::result_large_err)]
    pub fn into_outcome<U>(self) -> Result<Result<T, Error>, TaskStep<U>> {
        Err(match self {
            Self::Done(outcome) => return Ok(outcome),
            Self::Send(request) => TaskStep::Send(request),
            Self::Sleep(delay) => TaskStep::Sleep(delay),
            Self::AwaitToken { settled, within } => TaskStep::AwaitToken { settled, within },
            Self::Rows(rows) => TaskStep::Rows(rows),
            Self::Status(run) => TaskStep::Status(run),
        })
    }

    /// The same step, its outcome (when it is [`Done`](Self::Done)) changed by `change`.
    pub fn map_done<U>(
        self,
        change: impl FnOnce(Result<T, Error>) -> Result<U, Error>,
    ) -> TaskStep<U> {
        match self.into_outcome() {
            Ok(outcome) => TaskStep::Done(change(outcome)),
            Err(step) => step,
        }
    }
}

/// How soon a driver that cannot be woken (the C ABI, the Python package) looks again when
/// told to wait for another call's token fetch.
pub const TOKEN_LOOK_AGAIN: Duration = Duration::from_millis(10);

impl<T> TaskStep<T> {
    /// How long to sleep at a `Sleep`, or at an `AwaitToken` for a driver with no waker
    /// (at most [`TOKEN_LOOK_AGAIN`], never past the call's time); `None` at other steps.
    pub fn pause(&self) -> Option<Duration> {
        match self {
            Self::Sleep(delay) => Some(*delay),
            Self::AwaitToken { within, .. } => Some((*within).min(TOKEN_LOOK_AGAIN)),
            _ => None,
        }
    }
}

/// Where a transport's driver loop stopped: the machine is over, or hands its caller rows, a
/// status, or an export's body (`B`) to stream as `ExportFormat`.
#[derive(Debug)]
pub enum Paused<T, B> {
    /// The machine is over with this.
    Done(T),
    /// A page of rows to hand over; then feed [`ExchangeEvent::Resumed`].
    Rows(Vec<Row>),
    /// A status a wait saw; then resume or interrupt.
    Status(Box<ReportRun>),
    /// An export's `200`: its body streams, converted to this format.
    Export(http::Response<B>, ExportFormat),
}

impl<T, B> Paused<T, B> {
    /// The output of a machine that only ends (no rows, statuses or export on the way).
    ///
    /// # Errors
    ///
    /// [`Error::Misuse`] for any other pause.
    pub fn into_done(self) -> Result<T, Error> {
        match self {
            Self::Done(output) => Ok(output),
            _ => Err(Error::misuse("a task paused where it only ends")),
        }
    }
}
