//! `zuora_reporting._native`: zuora-core's engine for a Python driver.
//!
//! The sans-IO split, across languages: Python (httpx) sends bytes and sleeps; everything
//! else — validation, requests, retries, single-flight token fetches, waiting, paging, the
//! whole trip, export conversion — is decided here, by the core's [`Task`] machine that the
//! Rust transports and the C ABI drive too. One [`Task`] type covers every operation: Python
//! reads its step (send this, sleep this long, take these rows, see this status, done), does
//! it, and tells the task what happened. No secret crosses into Python except inside the
//! `Authorization` header of a request Python must send.

mod pulls;
mod tables;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use zuora_core::driver::{HttpRequest, TransportErrorKind, TransportFailure, stamped_timeouts};
use zuora_core::exports::ExportSummary as CoreExportSummary;
use zuora_core::machines::{
    BodyProgress, ExchangeEvent, Receive, Session, Task as CoreTask, TaskOutput, TaskStep,
};
use zuora_core::operations::{ReportRunStarted, ReportSummary as CoreSummary};
use zuora_core::policies::PollPolicy;
use zuora_core::values::ReportName;
use zuora_core::{
    ClientConfig, Environment, Error, ErrorKind, ExportFormat, ReportId, ReportRef,
    ReportRun as CoreRun, ReportRunId, RetryPolicy, RunReportOptions, ViewType, WaitOptions,
};
use zuora_os::now;

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
    let timed_out_attempt = error
        .transport()
        .is_some_and(|failure| failure.kind == TransportErrorKind::Timeout);
    let err = match &kind {
        // An attempt that ran out of time is both: `except TimedOutError` and
        // `except TransportError` each catch it.
        ErrorKind::Transport { .. } if timed_out_attempt => match ATTEMPT_TIMED_OUT.get(py) {
            Some(class) => PyErr::from_type(class.bind(py).clone(), message.clone()),
            None => TimedOutError::new_err(message.clone()),
        },
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

/// `AttemptTimedOutError`, a subclass of both `TransportError` and `TimedOutError` (made when
/// the module is, since a class with two bases is not one `create_exception!` makes).
static ATTEMPT_TIMED_OUT: pyo3::sync::PyOnceLock<Py<pyo3::types::PyType>> =
    pyo3::sync::PyOnceLock::new();

fn invalid(py: Python<'_>, error: impl Into<Error>) -> PyErr {
    to_py_err(py, &error.into())
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
    /// The core's session: configuration, token cache, entropy; shared with its tasks.
    session: Arc<Session>,
}

#[pymethods]
impl Engine {
    #[new]
    #[pyo3(signature = (*, client_id, client_secret, base_url=None, environment=None, entity_ids=None,
        connect_timeout=None, attempt_timeout=None, overall_timeout=None, idle_timeout=None,
        max_attempts=None, user_agent=None, gzip_responses=true, max_export_bytes=None, seed=0))]
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
        max_export_bytes: Option<u64>,
        seed: u64,
    ) -> PyResult<Self> {
        let build = || -> Result<ClientConfig, Error> {
            let mut builder = ClientConfig::builder()
                .credentials(client_id, client_secret)
                .gzip_responses(gzip_responses)
                .max_export_bytes(max_export_bytes);
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
        let seed = if seed == 0 { zuora_os::seed() } else { seed };
        Ok(Self {
            session: Arc::new(Session::new(config, seed)),
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
    /// Whether the host is this machine: the client's own HTTP client then ignores the
    /// environment's proxies (they would carry the plain-http request, secret included, off
    /// the machine).
    #[getter]
    fn is_loopback(&self) -> bool {
        self.session.config().environment().is_loopback()
    }

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

    /// Checks the credentials: a token fetch; ends with the token's lifetime in seconds.
    fn check_credentials(&self) -> Task {
        self.task(CoreTask::check_credentials(&self.session, now()))
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
    ) -> PyResult<Task> {
        let report: ReportId = report_id.parse().map_err(|e| invalid(py, e))?;
        let view: ViewType = view_type.parse().map_err(|e| invalid(py, e))?;
        let options =
            run_options(track_id, idempotency_key, filters).map_err(|e| to_py_err(py, &e))?;
        Ok(self.task(CoreTask::run_report(
            &self.session,
            &report,
            view,
            options,
            now(),
        )))
    }

    /// *Retrieve a report run*.
    fn get_run(&self, py: Python<'_>, run_id: &str) -> PyResult<Task> {
        let id: ReportRunId = run_id.parse().map_err(|e| invalid(py, e))?;
        Ok(self.task(CoreTask::get_run(&self.session, &id, now())))
    }

    /// *Last completed run* of a report.
    fn latest_run(&self, py: Python<'_>, report_id: &str) -> PyResult<Task> {
        let id: ReportId = report_id.parse().map_err(|e| invalid(py, e))?;
        Ok(self.task(CoreTask::latest_run(&self.session, &id, now())))
    }

    /// *Cancel a report run*.
    fn cancel_run(&self, py: Python<'_>, run_id: &str) -> PyResult<Task> {
        let id: ReportRunId = run_id.parse().map_err(|e| invalid(py, e))?;
        Ok(self.task(CoreTask::cancel_run(&self.session, &id, now())))
    }

    /// Every report matching `query`, over every page, with the core's stop rules.
    fn search(&self, py: Python<'_>, query: &str) -> PyResult<Task> {
        let task = CoreTask::search(&self.session, query, now()).map_err(|e| to_py_err(py, &e))?;
        Ok(self.task(task))
    }

    /// The one report named exactly `name` (a search).
    fn find_report(&self, py: Python<'_>, name: &str) -> PyResult<Task> {
        let name: ReportName = name.parse().map_err(|e| invalid(py, e))?;
        let task = CoreTask::find_report(&self.session, &ReportRef::Name(name), now())
            .map_err(|e| to_py_err(py, &e))?;
        Ok(self.task(task))
    }

    /// The rows of a completed run, `page_size` per `rows` step, with the core's stop rules.
    fn rows(&self, py: Python<'_>, run_id: &str, page_size: u64) -> PyResult<Task> {
        let id: ReportRunId = run_id.parse().map_err(|e| invalid(py, e))?;
        Ok(self.task(CoreTask::rows(&self.session, &id, page_size, now())))
    }

    /// A wait for `run_id`: `timeout` seconds in all, looks after `poll_first` seconds,
    /// doubling to `poll_max` (each left out: the engine's default); with `observe`, each
    /// status seen is a `status` step.
    #[pyo3(signature = (run_id, *, timeout=None, cancel_on_timeout=false, poll_first=None, poll_max=None, observe=false))]
    #[allow(clippy::too_many_arguments)] // Python keyword arguments, one per setting.
    fn wait(
        &self,
        py: Python<'_>,
        run_id: &str,
        timeout: Option<f64>,
        cancel_on_timeout: bool,
        poll_first: Option<f64>,
        poll_max: Option<f64>,
        observe: bool,
    ) -> PyResult<Task> {
        let id: ReportRunId = run_id.parse().map_err(|e| invalid(py, e))?;
        let options = wait_options(timeout, cancel_on_timeout, poll_first, poll_max)
            .map_err(|e| to_py_err(py, &e))?;
        Ok(self.task(CoreTask::wait(&self.session, &id, options, observe, now())))
    }

    /// A completed run's export, converted to `format` (`csv`, `tsv` or `raw`) as it streams.
    fn download(&self, py: Python<'_>, run_id: &str, format: &str) -> PyResult<Task> {
        let id: ReportRunId = run_id.parse().map_err(|e| invalid(py, e))?;
        let format: ExportFormat = format.parse().map_err(|e| invalid(py, e))?;
        Ok(self.task(CoreTask::download(&self.session, &id, format, now())))
    }

    /// The whole trip: `report` (an id, or an exact name) found, run, waited for, and its
    /// export converted to `format`; ends with `(ReportRun, ExportSummary)`.
    #[pyo3(signature = (report, *, view_type="Detail", format="csv", track_id=None, timeout=None))]
    fn trip(
        &self,
        py: Python<'_>,
        report: &str,
        view_type: &str,
        format: &str,
        track_id: Option<&str>,
        timeout: Option<f64>,
    ) -> PyResult<Task> {
        let start = || -> Result<(CoreTask, TaskStep), Error> {
            let report = ReportRef::parse(report)?;
            let view: ViewType = view_type.parse()?;
            let format: ExportFormat = format.parse()?;
            let options = run_options(track_id, None, None)?;
            // A trip that gives up cancels its run, as the CLI's does: nobody waits for it.
            let wait = wait_options(timeout, true, None, None)?;
            CoreTask::trip(
                &self.session,
                &report,
                view,
                options,
                wait,
                format,
                false,
                now(),
            )
        };
        Ok(self.task(start().map_err(|e| to_py_err(py, &e))?))
    }
}

impl Engine {
    fn task(&self, (task, step): (CoreTask, TaskStep)) -> Task {
        Task {
            session: Arc::clone(&self.session),
            task,
            step,
            heard: false,
        }
    }
}

/// What *Run a report* sends besides the report and view.
fn run_options(
    track_id: Option<&str>,
    idempotency_key: Option<&str>,
    filters: Option<&str>,
) -> Result<RunReportOptions, Error> {
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
    Ok(options)
}

/// A wait's options; what is not given is the engine's default (`WaitOptions::default()`),
/// in one place.
fn wait_options(
    timeout: Option<f64>,
    cancel_on_timeout: bool,
    poll_first: Option<f64>,
    poll_max: Option<f64>,
) -> Result<WaitOptions, Error> {
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
    Ok(defaults
        .with_timeout(timeout)?
        .cancel_on_timeout(cancel_on_timeout)
        .poll(poll))
}

/// Any operation, as the core's task machine. Python reads the step it is at (`kind`:
/// `send`, `sleep`, `rows`, `status` or `done`, and the step's parts), does it, and tells the
/// task what happened (`on_answer`, `on_failure`, `resume`, the `stream_*` calls for an
/// export's body, or `interrupt`). A failure is raised by `result()`, never returned.
#[pyclass(module = "zuora_reporting._native")]
struct Task {
    session: Arc<Session>,
    task: CoreTask,
    step: TaskStep,
    /// Whether the request in flight has had its head (its body is being read).
    heard: bool,
}

impl Task {
    fn request(&self) -> Option<&HttpRequest> {
        match &self.step {
            TaskStep::Send(request) => Some(request),
            _ => None,
        }
    }

    fn at_send(&self, py: Python<'_>, what: &str) -> PyResult<()> {
        if self.request().is_some() {
            Ok(())
        } else {
            Err(to_py_err(
                py,
                &Error::misuse(&format!("{what} while the task is not sending")),
            ))
        }
    }

    fn at_body(&mut self, py: Python<'_>, what: &str) -> PyResult<()> {
        self.at_send(py, what)?;
        if self.heard {
            Ok(())
        } else {
            Err(to_py_err(
                py,
                &Error::misuse(&format!("{what} before its head")),
            ))
        }
    }

    fn feed(&mut self, event: ExchangeEvent) {
        self.heard = false;
        self.step = self.task.feed(&self.session, event, now());
    }
}

#[pymethods]
impl Task {
    fn __repr__(&self) -> String {
        match self.request() {
            // Never the headers: one of them is the bearer token.
            Some(request) => format!("Task(send {} {})", request.method(), request.uri()),
            None => format!("Task({})", self.kind()),
        }
    }

    /// `send`, `sleep`, `rows`, `status` or `done`.
    #[getter]
    fn kind(&self) -> &'static str {
        match self.step {
            TaskStep::Send(_) => "send",
            TaskStep::Sleep(_) | TaskStep::AwaitToken { .. } => "sleep",
            TaskStep::Rows(_) => "rows",
            TaskStep::Status(_) => "status",
            TaskStep::Done(_) => "done",
        }
    }

    /// Seconds to sleep at a `sleep` step (then `resume`).
    #[getter]
    fn delay(&self) -> f64 {
        // Python registers no waker with the session: a wait for another call's token fetch
        // is the core's short look-again pause.
        self.step.pause().map_or(0.0, |pause| pause.as_secs_f64())
    }

    /// The request's method at a `send` step.
    #[getter]
    fn method(&self) -> &str {
        self.request().map_or("", |r| r.method().as_str())
    }

    /// The request's URL.
    #[getter]
    fn url(&self) -> String {
        self.request()
            .map(|r| r.uri().to_string())
            .unwrap_or_default()
    }

    /// The request's headers, `(name, value)`.
    #[getter]
    fn headers(&self) -> Vec<(String, String)> {
        self.request()
            .map(|r| {
                r.headers()
                    .iter()
                    .map(|(name, value)| {
                        (
                            name.as_str().to_owned(),
                            String::from_utf8_lossy(value.as_bytes()).into_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The request's body.
    #[getter]
    fn body<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.request().map_or(&[][..], |r| r.body().as_bytes()))
    }

    /// Seconds the whole attempt may take (for an export: until its head).
    #[getter]
    fn timeout(&self) -> Option<f64> {
        self.request()
            .and_then(|r| stamped_timeouts(r).0)
            .map(|t| t.as_secs_f64())
    }

    /// For an export's body: the longest silence between two reads, in seconds.
    #[getter]
    fn idle_timeout(&self) -> Option<f64> {
        self.request()
            .and_then(|r| stamped_timeouts(r).1)
            .map(|t| t.as_secs_f64())
    }

    /// The rows at a `rows` step, as a JSON array of objects (then `resume`).
    #[getter]
    fn rows(&self, py: Python<'_>) -> PyResult<String> {
        match &self.step {
            TaskStep::Rows(rows) => serde_json::to_string(rows)
                .map_err(|e| to_py_err(py, &Error::misuse(&e.to_string()))),
            _ => Ok("[]".to_owned()),
        }
    }

    /// What the task produced: the run at a `status` step; at `done`, the outcome, or its
    /// error raised.
    fn result(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        match &self.step {
            TaskStep::Status(run) => Ok(Py::new(py, ReportRun::from((**run).clone()))?.into_any()),
            TaskStep::Done(Ok(output)) => output_to_py(py, output),
            TaskStep::Done(Err(error)) => Err(to_py_err(py, error)),
            _ => Ok(py.None()),
        }
    }

    /// The head of the answer to the request in flight: `True` to read its body (hand each
    /// chunk to `on_body`, its end to `on_body_end`), `False` when the head was not HTTP (the
    /// task took it as a broken connection and moved on).
    fn on_head(
        &mut self,
        py: Python<'_>,
        status: u16,
        headers: Vec<(Vec<u8>, Vec<u8>)>,
    ) -> PyResult<bool> {
        self.at_send(py, "an answer's head")?;
        self.heard = true;
        match self.task.on_head(&self.session, status, headers, now()) {
            Receive::Body => Ok(true),
            Receive::Next(step) => {
                self.step = *step;
                Ok(false)
            }
        }
    }

    /// A chunk of the body: `(converted, full, drain)`. An export's chunk comes back
    /// converted (with the GIL released: a large or hostile export does not stall other
    /// threads or an event loop); `full` says to stop reading (a failed answer past its cap)
    /// and call `on_body_end`; `drain` that part of the chunk waits (a gzip export expanding
    /// past a batch): write `converted`, then call again with `b""`, before reading on. An
    /// export that cannot be converted ends the task and is raised.
    fn on_body<'py>(
        &mut self,
        py: Python<'py>,
        chunk: &[u8],
    ) -> PyResult<(Bound<'py, PyBytes>, bool, bool)> {
        self.at_body(py, "a chunk")?;
        let mut out = Vec::new();
        let task = &mut self.task;
        match py.detach(|| task.on_body(chunk, &mut out, now())) {
            BodyProgress::More => Ok((PyBytes::new(py, &out), false, false)),
            BodyProgress::Full => Ok((PyBytes::new(py, &out), true, false)),
            BodyProgress::Drain => Ok((PyBytes::new(py, &out), false, true)),
            BodyProgress::Over(step) => {
                self.step = *step;
                Err(match &self.step {
                    TaskStep::Done(Err(error)) => to_py_err(py, error),
                    _ => to_py_err(py, &Error::misuse("a body ended a task without an error")),
                })
            }
        }
    }

    /// The body ended (or was read to its cap): an export's last converted bytes; the task
    /// moves on (a body cut short is the task's error, raised by `result()`).
    fn on_body_end<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        self.at_body(py, "a body's end")?;
        let mut out = Vec::new();
        // Inflating and parsing a whole answer (up to its cap), or ending an export, with
        // the GIL released: a large or hostile answer stalls no other thread or event loop.
        let (task, session) = (&mut self.task, &self.session);
        self.step = py.detach(|| task.on_body_end(session, &mut out, now()));
        Ok(PyBytes::new(py, &out))
    }

    /// No complete answer arrived (before its head, or while its body was read): `kind` is
    /// `connect`, `timeout`, `io` or `other`; `sent` whether the request may have reached
    /// the server.
    fn on_failure(
        &mut self,
        py: Python<'_>,
        kind: &str,
        sent: bool,
        message: &str,
    ) -> PyResult<()> {
        self.at_send(py, "a failure")?;
        self.heard = false;
        let kind = match kind {
            "connect" => TransportErrorKind::Connect,
            "timeout" => TransportErrorKind::Timeout,
            "io" => TransportErrorKind::Io,
            _ => TransportErrorKind::Other,
        };
        // Mid-body of an export, the export's error; otherwise the call's failure (retried
        // when safe): the core's rule.
        let failure = TransportFailure::new(kind, sent, message);
        self.step = self
            .task
            .on_transport_failure(&self.session, failure, now());
        Ok(())
    }

    /// Goes on after a `sleep`, or after the `rows` or the `status` were taken.
    fn resume(&mut self, py: Python<'_>) -> PyResult<()> {
        match self.step {
            TaskStep::Sleep(_)
            | TaskStep::AwaitToken { .. }
            | TaskStep::Rows(_)
            | TaskStep::Status(_) => {
                self.feed(ExchangeEvent::Resumed);
                Ok(())
            }
            _ => Err(to_py_err(
                py,
                &Error::misuse(&format!("resume at a {} step", self.kind())),
            )),
        }
    }

    /// Stops the task at any step (`cancel`: a wait cancels its run on the server first, and
    /// its next step is that cancel's request).
    fn interrupt(&mut self, cancel: bool) {
        self.heard = false;
        if !matches!(self.step, TaskStep::Done(_)) {
            self.step = self.task.interrupt(&self.session, cancel, now());
        }
    }
}

fn output_to_py(py: Python<'_>, output: &TaskOutput) -> PyResult<Py<PyAny>> {
    Ok(match output {
        TaskOutput::Token { expires_in } => expires_in
            .as_secs_f64()
            .into_pyobject(py)?
            .into_any()
            .unbind(),
        TaskOutput::Started(started) => Py::new(py, RunStarted::from(started.clone()))?.into_any(),
        TaskOutput::Run(run) => Py::new(py, ReportRun::from(run.clone()))?.into_any(),
        TaskOutput::Message(message) => message.into_pyobject(py)?.into_any().unbind(),
        TaskOutput::Reports(reports) => {
            let list: Vec<ReportSummary> = reports.iter().cloned().map(Into::into).collect();
            list.into_pyobject(py)?.into_any().unbind()
        }
        TaskOutput::Report(report) => Py::new(py, ReportSummary::from(report.clone()))?.into_any(),
        TaskOutput::ReportId(id) => id.as_str().into_pyobject(py)?.into_any().unbind(),
        TaskOutput::Rows(count) => count.into_pyobject(py)?.into_any().unbind(),
        TaskOutput::Export(summary) => {
            Py::new(py, ExportSummary::from(summary.clone()))?.into_any()
        }
        TaskOutput::Trip(run, summary) => (
            Py::new(py, ReportRun::from((**run).clone()))?,
            Py::new(py, ExportSummary::from(summary.clone()))?,
        )
            .into_pyobject(py)?
            .into_any()
            .unbind(),
        _ => {
            return Err(to_py_err(
                py,
                &Error::misuse("an outcome this package does not know"),
            ));
        }
    })
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

/// A report file being written beside its destination (`zuora-files`, the CLI's routine
/// too): an unpredictable temporary name created exclusively without following links,
/// owner-only unless the destination exists (its mode is kept), renamed into place by
/// `commit`, removed by `discard` (or when dropped).
#[pyclass(module = "zuora_reporting._native")]
struct PartialFile {
    inner: Option<zuora_files::PartialFile>,
}

#[pymethods]
impl PartialFile {
    #[new]
    fn new(path: std::path::PathBuf) -> PyResult<Self> {
        Ok(Self {
            inner: Some(zuora_files::PartialFile::create(&path, None)?),
        })
    }

    /// Appends `data` (with the GIL released); returns how many bytes were written.
    fn write(&mut self, py: Python<'_>, data: &[u8]) -> PyResult<usize> {
        let Some(file) = self.inner.as_mut() else {
            return Err(std::io::Error::other("the file was committed or discarded").into());
        };
        py.detach(|| std::io::Write::write_all(file, data))?;
        Ok(data.len())
    }

    /// Syncs the file and renames it over the destination.
    fn commit(&mut self, py: Python<'_>) -> PyResult<()> {
        match self.inner.take() {
            Some(file) => Ok(py.detach(|| file.commit())?),
            None => Err(std::io::Error::other("the file was committed or discarded").into()),
        }
    }

    /// Removes the temporary file.
    fn discard(&mut self) {
        if let Some(file) = self.inner.take() {
            file.discard();
        }
    }
}

/// The module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<Engine>()?;
    m.add_class::<Task>()?;
    m.add_class::<PartialFile>()?;
    m.add_class::<pulls::Pull>()?;
    m.add_class::<pulls::PullWork>()?;
    m.add_class::<tables::TableSpool>()?;
    m.add_class::<tables::Table>()?;
    m.add_class::<tables::TableRows>()?;
    m.add("TableValueError", py.get_type::<tables::TableValueError>())?;
    m.add_class::<RunStarted>()?;
    m.add_class::<ReportRun>()?;
    m.add_class::<ReportSummary>()?;
    m.add_class::<ExportSummary>()?;
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
    let bases = pyo3::types::PyTuple::new(
        py,
        [
            py.get_type::<TransportError>(),
            py.get_type::<TimedOutError>(),
        ],
    )?;
    let namespace = pyo3::types::PyDict::new(py);
    namespace.set_item(
        "__doc__",
        "An attempt ran out of time (its head or its answer came too slowly).",
    )?;
    namespace.set_item("__module__", "zuora_reporting")?;
    let class = py
        .get_type::<pyo3::types::PyType>()
        .call1(("AttemptTimedOutError", bases, namespace))?
        .cast_into::<pyo3::types::PyType>()?;
    m.add("AttemptTimedOutError", &class)?;
    let _ = ATTEMPT_TIMED_OUT.set(py, class.unbind());
    m.add("PagingStoppedError", py.get_type::<PagingStoppedError>())?;
    m.add("ExportBrokenError", py.get_type::<ExportBrokenError>())?;
    m.add("ApiError", py.get_type::<ApiError>())?;
    Ok(())
}
