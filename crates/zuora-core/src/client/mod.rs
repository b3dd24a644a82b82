//! The client every transport shares: each user-level operation is one method here, written
//! once, that starts a [`Task`] (or one call) and hands it to the
//! transport's [`Driver`]. `zuora_blocking::Client` and `zuora_async::Client` are this type
//! over their drivers: a method returns the value itself with the first, a future of it
//! with the second.
//!
//! The top layer: it may use every module below it.

mod driver;

use std::sync::Arc;

pub use driver::{Driver, ExportDriver, Job, Observer, Platform, Running, WriteExport};

use crate::config::{BuildClient, ClientBuilder, ClientConfig, RunReportOptions};
use crate::driver::Now;
use crate::errors::error::Error;
use crate::exports::{ExportFormat, ExportSummary};
use crate::machines::{Exchange, RowSource, Session, Task, TaskOutput, TaskStep, WaitControl};
use crate::operations::{Operation, ReportRun, ReportRunStarted, ReportSummary};
use crate::policies::WaitOptions;
use crate::pulls::{Work, WorkDone};
use crate::values::{ReportId, ReportName, ReportRef, ReportRunId, ViewType};

/// A [`Driver`] whose transport can be made from the configuration alone (the one its
/// crate ships), so [`Client::builder`] can build it.
pub trait DefaultTransport: Driver {
    /// Its crate's own transport, set up as `config` says.
    fn default_transport(config: &ClientConfig) -> Result<Self::Transport, Error>;
}

/// A Zuora Reporting client over the driver `D`. Cheap to clone; clones share the token
/// and the transport (its connection pool).
///
/// Every method is one [`Task`] of the core (or one call), driven by
/// the driver's one loop: it sends what the task asks, sleeps when told, and hands back what
/// came. With `zuora_blocking` a method returns its result; with `zuora_async` it returns a
/// future of it (add `.await`).
pub struct Client<D> {
    shared: Arc<Shared<D>>,
}

/// What every clone of a client shares.
struct Shared<D> {
    /// The configuration, token cache (single-flight fetches) and entropy.
    session: Session,
    driver: D,
}

impl<D> Clone for Client<D> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<D: Driver> std::fmt::Debug for Client<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("config", self.config())
            .finish_non_exhaustive()
    }
}

impl<D: DefaultTransport> BuildClient for Client<D> {
    fn from_config(config: ClientConfig) -> Result<Self, Error> {
        let transport = D::default_transport(&config)?;
        Ok(Self::with_transport(config, transport))
    }
}

impl<D: DefaultTransport> Client<D> {
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

impl<D: Driver> Client<D> {
    /// A client sending with `transport`: your own HTTP stack, or the transport crate's
    /// own set up your way (a corporate CA, a proxy, a shared connection pool).
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use zuora_blocking::{Client, ClientConfig, Environment, UreqTransport, ureq};
    /// let config = ClientConfig::builder()
    ///     .environment(Environment::UsCloud2ApiSandbox)
    ///     .credentials("client-id", "client-secret")
    ///     .into_config()?;
    /// let agent: ureq::Agent = ureq::Agent::config_builder().build().into();
    /// let transport = UreqTransport::with_agent(agent, &config);
    /// let client = Client::with_transport(config, transport);
    /// # Ok(()) }
    /// ```
    pub fn with_transport(config: ClientConfig, transport: D::Transport) -> Self {
        let driver = D::new(transport);
        let seed = D::Platform::seed();
        let session = Session::new(config, seed).on_token_settled(driver.token_waker());
        Self {
            shared: Arc::new(Shared { session, driver }),
        }
    }

    /// The driver.
    pub fn driver(&self) -> &D {
        &self.shared.driver
    }

    /// The configuration, token cache and entropy the client's calls share.
    pub fn session(&self) -> &Session {
        &self.shared.session
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        self.shared.session.config()
    }

    /// A task's job, started now.
    fn task<T>(
        &self,
        name: &'static str,
        start: impl FnOnce(&Session, Now) -> Result<(Task, TaskStep), Error>,
        finish: fn(TaskOutput) -> Result<T, Error>,
    ) -> Job<'_, Task, T> {
        let (session, now) = (self.session(), D::Platform::now());
        Job::new(name, session, now, start(session, now), finish)
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
    /// # fn blocking(client: zuora_blocking::Client) -> Result<(), zuora_blocking::Error> {
    /// let run_id = "ff808081529f4e3401529fd61f080074".parse()?;
    /// let run = client.execute(client.config().get_run(&run_id))?;
    /// # Ok(()) }
    /// # async fn with_tokio(client: zuora_async::Client) -> Result<(), zuora_async::Error> {
    /// # let run_id = "ff808081529f4e3401529fd61f080074".parse()?;
    /// let run = client.execute(client.config().get_run(&run_id)).await?; // zuora_async
    /// # Ok(()) }
    /// ```
    pub fn execute<'a, O>(&'a self, operation: O) -> D::Call<'a, O::Output>
    where
        O: Operation + Send + 'a,
        O::Output: Send + 'a,
    {
        let session = self.session();
        let now = D::Platform::now();
        let name = operation.name();
        let start = Exchange::start(session, session.call(operation, now), now);
        self.driver()
            .call(Job::new(name, session, now, Ok(start), Ok))
    }

    /// *Run a report*: starts a run and returns its id with the answer's request id. Without
    /// an idempotency key in `options`, one is made for this call and sent with every
    /// attempt, so a retry never starts a second run.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before anything is sent
    /// (a bad filter, say); [`ErrorKind::ReportNotFound`](crate::ErrorKind::ReportNotFound),
    /// [`ErrorKind::WrongViewType`](crate::ErrorKind::WrongViewType),
    /// [`ErrorKind::Authentication`](crate::ErrorKind::Authentication),
    /// [`ErrorKind::RateLimited`](crate::ErrorKind::RateLimited) (after the retries), or a
    /// transport failure.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn blocking(client: zuora_blocking::Client) -> Result<(), zuora_blocking::Error> {
    /// use zuora_blocking::{RunReportOptions, ViewType};
    /// let report = "ff808081529f4e3401529fd373730070".parse()?;
    /// let started = client.run_report(&report, ViewType::Detail, RunReportOptions::default())?;
    /// println!("run {}", started.report_run_id);
    /// # Ok(()) }
    /// # async fn with_tokio(client: zuora_async::Client) -> Result<(), zuora_async::Error> {
    /// # use zuora_async::{RunReportOptions, ViewType};
    /// # let report = "ff808081529f4e3401529fd373730070".parse()?;
    /// let started = client.run_report(&report, ViewType::Detail, RunReportOptions::default()).await?;
    /// # Ok(()) }
    /// ```
    pub fn run_report(
        &self,
        report_id: &ReportId,
        view_type: ViewType,
        options: RunReportOptions,
    ) -> D::Call<'_, ReportRunStarted> {
        // One call, no composition: the Exchange alone (no task around it) keeps the hot
        // path as lean as a raw client's.
        let key = self.session().entropy().key_bytes();
        self.execute(self.config().run_report(report_id, view_type, options, key))
    }

    /// Every report whose name, data source or description matches `query`, over every page.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for an empty query
    /// (nothing sent); [`ErrorKind::PagingStopped`](crate::ErrorKind::PagingStopped) when
    /// paging meets a repeated page, the page cap or the overall timeout; an error answer or
    /// a transport failure.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn blocking(client: zuora_blocking::Client) -> Result<(), zuora_blocking::Error> {
    /// for report in client.search_reports("invoice")? {
    ///     println!("{} {}", report.id, report.name);
    /// }
    /// # Ok(()) }
    /// # async fn with_tokio(client: zuora_async::Client) -> Result<(), zuora_async::Error> {
    /// let reports = client.search_reports("invoice").await?; // zuora_async
    /// # Ok(()) }
    /// ```
    pub fn search_reports(&self, query: &str) -> D::Call<'_, Vec<ReportSummary>> {
        let job = self.task(
            "search_reports",
            |session, now| Task::search(session, query, now),
            TaskOutput::into_reports,
        );
        self.driver().call(job)
    }

    /// The one report named exactly `name` (a search, then the exact match).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::ReportNotFound`](crate::ErrorKind::ReportNotFound) when no report has
    /// that name, [`ErrorKind::AmbiguousReportName`](crate::ErrorKind::AmbiguousReportName)
    /// when several do, and what [`search_reports`](Self::search_reports) can fail with.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn blocking(client: zuora_blocking::Client) -> Result<(), zuora_blocking::Error> {
    /// let report = client.find_report("Invoice Detail")?;
    /// # Ok(()) }
    /// # async fn with_tokio(client: zuora_async::Client) -> Result<(), zuora_async::Error> {
    /// let report = client.find_report("Invoice Detail").await?; // zuora_async
    /// # Ok(()) }
    /// ```
    pub fn find_report(&self, name: &str) -> D::Call<'_, ReportSummary> {
        let job = self.task(
            "find_report",
            |session, now| {
                let name: ReportName = name.parse()?;
                Task::find_report(session, &ReportRef::Name(name), now)
            },
            TaskOutput::into_report,
        );
        self.driver().call(job)
    }

    /// *Retrieve a report run*: its status and times.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::RunNotFound`](crate::ErrorKind::RunNotFound) for an unknown run; an
    /// error answer or a transport failure.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn blocking(client: zuora_blocking::Client) -> Result<(), zuora_blocking::Error> {
    /// let run = client.get_run(&"ff808081529f4e3401529fd61f080074".parse()?)?;
    /// println!("{}", run.status);
    /// # Ok(()) }
    /// # async fn with_tokio(client: zuora_async::Client) -> Result<(), zuora_async::Error> {
    /// let run = client.get_run(&"ff808081529f4e3401529fd61f080074".parse()?).await?; // zuora_async
    /// # Ok(()) }
    /// ```
    pub fn get_run(&self, run_id: &ReportRunId) -> D::Call<'_, ReportRun> {
        self.execute(self.config().get_run(run_id))
    }

    /// The caller's last completed run of a report (Zuora looks back 60 days).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NoCompletedRun`](crate::ErrorKind::NoCompletedRun) when there is none;
    /// an error answer or a transport failure.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn blocking(client: zuora_blocking::Client) -> Result<(), zuora_blocking::Error> {
    /// let run = client.latest_run(&"ff808081529f4e3401529fd373730070".parse()?)?;
    /// # Ok(()) }
    /// # async fn with_tokio(client: zuora_async::Client) -> Result<(), zuora_async::Error> {
    /// let run = client.latest_run(&"ff808081529f4e3401529fd373730070".parse()?).await?; // zuora_async
    /// # Ok(()) }
    /// ```
    pub fn latest_run(&self, report_id: &ReportId) -> D::Call<'_, ReportRun> {
        self.execute(self.config().latest_run(report_id))
    }

    /// Cancels a run in progress; returns Zuora's message.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::RunNotFound`](crate::ErrorKind::RunNotFound) for an unknown run; an
    /// error answer (a run already over) or a transport failure.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn blocking(client: zuora_blocking::Client) -> Result<(), zuora_blocking::Error> {
    /// let message = client.cancel_run(&"ff808081529f4e3401529fd61f080074".parse()?)?;
    /// # Ok(()) }
    /// # async fn with_tokio(client: zuora_async::Client) -> Result<(), zuora_async::Error> {
    /// let message = client.cancel_run(&"ff808081529f4e3401529fd61f080074".parse()?).await?; // zuora_async
    /// # Ok(()) }
    /// ```
    pub fn cancel_run(&self, run_id: &ReportRunId) -> D::Call<'_, String> {
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
    /// # fn blocking(client: zuora_blocking::Client) -> Result<(), zuora_blocking::Error> {
    /// use zuora_blocking::WaitOptions;
    /// let run_id = "ff808081529f4e3401529fd61f080074".parse()?;
    /// let run = client.wait_for_run(&run_id, WaitOptions::default())?;
    /// # Ok(()) }
    /// # async fn with_tokio(client: zuora_async::Client) -> Result<(), zuora_async::Error> {
    /// # let run_id = "ff808081529f4e3401529fd61f080074".parse()?;
    /// # use zuora_async::WaitOptions;
    /// let run = client.wait_for_run(&run_id, WaitOptions::default()).await?; // zuora_async
    /// # Ok(()) }
    /// ```
    pub fn wait_for_run(
        &self,
        run_id: &ReportRunId,
        options: WaitOptions,
    ) -> D::Call<'_, ReportRun> {
        let job = self.task(
            "wait_for_run",
            |session, now| Ok(Task::wait(session, run_id, options, false, now)),
            TaskOutput::into_run,
        );
        self.driver().call(job)
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
    /// # fn blocking(client: zuora_blocking::Client) -> Result<(), zuora_blocking::Error> {
    /// use zuora_blocking::{WaitOptions, machines::WaitControl};
    /// let run_id = "ff808081529f4e3401529fd61f080074".parse()?;
    /// let run = client.wait_for_run_with(&run_id, WaitOptions::default(), |run| {
    ///     println!("{}", run.status);
    ///     WaitControl::Continue
    /// })?;
    /// # Ok(()) }
    /// ```
    pub fn wait_for_run_with<'a>(
        &'a self,
        run_id: &ReportRunId,
        options: WaitOptions,
        observe: impl FnMut(&ReportRun) -> WaitControl + Send + 'a,
    ) -> D::Call<'a, ReportRun> {
        let job = self.task(
            "wait_for_run",
            |session, now| Ok(Task::wait(session, run_id, options, true, now)),
            TaskOutput::into_run,
        );
        self.driver().call(job.observed(Box::new(observe)))
    }

    /// Every row of a completed run (*Report data as JSON*), fetched a page (`page_size`
    /// rows) at a time as they are read; nothing is sent until the first row is asked for.
    /// An iterator with `zuora_blocking`, an async source with `zuora_async`; either holds a
    /// clone of the client, so it can outlive this borrow.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn blocking(client: zuora_blocking::Client) -> Result<(), zuora_blocking::Error> {
    /// let run_id = "ff808081529f4e3401529fd61f080074".parse()?;
    /// for row in client.rows(&run_id, 1000) {
    ///     println!("{:?}", row?);
    /// }
    /// # Ok(()) }
    /// # async fn with_tokio(client: zuora_async::Client) -> Result<(), zuora_async::Error> {
    /// # let run_id = "ff808081529f4e3401529fd61f080074".parse()?;
    /// let mut rows = client.rows(&run_id, 1000); // zuora_async
    /// while let Some(row) = rows.next().await {
    ///     println!("{:?}", row?);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn rows(&self, run_id: &ReportRunId, page_size: u64) -> D::Rows {
        let task = Task::rows(self.session(), run_id, page_size, D::Platform::now());
        D::rows(self.clone(), RowSource::new(task))
    }
}

/// Exports: streamed, converted on the fly, never held whole.
impl<D: ExportDriver> Client<D> {
    /// A completed run's export as a source that yields it converted to `format` as it
    /// arrives (gzip decoded on the fly): a `Read` with `zuora_blocking`, a stream of chunks
    /// with `zuora_async`.
    ///
    /// # Errors
    ///
    /// Errors before the first byte (unknown run,
    /// [`ErrorKind::RunNotCompleted`](crate::ErrorKind::RunNotCompleted), refused,
    /// unreachable) come here; a body that breaks off or stalls ends the source with an
    /// [`ErrorKind::ExportBroken`](crate::ErrorKind::ExportBroken) error, never with a clean
    /// end.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn blocking(client: zuora_blocking::Client) -> Result<(), zuora_blocking::Error> {
    /// use zuora_blocking::ExportFormat;
    /// let run_id = "ff808081529f4e3401529fd61f080074".parse()?;
    /// let mut export = client.open_export(&run_id, ExportFormat::Csv)?;
    /// std::io::copy(&mut export, &mut std::io::stdout()).map_err(zuora_blocking::Error::output)?;
    /// # Ok(()) }
    /// # async fn with_tokio(client: zuora_async::Client) -> Result<(), zuora_async::Error> {
    /// # let run_id = "ff808081529f4e3401529fd61f080074".parse()?;
    /// let mut export = client.open_export(&run_id, zuora_async::ExportFormat::Csv).await?;
    /// while let Some(chunk) = export.next_chunk().await? {
    ///     print!("{}", String::from_utf8_lossy(&chunk));
    /// }
    /// # Ok(()) }
    /// ```
    pub fn open_export(
        &self,
        run_id: &ReportRunId,
        format: ExportFormat,
    ) -> D::Call<'_, D::Export> {
        let job = self.task(
            "open_export",
            |session, now| Ok(Task::download(session, run_id, format, now)),
            |_| Ok(()),
        );
        self.driver().open_export(job)
    }

    /// Downloads a completed run's export into `out` (a `Write` with `zuora_blocking`, an
    /// `AsyncWrite` with `zuora_async`), converted to `format` as it arrives. What was
    /// written before a failure stays in `out`: write to a temporary file and rename it on
    /// success.
    ///
    /// # Errors
    ///
    /// As [`open_export`](Self::open_export), and
    /// [`ErrorKind::Output`](crate::ErrorKind::Output) when `out` refuses a write.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn blocking(client: zuora_blocking::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// use zuora_blocking::ExportFormat;
    /// let run_id = "ff808081529f4e3401529fd61f080074".parse()?;
    /// let mut out = std::fs::File::create("invoices.csv")?;
    /// let summary = client.download_export(&run_id, ExportFormat::Csv, &mut out)?;
    /// # Ok(()) }
    /// # async fn with_tokio(client: zuora_async::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// # let run_id = "ff808081529f4e3401529fd61f080074".parse()?;
    /// let mut out = tokio::fs::File::create("invoices.csv").await?;
    /// let summary = client.download_export(&run_id, zuora_async::ExportFormat::Csv, &mut out).await?;
    /// # Ok(()) }
    /// ```
    pub fn download_export<'a, W: ?Sized>(
        &'a self,
        run_id: &ReportRunId,
        format: ExportFormat,
        out: &'a mut W,
    ) -> D::Call<'a, ExportSummary>
    where
        D: WriteExport<W>,
    {
        let job = self.task(
            "download_export",
            |session, now| Ok(Task::download(session, run_id, format, now)),
            TaskOutput::into_export,
        );
        self.driver().write_export(job, out)
    }

    /// Runs one piece of a [`Pull`](crate::pulls::Pull) (see there for the loop): finds its
    /// report, or pulls its window (the run started with the window's filters and key, each
    /// status shown to `observe`, whose answer the pull gives, the export converted into
    /// `out`, the window's file). `out` is not written for a search.
    ///
    /// # Errors
    ///
    /// What the work's task ended with; the pull decides what follows
    /// ([`Pull::finished`](crate::pulls::Pull::finished)).
    pub fn pull_work<'a, W: ?Sized>(
        &'a self,
        work: &Work,
        observe: Observer<'a>,
        out: &'a mut W,
    ) -> D::Call<'a, WorkDone>
    where
        D: WriteExport<W>,
    {
        let (session, now) = (self.session(), D::Platform::now());
        let start = work.task(session, now);
        let job = Job::new("pull", session, now, start, WorkDone::from_output).observed(observe);
        match work.output() {
            None => self.driver().call(job),
            Some(_) => self.driver().write_export(job, out),
        }
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
    /// # fn blocking(client: zuora_blocking::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// use zuora_blocking::{ExportFormat, ReportRef, RunReportOptions, ViewType, WaitOptions};
    /// let mut csv = Vec::new();
    /// let (run, summary) = client.run_and_download(
    ///     &ReportRef::parse("Invoice Detail")?,
    ///     ViewType::Detail,
    ///     RunReportOptions::default(),
    ///     WaitOptions::default(),
    ///     ExportFormat::Csv,
    ///     &mut csv,
    /// )?; // with zuora_async: .await?
    /// # Ok(()) }
    /// ```
    pub fn run_and_download<'a, W: ?Sized>(
        &'a self,
        report: &ReportRef,
        view_type: ViewType,
        options: RunReportOptions,
        wait: WaitOptions,
        format: ExportFormat,
        out: &'a mut W,
    ) -> D::Call<'a, (ReportRun, ExportSummary)>
    where
        D: WriteExport<W>,
    {
        let job = self.task(
            "run_and_download",
            |session, now| {
                Task::trip(
                    session, report, view_type, options, wait, format, false, now,
                )
            },
            TaskOutput::into_trip,
        );
        self.driver().write_export(job, out)
    }
}

#[cfg(test)]
mod tests;
