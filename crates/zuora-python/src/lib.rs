//! `zuora_reporting._native`: zuora-core's engine for a Python driver.
//!
//! The sans-IO split, across languages: Python (httpx) sends bytes and sleeps; everything
//! else — validation, requests, retries, token caching, waiting, paging, export conversion —
//! is decided here, by the same machines the Rust transports drive. Each machine hands
//! Python a [`Step`] (fetch a token, send this, wait this long, done) and takes back what
//! happened. No secret crosses into Python except inside the `Authorization` header of a
//! request Python must send.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use zuora_core::driver::{
    HttpRequest, HttpResponse, Now, TransportErrorKind, TransportFailure, answer_from_parts,
    stamped_timeouts,
};
use zuora_core::exports::ExportSummary as CoreExportSummary;
use zuora_core::machines::{
    Call as CoreCall, DataPages, Download as CoreDownload, Entropy, ExportHead, SearchAll, Session,
    Step as CoreStep, Wait as CoreWait, WaitControl, WaitStep,
};
use zuora_core::operations::{
    CancelReportRun, DataPage, ExportReportRun, GetReportRun, LatestReportRun, Operation,
    ReportDataPage, ReportRunStarted, ReportSummary as CoreSummary, RunReport, SearchPage,
    SearchReports, Token as CoreToken, TokenRequest,
};
use zuora_core::policies::PollPolicy;
use zuora_core::values::AccessToken;
use zuora_core::{
    ClientConfig, Environment, Error, ErrorKind, ExportFormat, ReportId, ReportRef,
    ReportRun as CoreRun, ReportRunId, RetryPolicy, RunReportOptions, ViewType, WaitOptions,
};

create_exception!(
    zuora_reporting,
    ZuoraError,
    PyException,
    "Any failure of a Zuora call."
);
create_exception!(
    zuora_reporting,
    InvalidInputError,
    ZuoraError,
    "An argument broke a rule; nothing was sent."
);
create_exception!(
    zuora_reporting,
    AuthenticationError,
    ZuoraError,
    "The credentials or the token were refused."
);
create_exception!(
    zuora_reporting,
    PermissionDeniedError,
    ZuoraError,
    "The credentials are not allowed to do this."
);
create_exception!(
    zuora_reporting,
    NotFoundError,
    ZuoraError,
    "A report or run does not exist."
);
create_exception!(
    zuora_reporting,
    ReportNotFoundError,
    NotFoundError,
    "No report has this id, or none has exactly this name."
);
create_exception!(
    zuora_reporting,
    RunNotFoundError,
    NotFoundError,
    "No run has this id."
);
create_exception!(
    zuora_reporting,
    AmbiguousReportNameError,
    ZuoraError,
    "Several reports have exactly this name."
);
create_exception!(
    zuora_reporting,
    RunNotCompletedError,
    ZuoraError,
    "The run has not completed, so it has no results."
);
create_exception!(
    zuora_reporting,
    NoCompletedRunError,
    ZuoraError,
    "The caller never ran this report to completion."
);
create_exception!(
    zuora_reporting,
    WrongViewTypeError,
    ZuoraError,
    "The report cannot run with this view type."
);
create_exception!(
    zuora_reporting,
    RateLimitedError,
    ZuoraError,
    "Zuora refused for a rate or concurrency limit."
);
create_exception!(
    zuora_reporting,
    RunEndedError,
    ZuoraError,
    "The run ended without results (ERROR, INVALID or CANCELLED)."
);
create_exception!(
    zuora_reporting,
    TimedOutError,
    ZuoraError,
    "The deadline came first."
);
// Not `InterruptedError`: that name is a Python builtin (EINTR), which `from zuora_reporting
// import *` would shadow.
create_exception!(
    zuora_reporting,
    OperationInterruptedError,
    ZuoraError,
    "The caller stopped the work (a wait's `on_status` returned True)."
);
create_exception!(
    zuora_reporting,
    TransportError,
    ZuoraError,
    "No complete answer arrived (connection, DNS, TLS, timeout)."
);
create_exception!(
    zuora_reporting,
    PagingStoppedError,
    ZuoraError,
    "A paged read was stopped (repeated page, page cap)."
);
create_exception!(
    zuora_reporting,
    ExportBrokenError,
    ZuoraError,
    "The export could not be read: corrupt, cut short or stalled."
);
create_exception!(
    zuora_reporting,
    ApiError,
    ZuoraError,
    "Any other error answer from Zuora."
);

/// The Python exception for a core error: its class follows `kind()`, and it carries
/// `kind`, `status`, `request_id`, `track_id`, `retryable` and `host` attributes.
fn to_py_err(py: Python<'_>, error: &Error) -> PyErr {
    let message = error.to_string();
    let kind = error.kind();
    let err = match &kind {
        ErrorKind::InvalidInput => InvalidInputError::new_err(message),
        ErrorKind::Authentication => AuthenticationError::new_err(message),
        ErrorKind::PermissionDenied => PermissionDeniedError::new_err(message),
        ErrorKind::ReportNotFound => ReportNotFoundError::new_err(message),
        ErrorKind::RunNotFound => RunNotFoundError::new_err(message),
        ErrorKind::AmbiguousReportName => AmbiguousReportNameError::new_err(message),
        ErrorKind::RunNotCompleted => RunNotCompletedError::new_err(message),
        ErrorKind::NoCompletedRun => NoCompletedRunError::new_err(message),
        ErrorKind::WrongViewType => WrongViewTypeError::new_err(message),
        ErrorKind::RateLimited => RateLimitedError::new_err(message),
        ErrorKind::RunEnded { .. } => RunEndedError::new_err(message),
        ErrorKind::TimedOut => TimedOutError::new_err(message),
        ErrorKind::Interrupted => OperationInterruptedError::new_err(message),
        ErrorKind::Transport { .. } => TransportError::new_err(message),
        ErrorKind::PagingStopped => PagingStoppedError::new_err(message),
        ErrorKind::ExportBroken => ExportBrokenError::new_err(message),
        _ => ApiError::new_err(message),
    };
    let value = err.value(py);
    // Setting plain attributes on a fresh exception instance cannot fail in practice; if
    // it did, the exception is still raised, only poorer.
    let _ = value.setattr("kind", kind.as_str());
    let _ = value.setattr("status", error.status());
    let _ = value.setattr("request_id", error.request_id());
    let _ = value.setattr("track_id", error.track_id());
    let _ = value.setattr("retryable", error.is_retryable());
    let _ = value.setattr("host", error.host());
    err
}

fn invalid(py: Python<'_>, error: impl Into<Error>) -> PyErr {
    to_py_err(py, &error.into())
}

fn now() -> Now {
    Now::new(Instant::now(), SystemTime::now())
}

fn seconds(value: f64, field: &'static str) -> Result<Duration, Error> {
    Duration::try_from_secs_f64(value).map_err(|_| {
        zuora_core::errors::InvalidInput::Malformed {
            field,
            reason: format!("{value} is not a number of seconds"),
        }
        .into()
    })
}

/// The engine of one client: its configuration, the token cache and the entropy for
/// idempotency keys and jitter. Thread-safe; share one per client.
#[pyclass(frozen, module = "zuora_reporting._native")]
struct Engine {
    /// The core's session: configuration, token cache, entropy.
    session: Session,
}

#[pymethods]
impl Engine {
    #[new]
    #[pyo3(signature = (*, client_id, client_secret, base_url=None, environment=None, entity_ids=None,
        connect_timeout=None, attempt_timeout=None, overall_timeout=None, idle_timeout=None,
        max_attempts=None, user_agent=None, gzip_responses=true, seed=0))]
    #[allow(clippy::too_many_arguments)] // Python keyword arguments, one per setting.
    fn new(
        py: Python<'_>,
        client_id: &str,
        client_secret: &str,
        base_url: Option<&str>,
        environment: Option<&str>,
        entity_ids: Option<&str>,
        connect_timeout: Option<f64>,
        attempt_timeout: Option<f64>,
        overall_timeout: Option<f64>,
        idle_timeout: Option<f64>,
        max_attempts: Option<u32>,
        user_agent: Option<&str>,
        gzip_responses: bool,
        seed: u64,
    ) -> PyResult<Self> {
        let build = || -> Result<ClientConfig, Error> {
            let mut builder = ClientConfig::builder()
                .credentials(client_id, client_secret)
                .gzip_responses(gzip_responses);
            builder = match (base_url, environment) {
                (Some(url), None) => builder.base_url(url),
                (None, Some(name)) => builder.environment(name.parse::<Environment>()?),
                (None, None) => {
                    return Err(zuora_core::errors::InvalidInput::Empty {
                        field: "base_url or environment",
                    }
                    .into());
                }
                (Some(_), Some(_)) => {
                    return Err(zuora_core::errors::InvalidInput::Malformed {
                        field: "base_url or environment",
                        reason: "give one, not both".to_owned(),
                    }
                    .into());
                }
            };
            if let Some(ids) = entity_ids {
                builder = builder.entity_ids(ids);
            }
            if let Some(value) = connect_timeout {
                builder = builder.connect_timeout(seconds(value, "connect_timeout")?);
            }
            if let Some(value) = attempt_timeout {
                builder = builder.attempt_timeout(seconds(value, "attempt_timeout")?);
            }
            if let Some(value) = overall_timeout {
                builder = builder.overall_timeout(seconds(value, "overall_timeout")?);
            }
            if let Some(value) = idle_timeout {
                builder = builder.idle_timeout(seconds(value, "idle_timeout")?);
            }
            if let Some(attempts) = max_attempts {
                builder = builder.retry(RetryPolicy::default().with_max_attempts(attempts)?);
            }
            if let Some(agent) = user_agent {
                builder = builder.user_agent(agent);
            }
            builder.into_config()
        };
        let config = build().map_err(|e| to_py_err(py, &e))?;
        let seed = if seed == 0 {
            Entropy::seed_from(getrandom::u64().ok(), SystemTime::now(), std::process::id())
        } else {
            seed
        };
        Ok(Self {
            session: Session::new(config, seed),
        })
    }

    fn __repr__(&self) -> String {
        format!(
            "Engine(base_url={:?}, client_id={:?})",
            self.session.config().environment().base_url(),
            self.session.config().client_id().as_str()
        )
    }

    /// The API's base URL.
    #[getter]
    fn base_url(&self) -> &str {
        self.session.config().environment().base_url()
    }

    /// Seconds to connect.
    #[getter]
    fn connect_timeout(&self) -> f64 {
        self.session.config().connect_timeout().as_secs_f64()
    }

    /// The most bytes a whole answer may have (more is an error).
    #[getter]
    fn max_body(&self) -> usize {
        self.session.config().limits().max_decoded_bytes()
    }

    /// The cached token, if fresh; `stale` (a token Zuora refused) is dropped first.
    #[pyo3(signature = (stale=None))]
    fn cached_token(&self, stale: Option<&Token>) -> Option<Token> {
        self.session
            .cached_token(stale.map(|s| &s.token), Instant::now())
            .map(|token| Token {
                token,
                expires_in: Duration::ZERO,
            })
    }

    /// Keeps a fetched token (from the [`token`](Self::token) call) until shortly before it
    /// expires; `fetch_seconds` is how long the fetch took (the token's life counts from
    /// when it was asked for).
    fn store_token(&self, token: &Token, fetch_seconds: f64) {
        let elapsed = Duration::try_from_secs_f64(fetch_seconds).unwrap_or_default();
        let asked = Instant::now()
            .checked_sub(elapsed)
            .unwrap_or_else(Instant::now);
        self.session
            .store_token(token.token.clone(), token.expires_in, asked);
    }

    /// What `report` names, by the core's rule (`ReportRef::parse`): `("id", id)` for 32
    /// hexadecimal digits, `("name", name)` otherwise; blank or malformed raises.
    fn report_ref(&self, py: Python<'_>, report: &str) -> PyResult<(&'static str, String)> {
        match ReportRef::parse(report).map_err(|e| invalid(py, e))? {
            ReportRef::Id(id) => Ok(("id", id.as_str().to_owned())),
            ReportRef::Name(name) => Ok(("name", name.as_str().to_owned())),
        }
    }

    /// The token call (`POST /oauth/token`).
    fn token(&self) -> Call {
        self.call(AnyCall::Token(
            self.start(self.session.config().token_request()),
        ))
    }

    /// *Run a report*; an idempotency key is made for the call unless given.
    #[pyo3(signature = (report_id, view_type, *, track_id=None, idempotency_key=None, filters=None))]
    fn run_report(
        &self,
        py: Python<'_>,
        report_id: &str,
        view_type: &str,
        track_id: Option<&str>,
        idempotency_key: Option<&str>,
        filters: Option<&str>,
    ) -> PyResult<Call> {
        let build = || -> Result<RunReport, Error> {
            let report: ReportId = report_id.parse()?;
            let view: ViewType = view_type.parse()?;
            let mut options = RunReportOptions::default();
            if let Some(track) = track_id {
                options = options.track_id(track.parse()?);
            }
            if let Some(key) = idempotency_key {
                options = options.idempotency_key(key.parse()?);
            }
            if let Some(json) = filters {
                options = options.filters(zuora_core::filters::parse_filter_groups(json)?);
            }
            Ok(self.session.config().run_report(
                &report,
                view,
                options,
                self.session.entropy().key_bytes(),
            ))
        };
        let operation = build().map_err(|e| to_py_err(py, &e))?;
        Ok(self.call(AnyCall::RunReport(self.start(operation))))
    }

    /// *Retrieve a report run*.
    fn get_run(&self, py: Python<'_>, run_id: &str) -> PyResult<Call> {
        let id: ReportRunId = run_id.parse().map_err(|e| invalid(py, e))?;
        Ok(self.call(AnyCall::Get(self.start(self.session.config().get_run(&id)))))
    }

    /// *Last completed run* of a report.
    fn latest_run(&self, py: Python<'_>, report_id: &str) -> PyResult<Call> {
        let id: ReportId = report_id.parse().map_err(|e| invalid(py, e))?;
        Ok(self.call(AnyCall::Latest(
            self.start(self.session.config().latest_run(&id)),
        )))
    }

    /// *Cancel a report run*.
    fn cancel_run(&self, py: Python<'_>, run_id: &str) -> PyResult<Call> {
        let id: ReportRunId = run_id.parse().map_err(|e| invalid(py, e))?;
        Ok(self.call(AnyCall::Cancel(
            self.start(self.session.config().cancel_run(&id)),
        )))
    }

    /// *Export results* of a completed run, to be converted to `format` (checked here,
    /// before anything is sent). The answer streams: see `export_head`.
    fn export(&self, py: Python<'_>, run_id: &str, format: &str) -> PyResult<Call> {
        let id: ReportRunId = run_id.parse().map_err(|e| invalid(py, e))?;
        format.parse::<ExportFormat>().map_err(|e| invalid(py, e))?;
        Ok(self.call(AnyCall::Export(
            self.start(self.session.config().export_run(&id)),
        )))
    }

    /// For an export's answer status: `None` to stream the body into a [`Download`], or the
    /// most bytes to read whole and hand to the call (a failure).
    fn export_head(&self, status: u16) -> Option<u64> {
        let status = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::BAD_GATEWAY);
        match ExportHead::of(status, self.session.config()) {
            ExportHead::Stream => None,
            ExportHead::ReadWhole { max_bytes } => Some(max_bytes),
        }
    }

    /// The converter for a streamed export answer, in `format` (`csv`, `tsv` or `raw`).
    fn download(
        &self,
        py: Python<'_>,
        status: u16,
        headers: Vec<(Vec<u8>, Vec<u8>)>,
        format: &str,
    ) -> PyResult<Download> {
        let format: ExportFormat = format.parse().map_err(|e| invalid(py, e))?;
        let head = answer_from_parts(status, headers, ()).map_err(|e| to_py_err(py, &e.into()))?;
        Ok(Download {
            inner: CoreDownload::start(&head, format, self.session.config()),
        })
    }

    /// Every report matching `query`, a page per call, with the core's stop rules.
    fn search(&self, py: Python<'_>, query: &str) -> PyResult<Search> {
        let search = self
            .session
            .config()
            .search_all(query, Instant::now())
            .map_err(|e| to_py_err(py, &e))?;
        Ok(Search {
            engine: self.handle(),
            inner: Some(search),
        })
    }

    /// The rows of a completed run, `page_size` per call, with the core's stop rules.
    fn rows(&self, py: Python<'_>, run_id: &str, page_size: u64) -> PyResult<Rows> {
        let id: ReportRunId = run_id.parse().map_err(|e| invalid(py, e))?;
        Ok(Rows {
            engine: self.handle(),
            pages: self
                .session
                .config()
                .data_pages(&id, page_size, Instant::now()),
        })
    }

    /// A wait for `run_id`: `timeout` seconds in all, looks after `poll_first` seconds,
    /// doubling to `poll_max`.
    #[pyo3(signature = (run_id, *, timeout=None, cancel_on_timeout=false, poll_first=None, poll_max=None))]
    fn wait(
        &self,
        py: Python<'_>,
        run_id: &str,
        timeout: Option<f64>,
        cancel_on_timeout: bool,
        poll_first: Option<f64>,
        poll_max: Option<f64>,
    ) -> PyResult<Wait> {
        // What is not given is the engine's default (`WaitOptions::default()`), in one place.
        let build = || -> Result<(CoreWait, WaitStep), Error> {
            let id: ReportRunId = run_id.parse()?;
            let defaults = WaitOptions::default();
            let given = |value: Option<f64>, name, default| match value {
                Some(value) => seconds(value, name),
                None => Ok(default),
            };
            let poll = PollPolicy::new(
                given(
                    poll_first,
                    "poll_first",
                    defaults.poll_policy().first_delay(),
                )?,
                given(poll_max, "poll_max", defaults.poll_policy().max_delay())?,
            )?;
            let timeout = given(timeout, "timeout", defaults.timeout())?;
            let options = defaults
                .with_timeout(timeout)?
                .cancel_on_timeout(cancel_on_timeout)
                .poll(poll);
            Ok(CoreWait::new(id, options, Instant::now()))
        };
        let (wait, first) = build().map_err(|e| to_py_err(py, &e))?;
        Ok(Wait {
            engine: self.handle(),
            inner: wait,
            first: Some(first),
        })
    }
}

impl Engine {
    fn start<O: Operation>(&self, operation: O) -> CoreCall<O> {
        self.session.call(operation, now())
    }

    fn call(&self, inner: AnyCall) -> Call {
        Call { inner }
    }

    /// What the paging and wait machines need of the engine to start their calls.
    fn handle(&self) -> EngineHandle {
        EngineHandle {
            config: Arc::clone(self.session.config()),
            seed: self.session.entropy().next_u64(),
        }
    }
}

/// The part of an engine a machine keeps to make its calls.
struct EngineHandle {
    config: Arc<ClientConfig>,
    seed: u64,
}

impl EngineHandle {
    fn start<O: Operation>(&mut self, operation: O) -> CoreCall<O> {
        self.seed = self.seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        CoreCall::new(operation, Arc::clone(&self.config), now(), self.seed)
    }
}

/// An access token, opaque to Python (its `repr` is redacted).
#[pyclass(frozen, module = "zuora_reporting._native")]
struct Token {
    token: AccessToken,
    /// As the core read it (bounded there); never round-tripped through a float.
    expires_in: Duration,
}

#[pymethods]
impl Token {
    fn __repr__(&self) -> &'static str {
        "Token([redacted])"
    }
}

/// One call of any operation, as its machine.
enum AnyCall {
    Token(CoreCall<TokenRequest>),
    RunReport(CoreCall<RunReport>),
    Get(CoreCall<GetReportRun>),
    Latest(CoreCall<LatestReportRun>),
    Cancel(CoreCall<CancelReportRun>),
    Search(CoreCall<SearchReports>),
    Data(CoreCall<ReportDataPage>),
    Export(CoreCall<ExportReportRun>),
}

/// Runs `$body` with `$call` bound to the machine inside whichever operation it is, and
/// `$wrap` turning that operation's output into a Python object.
macro_rules! each_call {
    ($any:expr, |$call:ident, $wrap:ident| $body:expr) => {
        match $any {
            AnyCall::Token($call) => {
                let $wrap = Output::Token;
                $body
            }
            AnyCall::RunReport($call) => {
                let $wrap = Output::Started;
                $body
            }
            AnyCall::Get($call) => {
                let $wrap = Output::Run;
                $body
            }
            AnyCall::Latest($call) => {
                let $wrap = Output::Run;
                $body
            }
            AnyCall::Cancel($call) => {
                let $wrap = Output::Message;
                $body
            }
            AnyCall::Search($call) => {
                let $wrap = Output::SearchPage;
                $body
            }
            AnyCall::Data($call) => {
                let $wrap = Output::DataPage;
                $body
            }
            AnyCall::Export($call) => {
                let $wrap = |never: std::convert::Infallible| match never {};
                $body
            }
        }
    };
}

/// What a finished call produced.
enum Output {
    Token(CoreToken),
    Started(ReportRunStarted),
    Run(CoreRun),
    Message(String),
    SearchPage(SearchPage),
    DataPage(DataPage),
}

/// A call's machine: ask it for a [`Step`], do what the step says, hand back what happened.
#[pyclass(module = "zuora_reporting._native")]
struct Call {
    inner: AnyCall,
}

#[pymethods]
impl Call {
    /// The first step.
    fn start(&mut self) -> Step {
        each_call!(&mut self.inner, |call, wrap| Step::from_core(
            call.start(),
            wrap
        ))
    }

    /// The next step, once a token is at hand.
    fn with_token(&mut self, token: &Token) -> Step {
        let token = token.token.clone();
        each_call!(&mut self.inner, |call, wrap| Step::from_core(
            call.with_token(token),
            wrap
        ))
    }

    /// The token Zuora just refused (to drop from the cache), if any.
    fn stale_token(&self) -> Option<Token> {
        each_call!(&self.inner, |call, _wrap| call.stale_token().cloned()).map(|token| Token {
            token,
            expires_in: Duration::ZERO,
        })
    }

    /// The next step after a wait.
    fn resume(&mut self) -> Step {
        each_call!(&mut self.inner, |call, wrap| Step::from_core(
            call.resume(),
            wrap
        ))
    }

    /// The next step, given the answer: its status, headers (raw name and value bytes) and
    /// body exactly as received (not decompressed).
    fn on_response(
        &mut self,
        status: u16,
        headers: Vec<(Vec<u8>, Vec<u8>)>,
        body: Vec<u8>,
    ) -> Step {
        let answer: Result<HttpResponse, TransportFailure> =
            answer_from_parts(status, headers, body);
        match answer {
            Ok(answer) => each_call!(&mut self.inner, |call, wrap| Step::from_core(
                call.on_response(answer, now()),
                wrap
            )),
            // Not HTTP at all: the core's reading of it is a broken connection.
            Err(failure) => each_call!(&mut self.inner, |call, wrap| Step::from_core(
                call.on_transport_error(failure.clone(), now()),
                wrap
            )),
        }
    }

    /// The next step, given that no complete answer arrived: `kind` is `connect`, `timeout`,
    /// `io` or `other`; `sent` whether the request may have reached the server.
    fn on_transport_error(&mut self, kind: &str, sent: bool, message: &str) -> Step {
        let kind = match kind {
            "connect" => TransportErrorKind::Connect,
            "timeout" => TransportErrorKind::Timeout,
            "io" => TransportErrorKind::Io,
            _ => TransportErrorKind::Other,
        };
        let failure = TransportFailure::new(kind, sent, message);
        each_call!(&mut self.inner, |call, wrap| Step::from_core(
            call.on_transport_error(failure.clone(), now()),
            wrap
        ))
    }
}

/// What a machine asks Python to do next. `kind` is one of `token` (get a token: from the
/// engine's cache, or by running the engine's token call), `send` (send `method` `url`
/// with `headers` and `body`, within `timeout` seconds; an export's body is read with
/// `idle_timeout` between bytes), `wait` (sleep `delay` seconds, then `resume`) or `done`
/// (`result` holds the outcome). A failure is raised, not returned.
#[pyclass(frozen, module = "zuora_reporting._native")]
struct Step {
    #[pyo3(get)]
    kind: &'static str,
    #[pyo3(get)]
    refresh: bool,
    #[pyo3(get)]
    method: String,
    #[pyo3(get)]
    url: String,
    #[pyo3(get)]
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    #[pyo3(get)]
    timeout: Option<f64>,
    #[pyo3(get)]
    idle_timeout: Option<f64>,
    #[pyo3(get)]
    delay: f64,
    result: Option<Py<PyAny>>,
    error: Option<Error>,
}

#[pymethods]
impl Step {
    /// The request body.
    #[getter]
    fn body<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.body)
    }

    /// Whether a `done` step succeeded (else `result` raises its error).
    #[getter]
    fn ok(&self) -> bool {
        self.error.is_none()
    }

    /// What a `done` step produced.
    #[getter]
    fn result(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        if let Some(error) = &self.error {
            return Err(to_py_err(py, error));
        }
        Ok(self.result.as_ref().map(|r| r.clone_ref(py)))
    }

    fn __repr__(&self) -> String {
        match self.kind {
            "send" => format!("Step(send {} {})", self.method, self.url),
            "wait" => format!("Step(wait {:.3}s)", self.delay),
            other => format!("Step({other})"),
        }
    }
}

impl Step {
    fn empty(kind: &'static str) -> Self {
        Self {
            kind,
            refresh: false,
            method: String::new(),
            url: String::new(),
            headers: Vec::new(),
            body: Vec::new(),
            timeout: None,
            idle_timeout: None,
            delay: 0.0,
            result: None,
            error: None,
        }
    }

    fn from_core<T>(step: CoreStep<T>, wrap: impl FnOnce(T) -> Output) -> Self {
        match step {
            CoreStep::NeedToken { refresh } => Self {
                refresh,
                ..Self::empty("token")
            },
            CoreStep::Send(request) => Self::send(request),
            CoreStep::Wait(delay) => Self {
                delay: delay.as_secs_f64(),
                ..Self::empty("wait")
            },
            CoreStep::Done(Ok(output)) => {
                Python::attach(|py| match output_to_py(py, wrap(output)) {
                    Ok(result) => Self {
                        result: Some(result),
                        ..Self::empty("done")
                    },
                    Err(error) => Self {
                        error: Some(Error::build(&format!(
                            "the answer could not be handed to Python: {error}"
                        ))),
                        ..Self::empty("done")
                    },
                })
            }
            CoreStep::Done(Err(error)) => Self {
                error: Some(error),
                ..Self::empty("done")
            },
        }
    }

    fn send(request: HttpRequest) -> Self {
        let (attempt, idle) = stamped_timeouts(&request);
        let timeout = attempt.map(|t| t.as_secs_f64());
        let idle_timeout = idle.map(|t| t.as_secs_f64());
        let (parts, body) = request.into_parts();
        let headers = parts
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        Self {
            method: parts.method.as_str().to_owned(),
            url: parts.uri.to_string(),
            headers,
            body: body.into_bytes(),
            timeout,
            idle_timeout,
            ..Self::empty("send")
        }
    }
}

fn output_to_py(py: Python<'_>, output: Output) -> PyResult<Py<PyAny>> {
    Ok(match output {
        Output::Token(token) => Py::new(
            py,
            Token {
                token: token.access_token,
                expires_in: token.expires_in,
            },
        )?
        .into_any(),
        Output::Started(started) => Py::new(py, RunStarted::from(started))?.into_any(),
        Output::Run(run) => Py::new(py, ReportRun::from(run))?.into_any(),
        Output::Message(message) => message.into_pyobject(py)?.into_any().unbind(),
        Output::SearchPage(page) => Py::new(
            py,
            Page {
                inner: PageKind::Search(page),
            },
        )?
        .into_any(),
        Output::DataPage(page) => Py::new(
            py,
            Page {
                inner: PageKind::Data(page),
            },
        )?
        .into_any(),
    })
}

/// A page a paging machine takes back (opaque to Python).
#[pyclass(frozen, module = "zuora_reporting._native")]
struct Page {
    inner: PageKind,
}

enum PageKind {
    Search(SearchPage),
    Data(DataPage),
}

/// A text as Python's `repr` writes it (`None`, or quoted as `'…'` with Python's escapes),
/// so that a value's repr reads as the Python expression that makes it. Hand-written rather
/// than asked of the interpreter: `__repr__` must not fail, and these are ids and names.
fn py_repr(text: Option<&str>) -> String {
    let Some(text) = text else {
        return "None".to_owned();
    };
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(text.len() + 2);
    out.push(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// *Run a report*'s answer.
#[pyclass(frozen, module = "zuora_reporting")]
struct RunStarted {
    #[pyo3(get)]
    report_run_id: String,
    #[pyo3(get)]
    request_id: Option<String>,
    #[pyo3(get)]
    track_id: Option<String>,
}

impl From<ReportRunStarted> for RunStarted {
    fn from(started: ReportRunStarted) -> Self {
        Self {
            report_run_id: started.report_run_id.as_str().to_owned(),
            request_id: started.meta.request_id.clone(),
            track_id: started.meta.track_id.clone(),
        }
    }
}

#[pymethods]
impl RunStarted {
    fn __repr__(&self) -> String {
        format!(
            "RunStarted(report_run_id={}, request_id={}, track_id={})",
            py_repr(Some(&self.report_run_id)),
            py_repr(self.request_id.as_deref()),
            py_repr(self.track_id.as_deref())
        )
    }
}

/// A report run: its id, report, status and times (seconds since the epoch).
#[pyclass(frozen, module = "zuora_reporting")]
struct ReportRun {
    run: CoreRun,
}

impl From<CoreRun> for ReportRun {
    fn from(run: CoreRun) -> Self {
        Self { run }
    }
}

fn epoch_seconds(time: Option<SystemTime>) -> Option<f64> {
    time.and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map(|d| d.as_secs_f64())
}

#[pymethods]
impl ReportRun {
    /// The run's id.
    #[getter]
    fn id(&self) -> &str {
        self.run.id.as_str()
    }
    /// The report's id.
    #[getter]
    fn report_id(&self) -> Option<&str> {
        self.run.report_id.as_ref().map(ReportId::as_str)
    }
    /// `Detail` or `Summary`.
    #[getter]
    fn report_type(&self) -> Option<&'static str> {
        self.run.report_type.map(|v| v.as_str())
    }
    /// `STARTED`, `QUERYDATA`, `PROCESSINGDATA`, `COMPLETED`, `CANCELLED`, `INVALID`, `ERROR`.
    #[getter]
    fn status(&self) -> String {
        self.run.status.to_string()
    }
    /// When it started.
    #[getter]
    fn started_on(&self) -> Option<f64> {
        epoch_seconds(self.run.started_on)
    }
    /// Its last status change.
    #[getter]
    fn updated_on(&self) -> Option<f64> {
        epoch_seconds(self.run.updated_on)
    }
    /// `Zuora-Request-Id` of the answer.
    #[getter]
    fn request_id(&self) -> Option<&str> {
        self.run.meta.request_id.as_deref()
    }
    fn __repr__(&self) -> String {
        format!(
            "ReportRun(id={}, status={})",
            py_repr(Some(self.run.id.as_str())),
            py_repr(Some(&self.run.status.to_string()))
        )
    }
}

/// A report found by search.
#[pyclass(frozen, module = "zuora_reporting")]
struct ReportSummary {
    #[pyo3(get)]
    id: String,
    #[pyo3(get)]
    name: String,
    #[pyo3(get)]
    number: Option<String>,
    #[pyo3(get)]
    datasource: Option<String>,
    #[pyo3(get)]
    description: Option<String>,
}

impl From<CoreSummary> for ReportSummary {
    fn from(report: CoreSummary) -> Self {
        Self {
            id: report.id.as_str().to_owned(),
            name: report.name,
            number: report.number,
            datasource: report.datasource,
            description: report.description,
        }
    }
}

#[pymethods]
impl ReportSummary {
    fn __repr__(&self) -> String {
        format!(
            "ReportSummary(id={}, name={})",
            py_repr(Some(&self.id)),
            py_repr(Some(&self.name))
        )
    }
}

/// What a download received and wrote.
#[pyclass(frozen, module = "zuora_reporting")]
struct ExportSummary {
    #[pyo3(get)]
    bytes_received: u64,
    #[pyo3(get)]
    bytes_written: u64,
    #[pyo3(get)]
    request_id: Option<String>,
}

impl From<CoreExportSummary> for ExportSummary {
    fn from(summary: CoreExportSummary) -> Self {
        Self {
            bytes_received: summary.bytes_received,
            bytes_written: summary.bytes_written,
            request_id: summary.meta.request_id.clone(),
        }
    }
}

#[pymethods]
impl ExportSummary {
    fn __repr__(&self) -> String {
        format!(
            "ExportSummary(bytes_received={}, bytes_written={}, request_id={})",
            self.bytes_received,
            self.bytes_written,
            py_repr(self.request_id.as_deref())
        )
    }
}

/// A streamed export's converter: feed it the body's chunks as they arrive.
#[pyclass(module = "zuora_reporting._native")]
struct Download {
    inner: CoreDownload,
}

#[pymethods]
impl Download {
    /// The converted bytes of one chunk of the body.
    fn feed<'py>(&mut self, py: Python<'py>, chunk: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
        let mut out = Vec::with_capacity(chunk.len() * 3 / 2 + 64);
        self.inner
            .on_chunk(chunk, &mut out)
            .map_err(|e| to_py_err(py, &e))?;
        Ok(PyBytes::new(py, &out))
    }

    /// The last converted bytes and the summary, once the body ended cleanly.
    fn finish<'py>(&mut self, py: Python<'py>) -> PyResult<(Bound<'py, PyBytes>, ExportSummary)> {
        let mut out = Vec::new();
        let summary = self.inner.finish(&mut out).map_err(|e| to_py_err(py, &e))?;
        Ok((PyBytes::new(py, &out), summary.into()))
    }

    /// The error for a body that broke off (`stalled`: no byte for the idle timeout).
    fn broken(&self, py: Python<'_>, message: &str, stalled: bool) -> PyErr {
        to_py_err(py, &self.inner.broken(&message, stalled))
    }
}

/// A search over every page (`next_call`, drive it, `on_page`, until `None`).
#[pyclass(module = "zuora_reporting._native")]
struct Search {
    engine: EngineHandle,
    inner: Option<SearchAll>,
}

#[pymethods]
impl Search {
    /// The call for the next page, or `None` when the search is over.
    fn next_call(&mut self) -> Option<Call> {
        let page = self.inner.as_ref()?.next_page()?.clone();
        Some(Call {
            inner: AnyCall::Search(self.engine.start(page)),
        })
    }

    /// Takes a page's answer (a `done` step's result).
    fn on_page(&mut self, py: Python<'_>, page: &Page) -> PyResult<()> {
        let (Some(search), PageKind::Search(page)) = (self.inner.as_mut(), &page.inner) else {
            return Err(invalid(py, Error::build("not a search page")));
        };
        search
            .on_page(page.clone(), Instant::now())
            .map_err(|e| to_py_err(py, &e))
    }

    /// Every report found, once the pages are done.
    fn reports(&mut self) -> Vec<ReportSummary> {
        self.inner
            .take()
            .map(|search| search.into_reports().into_iter().map(Into::into).collect())
            .unwrap_or_default()
    }

    /// The one report named exactly `name` among those found.
    fn exactly(&mut self, py: Python<'_>, name: &str) -> PyResult<ReportSummary> {
        let reports = self
            .inner
            .take()
            .map(SearchAll::into_reports)
            .unwrap_or_default();
        zuora_core::operations::resolve_report_name(name, &reports)
            .cloned()
            .map(Into::into)
            .map_err(|e| to_py_err(py, &e))
    }
}

/// The rows of a run, a page per call (`next_call`, drive it, `on_page`, until `None`).
#[pyclass(module = "zuora_reporting._native")]
struct Rows {
    engine: EngineHandle,
    pages: DataPages,
}

#[pymethods]
impl Rows {
    /// The call for the next page, or `None` after the last.
    fn next_call(&mut self) -> Option<Call> {
        let page = self.pages.next_page()?.clone();
        Some(Call {
            inner: AnyCall::Data(self.engine.start(page)),
        })
    }

    /// The rows of a page's answer, as JSON text (an array of objects).
    fn on_page(&mut self, py: Python<'_>, page: &Page) -> PyResult<String> {
        let PageKind::Data(page) = &page.inner else {
            return Err(invalid(py, Error::build("not a data page")));
        };
        let rows = self
            .pages
            .on_page(page.clone(), Instant::now())
            .map_err(|e| {
                self.pages.stop();
                to_py_err(py, &e)
            })?;
        serde_json::to_string(&rows).map_err(|e| invalid(py, Error::build(&e.to_string())))
    }
}

/// A wait for a run. Steps: `look` (drive `look_call()`, then `on_run` or `on_look_failed`),
/// `sleep` (`delay` seconds, then `after_sleep`), `cancel` (drive `cancel_call()`, then
/// `on_cancelled`), `done` (`result` is the completed run, or raises).
#[pyclass(module = "zuora_reporting._native")]
struct Wait {
    engine: EngineHandle,
    inner: CoreWait,
    first: Option<WaitStep>,
}

#[pymethods]
impl Wait {
    /// The first step.
    fn start(&mut self, py: Python<'_>) -> PyResult<WaitStepPy> {
        let step = self.first.take().unwrap_or(WaitStep::Sleep(Duration::ZERO));
        WaitStepPy::from_core(py, step)
    }

    /// The look (*Retrieve a report run*) a `look` step asks for, cut to its budget.
    fn look_call(&mut self, budget: f64) -> Call {
        let operation = self.engine.config.get_run(self.inner.run_id());
        let call = self
            .engine
            .start(operation)
            .within(Duration::try_from_secs_f64(budget).unwrap_or_default());
        Call {
            inner: AnyCall::Get(call),
        }
    }

    /// The cancel a `cancel` step asks for, cut to its budget.
    fn cancel_call(&mut self, budget: f64) -> Call {
        let operation = self.engine.config.cancel_run(self.inner.run_id());
        let call = self
            .engine
            .start(operation)
            .within(Duration::try_from_secs_f64(budget).unwrap_or_default());
        Call {
            inner: AnyCall::Cancel(call),
        }
    }

    /// The next step after a look, given the look call's `done` step; `stop` ends the
    /// wait (interrupted), cancelling the run if `cancel`.
    #[pyo3(signature = (look, *, stop=false, cancel=false))]
    fn on_look(
        &mut self,
        py: Python<'_>,
        look: &Step,
        stop: bool,
        cancel: bool,
    ) -> PyResult<WaitStepPy> {
        let now = Instant::now();
        let step = if let Some(error) = &look.error {
            self.inner.on_look_failed(error.clone(), now)
        } else {
            let run = look
                .result
                .as_ref()
                .and_then(|result| {
                    result
                        .bind(py)
                        .cast::<ReportRun>()
                        .ok()
                        .map(|r| r.get().run.clone())
                })
                .ok_or_else(|| invalid(py, Error::build("a look's step holds no run")))?;
            let control = if stop {
                WaitControl::Stop { cancel }
            } else {
                WaitControl::Continue
            };
            self.inner.on_run(run, control, now)
        };
        WaitStepPy::from_core(py, step)
    }

    /// The next step after a sleep.
    fn after_sleep(&mut self, py: Python<'_>) -> PyResult<WaitStepPy> {
        WaitStepPy::from_core(py, self.inner.after_sleep(Instant::now()))
    }

    /// Stops the wait (Ctrl-C, a caller's signal), cancelling the run if `cancel`.
    fn interrupt(&mut self, py: Python<'_>, cancel: bool) -> PyResult<WaitStepPy> {
        WaitStepPy::from_core(py, self.inner.interrupt(cancel))
    }

    /// The next step after the cancel (`cancelled`: whether it succeeded).
    fn on_cancelled(&mut self, py: Python<'_>, cancelled: bool) -> PyResult<WaitStepPy> {
        WaitStepPy::from_core(py, self.inner.on_cancelled(cancelled))
    }
}

/// A wait's next step: `kind` is `look`, `sleep`, `cancel` or `done`.
#[pyclass(frozen, name = "WaitStep", module = "zuora_reporting._native")]
struct WaitStepPy {
    #[pyo3(get)]
    kind: &'static str,
    /// Seconds: the look's or cancel's budget, or the sleep.
    #[pyo3(get)]
    seconds: f64,
    result: Option<Py<ReportRun>>,
}

#[pymethods]
impl WaitStepPy {
    /// The completed run of a `done` step.
    #[getter]
    fn result(&self, py: Python<'_>) -> Option<Py<ReportRun>> {
        self.result.as_ref().map(|r| r.clone_ref(py))
    }

    fn __repr__(&self) -> String {
        format!("WaitStep({} {:.3}s)", self.kind, self.seconds)
    }
}

impl WaitStepPy {
    fn from_core(py: Python<'_>, step: WaitStep) -> PyResult<Self> {
        let (kind, seconds) = match &step {
            WaitStep::Look { budget } => ("look", budget.as_secs_f64()),
            WaitStep::Sleep(delay) => ("sleep", delay.as_secs_f64()),
            WaitStep::Cancel { budget } => ("cancel", budget.as_secs_f64()),
            WaitStep::Done(_) => ("done", 0.0),
        };
        let result = match step {
            WaitStep::Done(outcome) => match *outcome {
                Ok(run) => Some(Py::new(py, ReportRun::from(run))?),
                Err(error) => return Err(to_py_err(py, &error)),
            },
            _ => None,
        };
        Ok(Self {
            kind,
            seconds,
            result,
        })
    }
}

/// The module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<Engine>()?;
    m.add_class::<Token>()?;
    m.add_class::<Call>()?;
    m.add_class::<Step>()?;
    m.add_class::<RunStarted>()?;
    m.add_class::<ReportRun>()?;
    m.add_class::<ReportSummary>()?;
    m.add_class::<ExportSummary>()?;
    m.add_class::<Download>()?;
    m.add_class::<Search>()?;
    m.add_class::<Rows>()?;
    m.add_class::<Wait>()?;
    m.add_class::<WaitStepPy>()?;
    m.add_class::<Page>()?;
    m.add("ZuoraError", py.get_type::<ZuoraError>())?;
    m.add("InvalidInputError", py.get_type::<InvalidInputError>())?;
    m.add("AuthenticationError", py.get_type::<AuthenticationError>())?;
    m.add(
        "PermissionDeniedError",
        py.get_type::<PermissionDeniedError>(),
    )?;
    m.add("NotFoundError", py.get_type::<NotFoundError>())?;
    m.add("ReportNotFoundError", py.get_type::<ReportNotFoundError>())?;
    m.add("RunNotFoundError", py.get_type::<RunNotFoundError>())?;
    m.add(
        "AmbiguousReportNameError",
        py.get_type::<AmbiguousReportNameError>(),
    )?;
    m.add(
        "RunNotCompletedError",
        py.get_type::<RunNotCompletedError>(),
    )?;
    m.add("NoCompletedRunError", py.get_type::<NoCompletedRunError>())?;
    m.add("WrongViewTypeError", py.get_type::<WrongViewTypeError>())?;
    m.add("RateLimitedError", py.get_type::<RateLimitedError>())?;
    m.add("RunEndedError", py.get_type::<RunEndedError>())?;
    m.add("TimedOutError", py.get_type::<TimedOutError>())?;
    m.add(
        "OperationInterruptedError",
        py.get_type::<OperationInterruptedError>(),
    )?;
    m.add("TransportError", py.get_type::<TransportError>())?;
    m.add("PagingStoppedError", py.get_type::<PagingStoppedError>())?;
    m.add("ExportBrokenError", py.get_type::<ExportBrokenError>())?;
    m.add("ApiError", py.get_type::<ApiError>())?;
    Ok(())
}
