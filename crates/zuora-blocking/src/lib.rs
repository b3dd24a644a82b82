#![doc = include_str!("../README.md")]

mod transport;

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::sync::{Arc, Condvar, Mutex};

pub use transport::{UreqBody, UreqTransport};
/// The ureq this crate is built with, for [`Client::with_ureq_agent`].
pub use ureq;
use zuora_core::machines::{
    AnswerBody, Entropy, Exchange, ExchangeEvent, Machine, Paused, Row, Session, Task, TaskOutput,
    TaskStep, WaitControl,
};
use zuora_core::operations::{Operation, ReportRunStarted, ReportSummary};
/// Everything of the core a user names: the common job at the root, the rest in modules
/// named for what they hold ([`values`], [`operations`], [`machines`], [`policies`],
/// [`responses`], [`exports`], [`filters`], [`errors`], [`driver`], [`defaults`]).
pub use zuora_core::*;
use zuora_core::{
    config::BuildClient, driver::HttpRequest, driver::HttpResponse, driver::Now,
    driver::SyncTransport, driver::TransportFailure, values::ReportName,
};
use zuora_core::{
    driver::SyncStreamingTransport, driver::TransportErrorKind, machines::Download,
    machines::ExportHead,
};

impl BuildClient for Client {
    fn from_config(config: ClientConfig) -> Result<Self, Error> {
        let transport = UreqTransport::new(&config);
        Ok(Self::with_transport(config, transport))
    }
}

impl Client {
    /// A client over your own `ureq::Agent` (a corporate CA, a proxy, connection reuse);
    /// see [`UreqTransport::with_agent`].
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let config = zuora_blocking::ClientConfig::builder()
    ///     .environment(zuora_blocking::Environment::UsCloud2ApiSandbox)
    ///     .credentials("client-id", "client-secret")
    ///     .into_config()?;
    /// use zuora_blocking::ureq; // the ureq this crate is built with
    /// let agent: ureq::Agent = ureq::Agent::config_builder().build().into();
    /// let client = zuora_blocking::Client::with_ureq_agent(config, agent);
    /// # Ok(()) }
    /// ```
    pub fn with_ureq_agent(config: ClientConfig, agent: ureq::Agent) -> Self {
        let transport = UreqTransport::with_agent(agent, &config);
        Self::with_transport(config, transport)
    }
}

/// A Zuora Reporting client. Cheap to clone; clones share the token and the connection
/// pool.
///
/// Every method is one [`Task`] of the core, driven by this crate's one loop: it sends what
/// the task asks, sleeps when told, and hands back what came.
pub struct Client<T = UreqTransport> {
    inner: Arc<Inner<T>>,
}

struct Inner<T> {
    /// Configuration, token cache (single-flight fetches) and entropy.
    session: Session,
    transport: T,
    /// The session's token-settle count, for calls parked on another call's fetch.
    settled: Arc<(Mutex<u64>, Condvar)>,
}

impl<T> Clone for Client<T> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<T> std::fmt::Debug for Client<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("config", self.inner.session.config())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A builder: environment or base URL, credentials, timeouts, retries, gzip, user
    /// agent.
    ///
    /// ```
    /// let client = zuora_blocking::Client::builder()
    ///     .environment(zuora_blocking::Environment::UsCloud2ApiSandbox)
    ///     .credentials("client-id", "client-secret")
    ///     .build()?;
    /// # Ok::<(), zuora_blocking::Error>(())
    /// ```
    pub fn builder() -> ClientBuilder<Self> {
        ClientBuilder::new()
    }
}

/// A seed from the OS for the client's entropy; should the OS refuse, the clock stands in
/// (keys must be unique, not secret).
fn os_seed() -> u64 {
    Entropy::seed_from(
        getrandom::u64().ok(),
        std::time::SystemTime::now(),
        std::process::id(),
    )
}

/// The time as the core wants it: monotonic for deadlines, wall clock for HTTP dates.
fn now() -> Now {
    Now::new(std::time::Instant::now(), std::time::SystemTime::now())
}

/// What one send produced: an answer for the core, or an export's body for the caller.
enum Sent<B> {
    Answer(HttpResponse),
    Stream(http::Response<B>),
}

/// How the loop sends one request.
trait SendStep {
    type Body;
    /// Sends `request`; with `stream`, a `200` comes back as a stream, anything else whole.
    fn send(
        &self,
        request: HttpRequest,
        stream: bool,
    ) -> Result<Sent<Self::Body>, TransportFailure>;
}

/// Sends and reads the whole answer.
struct Whole<'t, T>(&'t T);

impl<T: SyncTransport> SendStep for Whole<'_, T> {
    type Body = std::convert::Infallible;
    fn send(
        &self,
        request: HttpRequest,
        _stream: bool,
    ) -> Result<Sent<Self::Body>, TransportFailure> {
        self.0
            .send(request)
            .map(Sent::Answer)
            .map_err(|e| TransportFailure::from_error(&e))
    }
}

/// Sends and, when asked, hands back a successful answer as a stream; reads a failed one
/// whole, at most one byte past the cap (so the core reports "too large" for what is).
struct Streaming<'t, T> {
    transport: &'t T,
    config: &'t ClientConfig,
}

impl<T: SyncStreamingTransport> SendStep for Streaming<'_, T> {
    type Body = T::Body;
    fn send(&self, request: HttpRequest, stream: bool) -> Result<Sent<T::Body>, TransportFailure> {
        if !stream {
            return Whole(self.transport)
                .send(request, false)
                .map(|sent| match sent {
                    Sent::Answer(answer) => Sent::Answer(answer),
                    Sent::Stream(response) => match response.into_body() {},
                });
        }
        let response = self
            .transport
            .send_streaming(request)
            .map_err(|e| TransportFailure::from_error(&e))?;
        let max_bytes = match ExportHead::of(response.status(), self.config) {
            ExportHead::Stream => return Ok(Sent::Stream(response)),
            ExportHead::ReadWhole { max_bytes } => max_bytes,
        };
        let (parts, mut body) = response.into_parts();
        let mut kept = AnswerBody::new(max_bytes);
        let mut chunk = [0u8; 16 * 1024];
        loop {
            let read = match body.read(&mut chunk) {
                Ok(0) => break,
                Ok(read) => read,
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(error) => {
                    return Err(TransportFailure::new(
                        TransportErrorKind::Io,
                        true,
                        error.to_string(),
                    ));
                }
            };
            if kept.push(&chunk[..read]) {
                break;
            }
        }
        Ok(Sent::Answer(HttpResponse::from_parts(
            parts,
            kept.into_bytes(),
        )))
    }
}

impl<T: SyncTransport> Client<T> {
    /// A client over your own HTTP stack (see [`SyncTransport`]).
    pub fn with_transport(config: ClientConfig, transport: T) -> Self {
        let settled = Arc::new((Mutex::new(0), Condvar::new()));
        let wake = Arc::clone(&settled);
        let session = Session::new(config, os_seed()).on_token_settled(move |count| {
            let (seen, changed) = &*wake;
            *seen.lock().unwrap_or_else(|e| e.into_inner()) = count;
            changed.notify_all();
        });
        Self {
            inner: Arc::new(Inner {
                session,
                transport,
                settled,
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        self.inner.session.config()
    }

    /// The one loop every call goes through: the core's machine decides, this sends,
    /// sleeps, and waits for another call's token fetch; it stops when the machine is over
    /// or hands its caller rows, a status, or an export's body.
    fn drive<M, S>(
        &self,
        machine: &mut M,
        mut step: TaskStep<M::Output>,
        send: &S,
    ) -> Result<Paused<M::Output, S::Body>, Error>
    where
        M: Machine,
        S: SendStep,
    {
        let session = &self.inner.session;
        loop {
            step = match step {
                TaskStep::Send(request) => {
                    let format = machine.export_format();
                    match send.send(request, format.is_some()) {
                        Ok(Sent::Answer(answer)) => {
                            machine.feed(session, ExchangeEvent::Answered(answer), now())
                        }
                        Ok(Sent::Stream(response)) => match format {
                            Some(format) => return Ok(Paused::Export(response, format)),
                            None => return Err(Error::misuse("a stream no export asked for")),
                        },
                        Err(failure) => {
                            machine.feed(session, ExchangeEvent::Failed(failure), now())
                        }
                    }
                }
                TaskStep::Sleep(delay) => {
                    std::thread::sleep(delay);
                    machine.feed(session, ExchangeEvent::Resumed, now())
                }
                TaskStep::AwaitToken { settled, within } => {
                    let (seen, changed) = &*self.inner.settled;
                    let seen = seen.lock().unwrap_or_else(|e| e.into_inner());
                    // Woken when the fetch settles; at the latest, the call's own deadline.
                    drop(changed.wait_timeout_while(seen, within, |count| *count == settled));
                    machine.feed(session, ExchangeEvent::Resumed, now())
                }
                TaskStep::Rows(rows) => return Ok(Paused::Rows(rows)),
                TaskStep::Status(run) => return Ok(Paused::Status(run)),
                TaskStep::Done(outcome) => return outcome.map(Paused::Done),
            };
        }
    }

    /// Runs a task that only ends, to its output.
    fn finish(
        &self,
        name: &'static str,
        (mut task, step): (Task, TaskStep),
    ) -> Result<TaskOutput, Error> {
        let send = Whole(&self.inner.transport);
        let _span = tracing::info_span!("zuora.task", task = name).entered();
        self.drive(&mut task, step, &send)?.into_done()
    }

    /// Runs any operation through the core's retry and token logic.
    ///
    /// # Errors
    ///
    /// Whatever the operation's answer or the transport says, as an [`Error`] whose
    /// [`kind`](Error::kind) tells them apart.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn f(client: zuora_blocking::Client) -> Result<(), zuora_blocking::Error> {
    /// let run_id = "ff808081529f4e3401529fd61f080074".parse()?;
    /// let run = client.execute(client.config().get_run(&run_id))?;
    /// # Ok(()) }
    /// ```
    pub fn execute<O: Operation>(&self, operation: O) -> Result<O::Output, Error> {
        let _span = tracing::info_span!("zuora.call", operation = operation.name()).entered();
        let session = &self.inner.session;
        let (mut exchange, step) = Exchange::start(session, session.call(operation, now()), now());
        let send = Whole(&self.inner.transport);
        self.drive(&mut exchange, step, &send)?.into_done()
    }

    /// *Run a report*: starts a run and returns its id with the answer's request id. Without
    /// an idempotency key in `options`, one is made for this call and sent with every
    /// attempt, so a retry never starts a second run.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`] before anything is sent (a bad filter, say);
    /// [`ErrorKind::ReportNotFound`], [`ErrorKind::WrongViewType`],
    /// [`ErrorKind::Authentication`], [`ErrorKind::RateLimited`] (after the retries), or a
    /// transport failure.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn f(client: zuora_blocking::Client) -> Result<(), zuora_blocking::Error> {
    /// use zuora_blocking::{RunReportOptions, ViewType};
    /// let report = "ff808081529f4e3401529fd373730070".parse()?;
    /// let started = client.run_report(&report, ViewType::Detail, RunReportOptions::default())?;
    /// println!("run {}", started.report_run_id);
    /// # Ok(()) }
    /// ```
    pub fn run_report(
        &self,
        report_id: &ReportId,
        view_type: ViewType,
        options: RunReportOptions,
    ) -> Result<ReportRunStarted, Error> {
        // One call, no composition: the Exchange alone (no task around it) keeps the hot
        // path as lean as a raw client's.
        let key = self.inner.session.entropy().key_bytes();
        let operation = self.config().run_report(report_id, view_type, options, key);
        self.execute(operation)
    }

    /// Every report whose name, data source or description matches `query`, over every page.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`] for an empty query (nothing sent);
    /// [`ErrorKind::PagingStopped`] when paging meets a repeated page, the page cap or the
    /// overall timeout; an error answer or a transport failure.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn f(client: zuora_blocking::Client) -> Result<(), zuora_blocking::Error> {
    /// for report in client.search_reports("invoice")? {
    ///     println!("{} {}", report.id, report.name);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn search_reports(&self, query: &str) -> Result<Vec<ReportSummary>, Error> {
        let task = Task::search(&self.inner.session, query, now())?;
        self.finish("search_reports", task)?.into_reports()
    }

    /// The one report named exactly `name` (a search, then the exact match).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::ReportNotFound`] when no report has that name,
    /// [`ErrorKind::AmbiguousReportName`] when several do, and what
    /// [`search_reports`](Self::search_reports) can fail with.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn f(client: zuora_blocking::Client) -> Result<(), zuora_blocking::Error> {
    /// let report = client.find_report("Invoice Detail")?;
    /// # Ok(()) }
    /// ```
    pub fn find_report(&self, name: &str) -> Result<ReportSummary, Error> {
        let name: ReportName = name.parse()?;
        let task = Task::find_report(&self.inner.session, &ReportRef::Name(name), now())?;
        self.finish("find_report", task)?.into_report()
    }

    /// *Retrieve a report run*: its status and times.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::RunNotFound`] for an unknown run; an error answer or a transport failure.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn f(client: zuora_blocking::Client) -> Result<(), zuora_blocking::Error> {
    /// let run = client.get_run(&"ff808081529f4e3401529fd61f080074".parse()?)?;
    /// println!("{}", run.status);
    /// # Ok(()) }
    /// ```
    pub fn get_run(&self, run_id: &ReportRunId) -> Result<ReportRun, Error> {
        self.execute(self.config().get_run(run_id))
    }

    /// The caller's last completed run of a report (Zuora looks back 60 days).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NoCompletedRun`] when there is none; an error answer or a transport
    /// failure.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn f(client: zuora_blocking::Client) -> Result<(), zuora_blocking::Error> {
    /// let run = client.latest_run(&"ff808081529f4e3401529fd373730070".parse()?)?;
    /// # Ok(()) }
    /// ```
    pub fn latest_run(&self, report_id: &ReportId) -> Result<ReportRun, Error> {
        self.execute(self.config().latest_run(report_id))
    }

    /// Cancels a run in progress; returns Zuora's message.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::RunNotFound`] for an unknown run; an error answer (a run already over)
    /// or a transport failure.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn f(client: zuora_blocking::Client) -> Result<(), zuora_blocking::Error> {
    /// let message = client.cancel_run(&"ff808081529f4e3401529fd61f080074".parse()?)?;
    /// # Ok(()) }
    /// ```
    pub fn cancel_run(&self, run_id: &ReportRunId) -> Result<String, Error> {
        self.execute(self.config().cancel_run(run_id))
    }

    /// Waits until the run completes. The timeout bounds every look, one in flight too.
    ///
    /// # Errors
    ///
    /// [`Error::RunEnded`] for `ERROR`, `INVALID` and `CANCELLED`; [`Error::WaitTimedOut`]
    /// at the timeout (after cancelling the run if `options` say so); what a look can fail
    /// with.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn f(client: zuora_blocking::Client) -> Result<(), zuora_blocking::Error> {
    /// use zuora_blocking::WaitOptions;
    /// let run_id = "ff808081529f4e3401529fd61f080074".parse()?;
    /// let run = client.wait_for_run(&run_id, WaitOptions::default())?;
    /// # Ok(()) }
    /// ```
    pub fn wait_for_run(
        &self,
        run_id: &ReportRunId,
        options: WaitOptions,
    ) -> Result<ReportRun, Error> {
        let task = Task::wait(&self.inner.session, run_id, options, false, now());
        self.finish("wait_for_run", task)?.into_run()
    }

    /// [`wait_for_run`](Self::wait_for_run), showing each status seen to `observe`, which
    /// may stop the wait.
    ///
    /// # Errors
    ///
    /// As [`wait_for_run`](Self::wait_for_run), and [`Error::Interrupted`] when `observe`
    /// returns [`WaitControl::Stop`] (after cancelling the run if it asked).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn f(client: zuora_blocking::Client) -> Result<(), zuora_blocking::Error> {
    /// use zuora_blocking::{WaitOptions, machines::WaitControl};
    /// let run_id = "ff808081529f4e3401529fd61f080074".parse()?;
    /// let run = client
    ///     .wait_for_run_with(&run_id, WaitOptions::default(), |run| {
    ///         println!("{}", run.status);
    ///         WaitControl::Continue
    ///     })
    ///     ?;
    /// # Ok(()) }
    /// ```
    pub fn wait_for_run_with(
        &self,
        run_id: &ReportRunId,
        options: WaitOptions,
        mut observe: impl FnMut(&ReportRun) -> WaitControl,
    ) -> Result<ReportRun, Error> {
        let session = &self.inner.session;
        let (mut task, mut step) = Task::wait(session, run_id, options, true, now());
        let send = Whole(&self.inner.transport);
        let _span = tracing::info_span!("zuora.task", task = "wait_for_run").entered();
        loop {
            let paused = self.drive(&mut task, step, &send)?;
            step = match paused {
                Paused::Status(run) => match observe(&run) {
                    WaitControl::Continue => task.feed(session, ExchangeEvent::Resumed, now()),
                    WaitControl::Stop { cancel } => task.interrupt(session, cancel, now()),
                },
                other => return other.into_done()?.into_run(),
            };
        }
    }

    /// Every row of a completed run (*Report data as JSON*), fetched a page (`page_size`
    /// rows) at a time as they are read; nothing is sent until the first row is asked for.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn f(client: zuora_blocking::Client) -> Result<(), zuora_blocking::Error> {
    /// let run_id = "ff808081529f4e3401529fd61f080074".parse()?;
    /// for row in client.rows(&run_id, 1000) {
    ///     println!("{:?}", row?);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn rows(&self, run_id: &ReportRunId, page_size: u64) -> Rows<'_, T> {
        let (task, step) = Task::rows(&self.inner.session, run_id, page_size, now());
        Rows {
            client: self,
            task,
            step: Some(step),
            buffered: VecDeque::new(),
        }
    }
}

/// The rows of a run, fetched a page at a time as they are read (paging stops on a repeated
/// page, the page cap or the overall timeout). See [`Client::rows`].
pub struct Rows<'c, T> {
    client: &'c Client<T>,
    task: Task,
    /// The task's next step; `None` once it is over.
    step: Option<TaskStep>,
    buffered: VecDeque<Row>,
}

impl<T: SyncTransport> Iterator for Rows<'_, T> {
    type Item = Result<Row, Error>;

    /// The next row, fetching a page when the last one is used up; `None` after the last.
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(row) = self.buffered.pop_front() {
                return Some(Ok(row));
            }
            let step = self.step.take()?;
            let send = Whole(&self.client.inner.transport);
            match self.client.drive(&mut self.task, step, &send) {
                Ok(Paused::Rows(rows)) => {
                    self.buffered.extend(rows);
                    let session = &self.client.inner.session;
                    self.step = Some(self.task.feed(session, ExchangeEvent::Resumed, now()));
                }
                Ok(_) => return None,
                Err(error) => return Some(Err(error)),
            }
        }
    }
}

/// Exports: streamed, converted on the fly, never held whole.
impl<T: SyncStreamingTransport> Client<T> {
    fn streaming(&self) -> Streaming<'_, T> {
        Streaming {
            transport: &self.inner.transport,
            config: self.inner.session.config(),
        }
    }

    /// Drives `task` to its export's body.
    fn to_export(
        &self,
        name: &'static str,
        task: &mut Task,
        step: TaskStep,
    ) -> Result<ExportReader<T::Body>, Error> {
        let _span = tracing::info_span!("zuora.task", task = name).entered();
        match self.drive(task, step, &self.streaming())? {
            Paused::Export(response, format) => {
                let download = Download::start(&response, format, self.config());
                Ok(ExportReader {
                    body: response.into_body(),
                    download,
                    // 64 KiB reads keep the converter's buffers in the core's cache.
                    chunk: vec![0u8; 64 * 1024],
                    converted: Vec::with_capacity(160 * 1024),
                    position: 0,
                    summary: None,
                })
            }
            _ => Err(Error::misuse("a download ended without its export")),
        }
    }

    /// A completed run's export as a source: an [`ExportReader`] that yields it converted to
    /// `format` as it arrives (gzip decoded on the fly). Its read errors carry the [`Error`]
    /// inside the `io::Error` ([`Error::from_io`] gets it back).
    ///
    /// # Errors
    ///
    /// Errors before the first byte (unknown run, [`ErrorKind::RunNotCompleted`], refused,
    /// unreachable) come here; a body that breaks off or stalls ends the reader with an
    /// [`ErrorKind::ExportBroken`] error, never with a clean end.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn f(client: zuora_blocking::Client) -> Result<(), zuora_blocking::Error> {
    /// use zuora_blocking::ExportFormat;
    /// let run_id = "ff808081529f4e3401529fd61f080074".parse()?;
    /// let mut export = client.export_reader(&run_id, ExportFormat::Csv)?;
    /// std::io::copy(&mut export, &mut std::io::stdout()).map_err(zuora_blocking::Error::output)?;
    /// # Ok(()) }
    /// ```
    pub fn export_reader(
        &self,
        run_id: &ReportRunId,
        format: ExportFormat,
    ) -> Result<ExportReader<T::Body>, Error> {
        let (mut task, step) = Task::download(&self.inner.session, run_id, format, now());
        self.to_export("export_reader", &mut task, step)
    }

    /// Downloads a completed run's export into `out`, converted to `format` as it arrives.
    /// What was written before a failure stays in `out`: write to a temporary file and
    /// rename it on success.
    ///
    /// # Errors
    ///
    /// As [`export_reader`](Self::export_reader), and [`ErrorKind::Output`] when `out`
    /// refuses a write.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn f(client: zuora_blocking::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// use zuora_blocking::ExportFormat;
    /// let run_id = "ff808081529f4e3401529fd61f080074".parse()?;
    /// let mut out = std::fs::File::create("invoices.csv")?;
    /// let summary = client.download_export(&run_id, ExportFormat::Csv, &mut out)?;
    /// # Ok(()) }
    /// ```
    pub fn download_export<W: Write>(
        &self,
        run_id: &ReportRunId,
        format: ExportFormat,
        out: &mut W,
    ) -> Result<ExportSummary, Error> {
        self.export_reader(run_id, format)?.copy_to(out)
    }

    /// The whole trip in one call: resolve `report` (by id, or by exact name through
    /// search), run it, wait for it, and write its export to `out` as `format`.
    ///
    /// # Errors
    ///
    /// What each step can fail with: [`find_report`](Self::find_report),
    /// [`run_report`](Self::run_report), [`wait_for_run`](Self::wait_for_run) and
    /// [`download_export`](Self::download_export).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn f(client: zuora_blocking::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// use zuora_blocking::{ExportFormat, ReportRef, RunReportOptions, ViewType, WaitOptions};
    /// let mut csv = Vec::new();
    /// let (run, summary) = client
    ///     .run_and_download(
    ///         &ReportRef::parse("Invoice Detail")?,
    ///         ViewType::Detail,
    ///         RunReportOptions::default(),
    ///         WaitOptions::default(),
    ///         ExportFormat::Csv,
    ///         &mut csv,
    ///     )
    ///     ?;
    /// # Ok(()) }
    /// ```
    pub fn run_and_download<W: Write>(
        &self,
        report: &ReportRef,
        view_type: ViewType,
        options: RunReportOptions,
        wait: WaitOptions,
        format: ExportFormat,
        out: &mut W,
    ) -> Result<(ReportRun, ExportSummary), Error> {
        let session = &self.inner.session;
        let (mut task, step) = Task::trip(
            session,
            report,
            view_type,
            options,
            wait,
            format,
            false,
            now(),
        )?;
        let export = self.to_export("run_and_download", &mut task, step)?;
        let outcome = export.copy_to(out);
        match task.on_export(outcome) {
            TaskStep::Done(outcome) => outcome?.into_trip(),
            _ => Err(Error::misuse("a trip went on after its download")),
        }
    }
}

/// A run's export as a [`Read`] source of converted bytes (see
/// [`Client::export_reader`]). Read errors carry the [`Error`] inside the `io::Error`
/// ([`Error::from_io`] gets it back).
pub struct ExportReader<R> {
    body: R,
    download: Download,
    chunk: Vec<u8>,
    converted: Vec<u8>,
    position: usize,
    summary: Option<ExportSummary>,
}

impl<R> std::fmt::Debug for ExportReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportReader")
            .field("download", &self.download)
            .finish_non_exhaustive()
    }
}

impl<R: Read> ExportReader<R> {
    /// Reads the next chunk into the converted buffer; `false` at the end.
    fn fill(&mut self) -> Result<bool, Error> {
        self.converted.clear();
        self.position = 0;
        while self.converted.is_empty() {
            if self.summary.is_some() {
                return Ok(false);
            }
            match self.body.read(&mut self.chunk) {
                Ok(0) => {
                    self.summary = Some(self.download.finish(&mut self.converted)?);
                }
                Ok(n) => self
                    .download
                    .on_chunk(&self.chunk[..n], &mut self.converted)?,
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
                Err(error) => {
                    let stalled = matches!(
                        error.kind(),
                        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
                    );
                    return Err(self.download.broken(&error, stalled));
                }
            }
        }
        Ok(true)
    }

    /// Writes the rest of the export to `out`; the summary once the body ended cleanly.
    pub fn copy_to<W: Write>(mut self, out: &mut W) -> Result<ExportSummary, Error> {
        let output_failed = Error::output;
        out.write_all(&self.converted[self.position..])
            .map_err(output_failed)?;
        while self.fill()? {
            out.write_all(&self.converted).map_err(output_failed)?;
        }
        out.flush().map_err(output_failed)?;
        self.summary
            .ok_or_else(|| Error::misuse("the export ended without a summary"))
    }

    /// What the download received and wrote, once the body has ended cleanly.
    pub fn summary(&self) -> Option<&ExportSummary> {
        self.summary.as_ref()
    }
}

impl<R: Read> Read for ExportReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.position == self.converted.len() && !self.fill().map_err(Error::into_io)? {
            return Ok(0);
        }
        let n = buf.len().min(self.converted.len() - self.position);
        buf[..n].copy_from_slice(&self.converted[self.position..self.position + n]);
        self.position += n;
        Ok(n)
    }
}
