//! The protocol between a machine and its driver: what a machine asks the driver to do next
//! ([`TaskStep`]), and what the driver tells it happened ([`ExchangeEvent`]). One protocol for
//! one call ([`Exchange`](crate::machines::Exchange)) and for a whole operation
//! ([`Task`](crate::machines::Task)), so a driver writes one loop.

use std::time::Duration;

use crate::driver::transport::{
    ClassifyTransportError, HttpRequest, HttpResponse, TransportFailure,
};
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

/// What one send produced, as a driver hands it to
/// [`Machine::on_sent`](crate::machines::Machine::on_sent): an answer read whole, or (for an
/// export's `200`, when the [`Action::Send`] asked to stream) the answer with its body
/// unread.
#[derive(Debug)]
pub enum Sent<B> {
    /// The answer, read whole (at most one byte past its cap: [`AnswerBody`](crate::machines::AnswerBody)).
    Answer(HttpResponse),
    /// An export's `200`, its body `B` still to be read.
    Stream(http::Response<B>),
}

impl<B> Sent<B> {
    /// A transport's whole answer, or its classified error as the failure the machine
    /// is fed.
    pub fn whole<E: ClassifyTransportError + std::fmt::Display>(
        answer: Result<HttpResponse, E>,
    ) -> Result<Self, TransportFailure> {
        answer
            .map(Self::Answer)
            .map_err(|error| TransportFailure::from_error(&error))
    }
}

/// What a driver's loop does next: the one IO a machine's step asks for, or the end of the
/// loop. A driver's loop is a `match` over these three IOs, each feeding its outcome back
/// ([`Machine::on_sent`](crate::machines::Machine::on_sent),
/// [`Machine::resume`](crate::machines::Machine::resume)), until [`Stop`](Self::Stop).
#[derive(Debug)]
pub enum Action<T, B> {
    /// Send `request`. With `stream`, an answer whose status is `200` comes back as
    /// [`Sent::Stream`] (its body unread: an export); anything else is read whole.
    Send {
        /// The request, exactly as to be sent.
        request: HttpRequest,
        /// Whether a `200` is an export to stream.
        stream: bool,
    },
    /// Sleep this long.
    Sleep(Duration),
    /// Wait until the session's settle count moves past `settled` (the session's waker
    /// says when), or `within` has passed; a driver with no waker sleeps
    /// [`TaskStep::pause`] instead.
    AwaitToken {
        /// The settle count seen when told to wait.
        settled: u64,
        /// The longest this call may wait.
        within: Duration,
    },
    /// The loop is over: hand this to its caller.
    Stop(Result<Paused<T, B>, Error>),
}
