//! `ZuoraTask`: any piece of work (a call, a search, the rows of a run, a wait, a download)
//! as one machine with one protocol, so a C program writes a single driver loop:
//!
//! - `ZUORA_STEP_SEND`: send [`zuora_task_request`]; hand back the answer's head
//!   ([`zuora_task_on_head`]), its body in chunks ([`zuora_task_on_body`], which returns the
//!   converted bytes of an export) and its end ([`zuora_task_on_body_end`]), or, if no
//!   complete answer came, [`zuora_task_on_transport_error`];
//! - `ZUORA_STEP_SLEEP`: sleep [`zuora_task_sleep_ms`], then [`zuora_task_resume`];
//! - `ZUORA_STEP_ROWS`: take [`zuora_task_rows`] (a page of a run's data), then
//!   [`zuora_task_resume`];
//! - `ZUORA_STEP_DONE`: [`zuora_task_outcome`] says how it ended, and the task's accessors
//!   give what it produced.
//!
//! [`zuora_task_interrupt`] stops a task at any step (a wait can cancel its run on the way).
//!
//! A task is used by one thread at a time (it may move between threads); tasks of one session
//! may run on many threads at once, sharing its token cache.

use crate::boundary::FromC as _;
use std::sync::Arc;
use std::time::Duration;

use zuora_core::Error;
use zuora_core::driver::{TransportErrorKind, TransportFailure};
use zuora_core::machines::{
    BodyProgress, ExchangeEvent as Input, Receive, Session, Task, TaskOutput as Outcome,
    TaskStep as Pending,
};

use crate::boundary::{
    CText, ZuoraBytes, ZuoraHeader, ZuoraStr, fail, free_handle, guard, handle, handle_mut, put,
    read, to_millis,
};
use crate::code::ZuoraCode;
use crate::error::ZuoraError;
use crate::request::ZuoraRequest;
use crate::run::ZuoraRun;

/// The driver's clock, read when something happens: the core never reads one.
pub(crate) use zuora_os::now;

/// What a task asks of the C driver now.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZuoraStep {
    /// Send [`zuora_task_request`] and hand back what came of it.
    ZuoraStepSend = 1,
    /// Sleep [`zuora_task_sleep_ms`], then [`zuora_task_resume`].
    ZuoraStepSleep = 2,
    /// Take [`zuora_task_rows`], then [`zuora_task_resume`].
    ZuoraStepRows = 3,
    /// Over: see [`zuora_task_outcome`].
    ZuoraStepDone = 4,
}

/// Why no complete answer arrived.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZuoraTransportError {
    /// The connection could not be made (refused, DNS, TLS handshake).
    ZuoraTransportConnect = 1,
    /// A timeout expired (for a streamed export: no byte within the idle timeout).
    ZuoraTransportTimeout = 2,
    /// The connection broke while sending or receiving.
    ZuoraTransportIo = 3,
    /// Anything else.
    ZuoraTransportOther = 4,
}
crate::boundary::from_c!(ZuoraTransportError: ZuoraTransportConnect, ZuoraTransportTimeout, ZuoraTransportIo, ZuoraTransportOther);

/// What a finished task produced.
#[derive(Default)]
struct Finish {
    error: Option<ZuoraError>,
    run: Option<ZuoraRun>,
    reports: Vec<(CText, CText)>,
    message: Option<CText>,
    rows: u64,
    export: Option<(u64, u64)>,
    expires_in: Duration,
}

impl Finish {
    fn of(outcome: Result<Outcome, Error>) -> Self {
        let mut finish = Self::default();
        match outcome {
            Err(error) => finish.error = Some(ZuoraError::of(&error)),
            Ok(Outcome::Token { expires_in }) => finish.expires_in = expires_in,
            Ok(Outcome::Started(started)) => finish.run = Some(ZuoraRun::started(&started)),
            Ok(Outcome::Run(run)) => finish.run = Some(ZuoraRun::of(&run)),
            Ok(Outcome::Message(message)) => finish.message = Some(CText::new(message)),
            Ok(Outcome::Reports(reports)) => {
                finish.reports = reports
                    .iter()
                    .map(|r| (CText::new(r.id.as_str()), CText::new(r.name.as_str())))
                    .collect();
            }
            Ok(Outcome::Report(report)) => {
                finish.reports = vec![(
                    CText::new(report.id.as_str()),
                    CText::new(report.name.as_str()),
                )];
            }
            Ok(Outcome::ReportId(id)) => {
                finish.reports = vec![(CText::new(id.as_str()), CText::new(""))];
            }
            Ok(Outcome::Rows(rows)) => finish.rows = rows,
            Ok(Outcome::Export(summary)) => {
                finish.export = Some((summary.bytes_received, summary.bytes_written));
            }
            Ok(Outcome::Trip(run, summary)) => {
                finish.run = Some(ZuoraRun::of(&run));
                finish.export = Some((summary.bytes_received, summary.bytes_written));
            }
            Ok(_) => {
                finish.error = Some(ZuoraError::of(&Error::misuse(
                    "a task ended with an outcome this library does not know",
                )));
            }
        }
        finish
    }
}

/// Where the task is.
enum State {
    Send(Box<ZuoraRequest>),
    Sleep(Duration),
    Rows(CText),
    Done(Box<Finish>),
}

/// A piece of work, driven by a C program.
pub struct ZuoraTask {
    session: Arc<Session>,
    task: Task,
    state: State,
    /// Whether the request in flight has had its head.
    heard: bool,
    /// The converted bytes handed to C by the last `on_body` / `on_body_end`.
    output: Vec<u8>,
    /// Whether the last `on_body` left part of its chunk to convert.
    draining: bool,
}

impl ZuoraTask {
    pub(crate) fn new(session: Arc<Session>, (core, first): (Task, Pending)) -> Self {
        let mut task = Self {
            session,
            task: core,
            state: State::Done(Box::default()),
            heard: false,
            output: Vec::new(),
            draining: false,
        };
        task.enter(first);
        task
    }

    fn enter(&mut self, pending: Pending) {
        self.heard = false;
        self.state = match pending {
            Pending::Send(request) => {
                let cap = self.session.config().limits().max_decoded_bytes() as u64;
                State::Send(Box::new(ZuoraRequest::new(request, cap)))
            }
            // Another task of the session fetching the token is a short sleep too: C has no
            // way to be woken (the core's look-again pause, never past the task's deadline).
            Pending::Sleep(_) | Pending::AwaitToken { .. } => {
                State::Sleep(pending.pause().unwrap_or_default())
            }
            Pending::Rows(rows) => match serde_json::to_string(&rows) {
                Ok(json) => State::Rows(CText::new(json)),
                Err(error) => {
                    State::Done(Box::new(Finish::of(Err(Error::misuse(&error.to_string())))))
                }
            },
            // This driver never asks to see a wait's statuses; should one come, go on.
            Pending::Status(_) => {
                let next = self.task.feed(&self.session, Input::Resumed, now());
                return self.enter(next);
            }
            Pending::Done(outcome) => State::Done(Box::new(Finish::of(outcome))),
        };
    }

    fn step(&self) -> ZuoraStep {
        match self.state {
            State::Send(_) => ZuoraStep::ZuoraStepSend,
            State::Sleep(_) => ZuoraStep::ZuoraStepSleep,
            State::Rows(_) => ZuoraStep::ZuoraStepRows,
            State::Done(_) => ZuoraStep::ZuoraStepDone,
        }
    }

    fn expect(&self, step: ZuoraStep, what: &str) -> Result<(), ZuoraCode> {
        if self.step() == step {
            Ok(())
        } else {
            Err(fail(
                ZuoraCode::ZuoraErrState,
                format!("{what} at step {:?}", self.step()),
            ))
        }
    }

    fn finish(&self) -> Option<&Finish> {
        match &self.state {
            State::Done(finish) => Some(finish),
            _ => None,
        }
    }

    fn on_head(&mut self, status: u16, headers: &[ZuoraHeader]) -> Result<(), ZuoraCode> {
        self.expect(ZuoraStep::ZuoraStepSend, "an answer's head")?;
        if self.heard {
            return Err(fail(
                ZuoraCode::ZuoraErrState,
                "a second head for one request",
            ));
        }
        let mut parts = Vec::with_capacity(headers.len());
        for header in headers {
            let name = unsafe { header.name.get("a header name") }?;
            let value = unsafe { header.value.get("a header value") }?;
            parts.push((name, value));
        }
        self.heard = true;
        if let Receive::Next(pending) = self.task.on_head(&self.session, status, parts, now()) {
            // Not HTTP: the task took it as a broken connection and has moved on (its request
            // is gone). Said, so the caller reads no body and looks at the task's next step.
            self.enter(*pending);
            return Err(fail(
                ZuoraCode::ZuoraErrTransport,
                format!(
                    "the answer's head (status {status}) was not HTTP: taken as a broken connection; the task moved on"
                ),
            ));
        }
        Ok(())
    }

    fn on_body(&mut self, chunk: &[u8]) -> Result<(), ZuoraCode> {
        self.output.clear();
        self.draining = false;
        if !self.heard || self.step() != ZuoraStep::ZuoraStepSend {
            return Err(fail(ZuoraCode::ZuoraErrState, "a body before its head"));
        }
        match self.task.on_body(chunk, &mut self.output, zuora_os::now()) {
            // A failed answer past its cap: the rest is ignored until its end.
            BodyProgress::More | BodyProgress::Full => Ok(()),
            BodyProgress::Drain => {
                self.draining = true;
                Ok(())
            }
            BodyProgress::Over(pending) => {
                self.enter(*pending);
                let code = self.finish().map_or(ZuoraCode::ZuoraErrState, |f| {
                    f.error
                        .as_ref()
                        .map_or(ZuoraCode::ZuoraErrState, ZuoraError::code)
                });
                Err(fail(code, "the export could not be converted"))
            }
        }
    }

    fn on_body_end(&mut self) -> Result<(), ZuoraCode> {
        self.output.clear();
        self.draining = false;
        if !self.heard || self.step() != ZuoraStep::ZuoraStepSend {
            return Err(fail(
                ZuoraCode::ZuoraErrState,
                "a body's end before its head",
            ));
        }
        let pending = self
            .task
            .on_body_end(&self.session, &mut self.output, now());
        self.enter(pending);
        Ok(())
    }

    fn on_transport_error(&mut self, failure: TransportFailure) {
        let pending = self
            .task
            .on_transport_failure(&self.session, failure, now());
        self.enter(pending);
    }
}

/// The step the task is at (`ZUORA_STEP_DONE` for NULL).
///
/// # Safety
/// `task` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_task_step(task: *const ZuoraTask) -> ZuoraStep {
    unsafe { read(task, ZuoraStep::ZuoraStepDone, ZuoraTask::step) }
}

/// The request to send at `ZUORA_STEP_SEND` (NULL at any other step); it lives until the
/// task moves on.
///
/// # Safety
/// `task` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_task_request(task: *const ZuoraTask) -> *const ZuoraRequest {
    unsafe {
        read(task, std::ptr::null(), |t| match &t.state {
            State::Send(request) => &raw const **request,
            _ => std::ptr::null(),
        })
    }
}

/// The answer's status and headers, before any of its body. `ZUORA_ERR_TRANSPORT` when the
/// head is not HTTP (a status outside 100-999, say): the task took it as a broken connection
/// and moved on; read no body, and go on with the task's next step.
///
/// # Safety
/// `task` must be live; `headers` must point to `count` headers whose bytes are readable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_task_on_head(
    task: *mut ZuoraTask,
    status: u16,
    headers: *const ZuoraHeader,
    count: usize,
) -> ZuoraCode {
    guard(|| {
        let task = unsafe { handle_mut(task, "task") }?;
        let headers = if count == 0 {
            &[][..]
        } else {
            let first = unsafe { handle(headers, "headers") }?;
            // SAFETY: the caller promises `count` readable headers at `headers`.
            unsafe { std::slice::from_raw_parts(first, count) }
        };
        task.on_head(status, headers)
    })
}

/// A chunk of the answer's body. For an export being downloaded, `output` receives the
/// converted bytes to write (they live until the task's next call); otherwise it is empty.
/// Any code but `ZUORA_OK` means: stop reading, the task is over (see
/// [`zuora_task_outcome`]).
///
/// # Safety
/// `task` must be live; `chunk` readable; `output` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_task_on_body(
    task: *mut ZuoraTask,
    chunk: ZuoraBytes,
    output: *mut ZuoraBytes,
) -> ZuoraCode {
    guard(|| {
        let task = unsafe { handle_mut(task, "task") }?;
        let chunk = unsafe { chunk.get("chunk") }?;
        let outcome = task.on_body(chunk);
        unsafe { put(output, ZuoraBytes::of(&task.output)) }?;
        outcome
    })
}

/// Whether the last [`zuora_task_on_body`] left part of its chunk to convert: a gzip export
/// whose chunk expanded past a batch (1 MiB). Write its `output`, then call
/// `zuora_task_on_body` with an empty chunk while this says true, before reading on; memory
/// then stays bounded whatever the export expands to. (A caller that reads on anyway loses
/// nothing: the next chunk queues behind the rest.)
///
/// # Safety
/// `task` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_task_draining(task: *const ZuoraTask) -> bool {
    unsafe { read(task, false, |t| t.draining) }
}

/// The answer's body ended cleanly. `output` receives an export's last converted bytes.
///
/// # Safety
/// `task` must be live; `output` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_task_on_body_end(
    task: *mut ZuoraTask,
    output: *mut ZuoraBytes,
) -> ZuoraCode {
    guard(|| {
        let task = unsafe { handle_mut(task, "task") }?;
        let outcome = task.on_body_end();
        unsafe { put(output, ZuoraBytes::of(&task.output)) }?;
        outcome
    })
}

/// No complete answer arrived: `kind` says why (a value of `enum ZuoraTransportError`; any
/// other is `ZUORA_ERR_STATE`), `may_have_been_sent` whether the request
/// may have reached the server (false only when it certainly did not: DNS, a refused
/// connection), `message` what the HTTP stack said (never shown with a secret).
///
/// # Safety
/// `task` must be live; `message` NULL or readable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_task_on_transport_error(
    task: *mut ZuoraTask,
    kind: u32,
    may_have_been_sent: bool,
    message: ZuoraStr,
) -> ZuoraCode {
    guard(|| {
        let kind = ZuoraTransportError::from_c(kind)?;
        let task = unsafe { handle_mut(task, "task") }?;
        task.expect(ZuoraStep::ZuoraStepSend, "a transport failure")?;
        let message = unsafe { message.optional("message") }?.unwrap_or("");
        let kind = match kind {
            ZuoraTransportError::ZuoraTransportConnect => TransportErrorKind::Connect,
            ZuoraTransportError::ZuoraTransportTimeout => TransportErrorKind::Timeout,
            ZuoraTransportError::ZuoraTransportIo => TransportErrorKind::Io,
            ZuoraTransportError::ZuoraTransportOther => TransportErrorKind::Other,
        };
        task.on_transport_error(TransportFailure::new(kind, may_have_been_sent, message));
        Ok(())
    })
}

/// Milliseconds to sleep at `ZUORA_STEP_SLEEP` (0 at any other step).
///
/// # Safety
/// `task` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_task_sleep_ms(task: *const ZuoraTask) -> u64 {
    unsafe {
        read(task, 0, |t| match t.state {
            State::Sleep(delay) => to_millis(delay),
            _ => 0,
        })
    }
}

/// A page of a run's data at `ZUORA_STEP_ROWS`: a JSON array of objects (field id to value),
/// NUL-terminated; empty at any other step.
///
/// # Safety
/// `task` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_task_rows(task: *const ZuoraTask) -> ZuoraStr {
    unsafe {
        read(task, ZuoraStr::EMPTY, |t| match &t.state {
            State::Rows(json) => json.get(),
            _ => ZuoraStr::EMPTY,
        })
    }
}

/// Goes on after a sleep (`ZUORA_STEP_SLEEP`) or after the rows were taken
/// (`ZUORA_STEP_ROWS`).
///
/// # Safety
/// `task` must be live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_task_resume(task: *mut ZuoraTask) -> ZuoraCode {
    guard(|| {
        let task = unsafe { handle_mut(task, "task") }?;
        if !matches!(task.state, State::Sleep(_) | State::Rows(_)) {
            return Err(fail(
                ZuoraCode::ZuoraErrState,
                format!("resume at step {:?}", task.step()),
            ));
        }
        let pending = task.task.feed(&task.session, Input::Resumed, now());
        task.enter(pending);
        Ok(())
    })
}

/// Stops the task at any step (Ctrl-C, the caller's own deadline): drop the request in
/// flight, then call this. A wait then cancels its run on the server if `cancel_run` (its
/// next step is that cancel's request); every other task ends with `ZUORA_ERR_INTERRUPTED`.
///
/// # Safety
/// `task` must be live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_task_interrupt(task: *mut ZuoraTask, cancel_run: bool) -> ZuoraCode {
    guard(|| {
        let task = unsafe { handle_mut(task, "task") }?;
        if task.step() == ZuoraStep::ZuoraStepDone {
            return Ok(());
        }
        let pending = task.task.interrupt(&task.session, cancel_run, now());
        task.enter(pending);
        Ok(())
    })
}

/// How a finished task ended: `ZUORA_OK`, or its failure's code ([`zuora_task_error`] says
/// more); `ZUORA_ERR_STATE` while it is not over.
///
/// # Safety
/// `task` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_task_outcome(task: *const ZuoraTask) -> ZuoraCode {
    unsafe {
        read(task, ZuoraCode::ZuoraErrNull, |t| match t.finish() {
            None => ZuoraCode::ZuoraErrState,
            Some(finish) => finish
                .error
                .as_ref()
                .map_or(ZuoraCode::ZuoraOk, ZuoraError::code),
        })
    }
}

/// Why a finished task failed (NULL when it did not); lives as long as the task.
///
/// # Safety
/// `task` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_task_error(task: *const ZuoraTask) -> *const ZuoraError {
    unsafe {
        read(task, std::ptr::null(), |t| {
            t.finish()
                .and_then(|f| f.error.as_ref())
                .map_or(std::ptr::null(), std::ptr::from_ref)
        })
    }
}

/// The run a finished task produced (run, get, latest, wait; NULL otherwise); lives as long
/// as the task.
///
/// # Safety
/// `task` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_task_run(task: *const ZuoraTask) -> *const ZuoraRun {
    unsafe {
        read(task, std::ptr::null(), |t| {
            t.finish()
                .and_then(|f| f.run.as_ref())
                .map_or(std::ptr::null(), std::ptr::from_ref)
        })
    }
}

/// How many reports a finished search found (1 for a found report, 0 otherwise).
///
/// # Safety
/// `task` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_task_report_count(task: *const ZuoraTask) -> usize {
    unsafe { read(task, 0, |t| t.finish().map_or(0, |f| f.reports.len())) }
}

/// Report `index` of a finished search: its id and name (NUL-terminated).
///
/// # Safety
/// `task` must be live; `id` and `name` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_task_report(
    task: *const ZuoraTask,
    index: usize,
    id: *mut ZuoraStr,
    name: *mut ZuoraStr,
) -> ZuoraCode {
    guard(|| {
        let task = unsafe { handle(task, "task") }?;
        let reports = task.finish().map_or(&[][..], |f| &f.reports[..]);
        let Some((report_id, report_name)) = reports.get(index) else {
            return Err(fail(
                ZuoraCode::ZuoraErrState,
                format!("report {index} of {}", reports.len()),
            ));
        };
        unsafe { put(id, report_id.get()) }?;
        unsafe { put(name, report_name.get()) }
    })
}

/// *Cancel a report run*'s message (empty for other tasks).
///
/// # Safety
/// `task` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_task_message(task: *const ZuoraTask) -> ZuoraStr {
    unsafe {
        read(task, ZuoraStr::EMPTY, |t| {
            t.finish()
                .and_then(|f| f.message.as_ref())
                .map_or(ZuoraStr::EMPTY, CText::get)
        })
    }
}

/// Rows handed over by a finished rows task.
///
/// # Safety
/// `task` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_task_rows_total(task: *const ZuoraTask) -> u64 {
    unsafe { read(task, 0, |t| t.finish().map_or(0, |f| f.rows)) }
}

/// A finished download's byte counts: received (compressed, if gzipped) and written.
///
/// # Safety
/// `task` must be live; both out-pointers writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_task_export_bytes(
    task: *const ZuoraTask,
    received: *mut u64,
    written: *mut u64,
) -> ZuoraCode {
    guard(|| {
        let task = unsafe { handle(task, "task") }?;
        let Some((got, wrote)) = task.finish().and_then(|f| f.export) else {
            return Err(fail(ZuoraCode::ZuoraErrState, "not a finished download"));
        };
        unsafe { put(received, got) }?;
        unsafe { put(written, wrote) }
    })
}

/// For a finished credentials check: seconds the token lives (0 otherwise).
///
/// # Safety
/// `task` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_task_token_expires_in_s(task: *const ZuoraTask) -> u64 {
    unsafe {
        read(task, 0, |t| {
            t.finish().map_or(0, |f| f.expires_in.as_secs())
        })
    }
}

/// Frees a task; NULL is ignored. Its request, run, error and strings go with it.
///
/// # Safety
/// `task` must be NULL or from this library, not used again.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_task_free(task: *mut ZuoraTask) {
    unsafe { free_handle(task) }
}
