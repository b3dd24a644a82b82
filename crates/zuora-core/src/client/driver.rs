//! What a driver provides to run the client's jobs: its one loop ([`Driver::call`]), its
//! clock, and the shapes its answers take (a value or a future; an iterator or a stream).

use crate::driver::transport::Now;
use crate::errors::error::Error;
use crate::machines::{
    Download, ExchangeEvent, Machine, Paused, RowSource, Session, Task, TaskStep, WaitControl,
};
use crate::operations::report_runs::ReportRun;

use super::Client;

/// A way to run the core's machines over a transport: `zuora-blocking` (ureq, threads) and
/// `zuora-async` (reqwest, tokio) each implement it once, and [`Client`](super::Client)
/// gives both the same methods.
///
/// A driver's [`call`](Self::call) is one loop: send what the machine asks, sleep when
/// told, wait for another call's token fetch, and feed back what happened. Everything it
/// decides is the machine's.
pub trait Driver: Sized {
    /// What a call gives back: `Result<T, Error>` for a blocking driver, a future of it
    /// for an async one.
    type Call<'a, T: 'a>
    where
        Self: 'a;
    /// The HTTP stack it sends with.
    type Transport;
    /// Where its time and its entropy's seed come from.
    type Platform: Platform;
    /// The rows of a run as this driver hands them out (an iterator, a stream).
    type Rows;

    /// Runs `job` to its end.
    fn call<'a, M, T>(&'a self, job: Job<'a, M, T>) -> Self::Call<'a, T>
    where
        M: Machine + Send + 'a,
        M::Output: Send + 'a,
        T: Send + 'a;

    /// A driver sending with `transport`.
    fn new(transport: Self::Transport) -> Self;

    /// What the session calls with its new settle count each time a token fetch settles:
    /// it wakes this driver's calls parked on [`Action::AwaitToken`](crate::machines::Action).
    fn token_waker(&self) -> impl Fn(u64) + Send + Sync + 'static;

    /// The rows of `rows`, fetched through `client` a page at a time as they are read.
    fn rows(client: Client<Self>, rows: RowSource) -> Self::Rows;
}

/// What a driver takes from the platform it runs on: the time and a seed for the session's
/// entropy (the core reads neither itself). `zuora-os` has the one for the standard
/// library.
pub trait Platform {
    /// The time now: monotonic for deadlines, wall clock for HTTP dates.
    fn now() -> Now;
    /// A seed for the entropy of idempotency keys and jitter: unique, not secret.
    fn seed() -> u64;
}

/// A [`Driver`] that can stream an export's body (its transport can).
pub trait ExportDriver: Driver {
    /// A run's export as a source of converted bytes (a `Read`, a stream of chunks).
    type Export;

    /// Runs `job` (a download task) to its export's body, and hands it over as a source.
    fn open_export<'a>(&'a self, job: Job<'a, Task, ()>) -> Self::Call<'a, Self::Export>;
}

/// An [`ExportDriver`] that can write an export into a `W` (a `Write`, an `AsyncWrite`).
pub trait WriteExport<W: ?Sized>: ExportDriver {
    /// Runs `job` (a download or a trip) to its export's body, writes the body converted
    /// into `out`, tells the task how that went, and ends with the task's outcome.
    fn write_export<'a, T: Send + 'a>(
        &'a self,
        job: Job<'a, Task, T>,
        out: &'a mut W,
    ) -> Self::Call<'a, T>;
}

/// What a status seen during a wait is shown to.
pub type Observer<'a> = Box<dyn FnMut(&ReportRun) -> WaitControl + Send + 'a>;

/// One user-level operation for a driver to run: a machine, its first step, what its
/// output becomes, and who sees the statuses of a wait.
///
/// The driver [`start`](Self::start)s it, runs its own loop over the [`Running`] job (a
/// [`Machine`]) and hands the pause that ends its loop to [`Running::end`] (or, for an
/// export, [`Running::into_export`]).
pub struct Job<'a, M: Machine, T> {
    name: &'static str,
    session: &'a Session,
    /// When the machine was made: its first step was decided then.
    made: Now,
    start: Result<(M, TaskStep<M::Output>), Error>,
    finish: fn(M::Output) -> Result<T, Error>,
    observe: Option<Observer<'a>>,
}

impl<M: Machine, T> std::fmt::Debug for Job<'_, M, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl<'a, M: Machine, T> Job<'a, M, T> {
    /// A job named `name` (for logs) in `session`, that starts as `start` (made at `made`)
    /// says, or fails before sending anything, and whose machine's output `finish` turns
    /// into the caller's.
    pub fn new(
        name: &'static str,
        session: &'a Session,
        made: Now,
        start: Result<(M, TaskStep<M::Output>), Error>,
        finish: fn(M::Output) -> Result<T, Error>,
    ) -> Self {
        Self {
            name,
            session,
            made,
            start,
            finish,
            observe: None,
        }
    }

    /// The same job, showing each status its wait sees to `observe` (the machine must have
    /// been made to show them).
    pub fn observed(mut self, observe: Observer<'a>) -> Self {
        self.observe = Some(observe);
        self
    }

    /// The session it runs in.
    pub fn session(&self) -> &'a Session {
        self.session
    }

    /// The job's name, for logs and spans.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The job running, with its first step; the error when it could not start (bad input:
    /// nothing is sent). The time is the job's own (when its machine was made): a driver
    /// reads no clock to start it.
    #[allow(clippy::type_complexity)] // The pair every machine's start returns.
    pub fn start(self) -> Result<(Running<'a, M, T>, TaskStep<M::Output>), Error> {
        let now = self.made;
        let (machine, step) = self.start?;
        let mut running = Running {
            session: self.session,
            machine,
            finish: self.finish,
            observe: self.observe,
        };
        let step = running.shown(step, now);
        Ok((running, step))
    }
}

/// A [`Job`] under way: its machine, and what ends it. It is the [`Machine`] a driver's
/// loop drives: the statuses a wait shows go to the job's observer on the way.
pub struct Running<'a, M: Machine, T> {
    session: &'a Session,
    machine: M,
    finish: fn(M::Output) -> Result<T, Error>,
    observe: Option<Observer<'a>>,
}

impl<M: Machine, T> std::fmt::Debug for Running<'_, M, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Running").finish_non_exhaustive()
    }
}

impl<'a, M: Machine, T> Running<'a, M, T> {
    /// The session it runs in, for the driver's loop.
    pub fn session(&self) -> &'a Session {
        self.session
    }

    /// `step`, past any statuses the wait shows: each is shown to the observer, whose
    /// answer decides the next step (go on, or stop and perhaps cancel the run); with no
    /// observer, the wait goes on. The driver's loop never sees a status.
    fn shown(&mut self, mut step: TaskStep<M::Output>, now: Now) -> TaskStep<M::Output> {
        let session = self.session;
        while let TaskStep::Status(run) = step {
            let control = match &mut self.observe {
                Some(observe) => observe(&run),
                None => WaitControl::Continue,
            };
            step = match control {
                WaitControl::Continue => self.machine.feed(session, ExchangeEvent::Resumed, now),
                WaitControl::Stop { cancel } => self.machine.interrupt(session, cancel, now),
            };
        }
        step
    }

    /// The export's outcome (written, or failed) told to the task; what it ends with.
    pub fn end_export(&mut self, outcome: Result<crate::ExportSummary, Error>) -> Result<T, Error> {
        match self.machine.on_export(outcome) {
            TaskStep::Done(outcome) => (self.finish)(outcome?),
            _ => Err(Error::misuse("a task went on after its export")),
        }
    }

    /// The pause that ended the driver's loop, which must be an export's `200`: the body
    /// to read and the [`Download`] that converts it.
    ///
    /// # Errors
    ///
    /// The task's error when it ended without its export.
    #[allow(clippy::type_complexity)] // The running job, its converter and its body.
    pub fn into_export<B>(
        self,
        paused: Paused<M::Output, B>,
    ) -> Result<(Self, Download, B), Error> {
        match paused {
            Paused::Export(response, format) => {
                let download = Download::start(&response, format, self.session.config());
                Ok((self, download, response.into_body()))
            }
            paused => {
                self.end(paused)?;
                Err(Error::misuse("a download ended without its export"))
            }
        }
    }

    /// The pause that ended the driver's loop, as the caller's outcome.
    pub fn end<B>(self, paused: Paused<M::Output, B>) -> Result<T, Error> {
        (self.finish)(paused.into_done()?)
    }
}

impl<M: Machine, T> Machine for Running<'_, M, T> {
    type Output = M::Output;

    fn feed(&mut self, session: &Session, event: ExchangeEvent, now: Now) -> TaskStep<M::Output> {
        let step = self.machine.feed(session, event, now);
        self.shown(step, now)
    }

    fn export_format(&self) -> Option<crate::ExportFormat> {
        self.machine.export_format()
    }

    fn on_export(&mut self, outcome: Result<crate::ExportSummary, Error>) -> TaskStep<M::Output> {
        self.machine.on_export(outcome)
    }

    fn interrupt(&mut self, session: &Session, cancel: bool, now: Now) -> TaskStep<M::Output> {
        let step = self.machine.interrupt(session, cancel, now);
        self.shown(step, now)
    }
}
