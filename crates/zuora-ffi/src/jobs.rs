//! What a task does, as the core's machines composed: one call, a search over every page, the
//! rows of a run page by page, a wait, a download. Each job turns its machines' steps into the
//! one [`Pending`] a C driver understands; none of them reads a socket or sleeps.

use std::time::{Duration, Instant};

use zuora_core::driver::Now;
use zuora_core::exports::ExportSummary;
use zuora_core::machines::{
    DataPages, Exchange, ExchangeEvent as Input, ExchangeStep as Action, SearchAll, Session, Wait,
    WaitControl, WaitStep,
};
use zuora_core::operations::{
    CancelReportRun, GetReportRun, Operation, ReportDataPage, ReportRunStarted, ReportSummary,
    SearchReports,
};
use zuora_core::{Error, ExportFormat, ReportRun};

/// What a finished task produced.
pub(crate) enum Outcome {
    /// The credentials work; the token lives this long.
    Token { expires_in: Duration },
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
    ReportId(zuora_core::ReportId),
    /// Every page of a run's data was handed over: this many rows in all.
    Rows(u64),
    /// An export was downloaded and converted.
    Export(ExportSummary),
}

/// What the C driver must do next.
pub(crate) enum Pending {
    /// Send this request.
    Send(zuora_core::driver::HttpRequest),
    /// Sleep this long, then resume.
    Sleep(Duration),
    /// Take these rows (a JSON array of objects), then resume.
    Rows(String),
    /// The task is over.
    Done(Result<Outcome, Error>),
}

/// The driver's clock, read when something happens: the core never reads one.
pub(crate) fn now() -> Now {
    Now::new(Instant::now(), std::time::SystemTime::now())
}

/// An exchange of `operation` starting now.
fn start<O: Operation>(session: &Session, operation: O) -> (Exchange<O>, Action<O::Output>) {
    Exchange::start(session, session.call(operation, now()), now())
}

/// An exchange of `operation` starting now, cut to `budget` (a look inside a wait).
fn start_within<O: Operation>(
    session: &Session,
    operation: O,
    budget: Duration,
) -> (Exchange<O>, Action<O::Output>) {
    Exchange::start(
        session,
        session.call(operation, now()).within(budget),
        now(),
    )
}

impl Pending {
    fn of<T>(action: Action<T>, wrap: impl FnOnce(T) -> Outcome) -> Self {
        match action {
            Action::Send(request) => Self::Send(request),
            Action::Sleep(delay) => Self::Sleep(delay),
            Action::Done(outcome) => Self::Done(outcome.map(wrap)),
        }
    }
}

/// A task's work: the step after what happened (a sleep ended or rows were taken, an answer
/// came, none could), and when the caller stops it.
pub(crate) trait Job {
    /// Continues with what happened.
    fn feed(&mut self, session: &Session, input: Input) -> Pending;
    /// The format to convert to, when the request in flight is an export (whose 200 answer
    /// streams instead of being read whole).
    fn export_format(&self) -> Option<ExportFormat> {
        None
    }
    /// The caller stops the task (`cancel`: a wait also cancels its run on the server).
    fn interrupt(&mut self, _session: &Session, _cancel: bool) -> Pending {
        Pending::Done(Err(Error::Interrupted {
            run_id: None,
            cancelled: false,
        }))
    }
}

/// One call of one operation.
pub(crate) struct Single<O: Operation> {
    exchange: Exchange<O>,
    wrap: fn(O::Output) -> Outcome,
}

impl<O: Operation + 'static> Single<O> {
    pub(crate) fn start(
        session: &Session,
        operation: O,
        wrap: fn(O::Output) -> Outcome,
    ) -> (Box<dyn Job>, Pending) {
        let (exchange, action) = start(session, operation);
        (Box::new(Self { exchange, wrap }), Pending::of(action, wrap))
    }
}

impl<O: Operation + 'static> Job for Single<O> {
    fn feed(&mut self, session: &Session, input: Input) -> Pending {
        Pending::of(self.exchange.feed(session, input, now()), self.wrap)
    }
}

/// A task already over before anything was sent (a report named by its id).
pub(crate) struct Finished;

impl Job for Finished {
    fn feed(&mut self, _session: &Session, _input: Input) -> Pending {
        Pending::Done(Err(Error::build("a finished task was fed")))
    }
}

/// A search over every page, by the core's stop rules; optionally narrowed to the one report
/// named exactly so.
pub(crate) struct Search {
    all: Option<SearchAll>,
    page: Exchange<SearchReports>,
    exactly: Option<String>,
}

impl Search {
    pub(crate) fn start(
        session: &Session,
        all: SearchAll,
        exactly: Option<String>,
    ) -> (Box<dyn Job>, Pending) {
        let Some(first) = all.next_page().cloned() else {
            return (
                Box::new(Finished),
                Pending::Done(Err(Error::build("a search with no first page"))),
            );
        };
        let (page, action) = start(session, first);
        let mut search = Self {
            all: Some(all),
            page,
            exactly,
        };
        let pending = search.follow(session, action);
        (Box::new(search), pending)
    }

    fn follow(
        &mut self,
        session: &Session,
        action: Action<zuora_core::operations::SearchPage>,
    ) -> Pending {
        let page = match action {
            Action::Send(request) => return Pending::Send(request),
            Action::Sleep(delay) => return Pending::Sleep(delay),
            Action::Done(Err(error)) => return Pending::Done(Err(error)),
            Action::Done(Ok(page)) => page,
        };
        let Some(all) = self.all.as_mut() else {
            return Pending::Done(Err(Error::build("a search went on after its end")));
        };
        if let Err(error) = all.on_page(page, Instant::now()) {
            return Pending::Done(Err(error));
        }
        if let Some(next) = all.next_page().cloned() {
            let (page, action) = start(session, next);
            self.page = page;
            return self.follow(session, action);
        }
        let reports = self
            .all
            .take()
            .map(SearchAll::into_reports)
            .unwrap_or_default();
        Pending::Done(match &self.exactly {
            Some(name) => zuora_core::operations::resolve_report_name(name, &reports)
                .cloned()
                .map(Outcome::Report),
            None => Ok(Outcome::Reports(reports)),
        })
    }
}

impl Job for Search {
    fn feed(&mut self, session: &Session, input: Input) -> Pending {
        let action = self.page.feed(session, input, now());
        self.follow(session, action)
    }
}

/// The rows of a completed run, a page at a time, by the core's stop rules.
pub(crate) struct Rows {
    pages: DataPages,
    /// The page being fetched; `None` while C takes a page's rows.
    page: Option<Exchange<ReportDataPage>>,
    rows: u64,
}

impl Rows {
    pub(crate) fn start(session: &Session, pages: DataPages) -> (Box<dyn Job>, Pending) {
        let mut rows = Self {
            pages,
            page: None,
            rows: 0,
        };
        let pending = rows.next(session);
        (Box::new(rows), pending)
    }

    fn next(&mut self, session: &Session) -> Pending {
        let Some(next) = self.pages.next_page().cloned() else {
            return Pending::Done(Ok(Outcome::Rows(self.rows)));
        };
        let (page, action) = start(session, next);
        self.page = Some(page);
        self.follow(action)
    }

    fn follow(&mut self, action: Action<zuora_core::operations::DataPage>) -> Pending {
        let page = match action {
            Action::Send(request) => return Pending::Send(request),
            Action::Sleep(delay) => return Pending::Sleep(delay),
            Action::Done(Err(error)) => {
                self.pages.stop();
                return Pending::Done(Err(error));
            }
            Action::Done(Ok(page)) => page,
        };
        self.page = None;
        match self.pages.on_page(page, Instant::now()) {
            Ok(rows) => {
                self.rows = self.rows.saturating_add(rows.len() as u64);
                match serde_json::to_string(&rows) {
                    Ok(json) => Pending::Rows(json),
                    Err(error) => Pending::Done(Err(Error::build(&error.to_string()))),
                }
            }
            Err(error) => Pending::Done(Err(error)),
        }
    }
}

impl Job for Rows {
    fn feed(&mut self, session: &Session, input: Input) -> Pending {
        match (self.page.as_mut(), input) {
            (Some(page), input) => {
                let action = page.feed(session, input, now());
                self.follow(action)
            }
            // The rows were taken: on to the next page.
            (None, Input::Resumed) => self.next(session),
            (None, _) => Pending::Done(Err(Error::build("an answer while no page was asked for"))),
        }
    }
}

/// The call a wait has in flight.
enum Probe {
    Look(Exchange<GetReportRun>),
    Cancel(Exchange<CancelReportRun>),
}

/// A wait for a run: looks, sleeps between them, and the cancel on timeout or interrupt, by the
/// core's `Wait` machine.
pub(crate) struct Waiting {
    wait: Wait,
    probe: Option<Probe>,
}

impl Waiting {
    pub(crate) fn start(session: &Session, wait: Wait, first: WaitStep) -> (Box<dyn Job>, Pending) {
        let mut waiting = Self { wait, probe: None };
        let pending = waiting.step(session, first);
        (Box::new(waiting), pending)
    }

    fn step(&mut self, session: &Session, step: WaitStep) -> Pending {
        self.probe = None;
        match step {
            WaitStep::Look { budget } => {
                let operation = session.config().get_run(self.wait.run_id());
                let (look, action) = start_within(session, operation, budget);
                self.probe = Some(Probe::Look(look));
                self.on_look(session, action)
            }
            WaitStep::Cancel { budget } => {
                let operation = session.config().cancel_run(self.wait.run_id());
                let (cancel, action) = start_within(session, operation, budget);
                self.probe = Some(Probe::Cancel(cancel));
                self.on_cancel(session, action)
            }
            WaitStep::Sleep(delay) => Pending::Sleep(delay),
            WaitStep::Done(outcome) => Pending::Done((*outcome).map(Outcome::Run)),
        }
    }

    fn on_look(&mut self, session: &Session, action: Action<ReportRun>) -> Pending {
        let step = match action {
            Action::Send(request) => return Pending::Send(request),
            Action::Sleep(delay) => return Pending::Sleep(delay),
            Action::Done(Ok(run)) => self.wait.on_run(run, WaitControl::Continue, Instant::now()),
            Action::Done(Err(error)) => self.wait.on_look_failed(error, Instant::now()),
        };
        self.step(session, step)
    }

    fn on_cancel(&mut self, session: &Session, action: Action<String>) -> Pending {
        let step = match action {
            Action::Send(request) => return Pending::Send(request),
            Action::Sleep(delay) => return Pending::Sleep(delay),
            Action::Done(outcome) => self.wait.on_cancelled(outcome.is_ok()),
        };
        self.step(session, step)
    }
}

impl Job for Waiting {
    fn feed(&mut self, session: &Session, input: Input) -> Pending {
        match (self.probe.as_mut(), input) {
            (Some(Probe::Look(look)), input) => {
                let action = look.feed(session, input, now());
                self.on_look(session, action)
            }
            (Some(Probe::Cancel(cancel)), input) => {
                let action = cancel.feed(session, input, now());
                self.on_cancel(session, action)
            }
            (None, Input::Resumed) => {
                let step = self.wait.after_sleep(Instant::now());
                self.step(session, step)
            }
            (None, _) => Pending::Done(Err(Error::build("an answer while the wait was sleeping"))),
        }
    }

    fn interrupt(&mut self, session: &Session, cancel: bool) -> Pending {
        let step = self.wait.interrupt(cancel);
        self.step(session, step)
    }
}

/// An export's download: the export call (retried by the core) whose 200 answer streams
/// through the task's converter.
pub(crate) struct Download {
    exchange: Exchange<zuora_core::exports::ExportReportRun>,
    format: ExportFormat,
}

impl Download {
    pub(crate) fn start(
        session: &Session,
        operation: zuora_core::exports::ExportReportRun,
        format: ExportFormat,
    ) -> (Box<dyn Job>, Pending) {
        let (exchange, action) = start(session, operation);
        (
            Box::new(Self { exchange, format }),
            Pending::of(action, |never| match never {}),
        )
    }
}

impl Job for Download {
    fn feed(&mut self, session: &Session, input: Input) -> Pending {
        Pending::of(
            self.exchange.feed(session, input, now()),
            |never| match never {},
        )
    }

    fn export_format(&self) -> Option<ExportFormat> {
        (!self.exchange.fetching_token()).then_some(self.format)
    }
}
