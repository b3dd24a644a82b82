#![doc = include_str!("../README.md")]

mod transport;

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;

/// The reqwest this crate is built with, for [`Client::with_reqwest_client`].
pub use reqwest;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tracing::Instrument as _;
pub use transport::{ReqwestBody, ReqwestTransport};
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
    config::BuildClient, driver::AsyncTransport, driver::HttpRequest, driver::HttpResponse,
    driver::Now, driver::TransportFailure, values::ReportName,
};
use zuora_core::{
    driver::AsyncBody, driver::AsyncStreamingTransport, driver::ClassifyTransportError,
    driver::TransportErrorKind, machines::Download, machines::ExportHead,
};

impl BuildClient for Client {
    fn from_config(config: ClientConfig) -> Result<Self, Error> {
        let transport = ReqwestTransport::new(&config)?;
        Ok(Self::with_transport(config, transport))
    }
}

impl Client {
    /// A client over your own `reqwest::Client` (a corporate CA, a proxy, connection reuse
    /// with the rest of your service); see [`ReqwestTransport::with_client`].
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let config = zuora_async::ClientConfig::builder()
    ///     .environment(zuora_async::Environment::UsCloud2ApiSandbox)
    ///     .credentials("client-id", "client-secret")
    ///     .into_config()?;
    /// use zuora_async::reqwest; // the reqwest this crate is built with
    /// let http = reqwest::Client::builder()
    ///     .redirect(reqwest::redirect::Policy::none())
    ///     .build()?;
    /// let client = zuora_async::Client::with_reqwest_client(config, http);
    /// # Ok(()) }
    /// ```
    pub fn with_reqwest_client(config: ClientConfig, client: reqwest::Client) -> Self {
        let transport = ReqwestTransport::with_client(client, &config);
        Self::with_transport(config, transport)
    }
}

/// A Zuora Reporting client. Cheap to clone; clones share the token and the connection
/// pool.
///
/// Every method is one [`Task`] of the core, driven by this crate's one loop: it sends what
/// the task asks, sleeps when told, and hands back what came.
pub struct Client<T = ReqwestTransport> {
    inner: Arc<Inner<T>>,
}

struct Inner<T> {
    /// Configuration, token cache (single-flight fetches) and entropy.
    session: Session,
    transport: T,
    /// The session's token-settle count, for calls parked on another call's fetch.
    settled: tokio::sync::watch::Receiver<u64>,
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
    /// let client = zuora_async::Client::builder()
    ///     .environment(zuora_async::Environment::UsCloud2ApiSandbox)
    ///     .credentials("client-id", "client-secret")
    ///     .build()?;
    /// # Ok::<(), zuora_async::Error>(())
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

/// How the loop sends one request (a trait, not a closure, so its future is plainly `Send`).
trait SendStep: Send + Sync {
    type Body: Send;
    /// Sends `request`; with `stream`, a `200` comes back as a stream, anything else whole.
    fn send(
        &self,
        request: HttpRequest,
        stream: bool,
    ) -> impl Future<Output = Result<Sent<Self::Body>, TransportFailure>> + Send;
}

/// Sends and reads the whole answer.
struct Whole<'t, T>(&'t T);

impl<T: AsyncTransport> SendStep for Whole<'_, T> {
    type Body = std::convert::Infallible;
    async fn send(
        &self,
        request: HttpRequest,
        _stream: bool,
    ) -> Result<Sent<Self::Body>, TransportFailure> {
        self.0
            .send(request)
            .await
            .map(Sent::Answer)
            .map_err(|e| TransportFailure::from_error(&e))
    }
}

/// Sends and, when asked, hands back a successful answer as a stream; reads a failed one
/// whole.
struct Streaming<'t, T> {
    transport: &'t T,
    config: &'t ClientConfig,
}

impl<T: AsyncStreamingTransport> SendStep for Streaming<'_, T> {
    type Body = T::Body;
    async fn send(
        &self,
        request: HttpRequest,
        stream: bool,
    ) -> Result<Sent<T::Body>, TransportFailure> {
        if !stream {
            return Whole(self.transport)
                .send(request, false)
                .await
                .map(|sent| match sent {
                    Sent::Answer(answer) => Sent::Answer(answer),
                    Sent::Stream(response) => match response.into_body() {},
                });
        }
        let response = self
            .transport
            .send_streaming(request)
            .await
            .map_err(|e| TransportFailure::from_error(&e))?;
        let max_bytes = match ExportHead::of(response.status(), self.config) {
            ExportHead::Stream => return Ok(Sent::Stream(response)),
            ExportHead::ReadWhole { max_bytes } => max_bytes,
        };
        let (parts, mut body) = response.into_parts();
        let mut kept = AnswerBody::new(max_bytes);
        while let Some(chunk) = body
            .next_chunk()
            .await
            .map_err(|e| TransportFailure::from_error(&e))?
        {
            if kept.push(chunk.as_ref()) {
                break;
            }
        }
        Ok(Sent::Answer(HttpResponse::from_parts(
            parts,
            kept.into_bytes(),
        )))
    }
}

impl<T: AsyncTransport> Client<T> {
    /// A client over your own HTTP stack (see [`AsyncTransport`]).
    pub fn with_transport(config: ClientConfig, transport: T) -> Self {
        let (wake, settled) = tokio::sync::watch::channel(0);
        let session = Session::new(config, os_seed()).on_token_settled(move |count| {
            // No receiver left means no client left to wake.
            let _ = wake.send(count);
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
    async fn drive<M, S>(
        &self,
        machine: &mut M,
        mut step: TaskStep<M::Output>,
        send: &S,
    ) -> Result<Paused<M::Output, S::Body>, Error>
    where
        M: Machine + Send,
        M::Output: Send,
        S: SendStep,
    {
        let session = &self.inner.session;
        loop {
            step = match step {
                TaskStep::Send(request) => {
                    let format = machine.export_format();
                    match send.send(request, format.is_some()).await {
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
                    tokio::time::sleep(delay).await;
                    machine.feed(session, ExchangeEvent::Resumed, now())
                }
                TaskStep::AwaitToken { settled, within } => {
                    let mut count = self.inner.settled.clone();
                    // Woken when the fetch settles; at the latest, the call's own deadline.
                    let _ =
                        tokio::time::timeout(within, count.wait_for(|now| *now != settled)).await;
                    machine.feed(session, ExchangeEvent::Resumed, now())
                }
                TaskStep::Rows(rows) => return Ok(Paused::Rows(rows)),
                TaskStep::Status(run) => return Ok(Paused::Status(run)),
                TaskStep::Done(outcome) => return outcome.map(Paused::Done),
            };
        }
    }

    /// Runs a task that only ends, to its output.
    async fn finish(
        &self,
        name: &'static str,
        (mut task, step): (Task, TaskStep),
    ) -> Result<TaskOutput, Error> {
        let send = Whole(&self.inner.transport);
        let span = tracing::info_span!("zuora.task", task = name);
        self.drive(&mut task, step, &send)
            .instrument(span)
            .await?
            .into_done()
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
    /// # async fn f(client: zuora_async::Client) -> Result<(), zuora_async::Error> {
    /// let run_id = "ff808081529f4e3401529fd61f080074".parse()?;
    /// let run = client.execute(client.config().get_run(&run_id)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn execute<O: Operation + Send>(&self, operation: O) -> Result<O::Output, Error>
    where
        O::Output: Send,
    {
        let span = tracing::info_span!("zuora.call", operation = operation.name());
        let session = &self.inner.session;
        let (mut exchange, step) = Exchange::start(session, session.call(operation, now()), now());
        let send = Whole(&self.inner.transport);
        self.drive(&mut exchange, step, &send)
            .instrument(span)
            .await?
            .into_done()
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
    /// # async fn f(client: zuora_async::Client) -> Result<(), zuora_async::Error> {
    /// use zuora_async::{RunReportOptions, ViewType};
    /// let report = "ff808081529f4e3401529fd373730070".parse()?;
    /// let started = client.run_report(&report, ViewType::Detail, RunReportOptions::default()).await?;
    /// println!("run {}", started.report_run_id);
    /// # Ok(()) }
    /// ```
    pub async fn run_report(
        &self,
        report_id: &ReportId,
        view_type: ViewType,
        options: RunReportOptions,
    ) -> Result<ReportRunStarted, Error> {
        // One call, no composition: the Exchange alone (no task around it) keeps the hot
        // path as lean as a raw client's.
        let key = self.inner.session.entropy().key_bytes();
        let operation = self.config().run_report(report_id, view_type, options, key);
        self.execute(operation).await
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
    /// # async fn f(client: zuora_async::Client) -> Result<(), zuora_async::Error> {
    /// for report in client.search_reports("invoice").await? {
    ///     println!("{} {}", report.id, report.name);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn search_reports(&self, query: &str) -> Result<Vec<ReportSummary>, Error> {
        let task = Task::search(&self.inner.session, query, now())?;
        self.finish("search_reports", task).await?.into_reports()
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
    /// # async fn f(client: zuora_async::Client) -> Result<(), zuora_async::Error> {
    /// let report = client.find_report("Invoice Detail").await?;
    /// # Ok(()) }
    /// ```
    pub async fn find_report(&self, name: &str) -> Result<ReportSummary, Error> {
        let name: ReportName = name.parse()?;
        let task = Task::find_report(&self.inner.session, &ReportRef::Name(name), now())?;
        self.finish("find_report", task).await?.into_report()
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
    /// # async fn f(client: zuora_async::Client) -> Result<(), zuora_async::Error> {
    /// let run = client.get_run(&"ff808081529f4e3401529fd61f080074".parse()?).await?;
    /// println!("{}", run.status);
    /// # Ok(()) }
    /// ```
    pub async fn get_run(&self, run_id: &ReportRunId) -> Result<ReportRun, Error> {
        self.execute(self.config().get_run(run_id)).await
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
    /// # async fn f(client: zuora_async::Client) -> Result<(), zuora_async::Error> {
    /// let run = client.latest_run(&"ff808081529f4e3401529fd373730070".parse()?).await?;
    /// # Ok(()) }
    /// ```
    pub async fn latest_run(&self, report_id: &ReportId) -> Result<ReportRun, Error> {
        self.execute(self.config().latest_run(report_id)).await
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
    /// # async fn f(client: zuora_async::Client) -> Result<(), zuora_async::Error> {
    /// let message = client.cancel_run(&"ff808081529f4e3401529fd61f080074".parse()?).await?;
    /// # Ok(()) }
    /// ```
    pub async fn cancel_run(&self, run_id: &ReportRunId) -> Result<String, Error> {
        self.execute(self.config().cancel_run(run_id)).await
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
    /// # async fn f(client: zuora_async::Client) -> Result<(), zuora_async::Error> {
    /// use zuora_async::WaitOptions;
    /// let run_id = "ff808081529f4e3401529fd61f080074".parse()?;
    /// let run = client.wait_for_run(&run_id, WaitOptions::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn wait_for_run(
        &self,
        run_id: &ReportRunId,
        options: WaitOptions,
    ) -> Result<ReportRun, Error> {
        let task = Task::wait(&self.inner.session, run_id, options, false, now());
        self.finish("wait_for_run", task).await?.into_run()
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
    /// # async fn f(client: zuora_async::Client) -> Result<(), zuora_async::Error> {
    /// use zuora_async::{WaitOptions, machines::WaitControl};
    /// let run_id = "ff808081529f4e3401529fd61f080074".parse()?;
    /// let run = client
    ///     .wait_for_run_with(&run_id, WaitOptions::default(), |run| {
    ///         println!("{}", run.status);
    ///         WaitControl::Continue
    ///     })
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn wait_for_run_with(
        &self,
        run_id: &ReportRunId,
        options: WaitOptions,
        mut observe: impl FnMut(&ReportRun) -> WaitControl + Send,
    ) -> Result<ReportRun, Error> {
        let session = &self.inner.session;
        let (mut task, mut step) = Task::wait(session, run_id, options, true, now());
        let send = Whole(&self.inner.transport);
        let span = tracing::info_span!("zuora.task", task = "wait_for_run");
        loop {
            let paused = self
                .drive(&mut task, step, &send)
                .instrument(span.clone())
                .await?;
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
    /// # async fn f(client: zuora_async::Client) -> Result<(), zuora_async::Error> {
    /// let run_id = "ff808081529f4e3401529fd61f080074".parse()?;
    /// let mut rows = client.rows(&run_id, 1000);
    /// while let Some(row) = rows.next().await {
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

impl<'c, T: AsyncTransport> Rows<'c, T> {
    /// The next row, `None` after the last.
    #[allow(clippy::should_implement_trait)] // An async pull, not `Iterator::next`.
    pub async fn next(&mut self) -> Option<Result<Row, Error>> {
        loop {
            if let Some(row) = self.buffered.pop_front() {
                return Some(Ok(row));
            }
            let step = self.step.take()?;
            let send = Whole(&self.client.inner.transport);
            match self.client.drive(&mut self.task, step, &send).await {
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

    /// The rows as a [`Stream`](futures_util::Stream), for `StreamExt` combinators.
    pub fn into_stream(self) -> impl futures_util::Stream<Item = Result<Row, Error>> + 'c {
        futures_util::stream::unfold(self, |mut rows| async move {
            rows.next().await.map(|row| (row, rows))
        })
    }
}

/// Exports: streamed, converted on the fly, never held whole.
impl<T: AsyncStreamingTransport> Client<T> {
    fn streaming(&self) -> Streaming<'_, T> {
        Streaming {
            transport: &self.inner.transport,
            config: self.inner.session.config(),
        }
    }

    /// Drives `task` to its export's body.
    async fn to_export(
        &self,
        name: &'static str,
        task: &mut Task,
        step: TaskStep,
    ) -> Result<ExportStream<T::Body>, Error> {
        let span = tracing::info_span!("zuora.task", task = name);
        match self
            .drive(task, step, &self.streaming())
            .instrument(span)
            .await?
        {
            Paused::Export(response, format) => {
                let download = Download::start(&response, format, self.config());
                Ok(ExportStream {
                    body: response.into_body(),
                    download,
                    summary: None,
                    failed: false,
                })
            }
            _ => Err(Error::misuse("a download ended without its export")),
        }
    }

    /// A completed run's export as a source: an [`ExportStream`] of chunks converted to
    /// `format` as they arrive (gzip decoded on the fly), ready to be an HTTP response body.
    ///
    /// # Errors
    ///
    /// Errors before the first byte (unknown run, [`ErrorKind::RunNotCompleted`], refused,
    /// unreachable) come here; a body that breaks off or stalls ends the stream with an
    /// [`ErrorKind::ExportBroken`] error, never with a clean end.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn f(client: zuora_async::Client) -> Result<(), zuora_async::Error> {
    /// use zuora_async::ExportFormat;
    /// let run_id = "ff808081529f4e3401529fd61f080074".parse()?;
    /// let mut export = client.export_stream(&run_id, ExportFormat::Csv).await?;
    /// while let Some(chunk) = export.next_chunk().await? {
    ///     print!("{}", String::from_utf8_lossy(&chunk));
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn export_stream(
        &self,
        run_id: &ReportRunId,
        format: ExportFormat,
    ) -> Result<ExportStream<T::Body>, Error> {
        let (mut task, step) = Task::download(&self.inner.session, run_id, format, now());
        self.to_export("export_stream", &mut task, step).await
    }

    /// Downloads a completed run's export into `out`, converted to `format` as it arrives.
    /// What was written before a failure stays in `out`: write to a temporary file and
    /// rename it on success.
    ///
    /// # Errors
    ///
    /// As [`export_stream`](Self::export_stream), and [`ErrorKind::Output`] when `out`
    /// refuses a write.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn f(client: zuora_async::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// use zuora_async::ExportFormat;
    /// let run_id = "ff808081529f4e3401529fd61f080074".parse()?;
    /// let mut out = tokio::fs::File::create("invoices.csv").await?;
    /// let summary = client.download_export(&run_id, ExportFormat::Csv, &mut out).await?;
    /// # Ok(()) }
    /// ```
    pub async fn download_export<W: AsyncWrite + Unpin + Send>(
        &self,
        run_id: &ReportRunId,
        format: ExportFormat,
        out: &mut W,
    ) -> Result<ExportSummary, Error> {
        self.export_stream(run_id, format).await?.copy_to(out).await
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
    /// # async fn f(client: zuora_async::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// use zuora_async::{ExportFormat, ReportRef, RunReportOptions, ViewType, WaitOptions};
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
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn run_and_download<W: AsyncWrite + Unpin + Send>(
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
        let export = self.to_export("run_and_download", &mut task, step).await?;
        let outcome = export.copy_to(out).await;
        match task.on_export(outcome) {
            TaskStep::Done(outcome) => outcome?.into_trip(),
            _ => Err(Error::misuse("a trip went on after its download")),
        }
    }
}

/// A run's export as converted chunks (see [`Client::export_stream`]): pull them with
/// [`next_chunk`](Self::next_chunk), or turn it into a [`Stream`](futures_util::Stream)
/// with [`into_stream`](Self::into_stream).
pub struct ExportStream<B> {
    body: B,
    download: Download,
    summary: Option<ExportSummary>,
    failed: bool,
}

impl<B> std::fmt::Debug for ExportStream<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportStream")
            .field("download", &self.download)
            .finish_non_exhaustive()
    }
}

impl<B: AsyncBody> ExportStream<B> {
    /// The next converted chunk; `Ok(None)` once the body ended cleanly (then
    /// [`summary`](Self::summary) says what came). After an error, always `Ok(None)`.
    pub async fn next_chunk(&mut self) -> Result<Option<bytes::Bytes>, Error> {
        loop {
            if self.summary.is_some() || self.failed {
                return Ok(None);
            }
            let mut converted = Vec::new();
            let step = match self.body.next_chunk().await {
                Ok(Some(chunk)) => self.download.on_chunk(chunk.as_ref(), &mut converted),
                Ok(None) => self
                    .download
                    .finish(&mut converted)
                    .map(|summary| self.summary = Some(summary)),
                Err(error) => {
                    let stalled = error.kind() == TransportErrorKind::Timeout;
                    Err(self.download.broken(&error, stalled))
                }
            };
            if let Err(error) = step {
                self.failed = true;
                return Err(error);
            }
            if !converted.is_empty() {
                return Ok(Some(bytes::Bytes::from(converted)));
            }
        }
    }

    /// Writes the rest of the export to `out`; the summary once the body ended cleanly.
    async fn copy_to<W: AsyncWrite + Unpin + Send>(
        mut self,
        out: &mut W,
    ) -> Result<ExportSummary, Error> {
        while let Some(chunk) = self.next_chunk().await? {
            out.write_all(&chunk).await.map_err(Error::output)?;
        }
        out.flush().await.map_err(Error::output)?;
        self.summary
            .ok_or_else(|| Error::misuse("the export ended without a summary"))
    }

    /// What the download received and wrote, once the body has ended cleanly.
    pub fn summary(&self) -> Option<&ExportSummary> {
        self.summary.as_ref()
    }

    /// The chunks as a [`Stream`](futures_util::Stream): it ends with an `Err` item, never
    /// with a clean end, when the body breaks off.
    pub fn into_stream(self) -> impl futures_util::Stream<Item = Result<bytes::Bytes, Error>> {
        futures_util::stream::unfold(self, |mut export| async move {
            export
                .next_chunk()
                .await
                .transpose()
                .map(|chunk| (chunk, export))
        })
    }
}
