//! Every user-level operation as one machine: a [`Task`]. A driver asks it for the next
//! [`TaskStep`] (send this request, sleep this long, take these rows, see this status, done
//! with this outcome), feeds it what happened ([`ExchangeEvent`]) with the time, and may
//! [`interrupt`](Task::interrupt) it. The composition of the single-call machines (search over
//! every page, find by exact name, rows page by page, wait with its looks, sleeps and cancel,
//! download, the whole trip) is written here once, for every driver.
//!
//! What a driver still does is IO: send the request, sleep, and for an export's `200` stream
//! the body through [`Download`](crate::machines::Download) when
//! [`Task::export_format`] says so, then hand the summary back with
//! [`Task::on_export`]. Time comes in as an argument: a task never reads a clock.

use std::time::Duration;

use crate::RunReportOptions;
use crate::driver::transport::Now;
use crate::driver::transport::TransportFailure;
use crate::errors::error::Error;
use crate::exports::export_decoder::ExportFormat;
use crate::exports::export_summary::ExportSummary;
use crate::machines::session::{Exchange, Session};
use crate::machines::steps::{Action, ExchangeEvent, Paused, Sent, TaskStep};
use crate::machines::{
    AnswerBody, DataPages, Download, ExportHead, SearchAll, Wait, WaitControl, WaitStep,
};
use crate::operations::export_run::ExportReportRun;
use crate::operations::operation::Operation;
use crate::operations::report_runs::ReportRun;
use crate::operations::{
    CancelReportRun, DataPage, GetReportRun, ReportDataPage, ReportRunStarted, ReportSummary,
    SearchPage, SearchReports,
};
use crate::policies::WaitOptions;
use crate::values::ids::{ReportId, ReportRunId, ViewType};
use crate::values::report_ref::ReportRef;

/// What a finished task produced.
#[derive(Debug)]
#[non_exhaustive]
pub enum TaskOutput {
    /// The credentials work; the token lives this long.
    Token {
        /// The token's lifetime as Zuora gave it.
        expires_in: Duration,
    },
    /// *Run a report* accepted the run.
    Started(ReportRunStarted),
    /// A run (retrieved, the latest, or waited for).
    Run(ReportRun),
    /// *Cancel a report run*'s message.
    Message(String),
    /// Every report a search found.
    Reports(Vec<ReportSummary>),
    /// The one report named exactly so.
    Report(ReportSummary),
    /// A report given by its id (nothing was sent).
    ReportId(ReportId),
    /// Every page of a run's data was handed over: this many rows in all.
    Rows(u64),
    /// An export was downloaded and converted.
    Export(ExportSummary),
    /// The whole trip: the completed run and its download.
    Trip(Box<ReportRun>, ExportSummary),
}

impl TaskOutput {
    fn kind(&self) -> &'static str {
        match self {
            Self::Token { .. } => "a token's lifetime",
            Self::Started(_) => "a started run",
            Self::Run(_) => "a run",
            Self::Message(_) => "a message",
            Self::Reports(_) => "reports",
            Self::Report(_) => "a report",
            Self::ReportId(_) => "a report id",
            Self::Rows(_) => "a row count",
            Self::Export(_) => "an export's summary",
            Self::Trip(..) => "a trip's run and summary",
        }
    }

    /// What a driver says when a task ends with another output than its kind of task gives:
    /// a bug, never something a server can cause.
    fn mismatch(self, expected: &str) -> Error {
        Error::misuse(&format!(
            "a task ended with {} where {expected} was due",
            self.kind()
        ))
    }

    /// *Run a report*'s answer.
    pub fn into_started(self) -> Result<ReportRunStarted, Error> {
        match self {
            Self::Started(started) => Ok(started),
            other => Err(other.mismatch("a started run")),
        }
    }

    /// A run (retrieved, the latest, or waited for).
    pub fn into_run(self) -> Result<ReportRun, Error> {
        match self {
            Self::Run(run) => Ok(run),
            other => Err(other.mismatch("a run")),
        }
    }

    /// *Cancel a report run*'s message.
    pub fn into_message(self) -> Result<String, Error> {
        match self {
            Self::Message(message) => Ok(message),
            other => Err(other.mismatch("a message")),
        }
    }

    /// Every report a search found.
    pub fn into_reports(self) -> Result<Vec<ReportSummary>, Error> {
        match self {
            Self::Reports(reports) => Ok(reports),
            other => Err(other.mismatch("reports")),
        }
    }

    /// The one report a name stands for.
    pub fn into_report(self) -> Result<ReportSummary, Error> {
        match self {
            Self::Report(report) => Ok(report),
            other => Err(other.mismatch("a report")),
        }
    }

    /// A download's summary.
    pub fn into_export(self) -> Result<ExportSummary, Error> {
        match self {
            Self::Export(summary) => Ok(summary),
            other => Err(other.mismatch("an export's summary")),
        }
    }

    /// A trip's run and download.
    pub fn into_trip(self) -> Result<(ReportRun, ExportSummary), Error> {
        match self {
            Self::Trip(run, summary) => Ok((*run, summary)),
            other => Err(other.mismatch("a trip's run and summary")),
        }
    }
}

/// What a driver's loop drives: a [`Task`], or one operation's [`Exchange`] (a transport's
/// `execute`). One loop serves both.
pub trait Machine {
    /// What it ends with.
    type Output;
    /// Continues with what happened, at `now`.
    fn feed(&mut self, session: &Session, event: ExchangeEvent, now: Now)
    -> TaskStep<Self::Output>;
    /// The format the request in flight converts to when its answer streams (an export);
    /// `None` for every other request.
    fn export_format(&self) -> Option<ExportFormat>;
    /// The streamed export's outcome (see [`Task::on_export`]).
    fn on_export(&mut self, outcome: Result<ExportSummary, Error>) -> TaskStep<Self::Output>;
    /// The caller stops the machine at `now` (see [`Task::interrupt`]).
    fn interrupt(&mut self, session: &Session, cancel: bool, now: Now) -> TaskStep<Self::Output>;

    /// What a driver's loop does for `step`: a send (streaming when the request is an
    /// export's), a sleep, a wait for a token, or the end of the loop (rows, a status or the
    /// outcome to hand over).
    fn act<B>(&self, step: TaskStep<Self::Output>) -> Action<Self::Output, B> {
        match step {
            TaskStep::Send(request) => Action::Send {
                request,
                stream: self.export_format().is_some(),
            },
            TaskStep::Sleep(delay) => Action::Sleep(delay),
            TaskStep::AwaitToken { settled, within } => Action::AwaitToken { settled, within },
            TaskStep::Rows(rows) => Action::Stop(Ok(Paused::Rows(rows))),
            TaskStep::Status(run) => Action::Stop(Ok(Paused::Status(run))),
            TaskStep::Done(outcome) => Action::Stop(outcome.map(Paused::Done)),
        }
    }

    /// What the send of an [`Action::Send`] produced, at `now`: fed to the machine (an
    /// answer, a failure), or the end of the loop with an export's body to stream.
    fn on_sent<B>(
        &mut self,
        session: &Session,
        sent: Result<Sent<B>, TransportFailure>,
        now: Now,
    ) -> Action<Self::Output, B> {
        let event = match sent {
            Ok(Sent::Answer(answer)) => ExchangeEvent::Answered(answer),
            Err(failure) => ExchangeEvent::Failed(failure),
            Ok(Sent::Stream(response)) => {
                return Action::Stop(match self.export_format() {
                    Some(format) => Ok(Paused::Export(response, format)),
                    None => Err(Error::misuse("a stream no export asked for")),
                });
            }
        };
        let step = self.feed(session, event, now);
        self.act(step)
    }

    /// The sleep or the wait an [`Action`] asked for is over, at `now`.
    fn resume<B>(&mut self, session: &Session, now: Now) -> Action<Self::Output, B> {
        let step = self.feed(session, ExchangeEvent::Resumed, now);
        self.act(step)
    }
}

/// A machine lent to a driver's loop is driven as itself: a loop that owns what it drives
/// (and gives it back at the end) serves a borrowed machine too.
impl<M: Machine + ?Sized> Machine for &mut M {
    type Output = M::Output;
    fn feed(&mut self, session: &Session, event: ExchangeEvent, now: Now) -> TaskStep<M::Output> {
        (**self).feed(session, event, now)
    }
    fn export_format(&self) -> Option<ExportFormat> {
        (**self).export_format()
    }
    fn on_export(&mut self, outcome: Result<ExportSummary, Error>) -> TaskStep<M::Output> {
        (**self).on_export(outcome)
    }
    fn interrupt(&mut self, session: &Session, cancel: bool, now: Now) -> TaskStep<M::Output> {
        (**self).interrupt(session, cancel, now)
    }
    fn act<B>(&self, step: TaskStep<M::Output>) -> Action<M::Output, B> {
        (**self).act(step)
    }
    fn on_sent<B>(
        &mut self,
        session: &Session,
        sent: Result<Sent<B>, TransportFailure>,
        now: Now,
    ) -> Action<M::Output, B> {
        (**self).on_sent(session, sent, now)
    }
    fn resume<B>(&mut self, session: &Session, now: Now) -> Action<M::Output, B> {
        (**self).resume(session, now)
    }
}

impl Machine for Task {
    type Output = TaskOutput;
    fn feed(&mut self, session: &Session, event: ExchangeEvent, now: Now) -> TaskStep {
        Task::feed(self, session, event, now)
    }
    fn export_format(&self) -> Option<ExportFormat> {
        Task::export_format(self)
    }
    fn on_export(&mut self, outcome: Result<ExportSummary, Error>) -> TaskStep {
        Task::on_export(self, outcome)
    }
    fn interrupt(&mut self, session: &Session, cancel: bool, now: Now) -> TaskStep {
        Task::interrupt(self, session, cancel, now)
    }
}

impl<O: Operation> Machine for Exchange<O> {
    type Output = O::Output;
    fn feed(&mut self, session: &Session, event: ExchangeEvent, now: Now) -> TaskStep<O::Output> {
        Exchange::feed(self, session, event, now)
    }
    fn export_format(&self) -> Option<ExportFormat> {
        None
    }
    fn on_export(&mut self, _outcome: Result<ExportSummary, Error>) -> TaskStep<O::Output> {
        TaskStep::Done(Err(Error::misuse(
            "an export's outcome for a call that streams none",
        )))
    }
    fn interrupt(&mut self, _session: &Session, _cancel: bool, _now: Now) -> TaskStep<O::Output> {
        TaskStep::Done(Err(Error::Interrupted {
            run_id: None,
            cancelled: false,
        }))
    }
}

/// One user-level operation from start to end.
pub struct Task {
    phase: Phase,
    /// The answer being received, for a driver that hands it over in parts
    /// ([`on_head`](Task::on_head), [`on_body`](Task::on_body), …).
    receiving: Receiving,
}

/// The answer to the request in flight, as a driver hands it over in parts.
enum Receiving {
    /// No head yet.
    Nothing,
    /// Read whole, up to one byte past the cap (so the core reports "too large" for what
    /// is), then handed to the call.
    Whole {
        head: http::response::Parts,
        body: AnswerBody,
    },
    /// An export's `200`, converted as it streams.
    Stream(Box<Download>),
}

/// What the driver does with an answer's head (see [`Task::on_head`]).
#[derive(Debug)]
pub enum Receive {
    /// Read the body, handing each chunk to [`Task::on_body`], its end to
    /// [`Task::on_body_end`]; the converted export comes back from those calls when it streams.
    Body,
    /// The head was not HTTP: the task took it as a broken connection and moved on.
    Next(Box<TaskStep>),
}

/// How a body is going (see [`Task::on_body`]).
#[derive(Debug)]
pub enum BodyProgress {
    /// Go on reading.
    More,
    /// `out` holds a full batch and part of the chunk waits (a gzip export expanding): write
    /// `out`, then call [`Task::on_body`] with an empty chunk, until it says something else.
    /// Memory stays bounded whatever the export expands to.
    Drain,
    /// Enough was read (a failed answer past its cap): stop reading and call
    /// [`Task::on_body_end`].
    Full,
    /// The export could not be converted: the task is over with this step.
    Over(Box<TaskStep>),
}

impl std::fmt::Debug for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Task").finish_non_exhaustive()
    }
}

/// A call whose output becomes the task's.
trait Single: Send + Sync {
    fn feed(&mut self, session: &Session, event: ExchangeEvent, now: Now) -> TaskStep;
}

struct OneCall<O: Operation> {
    exchange: Exchange<O>,
    wrap: fn(O::Output) -> TaskOutput,
}

impl<O: Operation + Send + Sync> Single for OneCall<O>
where
    O::Output: Send + Sync,
{
    fn feed(&mut self, session: &Session, event: ExchangeEvent, now: Now) -> TaskStep {
        one(self.exchange.feed(session, event, now), self.wrap)
    }
}

fn one<T>(step: TaskStep<T>, wrap: impl FnOnce(T) -> TaskOutput) -> TaskStep {
    step.map_done(|outcome| outcome.map(wrap))
}

/// What comes after a search ends.
#[derive(Clone)]
enum Then {
    /// Hand over every report.
    All,
    /// The one report named exactly so.
    Exactly(String),
    /// Run the one report named exactly so, then the rest of a trip.
    Trip(String, Box<TripPlan>),
}

/// What a trip does once it knows its report.
#[derive(Clone)]
struct TripPlan {
    view_type: ViewType,
    options: RunReportOptions,
    key: [u8; 16],
    wait: WaitOptions,
    format: ExportFormat,
    observe: bool,
}

/// The call a wait has in flight.
enum Probe {
    Look(Exchange<GetReportRun>),
    Cancel(Exchange<CancelReportRun>),
    /// A status shown to the driver, waiting for its word.
    Shown(Box<ReportRun>),
    /// Sleeping.
    None,
}

enum Phase {
    Single(Box<dyn Single>),
    Search {
        all: SearchAll,
        page: Exchange<SearchReports>,
        then: Then,
    },
    Rows {
        pages: DataPages,
        /// The page being fetched; `None` while the driver takes a page's rows.
        page: Option<Exchange<ReportDataPage>>,
        rows: u64,
    },
    /// A trip's *Run a report*.
    Run {
        exchange: Exchange<crate::operations::RunReport>,
        plan: Box<TripPlan>,
    },
    Wait {
        wait: Wait,
        probe: Probe,
        observe: bool,
        /// The rest of a trip, when the wait is part of one.
        then_download: Option<ExportFormat>,
    },
    Download {
        exchange: Exchange<ExportReportRun>,
        format: ExportFormat,
        /// The run waited for, when the download ends a trip.
        run: Option<Box<ReportRun>>,
    },
    Done,
}

impl Task {
    fn begin(phase: Phase) -> Self {
        Self {
            phase,
            receiving: Receiving::Nothing,
        }
    }

    fn single<O>(
        session: &Session,
        operation: O,
        wrap: fn(O::Output) -> TaskOutput,
        now: Now,
    ) -> (Self, TaskStep)
    where
        O: Operation + Send + Sync + 'static,
        O::Output: Send + Sync,
    {
        let (exchange, step) = Exchange::start(session, session.call(operation, now), now);
        let step = one(step, wrap);
        (
            Self::begin(Phase::Single(Box::new(OneCall { exchange, wrap }))),
            step,
        )
    }

    /// Checks the credentials: fetches a token (never cached from before) and reports how long
    /// it lives.
    pub fn check_credentials(session: &Session, now: Now) -> (Self, TaskStep) {
        let operation = session.config().token_request();
        Self::single(
            session,
            operation,
            |token| TaskOutput::Token {
                expires_in: token.expires_in,
            },
            now,
        )
    }

    /// *Run a report*; the idempotency key (given in `options`, or made from the session's
    /// entropy) is sent with every attempt.
    pub fn run_report(
        session: &Session,
        report_id: &ReportId,
        view_type: ViewType,
        options: RunReportOptions,
        now: Now,
    ) -> (Self, TaskStep) {
        let operation = session.config().run_report(
            report_id,
            view_type,
            options,
            session.entropy().key_bytes(),
        );
        Self::single(session, operation, TaskOutput::Started, now)
    }

    /// *Retrieve a report run*.
    pub fn get_run(session: &Session, run_id: &ReportRunId, now: Now) -> (Self, TaskStep) {
        let operation = session.config().get_run(run_id);
        Self::single(session, operation, TaskOutput::Run, now)
    }

    /// The caller's last completed run of a report.
    pub fn latest_run(session: &Session, report_id: &ReportId, now: Now) -> (Self, TaskStep) {
        let operation = session.config().latest_run(report_id);
        Self::single(session, operation, TaskOutput::Run, now)
    }

    /// *Cancel a report run*.
    pub fn cancel_run(session: &Session, run_id: &ReportRunId, now: Now) -> (Self, TaskStep) {
        let operation = session.config().cancel_run(run_id);
        Self::single(session, operation, TaskOutput::Message, now)
    }

    /// Every report matching `query`, over every page, with the paging stop rules. A query
    /// that breaks a rule is an error before the task exists.
    pub fn search(session: &Session, query: &str, now: Now) -> Result<(Self, TaskStep), Error> {
        Self::searching(session, query, Then::All, now)
    }

    /// The report `report` stands for: its id as is (nothing is sent), or the one report named
    /// exactly so (a search; none or several is an error).
    pub fn find_report(
        session: &Session,
        report: &ReportRef,
        now: Now,
    ) -> Result<(Self, TaskStep), Error> {
        match report {
            ReportRef::Id(id) => Ok((
                Self::begin(Phase::Done),
                TaskStep::Done(Ok(TaskOutput::ReportId(id.clone()))),
            )),
            ReportRef::Name(name) => Self::searching(
                session,
                name.as_str(),
                Then::Exactly(name.as_str().to_owned()),
                now,
            ),
        }
    }

    fn searching(
        session: &Session,
        query: &str,
        then: Then,
        now: Now,
    ) -> Result<(Self, TaskStep), Error> {
        let all = SearchAll::of_query(session.config(), query, now.instant)?;
        let first = all
            .next_page()
            .cloned()
            .ok_or_else(|| Error::misuse("a search with no first page"))?;
        let (page, step) = Exchange::start(session, session.call(first, now), now);
        let mut task = Self::begin(Phase::Search { all, page, then });
        let step = task.on_search(session, step, now);
        Ok((task, step))
    }

    /// Every row of a completed run, `page_size` rows per [`TaskStep::Rows`].
    pub fn rows(
        session: &Session,
        run_id: &ReportRunId,
        page_size: u64,
        now: Now,
    ) -> (Self, TaskStep) {
        let pages = DataPages::of_run(session.config(), run_id, page_size, now.instant);
        let mut task = Self::begin(Phase::Rows {
            pages,
            page: None,
            rows: 0,
        });
        let step = task.next_rows(session, now);
        (task, step)
    }

    /// A wait for a run to complete; with `observe`, each status seen is a
    /// [`TaskStep::Status`].
    pub fn wait(
        session: &Session,
        run_id: &ReportRunId,
        options: WaitOptions,
        observe: bool,
        now: Now,
    ) -> (Self, TaskStep) {
        Self::waiting(session, run_id.clone(), options, observe, None, now)
    }

    fn waiting(
        session: &Session,
        run_id: ReportRunId,
        options: WaitOptions,
        observe: bool,
        then_download: Option<ExportFormat>,
        now: Now,
    ) -> (Self, TaskStep) {
        let (wait, first) = Wait::new(run_id, options, now.instant);
        let mut task = Self::begin(Phase::Wait {
            wait,
            probe: Probe::None,
            observe,
            then_download,
        });
        let step = task.wait_step(session, first, now);
        (task, step)
    }

    /// Downloads a completed run's export converted to `format`.
    pub fn download(
        session: &Session,
        run_id: &ReportRunId,
        format: ExportFormat,
        now: Now,
    ) -> (Self, TaskStep) {
        Self::downloading(session, run_id, format, None, now)
    }

    fn downloading(
        session: &Session,
        run_id: &ReportRunId,
        format: ExportFormat,
        run: Option<Box<ReportRun>>,
        now: Now,
    ) -> (Self, TaskStep) {
        let operation = session.config().export_run(run_id);
        let (exchange, step) = Exchange::start(session, session.call(operation, now), now);
        let step = one(step, |never| match never {});
        let task = Self::begin(Phase::Download {
            exchange,
            format,
            run,
        });
        (task, step)
    }

    /// The whole trip: resolve `report` (by id, or by exact name through search), run it,
    /// wait for it, download its export as `format`. A name that breaks the search's rules
    /// is an error before the task exists.
    #[allow(clippy::too_many_arguments)] // The trip's own parts, each a choice of the caller.
    pub fn trip(
        session: &Session,
        report: &ReportRef,
        view_type: ViewType,
        options: RunReportOptions,
        wait: WaitOptions,
        format: ExportFormat,
        observe: bool,
        now: Now,
    ) -> Result<(Self, TaskStep), Error> {
        let plan = Box::new(TripPlan {
            view_type,
            options,
            key: session.entropy().key_bytes(),
            wait,
            format,
            observe,
        });
        match report {
            ReportRef::Id(id) => Ok(Self::trip_run(session, id, plan, now)),
            ReportRef::Name(name) => Self::searching(
                session,
                name.as_str(),
                Then::Trip(name.as_str().to_owned(), plan),
                now,
            ),
        }
    }

    fn trip_run(
        session: &Session,
        report_id: &ReportId,
        plan: Box<TripPlan>,
        now: Now,
    ) -> (Self, TaskStep) {
        let operation =
            session
                .config()
                .run_report(report_id, plan.view_type, plan.options.clone(), plan.key);
        let (exchange, step) = Exchange::start(session, session.call(operation, now), now);
        let mut task = Self::begin(Phase::Run { exchange, plan });
        let step = task.on_run_started(session, step, now);
        (task, step)
    }

    /// The format to convert to when the request in flight is an export's (whose `200`
    /// answer streams instead of being read whole); `None` for every other request.
    pub fn export_format(&self) -> Option<ExportFormat> {
        match &self.phase {
            Phase::Download {
                exchange, format, ..
            } if !exchange.fetching_token() => Some(*format),
            _ => None,
        }
    }

    /// Continues with what happened, at `now`.
    pub fn feed(&mut self, session: &Session, event: ExchangeEvent, now: Now) -> TaskStep {
        match &mut self.phase {
            Phase::Single(single) => single.feed(session, event, now),
            Phase::Search { page, .. } => {
                let step = page.feed(session, event, now);
                self.on_search(session, step, now)
            }
            Phase::Rows { page, .. } => match (page.as_mut(), event) {
                (Some(exchange), event) => {
                    let step = exchange.feed(session, event, now);
                    self.on_rows(step, now)
                }
                (None, ExchangeEvent::Resumed) => self.next_rows(session, now),
                (None, _) => self.misuse("an answer while no page was asked for"),
            },
            Phase::Run { exchange, .. } => {
                let step = exchange.feed(session, event, now);
                self.on_run_started(session, step, now)
            }
            Phase::Wait { probe, wait, .. } => match (probe, event) {
                (Probe::Look(look), event) => {
                    let step = look.feed(session, event, now);
                    self.on_look(session, step, now)
                }
                (Probe::Cancel(cancel), event) => {
                    let step = cancel.feed(session, event, now);
                    self.on_cancel(session, step, now)
                }
                (Probe::Shown(_), ExchangeEvent::Resumed) => {
                    let step = self.after_shown(WaitControl::Continue, now);
                    self.wait_step(session, step, now)
                }
                (Probe::None, ExchangeEvent::Resumed) => {
                    let step = wait.after_sleep(now.instant);
                    self.wait_step(session, step, now)
                }
                _ => self.misuse("an answer while the wait asked for none"),
            },
            Phase::Download { exchange, .. } => {
                one(exchange.feed(session, event, now), |never| match never {})
            }
            Phase::Done => self.misuse("a finished task was fed"),
        }
    }

    /// The head of the answer to the request in flight, for a driver that hands answers over
    /// in parts (the C ABI, the Python package): an export's `200` streams through the task's
    /// converter, any other answer is read whole up to the configured cap.
    pub fn on_head<N: AsRef<[u8]>, V: AsRef<[u8]>>(
        &mut self,
        session: &Session,
        status: u16,
        headers: impl IntoIterator<Item = (N, V)>,
        now: Now,
    ) -> Receive {
        let head = match crate::driver::answer_from_parts(status, headers, ()) {
            Ok(head) => head,
            Err(failure) => {
                self.receiving = Receiving::Nothing;
                return Receive::Next(Box::new(self.feed(
                    session,
                    ExchangeEvent::Failed(failure),
                    now,
                )));
            }
        };
        let config = session.config();
        self.receiving = match (self.export_format(), ExportHead::of(head.status(), config)) {
            (Some(format), ExportHead::Stream) => {
                Receiving::Stream(Box::new(Download::start(&head, format, config)))
            }
            (_, ExportHead::ReadWhole { max_bytes }) => Receiving::Whole {
                head: head.into_parts().0,
                body: AnswerBody::new(max_bytes),
            },
            (None, ExportHead::Stream) => Receiving::Whole {
                head: head.into_parts().0,
                body: AnswerBody::new(config.limits().max_decoded_bytes() as u64),
            },
        };
        Receive::Body
    }

    /// Whether the answer in flight streams (an export being converted).
    pub fn streaming(&self) -> bool {
        matches!(self.receiving, Receiving::Stream(_))
    }

    /// A chunk of the body, received at `now`: kept (a whole answer, up to its cap) or
    /// converted into `out` (an export, which the low-speed rule may end).
    pub fn on_body(&mut self, chunk: &[u8], out: &mut Vec<u8>, now: Now) -> BodyProgress {
        match &mut self.receiving {
            Receiving::Nothing => {
                BodyProgress::Over(Box::new(self.misuse("a body before its head")))
            }
            Receiving::Whole { body, .. } => {
                if body.push(chunk) {
                    BodyProgress::Full
                } else {
                    BodyProgress::More
                }
            }
            Receiving::Stream(download) => match download.on_chunk(chunk, out, now.instant) {
                Ok(()) if download.pending() => BodyProgress::Drain,
                Ok(()) => BodyProgress::More,
                Err(error) => {
                    self.receiving = Receiving::Nothing;
                    BodyProgress::Over(Box::new(self.on_export(Err(error))))
                }
            },
        }
    }

    /// The body ended cleanly (or was read to its cap): a whole answer goes to the call, an
    /// export's last converted bytes into `out`; the task moves on.
    pub fn on_body_end(&mut self, session: &Session, out: &mut Vec<u8>, now: Now) -> TaskStep {
        match std::mem::replace(&mut self.receiving, Receiving::Nothing) {
            Receiving::Nothing => self.misuse("a body's end before its head"),
            Receiving::Whole { head, body } => {
                let answer = http::Response::from_parts(head, body.into_bytes());
                self.feed(session, ExchangeEvent::Answered(answer), now)
            }
            Receiving::Stream(mut download) => {
                let outcome = download.finish(out);
                self.on_export(outcome)
            }
        }
    }

    /// No complete answer came (before its head, or while its body was read): an export that
    /// broke off mid-body ends the task with the export's error (a timeout there is a
    /// stall); anything else is the call's transport failure, which it may retry.
    pub fn on_transport_failure(
        &mut self,
        session: &Session,
        failure: crate::driver::TransportFailure,
        now: Now,
    ) -> TaskStep {
        match std::mem::replace(&mut self.receiving, Receiving::Nothing) {
            Receiving::Stream(download) => {
                let stalled = failure.kind == crate::driver::TransportErrorKind::Timeout;
                self.on_export(Err(download.broken(&failure.message, stalled)))
            }
            _ => self.feed(session, ExchangeEvent::Failed(failure), now),
        }
    }

    /// The driver streamed the export and converted it: `outcome` is the summary, or why it
    /// failed. Ends the task (a trip with its run and summary).
    pub fn on_export(&mut self, outcome: Result<ExportSummary, Error>) -> TaskStep {
        match std::mem::replace(&mut self.phase, Phase::Done) {
            Phase::Download { run, .. } => TaskStep::Done(outcome.map(|summary| match run {
                Some(run) => TaskOutput::Trip(run, summary),
                None => TaskOutput::Export(summary),
            })),
            _ => self.misuse("an export's outcome while none was downloading"),
        }
    }

    /// The caller stops the task at `now` (`cancel`: a wait cancels its run on the server
    /// first).
    pub fn interrupt(&mut self, session: &Session, cancel: bool, now: Now) -> TaskStep {
        if let Phase::Wait {
            wait,
            probe,
            then_download,
            ..
        } = &mut self.phase
        {
            // Stopped: a trip does not go on to its download.
            *then_download = None;
            let step = match probe {
                // The status shown is the wait's last look: it decides with the stop.
                Probe::Shown(_) => self.after_shown(WaitControl::Stop { cancel }, now),
                _ => wait.interrupt(cancel),
            };
            return self.wait_step(session, step, now);
        }
        self.phase = Phase::Done;
        TaskStep::Done(Err(Error::Interrupted {
            run_id: None,
            cancelled: false,
        }))
    }

    fn misuse(&mut self, what: &str) -> TaskStep {
        self.phase = Phase::Done;
        TaskStep::Done(Err(Error::misuse(what)))
    }

    fn on_search(&mut self, session: &Session, step: TaskStep<SearchPage>, now: Now) -> TaskStep {
        let Phase::Search { all, page, then } = &mut self.phase else {
            return self.misuse("a search page while not searching");
        };
        let answer = match step.into_outcome() {
            Err(pending) => return pending,
            Ok(Err(error)) => {
                self.phase = Phase::Done;
                return TaskStep::Done(Err(error));
            }
            Ok(Ok(answer)) => answer,
        };
        if let Err(error) = all.on_page(answer, now.instant) {
            self.phase = Phase::Done;
            return TaskStep::Done(Err(error));
        }
        if let Some(next) = all.next_page().cloned() {
            let (exchange, step) = Exchange::start(session, session.call(next, now), now);
            *page = exchange;
            return self.on_search(session, step, now);
        }
        let then = then.clone();
        let Phase::Search { all, .. } = std::mem::replace(&mut self.phase, Phase::Done) else {
            return self.misuse("a search ended twice");
        };
        let reports = all.into_reports();
        let exactly = |name: &str| crate::operations::resolve_report_name(name, &reports).cloned();
        match then {
            Then::All => TaskStep::Done(Ok(TaskOutput::Reports(reports))),
            Then::Exactly(name) => TaskStep::Done(exactly(&name).map(TaskOutput::Report)),
            Then::Trip(name, plan) => match exactly(&name) {
                Ok(report) => {
                    let (task, step) = Self::trip_run(session, &report.id, plan, now);
                    *self = task;
                    step
                }
                Err(error) => TaskStep::Done(Err(error)),
            },
        }
    }

    fn next_rows(&mut self, session: &Session, now: Now) -> TaskStep {
        let Phase::Rows { pages, page, rows } = &mut self.phase else {
            return self.misuse("rows asked for while not reading rows");
        };
        let Some(next) = pages.next_page().cloned() else {
            let rows = *rows;
            self.phase = Phase::Done;
            return TaskStep::Done(Ok(TaskOutput::Rows(rows)));
        };
        let (exchange, step) = Exchange::start(session, session.call(next, now), now);
        *page = Some(exchange);
        self.on_rows(step, now)
    }

    fn on_rows(&mut self, step: TaskStep<DataPage>, now: Now) -> TaskStep {
        let Phase::Rows { pages, page, rows } = &mut self.phase else {
            return self.misuse("a data page while not reading rows");
        };
        let answer = match step.into_outcome() {
            Err(pending) => return pending,
            Ok(Err(error)) => {
                self.phase = Phase::Done;
                return TaskStep::Done(Err(error));
            }
            Ok(Ok(answer)) => answer,
        };
        *page = None;
        match pages.on_page(answer, now.instant) {
            Ok(taken) => {
                *rows = rows.saturating_add(taken.len() as u64);
                TaskStep::Rows(taken)
            }
            Err(error) => {
                self.phase = Phase::Done;
                TaskStep::Done(Err(error))
            }
        }
    }

    fn on_run_started(
        &mut self,
        session: &Session,
        step: TaskStep<ReportRunStarted>,
        now: Now,
    ) -> TaskStep {
        let started = match step.into_outcome() {
            Err(pending) => return pending,
            Ok(Err(error)) => {
                self.phase = Phase::Done;
                return TaskStep::Done(Err(error));
            }
            Ok(Ok(started)) => started,
        };
        let Phase::Run { plan, .. } = std::mem::replace(&mut self.phase, Phase::Done) else {
            return self.misuse("a run started while none was asked for");
        };
        let (task, step) = Self::waiting(
            session,
            started.report_run_id,
            plan.wait,
            plan.observe,
            Some(plan.format),
            now,
        );
        *self = task;
        step
    }

    fn wait_step(&mut self, session: &Session, step: WaitStep, now: Now) -> TaskStep {
        let Phase::Wait {
            wait,
            probe,
            then_download,
            ..
        } = &mut self.phase
        else {
            return self.misuse("a wait's step while not waiting");
        };
        *probe = Probe::None;
        match step {
            WaitStep::Look { budget } => {
                let operation = session.config().get_run(wait.run_id());
                let call = session.call(operation, now).within(budget);
                let (look, step) = Exchange::start(session, call, now);
                *probe = Probe::Look(look);
                self.on_look(session, step, now)
            }
            WaitStep::Cancel { budget } => {
                let operation = session.config().cancel_run(wait.run_id());
                let call = session.call(operation, now).within(budget);
                let (cancel, step) = Exchange::start(session, call, now);
                *probe = Probe::Cancel(cancel);
                self.on_cancel(session, step, now)
            }
            WaitStep::Sleep(delay) => TaskStep::Sleep(delay),
            WaitStep::Done(outcome) => match (*outcome, *then_download) {
                (Ok(run), Some(format)) => {
                    let run_id = run.id.clone();
                    let (task, step) =
                        Self::downloading(session, &run_id, format, Some(Box::new(run)), now);
                    *self = task;
                    step
                }
                (outcome, _) => {
                    self.phase = Phase::Done;
                    TaskStep::Done(outcome.map(TaskOutput::Run))
                }
            },
        }
    }

    fn on_look(&mut self, session: &Session, step: TaskStep<ReportRun>, now: Now) -> TaskStep {
        let Phase::Wait {
            wait,
            probe,
            observe,
            ..
        } = &mut self.phase
        else {
            return self.misuse("a look while not waiting");
        };
        let next = match step.into_outcome() {
            Err(pending) => return pending,
            Ok(Ok(run)) if *observe => {
                *probe = Probe::Shown(Box::new(run.clone()));
                return TaskStep::Status(Box::new(run));
            }
            Ok(Ok(run)) => wait.on_run(run, WaitControl::Continue, now.instant),
            Ok(Err(error)) => wait.on_look_failed(error, now.instant),
        };
        self.wait_step(session, next, now)
    }

    /// The driver's word on a status it was shown.
    fn after_shown(&mut self, control: WaitControl, now: Now) -> WaitStep {
        let Phase::Wait { wait, probe, .. } = &mut self.phase else {
            return WaitStep::Done(Box::new(Err(Error::misuse("not waiting"))));
        };
        match std::mem::replace(probe, Probe::None) {
            Probe::Shown(run) => wait.on_run(*run, control, now.instant),
            _ => WaitStep::Done(Box::new(Err(Error::misuse("no status was shown")))),
        }
    }

    fn on_cancel(&mut self, session: &Session, step: TaskStep<String>, now: Now) -> TaskStep {
        let Phase::Wait { wait, .. } = &mut self.phase else {
            return self.misuse("a cancel while not waiting");
        };
        let next = match step.into_outcome() {
            Err(pending) => return pending,
            Ok(outcome) => wait.on_cancelled(outcome.is_ok()),
        };
        self.wait_step(session, next, now)
    }
}

#[cfg(test)]
mod tests {
    //! The compositions against a scripted server: each test answers the requests a task
    //! asks for, in order, and checks what it asked and how it ended.

    use super::*;
    use crate::machines::scripted::{json_answer, now, session};

    const REPORT: &str = "2c92c0f95e4a6e4b015e4f3a1b2c3d4e";
    const RUN: &str = "ff808081529f4e3401529fd61f080074";
    const TOKEN: &str = r#"{"access_token":"tok","expires_in":3599,"token_type":"bearer"}"#;

    fn answer(status: u16, body: &str) -> ExchangeEvent {
        ExchangeEvent::Answered(json_answer(status, body))
    }

    fn ok(response: &str) -> ExchangeEvent {
        answer(200, &format!(r#"{{"success":true,"response":{response}}}"#))
    }

    fn run(status: &str) -> String {
        format!(r#"{{"id":"{RUN}","reportId":"{REPORT}","status":"{status}"}}"#)
    }

    /// The method and path of the request a step asks to send.
    fn sent(step: &TaskStep) -> String {
        match step {
            TaskStep::Send(request) => format!("{} {}", request.method(), request.uri().path()),
            other => panic!("expected a request, got {other:?}"),
        }
    }

    #[test]
    fn the_trip_resolves_runs_waits_and_downloads() {
        let session = session();
        let report = ReportRef::parse("Invoice Detail").expect("a name");
        let wait = WaitOptions::default();
        let (mut task, step) = Task::trip(
            &session,
            &report,
            ViewType::Detail,
            RunReportOptions::default(),
            wait,
            ExportFormat::Csv,
            true,
            now(),
        )
        .expect("a valid trip");
        assert_eq!(sent(&step), "POST /oauth/token");
        let step = task.feed(&session, answer(200, TOKEN), now());
        assert!(sent(&step).ends_with("/reports/search"), "{}", sent(&step));
        let reports = format!(
            r#"{{"reports":[{{"id":"{REPORT}","name":"Invoice Detail"}},{{"id":"{RUN}","name":"Invoice Detail (copy)"}}]}}"#
        );
        let step = task.feed(&session, ok(&reports), now());
        assert!(sent(&step).ends_with(&format!("/reports/{REPORT}/reportrun")));
        let step = task.feed(
            &session,
            ok(&format!(r#"{{"reportRunId":"{RUN}"}}"#)),
            now(),
        );
        assert!(sent(&step).ends_with(&format!("/reportruns/{RUN}")));
        // The first look shows a run still going: the driver sees it, then the wait sleeps.
        let step = task.feed(&session, ok(&run("QUERYDATA")), now());
        assert!(matches!(&step, TaskStep::Status(run) if run.status.to_string() == "QUERYDATA"));
        let step = task.feed(&session, ExchangeEvent::Resumed, now());
        assert!(matches!(step, TaskStep::Sleep(_)), "{step:?}");
        let step = task.feed(&session, ExchangeEvent::Resumed, now());
        assert!(
            sent(&step).ends_with(&format!("/reportruns/{RUN}")),
            "a second look"
        );
        let step = task.feed(&session, ok(&run("COMPLETED")), now());
        assert!(matches!(step, TaskStep::Status(_)));
        assert_eq!(task.export_format(), None);
        let step = task.feed(&session, ExchangeEvent::Resumed, now());
        assert!(
            sent(&step).ends_with(&format!("/reportruns/export/{RUN}")),
            "{}",
            sent(&step)
        );
        assert_eq!(task.export_format(), Some(ExportFormat::Csv));
        let meta = crate::responses::ResponseMeta::from_parts(
            http::StatusCode::OK,
            &http::HeaderMap::new(),
        );
        let summary = ExportSummary::new(10, 12, meta);
        match task.on_export(Ok(summary)) {
            TaskStep::Done(Ok(TaskOutput::Trip(run, summary))) => {
                assert_eq!(run.id.as_str(), RUN);
                assert_eq!(summary.bytes_written, 12);
            }
            other => panic!("expected the trip's end, got {other:?}"),
        }
        assert!(matches!(
            task.feed(&session, ExchangeEvent::Resumed, now()),
            TaskStep::Done(Err(_))
        ));
    }

    #[test]
    fn find_report_by_id_sends_nothing_and_by_name_refuses_two_matches() {
        let session = session();
        let by_id = ReportRef::parse(REPORT).expect("an id");
        let (_, step) = Task::find_report(&session, &by_id, now()).expect("valid");
        assert!(matches!(step, TaskStep::Done(Ok(TaskOutput::ReportId(_)))));

        let by_name = ReportRef::parse("Invoice Detail").expect("a name");
        let (mut task, _) = Task::find_report(&session, &by_name, now()).expect("valid");
        task.feed(&session, answer(200, TOKEN), now());
        let twice = format!(
            r#"{{"reports":[{{"id":"{REPORT}","name":"Invoice Detail"}},{{"id":"{RUN}","name":"Invoice Detail"}}]}}"#
        );
        let TaskStep::Done(Err(error)) = task.feed(&session, ok(&twice), now()) else {
            panic!("two reports of one name must be an error");
        };
        assert_eq!(error.kind(), crate::ErrorKind::AmbiguousReportName);
        assert!(Task::search(&session, "  ", now()).is_err());
    }

    #[test]
    fn rows_come_a_page_at_a_time_and_count() {
        let session = session();
        let run_id: ReportRunId = RUN.parse().expect("an id");
        let (mut task, step) = Task::rows(&session, &run_id, 2, now());
        assert_eq!(sent(&step), "POST /oauth/token");
        let step = task.feed(&session, answer(200, TOKEN), now());
        assert!(sent(&step).contains(RUN));
        let page = |rows: &str| ok(&format!(r#"{{"page":[{rows}]}}"#));
        let step = task.feed(&session, page(r#"{"a":"1"},{"a":"2"}"#), now());
        assert!(
            matches!(&step, TaskStep::Rows(rows) if rows.len() == 2),
            "{step:?}"
        );
        let step = task.feed(&session, ExchangeEvent::Resumed, now());
        sent(&step);
        let step = task.feed(&session, page(r#"{"a":"3"}"#), now());
        assert!(
            matches!(&step, TaskStep::Rows(rows) if rows.len() == 1),
            "{step:?}"
        );
        let step = task.feed(&session, ExchangeEvent::Resumed, now());
        assert!(
            matches!(step, TaskStep::Done(Ok(TaskOutput::Rows(3)))),
            "{step:?}"
        );
    }

    #[test]
    fn an_interrupt_while_a_status_is_shown_cancels_the_run_and_says_so() {
        let session = session();
        let run_id: ReportRunId = RUN.parse().expect("an id");
        let (mut task, _) = Task::wait(&session, &run_id, WaitOptions::default(), true, now());
        task.feed(&session, answer(200, TOKEN), now());
        let step = task.feed(&session, ok(&run("PROCESSINGDATA")), now());
        assert!(matches!(step, TaskStep::Status(_)));
        let step = task.interrupt(&session, true, now());
        assert_eq!(
            sent(&step),
            format!("DELETE /reporting/api/rest/v1/reportruns/{RUN}")
        );
        let step = task.feed(&session, ok(r#""Report run cancelled""#), now());
        match step {
            TaskStep::Done(Err(Error::Interrupted { cancelled, .. })) => assert!(cancelled),
            other => panic!("expected an interrupted wait, got {other:?}"),
        }
    }

    #[test]
    fn a_task_that_is_not_waiting_ends_at_once_when_interrupted() {
        let session = session();
        let run_id: ReportRunId = RUN.parse().expect("an id");
        let (mut task, _) = Task::download(&session, &run_id, ExportFormat::Tsv, now());
        let step = task.interrupt(&session, true, now());
        assert!(matches!(
            step,
            TaskStep::Done(Err(Error::Interrupted { .. }))
        ));
        assert_eq!(task.export_format(), None);
    }

    #[test]
    fn answers_in_parts_one_cap_rule_and_one_body_error_rule() {
        let session = session();
        let run_id: ReportRunId = RUN.parse().expect("an id");
        let json = [("content-type", "application/json")];
        // A token answer in parts, then a failed answer past the cap: read stops there.
        let (mut task, _) = Task::get_run(&session, &run_id, now());
        assert!(matches!(
            task.on_head(&session, 200, json, now()),
            Receive::Body
        ));
        let mut out = Vec::new();
        assert!(matches!(
            task.on_body(TOKEN.as_bytes(), &mut out, now()),
            BodyProgress::More
        ));
        let step = task.on_body_end(&session, &mut out, now());
        assert!(sent(&step).ends_with(RUN), "{}", sent(&step));
        assert!(matches!(
            task.on_head(&session, 500, json, now()),
            Receive::Body
        ));
        let cap = session.config().limits().max_decoded_bytes();
        let huge = vec![b'x'; cap + 10];
        assert!(matches!(
            task.on_body(&huge, &mut out, now()),
            BodyProgress::Full
        ));
        let step = task.on_body_end(&session, &mut out, now());
        assert!(out.is_empty(), "a failed answer is never output");
        // Read no further than the cap; what to do with it is the call's decision (an
        // unreadable answer to an idempotent GET is tried again).
        assert!(matches!(step, TaskStep::Sleep(_)), "{step:?}");

        // A head that is not HTTP is a broken connection: the call may retry it.
        let (mut task, _) = Task::get_run(&session, &run_id, now());
        let Receive::Next(step) = task.on_head(&session, 1000, json, now()) else {
            panic!("a status of 1000 is not HTTP");
        };
        assert!(matches!(*step, TaskStep::Sleep(_)), "{step:?}");

        // An export that breaks off mid-body: the export's error, never a retry of the call.
        let (mut task, _) = Task::download(&session, &run_id, ExportFormat::Csv, now());
        let text = [("content-type", "text/plain")];
        assert!(matches!(
            task.on_head(&session, 200, text, now()),
            Receive::Body
        ));
        assert!(task.streaming());
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("a\tb\n".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert!(matches!(
            task.on_body(&utf16, &mut out, now()),
            BodyProgress::More
        ));
        assert_eq!(out, b"a,b\r\n");
        let cut = crate::driver::TransportFailure::new(
            crate::driver::TransportErrorKind::Io,
            true,
            "connection reset",
        );
        let step = task.on_transport_failure(&session, cut, now());
        let TaskStep::Done(Err(error)) = step else {
            panic!("a cut export ends the task, got {step:?}");
        };
        assert_eq!(error.kind(), crate::ErrorKind::ExportBroken);
    }

    #[test]
    fn a_search_goes_over_every_page_then_finds_the_one_name() {
        let session = session();
        let (mut task, _) = Task::search(&session, "Invoice", now()).expect("a valid query");
        task.feed(&session, answer(200, TOKEN), now());
        // A full first page (50 reports) asks for the next one; a short one ends the search.
        let page = |from: usize, count: usize| {
            let reports: Vec<String> = (from..from + count)
                .map(|n| format!(r#"{{"id":"{n:032x}","name":"Invoice {n}"}}"#))
                .collect();
            ok(&format!(r#"{{"reports":[{}]}}"#, reports.join(",")))
        };
        let step = task.feed(&session, page(0, 50), now());
        let TaskStep::Send(request) = &step else {
            panic!("a full page asks for the next, got {step:?}");
        };
        assert!(
            request
                .uri()
                .query()
                .unwrap_or("")
                .contains("searchStart=50")
        );
        let step = task.feed(&session, page(50, 3), now());
        let TaskStep::Done(Ok(TaskOutput::Reports(reports))) = step else {
            panic!("two pages, then the end, got {step:?}");
        };
        assert_eq!(reports.len(), 53);
    }

    #[test]
    fn a_refused_token_is_refreshed_once_inside_a_task() {
        let session = session();
        let run_id: ReportRunId = RUN.parse().expect("an id");
        let (mut task, _) = Task::get_run(&session, &run_id, now());
        task.feed(&session, answer(200, TOKEN), now());
        let refused = answer(401, r#"{"message":"Authentication error"}"#);
        let step = task.feed(&session, refused, now());
        assert_eq!(sent(&step), "POST /oauth/token", "one refresh");
        let step = task.feed(
            &session,
            answer(200, &TOKEN.replace(r#""tok""#, r#""tok2""#)),
            now(),
        );
        let TaskStep::Send(request) = &step else {
            panic!("the call goes on with the new token, got {step:?}");
        };
        assert_eq!(request.headers()["authorization"], "Bearer tok2");
        // Refused again: no second refresh, the call ends.
        let refused = answer(401, r#"{"message":"Authentication error"}"#);
        let TaskStep::Done(Err(error)) = task.feed(&session, refused, now()) else {
            panic!("a second 401 ends the call");
        };
        assert_eq!(error.kind(), crate::ErrorKind::Authentication);
    }

    #[test]
    fn a_wait_that_times_out_cancels_its_run_when_asked() {
        let session = session();
        let run_id: ReportRunId = RUN.parse().expect("an id");
        let options = WaitOptions::default()
            .with_timeout(Duration::from_secs(2))
            .expect("a valid timeout")
            .cancel_on_timeout(true);
        let start = now();
        let (mut task, _) = Task::wait(&session, &run_id, options, false, start);
        task.feed(&session, answer(200, TOKEN), start);
        let step = task.feed(&session, ok(&run("QUERYDATA")), start);
        assert!(matches!(step, TaskStep::Sleep(_)), "{step:?}");
        // The pause ran past the wait's time: the run is cancelled, then the wait times out.
        let late = Now::new(start.instant + Duration::from_secs(3), start.wall);
        let step = task.feed(&session, ExchangeEvent::Resumed, late);
        assert!(sent(&step).starts_with("DELETE "), "{step:?}");
        let step = task.feed(&session, ok(r#""cancelled""#), late);
        let TaskStep::Done(Err(error)) = step else {
            panic!("the wait ends, got {step:?}");
        };
        assert_eq!(error.kind(), crate::ErrorKind::TimedOut);
        assert!(error.to_string().contains("cancel"), "{error}");
    }
}
