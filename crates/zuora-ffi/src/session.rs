//! `ZuoraSession`: one client's engine (its configuration, token cache and entropy), and the
//! tasks it starts. Arguments are checked here, by the same Rust types, before a task exists:
//! bad input never reaches the network.

use crate::boundary::FromC as _;
use std::sync::Arc;

use zuora_core::machines::{Session, Task, TaskStep};
use zuora_core::policies::{PollPolicy, WaitOptions};
use zuora_core::{ExportFormat, ReportId, ReportRef, ReportRunId};

use crate::boundary::{ZuoraStr, fail_with, free_handle, guard, handle, millis, put_handle};
use crate::code::ZuoraCode;
use crate::config::ZuoraConfig;
use crate::run_options::ZuoraRunOptions;
use crate::task::{ZuoraTask, now};

/// A client: share one per configuration (thread-safe; the token cache is shared by its
/// tasks).
pub struct ZuoraSession {
    session: Arc<Session>,
}

/// What a download converts the export to.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZuoraExportFormat {
    /// UTF-8 CSV (RFC 4180).
    ZuoraFormatCsv = 1,
    /// UTF-8, tab-separated.
    ZuoraFormatTsv = 2,
    /// The UTF-16LE bytes as Zuora sends them, gzip removed.
    ZuoraFormatRaw = 3,
}
crate::boundary::from_c!(ZuoraExportFormat: ZuoraFormatCsv, ZuoraFormatTsv, ZuoraFormatRaw);

/// How a wait looks at its run. Start from [`zuora_wait_options_default`].
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZuoraWaitOptions {
    /// The whole wait, in milliseconds (100 ms to 24 h).
    pub timeout_ms: u64,
    /// The first pause between looks (at least 50 ms).
    pub poll_first_ms: u64,
    /// The longest pause; pauses double up to it.
    pub poll_max_ms: u64,
    /// Whether to cancel the run on the server when the wait times out.
    pub cancel_on_timeout: bool,
}

/// The defaults of Rust's `WaitOptions`: one hour, looks after 1 s doubling to 30 s, the run
/// left going on timeout.
#[unsafe(no_mangle)]
pub extern "C" fn zuora_wait_options_default() -> ZuoraWaitOptions {
    let defaults = WaitOptions::default();
    let poll = defaults.poll_policy();
    ZuoraWaitOptions {
        timeout_ms: crate::boundary::to_millis(defaults.timeout()),
        poll_first_ms: crate::boundary::to_millis(poll.first_delay()),
        poll_max_ms: crate::boundary::to_millis(poll.max_delay()),
        cancel_on_timeout: defaults.cancels_on_timeout(),
    }
}

/// A session from `config`, checked as the Rust builder checks it. `seed` seeds the
/// idempotency keys and backoff jitter (0: from the OS, as the Rust clients do).
///
/// # Safety
/// `config` must be live; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_session_new(
    config: *const ZuoraConfig,
    seed: u64,
    out: *mut *mut ZuoraSession,
) -> ZuoraCode {
    guard(|| {
        let config = unsafe { handle(config, "config") }?;
        let config = config.build().map_err(fail_with)?;
        let seed = if seed == 0 { zuora_os::seed() } else { seed };
        let session = Arc::new(Session::new(config, seed));
        unsafe { put_handle(out, ZuoraSession { session }) }
    })
}

/// Frees a session; NULL is ignored. Tasks it started keep what they need.
///
/// # Safety
/// `session` must be NULL or from [`zuora_session_new`], not used again.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_session_free(session: *mut ZuoraSession) {
    unsafe { free_handle(session) }
}

/// Starts a task of `session` once the arguments `parse` reads are valid.
///
/// # Safety
/// `session` must be live; `out` writable; `start` reads only what its caller vouched for.
unsafe fn start(
    session: *const ZuoraSession,
    out: *mut *mut ZuoraTask,
    make: impl FnOnce(&Session) -> Result<(Task, TaskStep), ZuoraCode>,
) -> ZuoraCode {
    guard(|| {
        let session = unsafe { handle(session, "session") }?;
        let task = ZuoraTask::new(Arc::clone(&session.session), make(&session.session)?);
        unsafe { put_handle(out, task) }
    })
}

/// Reads an id argument with the Rust type's rules.
unsafe fn id<T: std::str::FromStr<Err = zuora_core::errors::InvalidInput>>(
    text: ZuoraStr,
    what: &str,
) -> Result<T, ZuoraCode> {
    unsafe { text.required(what) }?.parse().map_err(fail_with)
}

/// Starts the task `start` makes from the id in `text` (checked first).
///
/// # Safety
/// As [`start`]; `text` readable.
unsafe fn start_with_id<I>(
    session: *const ZuoraSession,
    text: ZuoraStr,
    what: &str,
    out: *mut *mut ZuoraTask,
    begin: impl FnOnce(&Session, &I) -> (Task, TaskStep),
) -> ZuoraCode
where
    I: std::str::FromStr<Err = zuora_core::errors::InvalidInput>,
{
    unsafe {
        start(session, out, |shared| {
            let id: I = id(text, what)?;
            Ok(begin(shared, &id))
        })
    }
}

/// Checks the credentials: fetches a token and reports how long it lives (never the token).
///
/// # Safety
/// `session` must be live; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_session_check_credentials(
    session: *const ZuoraSession,
    out: *mut *mut ZuoraTask,
) -> ZuoraCode {
    unsafe {
        start(session, out, |shared| {
            Ok(Task::check_credentials(shared, now()))
        })
    }
}

/// *Run a report* as `options` say; the idempotency key (given, or made here) is sent with
/// every attempt, so a retry never starts a second run.
///
/// # Safety
/// `session` and `options` must be live; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_session_run_report(
    session: *const ZuoraSession,
    options: *const ZuoraRunOptions,
    out: *mut *mut ZuoraTask,
) -> ZuoraCode {
    unsafe {
        start(session, out, |shared| {
            let options = handle(options, "options")?;
            Ok(Task::run_report(
                shared,
                options.report_id(),
                options.view_type(),
                options.options().clone(),
                now(),
            ))
        })
    }
}

/// *Retrieve a report run*.
///
/// # Safety
/// `session` must be live; `run_id` readable; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_session_get_run(
    session: *const ZuoraSession,
    run_id: ZuoraStr,
    out: *mut *mut ZuoraTask,
) -> ZuoraCode {
    unsafe {
        start_with_id::<ReportRunId>(session, run_id, "run_id", out, |shared, id| {
            Task::get_run(shared, id, now())
        })
    }
}

/// The last completed run of a report (by id).
///
/// # Safety
/// `session` must be live; `report_id` readable; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_session_latest_run(
    session: *const ZuoraSession,
    report_id: ZuoraStr,
    out: *mut *mut ZuoraTask,
) -> ZuoraCode {
    unsafe {
        start_with_id::<ReportId>(session, report_id, "report_id", out, |shared, id| {
            Task::latest_run(shared, id, now())
        })
    }
}

/// *Cancel a report run*.
///
/// # Safety
/// `session` must be live; `run_id` readable; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_session_cancel_run(
    session: *const ZuoraSession,
    run_id: ZuoraStr,
    out: *mut *mut ZuoraTask,
) -> ZuoraCode {
    unsafe {
        start_with_id::<ReportRunId>(session, run_id, "run_id", out, |shared, id| {
            Task::cancel_run(shared, id, now())
        })
    }
}

/// Every report whose name, data source or description matches `query`, over every page, with
/// the core's stop rules (a repeated page, the page cap, the overall timeout).
///
/// # Safety
/// `session` must be live; `query` readable; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_session_search(
    session: *const ZuoraSession,
    query: ZuoraStr,
    out: *mut *mut ZuoraTask,
) -> ZuoraCode {
    unsafe {
        start(session, out, |shared| {
            let query = query.required("query")?;
            Task::search(shared, query, now()).map_err(fail_with)
        })
    }
}

/// The report `report` stands for: its id as is (nothing is sent), or the one report named
/// exactly so (a search; none or several is an error). Read the result with
/// `zuora_task_report(task, 0, …)`.
///
/// # Safety
/// `session` must be live; `report` readable; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_session_find_report(
    session: *const ZuoraSession,
    report: ZuoraStr,
    out: *mut *mut ZuoraTask,
) -> ZuoraCode {
    unsafe {
        start(session, out, |shared| {
            let report = ReportRef::parse(report.required("report")?).map_err(fail_with)?;
            Task::find_report(shared, &report, now()).map_err(fail_with)
        })
    }
}

/// The rows of a completed run as JSON, `page_size` rows per `ZUORA_STEP_ROWS`, with the
/// core's stop rules.
///
/// # Safety
/// `session` must be live; `run_id` readable; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_session_rows(
    session: *const ZuoraSession,
    run_id: ZuoraStr,
    page_size: u64,
    out: *mut *mut ZuoraTask,
) -> ZuoraCode {
    unsafe {
        start(session, out, |shared| {
            let run_id: ReportRunId = id(run_id, "run_id")?;
            Ok(Task::rows(shared, &run_id, page_size, now()))
        })
    }
}

/// A wait for a run to complete: looks, pauses between them, the deadline, the cancel.
/// Finishes with the completed run, or fails (`ZUORA_ERR_RUN_ENDED`, `ZUORA_ERR_TIMED_OUT`, …).
///
/// # Safety
/// `session` and `options` must be live; `run_id` readable; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_session_wait(
    session: *const ZuoraSession,
    run_id: ZuoraStr,
    options: *const ZuoraWaitOptions,
    out: *mut *mut ZuoraTask,
) -> ZuoraCode {
    unsafe {
        start(session, out, |shared| {
            let run_id: ReportRunId = id(run_id, "run_id")?;
            let given = *handle(options, "options")?;
            let poll = PollPolicy::new(millis(given.poll_first_ms), millis(given.poll_max_ms))
                .map_err(fail_with)?;
            let options = WaitOptions::default()
                .with_timeout(millis(given.timeout_ms))
                .map_err(fail_with)?
                .cancel_on_timeout(given.cancel_on_timeout)
                .poll(poll);
            Ok(Task::wait(shared, &run_id, options, false, now()))
        })
    }
}

/// Downloads a completed run's results converted to `format`: the bytes to write come back
/// from `zuora_task_on_body` and `zuora_task_on_body_end`. A body that breaks off, stalls or is
/// corrupt fails the task (`ZUORA_ERR_EXPORT_BROKEN`): discard what was written. `format` is a
/// value of `enum ZuoraExportFormat` (any other is `ZUORA_ERR_STATE`).
///
/// # Safety
/// `session` must be live; `run_id` readable; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_session_download(
    session: *const ZuoraSession,
    run_id: ZuoraStr,
    format: u32,
    out: *mut *mut ZuoraTask,
) -> ZuoraCode {
    unsafe {
        start(session, out, |shared| {
            let run_id: ReportRunId = id(run_id, "run_id")?;
            let format = match ZuoraExportFormat::from_c(format)? {
                ZuoraExportFormat::ZuoraFormatCsv => ExportFormat::Csv,
                ZuoraExportFormat::ZuoraFormatTsv => ExportFormat::Tsv,
                ZuoraExportFormat::ZuoraFormatRaw => ExportFormat::Raw,
            };
            Ok(Task::download(shared, &run_id, format, now()))
        })
    }
}
