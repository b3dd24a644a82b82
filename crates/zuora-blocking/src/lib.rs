//! # zuora-blocking: Zuora's Reporting API from synchronous code
//!
//! A thin transport (ureq 3) over [`zuora_core`]: every decision (what to send, how to read
//! the answer, when to retry, when to refresh the token) is the core's; this crate sends
//! bytes and sleeps. `zuora-async` offers the same API on reqwest + tokio.
//!
//! ```no_run
//! use zuora_blocking::{Client, RunReportOptions, ViewType};
//!
//! let client = Client::builder()
//!     .environment(zuora_core::Environment::UsCloud2ApiSandbox)
//!     .credentials("my-client-id", "my-client-secret")
//!     .build()?;
//! let started = client.run_report(
//!     &"ff808081529f4e3401529fd373730070".parse()?,
//!     ViewType::Detail,
//!     RunReportOptions::default().track_id("nightly-invoices".parse()?),
//! )?;
//! println!("run {} (request {:?})", started.report_run_id, started.request_id());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Retries follow [`RetryPolicy`]: 429 waits for `Retry-After`, 5xx and broken connections
//! are retried (a *Run a report* call always carries an idempotency key, so a retry never
//! starts a second run), a 401 refreshes the token once. Clones share one token, and only
//! one thread fetches it when it expires.

mod transport;

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

pub use transport::{UreqError, UreqTransport};
use zuora_core::{
    AccessToken, BuildClient, Call, Step, SyncTransport, TokenCache, TransportFailure,
};
use zuora_core::{
    CancelReportRun, ExportDecoder, ExportReportRun, GetReportRun, LatestReportRun, ResponseMeta,
    SyncStreamingTransport, TransportErrorKind, Wait, WaitStep, is_gzipped, resolve_report_name,
};
pub use zuora_core::{
    ClientBuilder, ClientConfig, Environment, Error, ExportFormat, ExportSummary, Operation,
    ReportId, ReportRef, ReportRun, ReportRunId, ReportRunStarted, ReportSummary, RetryPolicy,
    RunReportOptions, RunStatus, ViewType, WaitControl, WaitOptions,
};

/// A Zuora Reporting client. Cheap to clone; clones share the token and the connection pool.
pub struct Client<T = UreqTransport> {
    inner: Arc<Inner<T>>,
}

struct Inner<T> {
    config: ClientConfig,
    transport: T,
    /// Held while a token is fetched, so concurrent calls wait for one fetch.
    tokens: Mutex<TokenCache>,
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
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A builder: environment or base URL, credentials, timeouts, retries, gzip, user agent.
    pub fn builder() -> ClientBuilder<Self> {
        ClientBuilder::new()
    }
}

impl BuildClient for Client {
    fn from_config(config: ClientConfig) -> Result<Self, Error> {
        let transport = UreqTransport::new(&config);
        Ok(Self::with_transport(config, transport))
    }
}

impl<T: SyncTransport> Client<T> {
    /// A client over your own HTTP stack.
    pub fn with_transport(config: ClientConfig, transport: T) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                transport,
                tokens: Mutex::new(TokenCache::default()),
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// *Run a report*: starts a run and returns its id with the response's request id.
    /// Without an idempotency key in `options`, one is made for this call and sent with
    /// every attempt.
    pub fn run_report(
        &self,
        report_id: &ReportId,
        view_type: ViewType,
        options: RunReportOptions,
    ) -> Result<ReportRunStarted, Error> {
        let operation = self
            .inner
            .config
            .run_report(report_id, view_type, options, random_bytes());
        self.execute(operation)
    }

    /// Runs any operation through the core's retry and token logic.
    pub fn execute<O: Operation>(&self, operation: O) -> Result<O::Output, Error> {
        self.execute_within(operation, Duration::MAX)
    }

    /// [`execute`](Self::execute), the whole call cut to `budget`.
    fn execute_within<O: Operation>(
        &self,
        operation: O,
        budget: Duration,
    ) -> Result<O::Output, Error> {
        let finished = self.drive(operation, random_seed(), budget, |request| {
            self.inner
                .transport
                .send(request)
                .map(Sent::<()>::Answer)
                .map_err(|e| TransportFailure::from_error(&e))
        })?;
        match finished {
            Finished::Output(output) => Ok(output),
            Finished::Stream(()) => Err(Error::RequestBuild {
                reason: "unreachable: no stream was asked for".to_owned(),
            }),
        }
    }

    /// The one loop every call goes through: the core decides, this sends, sleeps and
    /// fetches tokens. `send` returns a whole answer for the core to read, or a stream that
    /// ends the loop (a successful export).
    fn drive<O: Operation, S>(
        &self,
        operation: O,
        seed: u64,
        budget: Duration,
        mut send: impl FnMut(zuora_core::HttpRequest) -> Result<Sent<S>, TransportFailure>,
    ) -> Result<Finished<O::Output, S>, Error> {
        let span = tracing::info_span!("zuora.call", operation = operation.name());
        let _entered = span.enter();
        let mut call = Call::new(operation, &self.inner.config, now(), seed).within(budget);
        let mut step = call.start();
        loop {
            step = match step {
                Step::NeedToken { refresh } => {
                    let stale = if refresh {
                        call.stale_token().cloned()
                    } else {
                        None
                    };
                    call.with_token(self.token(stale.as_ref(), budget)?)
                }
                Step::Send(request) => {
                    let attempt = call.attempts();
                    match send(request) {
                        Ok(Sent::Answer(response)) => {
                            trace_response(attempt, &response);
                            call.on_response(response, now())
                        }
                        Ok(Sent::Stream(stream)) => return Ok(Finished::Stream(stream)),
                        Err(failure) => {
                            tracing::debug!(attempt, kind = %failure.kind, sent = failure.may_have_been_sent, "transport failed");
                            call.on_transport_error(failure, now())
                        }
                    }
                }
                Step::Wait(delay) => {
                    tracing::debug!(
                        delay_ms = delay.as_millis() as u64,
                        "retrying after a delay"
                    );
                    std::thread::sleep(delay);
                    call.resume()
                }
                Step::Done(result) => return result.map(Finished::Output),
            };
        }
    }

    /// The cached token, or a new one; `stale` was refused by Zuora. Holding the lock
    /// during the fetch makes it single-flight.
    fn token(&self, stale: Option<&AccessToken>, budget: Duration) -> Result<AccessToken, Error> {
        let mut cache = self.inner.tokens.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(stale) = stale {
            cache.invalidate(stale);
        }
        if let Some(token) = cache.usable(Instant::now()) {
            return Ok(token);
        }
        let issued = Instant::now();
        let token = self.execute_within(self.inner.config.token_request(), budget)?;
        cache.store(token.access_token.clone(), token.expires_in, issued);
        Ok(token.access_token)
    }
}

/// The time as the core wants it: monotonic for deadlines, wall clock for HTTP dates.
fn now() -> zuora_core::Now {
    zuora_core::Now::new(Instant::now(), SystemTime::now())
}

fn trace_response(attempt: u32, response: &zuora_core::HttpResponse) {
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    tracing::debug!(
        attempt,
        status = response.status().as_u16(),
        zuora_request_id = header("zuora-request-id"),
        zuora_track_id = header("zuora-track-id"),
        "answer received"
    );
}

/// 16 random bytes from the OS for an idempotency key. Should the OS refuse, the time and a
/// counter stand in: a key must be unique, not secret.
fn random_bytes() -> [u8; 16] {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        bytes[..8].copy_from_slice(&(nanos as u64).to_le_bytes());
        bytes[8..].copy_from_slice(&COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    }
    bytes
}

fn random_seed() -> u64 {
    let bytes = random_bytes();
    u64::from_le_bytes([
        bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
    ])
}

/// The report trip: find, look at, wait for, cancel and read runs.
impl<T: SyncTransport> Client<T> {
    /// Every report whose name, data source or description matches `query`, all pages.
    pub fn search_reports(&self, query: &str) -> Result<Vec<ReportSummary>, Error> {
        let mut search = self.inner.config.search_all(query, Instant::now())?;
        while let Some(page) = search.next_page().cloned() {
            let answer = self.execute(page)?;
            search.on_page(answer, Instant::now())?;
        }
        Ok(search.into_reports())
    }

    /// The one report named exactly `name`; an error names zero or several matches.
    pub fn find_report(&self, name: &str) -> Result<ReportSummary, Error> {
        let found = self.search_reports(name)?;
        resolve_report_name(name, &found).cloned()
    }

    /// *Retrieve a report run*.
    pub fn get_run(&self, run_id: &ReportRunId) -> Result<ReportRun, Error> {
        self.execute(GetReportRun {
            run_id: run_id.clone(),
            options: self.inner.config.call_options(None),
        })
    }

    /// The caller's last completed run of a report (Zuora looks back 60 days).
    pub fn latest_run(&self, report_id: &ReportId) -> Result<ReportRun, Error> {
        self.execute(LatestReportRun {
            report_id: report_id.clone(),
            options: self.inner.config.call_options(None),
        })
    }

    /// Cancels a run in progress; returns Zuora's message.
    pub fn cancel_run(&self, run_id: &ReportRunId) -> Result<String, Error> {
        self.execute(CancelReportRun {
            run_id: run_id.clone(),
            options: self.inner.config.call_options(None),
        })
    }

    /// Waits until the run completes: `ERROR`, `INVALID` and `CANCELLED` are
    /// [`Error::RunEnded`]; the timeout is [`Error::WaitTimedOut`] (after cancelling the run
    /// if `options.cancel_on_timeout`). The timeout bounds every look, one in flight too.
    pub fn wait_for_run(
        &self,
        run_id: &ReportRunId,
        options: WaitOptions,
    ) -> Result<ReportRun, Error> {
        self.wait_for_run_with(run_id, options, |_| WaitControl::Continue)
    }

    /// [`wait_for_run`](Self::wait_for_run), showing each status seen to `observe`, which
    /// may stop the wait ([`WaitControl::Stop`], then [`Error::Interrupted`]).
    pub fn wait_for_run_with(
        &self,
        run_id: &ReportRunId,
        options: WaitOptions,
        mut observe: impl FnMut(&ReportRun) -> WaitControl,
    ) -> Result<ReportRun, Error> {
        let (mut wait, mut step) = Wait::new(run_id.clone(), options, Instant::now());
        loop {
            step = match step {
                WaitStep::Look { budget } => {
                    let look = GetReportRun {
                        run_id: run_id.clone(),
                        options: self.inner.config.call_options(None),
                    };
                    match self.execute_within(look, budget) {
                        Ok(run) => {
                            let control = observe(&run);
                            wait.on_run(run, control, Instant::now())
                        }
                        Err(error) => wait.on_look_failed(error, Instant::now()),
                    }
                }
                WaitStep::Sleep(delay) => {
                    std::thread::sleep(delay);
                    wait.after_sleep(Instant::now())
                }
                WaitStep::Cancel { budget } => {
                    let cancel = CancelReportRun {
                        run_id: run_id.clone(),
                        options: self.inner.config.call_options(None),
                    };
                    wait.on_cancelled(self.execute_within(cancel, budget).is_ok())
                }
                WaitStep::Done(result) => return *result,
            };
        }
    }

    /// Every row of a completed run, page by page (`page_size` rows per request).
    pub fn rows(&self, run_id: &ReportRunId, page_size: u64) -> Rows<'_, T> {
        Rows {
            client: self,
            pages: self
                .inner
                .config
                .data_pages(run_id, page_size, Instant::now()),
            buffered: std::collections::VecDeque::new(),
        }
    }
}

/// What one send produced: an answer for the core, or a stream for the caller.
enum Sent<S> {
    Answer(zuora_core::HttpResponse),
    Stream(S),
}

/// How a driven call ended.
enum Finished<T, S> {
    Output(T),
    Stream(S),
}

/// Exports: streamed, converted on the fly, never held whole.
impl<T: SyncStreamingTransport> Client<T> {
    /// Downloads a completed run's export into `out`, converted to `format` as it arrives
    /// (gzip decoded on the fly). A download cut short is an error, never a success; what
    /// was written before stays in `out` (write to a temporary file and rename on success).
    pub fn download_export<W: Write>(
        &self,
        run_id: &ReportRunId,
        format: ExportFormat,
        out: &mut W,
    ) -> Result<ExportSummary, Error> {
        let operation = ExportReportRun {
            run_id: run_id.clone(),
            pivoted: false,
            options: self.inner.config.call_options(None),
        };
        let max_error_body = self.inner.config.limits.max_decoded_bytes as u64;
        let finished = self.drive(operation, random_seed(), Duration::MAX, |request| {
            let response = self
                .inner
                .transport
                .send_streaming(request)
                .map_err(|e| TransportFailure::from_error(&e))?;
            if response.status() == http::StatusCode::OK {
                return Ok(Sent::Stream(response));
            }
            // A failed answer is small: read it for the core to classify.
            let (parts, body) = response.into_parts();
            let mut bytes = Vec::new();
            body.take(max_error_body + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| TransportFailure::new(TransportErrorKind::Io, true, e.to_string()))?;
            Ok(Sent::Answer(zuora_core::HttpResponse::from_parts(
                parts, bytes,
            )))
        })?;
        let response = match finished {
            Finished::Stream(response) => response,
            Finished::Output(never) => match never {},
        };
        let meta = ResponseMeta::from_response(&response);
        let mut decoder = ExportDecoder::new(format, is_gzipped(response.headers()));
        let mut body = response.into_body();
        let mut chunk = vec![0u8; 64 * 1024];
        let mut converted = Vec::with_capacity(160 * 1024);
        let (mut received, mut written) = (0u64, 0u64);
        let output_failed = |e: std::io::Error| Error::Output(e.to_string());
        loop {
            let n = body.read(&mut chunk).map_err(|e| {
                Error::Transport(TransportFailure::new(
                    TransportErrorKind::Io,
                    true,
                    format!("the export broke off after {received} bytes: {e}"),
                ))
            })?;
            if n == 0 {
                break;
            }
            received += n as u64;
            decoder.feed(&chunk[..n], &mut converted)?;
            out.write_all(&converted).map_err(output_failed)?;
            written += converted.len() as u64;
            converted.clear();
        }
        decoder.finish(&mut converted)?;
        out.write_all(&converted).map_err(output_failed)?;
        out.flush().map_err(output_failed)?;
        written += converted.len() as u64;
        Ok(ExportSummary::new(received, written, meta))
    }
}

/// A row of *Report data as JSON*: field id → value.
pub type Row = serde_json::Map<String, serde_json::Value>;

/// The rows of a run, fetched a page at a time as the iterator advances.
pub struct Rows<'c, T> {
    client: &'c Client<T>,
    pages: zuora_core::DataPages,
    buffered: std::collections::VecDeque<Row>,
}

impl<T: SyncTransport> Iterator for Rows<'_, T> {
    type Item = Result<Row, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(row) = self.buffered.pop_front() {
                return Some(Ok(row));
            }
            let request = self.pages.next_page()?.clone();
            let page = self
                .client
                .execute(request)
                .and_then(|page| self.pages.on_page(page, Instant::now()));
            match page {
                Ok(rows) => self.buffered.extend(rows),
                Err(error) => {
                    self.pages.stop();
                    return Some(Err(error));
                }
            }
        }
    }
}

impl<T: SyncStreamingTransport> Client<T> {
    /// The whole trip in one call: resolve `report` (by id, or by exact name through
    /// search), run it, wait for it, and write its results to `out` as `format`.
    pub fn run_and_download<W: Write>(
        &self,
        report: &ReportRef,
        view_type: ViewType,
        options: RunReportOptions,
        wait: WaitOptions,
        format: ExportFormat,
        out: &mut W,
    ) -> Result<(ReportRun, ExportSummary), Error> {
        let report_id = match report {
            ReportRef::Id(id) => id.clone(),
            ReportRef::Name(name) => self.find_report(name)?.id,
        };
        let started = self.run_report(&report_id, view_type, options)?;
        let run = self.wait_for_run(&started.report_run_id, wait)?;
        let summary = self.download_export(&run.id, format, out)?;
        Ok((run, summary))
    }
}
